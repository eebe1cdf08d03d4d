"""录音设备: the recordings folder, and a record → store → read back → play back self-test.

Procedure 四.1.d: the recorder records clearly without noise, recordings are
stored and play back.  Continuously: the recordings folder exists, can be
written (tried for real: permission bits do not stop root, and a read-only
mount is only found by writing), how many hours of recording still fit, and
(when a recording system writes there) how old the newest recording is.
The self-test records a few seconds from the headset through the shared
capture, writes a WAV file, reads it back, checks header, duration and level,
plays it back and removes it unless asked to keep it.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import logging
import os
import shutil
import stat
import tempfile
import time
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.kernel.i18n import Text
from app.kernel.model import DemoSignal, Device, Direction, IndicatorMaker, Level, Reading, Thresholds
from app.kernel.monitor import CheckResult, Monitor
from app.kernel.settings import Setting
from sensors import audio
from sensors.audio_analysis import AnalysisSettings, WindowStats, analyse_block
from sensors.wav import read_wav, write_wav

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: Start of the write probe's name; the rest is random (``tempfile``), so nobody can plant a link at it.
PROBE_PREFIX = ".deskwatch-write-test-"
#: Marker of a self-test recording in progress: ``.deskwatch-selftest-<random>.wav``.
#: One left behind by a killed test is removed at the next start (only our own files).
SELFTEST_PREFIX = ".deskwatch-selftest-"
#: A marked recording younger than this may belong to a self-test still running elsewhere.
SELFTEST_STALE_SECONDS = 300.0
#: Probe size: big enough that a full disk refuses it, not only the directory entry.
PROBE_BYTES = 64 * 1024
#: Subfolder levels searched for the newest recording (recording systems file by date).
SCAN_DEPTH = 4


#: The device group this monitor watches (its card, self-check advice and demo).
RECORDER = Device(
    "recorder",
    Text("Recorder", "录音设备"),
    50,
    advice=Text(
        "Calls may not be recorded: check the recorder and its storage, and report it to IT "
        "before taking calls",
        "通话可能无法录音:检查录音设备及存储空间,并在接听前报告信息技术部门",
    ),
    demo=(
        DemoSignal("level", Text("Recording level", "录音电平"), "dBFS", Direction.LOW_IS_BAD, -45, -60, -26),
        DemoSignal(
            "age", Text("Last recording age", "最近录音距今"), "min", Direction.HIGH_IS_BAD, 30, 60, 3
        ),
    ),
    demo_offset=4,
)

_ind = IndicatorMaker("recorder", RECORDER)


FOLDER = _ind("folder", Text("Recordings folder", "录音文件夹"), numeric=False)
HOURS_LEFT = _ind(
    "time_left",
    Text("Recording time left on disk", "剩余可录音时长"),
    "h",
    description=Text("Free space divided by the recording bit rate", "剩余空间除以录音码率"),
    thresholds=Thresholds(Direction.LOW_IS_BAD, 8, 1, 10, 2),
    metric_unit="seconds",
    metric_scale=3600.0,
)
NEWEST_AGE = _ind(
    "newest_age",
    Text("Newest recording age", "最新录音距今"),
    "min",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 60, 240, 50, 200),
    metric_unit="seconds",
    metric_scale=60.0,
)

MSG_FOLDER_OK = Text("{path} is writable", "{path} 可写入")
MSG_FOLDER_MISSING = Text(
    "Recordings folder does not exist: {path}. Ask IT to restore it or correct recordings_dir.",
    "录音文件夹不存在:{path}。请联系信息技术部门恢复,或修改 recordings_dir。",
)
MSG_NOT_WRITABLE = Text(
    "Cannot write to the recordings folder {path}: {error}",
    "无法写入录音文件夹 {path}:{error}",
)
MSG_FULL = Text("The disk holding {path} is full: {error}", "{path} 所在磁盘已满:{error}")
MSG_HOURS = Text("{free} free at {kbps:g} kbit/s", "剩余 {free},按 {kbps:g} kbit/s 计")
MSG_NEWEST = Text("{name}", "{name}")
MSG_NO_RECORDINGS = Text("No recordings found in {path}", "{path} 中没有找到录音")

CHECK_RECORD = Text("Record from the headset", "耳机录音")
CHECK_STORE = Text("Store the recording", "保存录音")
CHECK_READ = Text("Read the recording back", "回读录音")
CHECK_PLAY = Text("Play the recording back", "回放录音")
MSG_RECORDED = Text(
    "{seconds:.1f} s recorded, peak {peak:.0f} dBFS, speech {speech:.1f} s",
    "已录 {seconds:.1f} 秒,峰值 {peak:.0f} dBFS,语音 {speech:.1f} 秒",
)
MSG_NO_AUDIO = Text("No audio from the headset: {error}", "耳机无音频:{error}")
MSG_NO_INPUT = Text("No microphone on this computer to record from", "本机没有可录音的麦克风")
MSG_SILENT = Text(
    "The recording is silent (peak {peak:.0f} dBFS): microphone muted or dead",
    "录音无声(峰值 {peak:.0f} dBFS):麦克风静音或损坏",
)
MSG_QUIET = Text("The recording is too quiet (peak {peak:.0f} dBFS)", "录音音量过低(峰值 {peak:.0f} dBFS)")
MSG_CLIPPED = Text(
    "The recording is distorted: {clipped:.0f} % of speech clipped",
    "录音失真:{clipped:.0f} % 的语音削波",
)
MSG_STORED = Text("Saved {path} ({size} bytes)", "已保存 {path}({size} 字节)")
MSG_STORE_FAILED = Text("Cannot save the recording in {path}: {error}", "无法将录音保存到 {path}:{error}")
MSG_READ_OK = Text(
    "Header OK: {rate} Hz, {channels} channel, {seconds:.2f} s, peak {peak:.0f} dBFS",
    "文件头正常:{rate} Hz,{channels} 声道,{seconds:.2f} 秒,峰值 {peak:.0f} dBFS",
)
MSG_READ_FAILED = Text("The saved recording is damaged: {error}", "保存的录音已损坏:{error}")
MSG_DURATION = Text(
    "The saved recording lasts {seconds:.2f} s instead of {expected:.2f} s",
    "保存的录音时长为 {seconds:.2f} 秒,应为 {expected:.2f} 秒",
)
MSG_LEVEL_CHANGED = Text(
    "The saved recording's level differs from what was recorded ({saved:.0f} vs {recorded:.0f} dBFS)",
    "保存的录音电平与录制时不符({saved:.0f} 与 {recorded:.0f} dBFS)",
)
MSG_PLAYED = Text("Played back {seconds:.1f} s", "已回放 {seconds:.1f} 秒")
MSG_PLAY_FAILED = Text("Playback failed: {error}", "回放失败:{error}")
MSG_PLAY_SKIPPED = Text("Playback not requested", "未要求回放")
MSG_SKIPPED = Text("Skipped: an earlier step failed", "已跳过:前一步失败")

ADVICE_MIC = Text(
    "Check that the headset is plugged in and not muted, speak during the test, then run it again.",
    "请确认耳机已插好且未静音,测试时请说话,然后重试。",
)
ADVICE_FOLDER = Text(
    "Free space on the disk or ask IT for write access to the recordings folder.",
    "请清理磁盘空间,或联系信息技术部门开通录音文件夹的写入权限。",
)
ADVICE_SPEAKER = Text(
    "Check the headset earpiece and the output device in the sound settings.",
    "请检查耳机听筒以及声音设置中的输出设备。",
)


def _dbfs_peak(samples: np.ndarray[Any, Any]) -> float:
    import numpy as np  # the self-test's recording has been made: numpy is loaded already

    peak = float(np.max(np.abs(samples.astype(np.float64)))) / 32768.0 if samples.size else 0.0
    return -120.0 if peak <= 0 else max(-120.0, 20.0 * float(np.log10(peak)))


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def probe_writable(folder: Path) -> OSError | None:
    """Write, sync and delete a small file in ``folder``; the error, or ``None`` when it worked.

    The probe is created ``O_EXCL|O_NOFOLLOW`` under a random name
    (``tempfile.mkstemp``): in a shared folder, a link planted at a predictable
    name would otherwise have its target overwritten.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=folder)
    except OSError as exc:
        return exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\0" * PROBE_BYTES)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return exc
    try:
        os.unlink(name)
    except OSError as exc:
        return exc
    return None


def display_name(name: str) -> str:
    """A file name as clean text for messages, labels and the history.

    On Linux a name that is not UTF-8 (GBK, common on Chinese Windows shares)
    arrives with its undecodable bytes as lone surrogates; those bytes are
    decoded as GB18030 (a superset of GBK) when that works, else replaced.
    Control characters are shown as U+FFFD too.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name) if _fs_bytes_recoverable(name) else name.encode("utf-8", "surrogatepass")
        try:
            name = raw.decode("gb18030")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in name)


def _fs_bytes_recoverable(name: str) -> bool:
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        return False
    return True


def remove_stale_self_tests(folder: Path, now: float | None = None) -> list[str]:
    """Delete self-test recordings a killed test left in ``folder``; the names removed.

    Only regular files carrying :data:`SELFTEST_PREFIX`, owned by this user and
    older than :data:`SELFTEST_STALE_SECONDS` are removed; links are never
    followed (``lstat``), another user's file is never touched.
    """
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(SELFTEST_PREFIX) and entry.name.endswith(".wav")):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < SELFTEST_STALE_SECONDS:
                continue
            if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(display_name(entry.name))
        log.info("removed a self-test recording left by an interrupted test: %s", display_name(entry.path))
    return removed


def newest_file(folder: Path, patterns: list[str], depth: int = SCAN_DEPTH) -> tuple[Path, float] | None:
    """The most recently modified file matching ``patterns`` under ``folder``.

    Looks at the files of each level and descends only into the most recently
    changed subfolder (a new file changes its folder's time), so a recording
    archive of a hundred thousand files costs a few directory reads.
    """
    best: tuple[Path, float] | None = None
    newest_dir: tuple[Path, float] | None = None
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                mtime = entry.stat().st_mtime
                if newest_dir is None or mtime > newest_dir[1]:
                    newest_dir = (Path(entry.path), mtime)
            elif entry.is_file() and any(fnmatch.fnmatch(entry.name.lower(), p.lower()) for p in patterns):
                mtime = entry.stat().st_mtime
                if best is None or mtime > best[1]:
                    best = (Path(entry.path), mtime)
        except OSError:
            continue
    if newest_dir is not None and depth > 0:
        deeper = newest_file(newest_dir[0], patterns, depth - 1)
        if deeper is not None and (best is None or deeper[1] > best[1]):
            best = deeper
    return best


def _keep_as(path: Path, target: Path) -> None:
    """Give a kept self-test recording its dated name; never replaces an existing file or link."""
    try:
        try:
            os.link(path, target, follow_symlinks=False)
        except OSError as exc:
            # Shares without hard links: rename, after checking nothing is at the name.
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP) or os.path.lexists(target):
                raise
            os.rename(path, target)
    except OSError as exc:
        log.warning("could not keep the self-test recording as %s: %s", target, exc)


#: Seconds the self-test's recording may take beyond its length (opening the stream).
RECORD_MARGIN_S = 8.0


class RecorderMonitor(Monitor):
    """Watches the recordings folder; its self-test records, stores and plays back."""

    id = "recorder"
    device = RECORDER
    title = Text("Recorder", "录音设备")
    indicators = (FOLDER, HOURS_LEFT, NEWEST_AGE)
    interval = 60.0
    timeout = 20.0
    settings = (
        Setting(
            "recording_kbps",
            256.0,
            Text("Recording bit rate (kbit/s)", "录音码率(kbit/s)"),
            minimum=1,
            maximum=10000,
            help=Text("16 kHz 16-bit mono WAV is 256 kbit/s", "16 kHz 16 位单声道 WAV 为 256 kbit/s"),
        ),
        Setting(
            "expect_recordings",
            False,
            Text("A recording system writes into this folder", "录音系统会向此文件夹写入录音"),
        ),
        Setting(
            "patterns",
            ["*.wav", "*.mp3", "*.ogg", "*.amr", "*.opus", "*.m4a"],
            Text("Recording file patterns", "录音文件名模式"),
            type=list,
        ),
        Setting(
            "self_test_seconds",
            3.0,
            Text("Self-test recording length (s)", "自检录音时长(秒)"),
            minimum=1,
            maximum=30,
        ),
        Setting("self_test_playback", True, Text("Play the self-test recording back", "回放自检录音")),
        Setting("keep_self_test", False, Text("Keep the self-test recording", "保留自检录音")),
        Setting("device", "", Text("Microphone (empty: the headset's)", "麦克风(留空:同耳机)")),
    )

    @property
    def folder(self) -> Path:
        """Where recordings are kept."""
        return self.context.recordings_dir

    # -- continuous checks -------------------------------------------------------
    def poll(self) -> list[Reading]:
        folder = self.folder
        if self.context.recordings_dir_is_default:
            # Deskwatch's own folder: create it rather than complain about it.
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            message = MSG_FOLDER_MISSING.format(path=str(folder))
            return [
                Reading(FOLDER.id, "missing", Level.CRITICAL, message, detail={"path": str(folder)}),
                # No folder, nothing to measure: unknown, never a claimed-normal reading.
                Reading(HOURS_LEFT.id, None, Level.UNKNOWN, message),
            ]
        readings = [self._folder_reading(folder), self._hours_left(folder)]
        if self.options["expect_recordings"]:
            readings.append(self._newest(folder))
        return readings

    def _folder_reading(self, folder: Path) -> Reading:
        error = probe_writable(folder)
        detail = {"path": str(folder)}
        if error is None:
            return Reading(FOLDER.id, "ok", Level.OK, MSG_FOLDER_OK.format(path=str(folder)), detail=detail)
        reason = error.strerror or str(error)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return Reading(FOLDER.id, "full", Level.CRITICAL, MSG_FULL.format(path=str(folder), error=reason))
        message = MSG_NOT_WRITABLE.format(path=str(folder), error=reason)
        return Reading(FOLDER.id, "read-only", Level.CRITICAL, message, detail=detail)

    def _hours_left(self, folder: Path) -> Reading:
        usage = shutil.disk_usage(folder)
        kbps = float(self.options["recording_kbps"])
        hours = usage.free * 8 / (kbps * 1000) / 3600
        message = MSG_HOURS.format(free=_human_bytes(usage.free), kbps=kbps)
        detail = {"free_bytes": usage.free, "total_bytes": usage.total}
        return Reading(HOURS_LEFT.id, round(hours, 1), message=message, detail=detail)

    def _newest(self, folder: Path) -> Reading:
        found = newest_file(folder, [str(p) for p in self.options["patterns"]])
        if found is None:
            message = MSG_NO_RECORDINGS.format(path=str(folder))
            return Reading(NEWEST_AGE.id, None, Level.WARNING, message)
        path, mtime = found
        age_min = max(0.0, (time.time() - mtime) / 60)
        message = MSG_NEWEST.format(name=display_name(path.name))
        detail = {"path": display_name(str(path))}
        return Reading(NEWEST_AGE.id, round(age_min, 1), message=message, detail=detail)

    # -- self-test ----------------------------------------------------------------
    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult]:
        """Record, store, read back, play back; one result line per step."""
        seconds = float(options.get("seconds", self.options["self_test_seconds"]))
        playback = bool(options.get("playback", self.options["self_test_playback"]))
        keep = bool(options.get("keep", self.options["keep_self_test"]))
        results: list[CheckResult] = []

        def skipped(*names: Text) -> list[CheckResult]:
            return [CheckResult(n, "skipped", MSG_SKIPPED) for n in names]

        recorded = self._record(seconds)
        results.append(recorded[0])
        if recorded[1] is None:
            return results + skipped(CHECK_STORE, CHECK_READ, CHECK_PLAY)
        samples, rate = recorded[1]

        folder = self.folder
        remove_stale_self_tests(folder)
        # A random marked name while the test runs: a killed test's file is
        # recognised and removed at the next start; a kept one is renamed.
        # (os.urandom, not secrets: that imports OpenSSL's libcrypto, 4 MiB resident.)
        path = folder / f"{SELFTEST_PREFIX}{os.urandom(8).hex()}.wav"
        stored = self._store(path, samples, rate)
        results.append(stored)
        if stored.status != "pass":
            return results + skipped(CHECK_READ, CHECK_PLAY)
        try:
            read = self._read_back(path, samples, rate)
            results.append(read)
            if read.status != "pass":
                return results + skipped(CHECK_PLAY)
            if playback:
                results.append(self._play(samples, rate))
            else:
                results.append(CheckResult(CHECK_PLAY, "skipped", MSG_PLAY_SKIPPED))
            if keep:
                _keep_as(path, folder / time.strftime("deskwatch-selftest-%Y%m%d-%H%M%S.wav"))
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        return results

    def start(self) -> None:
        """Remove self-test recordings an interrupted test left behind."""
        remove_stale_self_tests(self.folder)

    def _capture(self) -> audio.AudioCapture:
        return audio.shared_capture(self.context.services, device=str(self.options["device"]))

    def _record(self, seconds: float) -> tuple[CheckResult, tuple[np.ndarray[Any, Any], int] | None]:
        capture = self._capture()
        try:
            # The stream needs a moment to start; allow for it on top of the recording.
            samples, rate = capture.record(seconds, timeout=seconds + RECORD_MARGIN_S)
        except audio.NoAudio as exc:
            if exc.status.state is audio.CaptureState.NO_INPUT:
                # No microphone on this computer at all: nothing set up to test, not a broken one.
                return CheckResult(CHECK_RECORD, "skipped", MSG_NO_INPUT, ADVICE_MIC), None
            error = exc.status.error or str(exc)
            return CheckResult(CHECK_RECORD, "fail", MSG_NO_AUDIO.format(error=error), ADVICE_MIC), None
        except OSError as exc:
            error = capture.status().error or str(exc)
            return CheckResult(CHECK_RECORD, "fail", MSG_NO_AUDIO.format(error=error), ADVICE_MIC), None
        analysis = AnalysisSettings(rate=rate)
        window = WindowStats(analysis, seconds + 1)
        block = max(1, rate // 10)
        for start in range(0, samples.size, block):
            window.add(analyse_block(samples[start : start + block], analysis))
        summary = window.summary()
        assert summary is not None
        detail = {"peak_dbfs": summary.peak_dbfs, "clipped_percent": summary.clipped_percent}
        if summary.dead:
            message = MSG_SILENT.format(peak=summary.peak_dbfs)
            return CheckResult(CHECK_RECORD, "fail", message, ADVICE_MIC, detail), None
        if summary.inaudible:
            message = MSG_QUIET.format(peak=summary.peak_dbfs)
            return CheckResult(CHECK_RECORD, "fail", message, ADVICE_MIC, detail), None
        if summary.clipped_percent > 5:
            message = MSG_CLIPPED.format(clipped=summary.clipped_percent)
            return CheckResult(CHECK_RECORD, "fail", message, ADVICE_MIC, detail), None
        message = MSG_RECORDED.format(
            seconds=samples.size / rate, peak=summary.peak_dbfs, speech=summary.speech_seconds
        )
        return CheckResult(CHECK_RECORD, "pass", message, detail=detail), (samples, rate)

    def _store(self, path: Path, samples: np.ndarray[Any, Any], rate: int) -> CheckResult:
        folder = path.parent
        if self.context.recordings_dir_is_default:
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
        try:
            write_wav(path, samples, rate)
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.unlink()
            reason = exc.strerror or str(exc)
            message = MSG_STORE_FAILED.format(path=str(folder), error=reason)
            return CheckResult(CHECK_STORE, "fail", message, ADVICE_FOLDER, {"errno": exc.errno})
        message = MSG_STORED.format(path=str(path), size=path.stat().st_size)
        return CheckResult(CHECK_STORE, "pass", message, detail={"path": str(path)})

    def _read_back(self, path: Path, samples: np.ndarray[Any, Any], rate: int) -> CheckResult:
        try:
            info = read_wav(path)
        except (OSError, EOFError, wave.Error) as exc:
            return CheckResult(CHECK_READ, "fail", MSG_READ_FAILED.format(error=str(exc)), ADVICE_FOLDER)
        expected = samples.size / rate
        if info.channels != 1 or info.rate != rate:
            error = f"{info.channels} channel(s) at {info.rate} Hz, expected 1 at {rate} Hz"
            return CheckResult(CHECK_READ, "fail", MSG_READ_FAILED.format(error=error), ADVICE_FOLDER)
        if abs(info.seconds - expected) > max(0.05, 0.02 * expected):
            message = MSG_DURATION.format(seconds=info.seconds, expected=expected)
            return CheckResult(CHECK_READ, "fail", message, ADVICE_FOLDER)
        saved, recorded = _dbfs_peak(info.samples), _dbfs_peak(samples)
        if abs(saved - recorded) > 0.5:
            message = MSG_LEVEL_CHANGED.format(saved=saved, recorded=recorded)
            return CheckResult(CHECK_READ, "fail", message, ADVICE_FOLDER)
        message = MSG_READ_OK.format(rate=info.rate, channels=info.channels, seconds=info.seconds, peak=saved)
        return CheckResult(CHECK_READ, "pass", message)

    def _play(self, samples: np.ndarray[Any, Any], rate: int) -> CheckResult:
        try:
            audio.play(samples, rate, timeout=samples.size / rate + 10)
        except (OSError, ValueError, TimeoutError) as exc:
            return CheckResult(CHECK_PLAY, "fail", MSG_PLAY_FAILED.format(error=str(exc)), ADVICE_SPEAKER)
        return CheckResult(CHECK_PLAY, "pass", MSG_PLAYED.format(seconds=samples.size / rate))

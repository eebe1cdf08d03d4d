"""耳机 (the clerk's ears): the sound dose the headset plays, and acoustic shocks.

The procedure protects the clerk's hearing (二, 三: 保护听力); a clerk wears a
headset all day.  What the headset *plays* is recorded from its playback
device's monitor (PulseAudio: ``<sink>.monitor``) through the same
:class:`~sensors.audio.AudioCapture` as the microphone, and reduced at once
to A-weighted energy (:mod:`sensors.sound_dose`): levels only, in memory, no
audio kept or sent.  It is listened to only while there is something to
measure -- while the sink plays (PulseAudio state ``RUNNING``: a call, a
ring, music) and :attr:`HearingMonitor.keep_open_seconds` after -- so a
seat that plays nothing pays nothing; stream events (``pactl subscribe``)
say when playing starts.  On Windows the same capture records the render
endpoint's WASAPI loopback (:mod:`sensors.win_loopback`), while an
application's render session is active (Core Audio session notifications).

What the monitor records is not always what reaches the ear: a sink with a
hardware volume (a USB headset on PulseAudio, a hardware endpoint volume on
Windows) or PipeWire's pre-volume monitor leave the volume slider out.  The
sink's flags, volume and mute are read when the gate looks (on sink events,
not every poll) and each buffer is corrected by what the monitor does not
carry (:func:`sensors.pulse_sinks.ear_gain`); muted, nothing is counted; a
volume that cannot be known is counted as full volume and the readings say so.

Readings (on the 耳机 card): the sound level at the ear over the last poll
(dB(A) SPL, with the configured headset sensitivity), today's dose against
GBZ 2.2-2007 (85 dB(A) L_EX,8h = 100 %), the week's dose against ITU-T H.870
(80 dB(A) for 40 h a week = 100 %), both warning at 50 % (see
:data:`DOSE_WARNING_PERCENT`), and acoustic shocks (an alert naming the time,
so IT can trace the call).  Per-day energies are kept in
``<data dir>/hearing.json`` so a restart keeps the day's and the week's dose.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.kernel import devices
from app.kernel.i18n import Text
from app.kernel.model import Direction, IndicatorMaker, Level, Reading, Thresholds
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.paths import private_dir, write_private
from app.kernel.settings import Setting
from sensors import pulse_sinks, sound_dose, win_loopback
from sensors.audio import JOIN_TIMEOUT_S, AudioCapture, NoAudio
from sensors.audio_analysis import CONTINUITY_BREAK
from sensors.pulse_events import PulseStreamWatcher, StreamSnapshot

if TYPE_CHECKING:
    from sensors.audio import Samples
    from sensors.win_audio_sessions import WindowsAudioSessionWatcher

log = logging.getLogger(__name__)


def _windows() -> bool:
    """Whether this is Windows (WASAPI loopback and Core Audio sessions instead of PulseAudio)."""
    return sys.platform == "win32"


#: 耳机: the card these readings share with the headset monitor's (declared in the kernel, so the
#: order in which the monitors are imported does not matter).
HEADSET = devices.HEADSET
_ind = IndicatorMaker("hearing", HEADSET)

#: Dose warnings come at half the allowance: with equal energy, a clerk who
#: has used half of the day's (or week's) dose can still hear as much again
#: at the same level -- the warning comes while there is time to turn the
#: volume down or take a break, not after.  (3 dB below the limit; at a
#: steady level it arrives half-way through the shift.)
DOSE_WARNING_PERCENT = 50.0

LEVEL = _ind(
    "sound_level",
    Text("Sound level at the ear", "耳机声级"),
    "dB(A)",
    description=Text(
        "A-weighted level the headset plays (LAeq since the last reading), with the configured sensitivity",
        "耳机播放的 A 计权声级(自上次读数以来的等效声级),按设定的耳机灵敏度换算",
    ),
)
DAILY_DOSE = _ind(
    "daily_dose",
    Text("Sound dose today", "今日噪声剂量"),
    "%",
    description=Text(
        "Of the GBZ 2.2 limit 85 dB(A) over 8 h (3 dB exchange rate)", "占 GBZ 2.2 限值 85 dB(A)·8 h 的比例"
    ),
    thresholds=Thresholds(Direction.HIGH_IS_BAD, DOSE_WARNING_PERCENT, 100, 45, 95),
    metric_unit="ratio",
    metric_scale=0.01,
)
WEEKLY_DOSE = _ind(
    "weekly_dose",
    Text("Sound dose this week", "本周噪声剂量"),
    "%",
    description=Text(
        "Last 7 days, of the ITU-T H.870 / WHO reference 80 dB(A) for 40 h a week",
        "最近 7 天,占 ITU-T H.870 / WHO 参考值 80 dB(A)·每周 40 h 的比例",
    ),
    thresholds=Thresholds(Direction.HIGH_IS_BAD, DOSE_WARNING_PERCENT, 100, 45, 95),
    metric_unit="ratio",
    metric_scale=0.01,
)
SHOCK = _ind(
    "acoustic_shocks",
    Text("Acoustic shocks today", "今日声冲击"),
    "",
    description=Text(
        "Sudden bursts in the headset (fax tone, feedback, a shout) above the shock level",
        "耳机中的突发强声(传真音、啸叫、喊叫)超过声冲击限值",
    ),
)

MSG_NOTHING_PLAYING = Text("Nothing playing in the headset", "耳机无播放")
MSG_LISTENING = Text("Listening to the headset…", "正在测量耳机声级…")
MSG_LEVEL = Text(
    "{seconds:.0f} s heard, loudest moment {peak:.0f} dB SPL{volume}",
    "测量 {seconds:.0f} 秒,最大 {peak:.0f} dB SPL{volume}",
)
#: What :func:`sensors.pulse_sinks.ear_gain` found, appended to the level's message.
MSG_VOLUME = {
    "software": Text("", ""),
    "hardware": Text(
        " (headset's hardware volume {gain:.1f} dB applied)", "(已计入耳机硬件音量 {gain:.1f} dB)"
    ),
    "pipewire": Text(" (output volume {gain:+.1f} dB applied)", "(已计入输出音量 {gain:+.1f} dB)"),
}
MSG_LEVEL_UNKNOWN_VOLUME = Text(
    "Not observed: the headset's volume cannot be read; at most {level:.0f} dB(A), counted as full volume "
    "({seconds:.0f} s heard)",
    "未观测:无法读取耳机音量;最多 {level:.0f} dB(A),按最大音量计算(测量 {seconds:.0f} 秒)",
)
MSG_MUTED = Text("Headset muted: nothing reaches the ear", "耳机已静音:无声音传到耳朵")
MSG_DOSE = Text(
    "{hours:.1f} h heard today, {laeq:.0f} dB(A) on average",
    "今日收听 {hours:.1f} 小时,平均 {laeq:.0f} dB(A)",
)
MSG_DOSE_UNKNOWN = Text(
    "{hours:.1f} h heard today, {laeq:.0f} dB(A) on average; {unknown:.1f} h of it at a volume that "
    "could not be read, counted as full volume (an upper bound)",
    "今日收听 {hours:.1f} 小时,平均 {laeq:.0f} dB(A);"
    "其中 {unknown:.1f} 小时无法读取音量,按最大音量计(上限值)",
)
MSG_NO_DOSE = Text("Nothing heard today", "今日尚无收听")
MSG_WEEK = Text("{hours:.1f} h heard in the last 7 days", "最近 7 天收听 {hours:.1f} 小时")
MSG_SHOCK = Text(
    "Acoustic shock at {time}: {level:.0f} dB SPL, {rise:.0f} dB above the moment before. "
    "Tell IT the time so the call can be traced; take the headset off if it hurts.",
    "{time} 发生声冲击:{level:.0f} dB SPL,比之前高 {rise:.0f} dB。"
    "请将时间告知信息技术部门以便追查该通话;如耳朵不适请摘下耳机。",
)
MSG_LAST_SHOCK = Text("Last acoustic shock at {time}", "最近一次声冲击:{time}")
MSG_NO_SHOCK = Text("No acoustic shock today", "今日无声冲击")
MSG_NO_SINK = Text(
    "Headset playback device '{sink}' not found; dose not measured", "未找到耳机播放设备“{sink}”,未测量剂量"
)
MSG_NO_SERVER = Text(
    "No PulseAudio/PipeWire sound server: what the headset plays cannot be measured",
    "没有 PulseAudio/PipeWire 音频服务,无法测量耳机播放声级",
)
MSG_CAPTURE = Text("Cannot record the headset's playback: {error}", "无法录取耳机播放信号:{error}")


class HearingMonitor(Monitor):
    """Measures what the headset plays into the clerk's ears; only levels, in memory."""

    id = "hearing"
    device = HEADSET
    title = Text("Hearing", "听力保护")
    indicators = (LEVEL, DAILY_DOSE, WEEKLY_DOSE, SHOCK)
    interval = 5.0
    timeout = 20.0
    #: After the sink stops playing the stream stays open this long (opening costs
    #: a second of CPU; a call's pauses, a ring and the answer are one listening).
    keep_open_seconds = 30.0
    #: A one-shot check records this long when something is playing.
    check_seconds = 2.0
    settings = (
        Setting(
            "sink",
            "",
            Text("Headset playback device (part of its name)", "耳机播放设备(名称中的一段)"),
            help=Text("empty: the system's default output", "留空:系统默认输出设备"),
        ),
        Setting(
            "sensitivity_db",
            sound_dose.DEFAULT_SENSITIVITY_DB,
            Text(
                "Headset sensitivity: dB SPL of a full-scale sine at 100 % volume",
                "耳机灵敏度:音量 100% 时满幅正弦信号的 dB SPL",
            ),
            help=Text(
                "110 is on the safe side for office headsets; measure the model for exact doses. "
                "The volume slider is accounted for from the sound server",
                "110 对办公耳机偏保守;如需准确剂量请实测该型号。音量滑块的设置由音频服务读取并计入",
            ),
            minimum=60,
            maximum=140,
        ),
        Setting("rate", 16000, Text("Sample rate (Hz)", "采样率(Hz)"), minimum=8000, maximum=48000),
        Setting(
            "shock_db",
            102.0,
            Text("Acoustic shock level (dB SPL)", "声冲击限值(dB SPL)"),
            help=Text("ACIF G616 acoustic-startle limit: 102", "ACIF G616 声惊吓限值:102"),
            minimum=80,
            maximum=140,
        ),
        Setting(
            "shock_rise_db",
            10.0,
            Text("Acoustic shock: rise within 16 ms (dB)", "声冲击:16 ms 内的升高(dB)"),
            minimum=3,
            maximum=60,
        ),
        Setting(
            "shock_limit_db",
            118.0,
            Text("Acoustic shock whatever the rise, from (dB SPL)", "无论升幅均视为声冲击的声级(dB SPL)"),
            help=Text("ITU-T P.360 / UL 60950-1 limit: 118", "ITU-T P.360 / UL 60950-1 限值:118"),
            minimum=80,
            maximum=150,
        ),
        Setting(
            "shock_hold_minutes",
            10.0,
            Text("An acoustic shock stays on the card for (min)", "声冲击在卡片上保留(分钟)"),
            minimum=1,
            maximum=480,
        ),
    )

    def __init__(
        self,
        settings: dict[str, Any],
        context: MonitorContext,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, context)
        self.clock = clock
        self._lock = threading.Lock()
        self.meter = sound_dose.SoundDoseMeter(self._meter_settings(), int(self.options["rate"]))
        #: The book changed since it was last written (written at the next poll; a
        #: damaged file counts, so it is replaced by a sound one).
        self._unsaved = False
        #: When the book was last written (monotonic; ``None``: not yet by this process).
        self._saved_at: float | None = None
        self.book = self._load()
        self._shocks_today: list[sound_dose.ShockEvent] = []
        self._capture: AudioCapture | None = None
        self._capture_source = ""
        self._capturing = False
        self._idle_since: float | None = None
        self._saved_pulse_source: str | None = None
        self._sink: pulse_sinks.Sink | None = None
        #: What lies between the monitor and the ear (the sink's volume it does not carry).
        self._gain = pulse_sinks.EarGain(0.0, known=False, how="unknown")
        #: Blocks were dropped (muted): the next one does not follow the last one heard.
        self._gap = False
        self._lister = pulse_sinks.SinkLister()
        self._last_look = 0.0
        self._server = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: PulseStreamWatcher | WindowsAudioSessionWatcher | None = None
        #: Capture openings (each costs about a second of CPU): diagnostics and tests.
        self.openings = 0

    # -- settings and state --------------------------------------------------------------
    def _meter_settings(self) -> sound_dose.MeterSettings:
        shock = sound_dose.ShockSettings(
            shock_db=float(self.options["shock_db"]),
            rise_db=float(self.options["shock_rise_db"]),
            limit_db=float(self.options["shock_limit_db"]),
        )
        return sound_dose.MeterSettings(float(self.options["sensitivity_db"]), shock)

    @property
    def state_path(self) -> Path:
        """Where the per-day energies are kept (small JSON; no audio)."""
        return self.context.data_dir / "hearing.json"

    def _load(self) -> sound_dose.DoseBook:
        try:
            data = json.loads(self.state_path.read_text("utf-8"))
        except FileNotFoundError:
            return sound_dose.DoseBook()
        except (OSError, ValueError) as exc:
            log.warning("sound dose state unreadable, starting afresh: %s", exc)
            self._unsaved = True
            return sound_dose.DoseBook()
        return sound_dose.DoseBook.from_json(data)

    def _save(self) -> None:
        try:
            private_dir(self.state_path.parent)
            write_private(self.state_path, json.dumps(self.book.to_json()))
        except OSError as exc:
            log.warning("cannot save the sound dose: %s", exc)

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock()).date()

    # -- the audio thread ------------------------------------------------------------------
    def _on_block(self, block: Samples, flags: int, rate: int) -> None:
        with self._lock:
            gain = self._gain
            if gain.silent:  # muted: nothing reaches the ear, nothing is heard
                self._gap = True
                return
            contiguous = not flags & CONTINUITY_BREAK and not self._gap
            self._gap = False
            self.meter.add(
                block, rate, self.clock(), contiguous=contiguous, gain_db=gain.db, volume_known=gain.known
            )

    # -- lifecycle: listen only while the sink plays ------------------------------------------
    def start(self) -> None:
        if self._thread is not None or self.context.mode == "check":
            return
        self._stop.clear()
        watcher: PulseStreamWatcher | WindowsAudioSessionWatcher
        if _windows():  # render sessions becoming active: something plays
            # Windows only: COM watcher and its queue are not loaded on Linux.
            from sensors.win_audio_sessions import WindowsAudioSessionWatcher

            watcher = WindowsAudioSessionWatcher(self._on_streams)
        else:
            # Playback streams coming, going or corked, sinks (their monitors) coming and going,
            # and sink events: its volume or mute changed (read again at once, not every poll).
            watcher = PulseStreamWatcher(self._on_streams, on_sources=self._wake.set, on_sinks=self._wake.set)
        self._watcher = watcher
        watcher.start()
        self.context.call_state.add_change_listener(self._wake.set)
        self._thread = threading.Thread(target=self._run, name="deskwatch-hearing", daemon=True)
        self._thread.start()

    def _on_streams(self, _snapshot: StreamSnapshot | None) -> None:
        self._wake.set()  # a playback stream came, went or was corked: look at the sink

    #: With stream events working, the sink is also looked at this often without one
    #: (the default output changed: no stream event tells); each look runs ``pactl``.
    EVENTS_RECHECK_S = 60.0
    #: The dose book is written at most this often while the sink plays (and at once for a
    #: shock, and on close): a crash loses at most this much of the day's dose.
    SAVE_EVERY_S = 60.0

    #: How long the gate waits for the capture to open before it looks on.
    OPEN_WAIT_S = 10.0

    #: Events come in bursts (a volume slider dragged): at most one ``pactl`` look this often.
    MIN_LOOK_GAP_S = 0.5

    def _run(self) -> None:
        while not self._stop.is_set():
            gap = self._last_look + self.MIN_LOOK_GAP_S - time.monotonic()
            if gap > 0 and self._stop.wait(gap):
                return
            self._wake.clear()
            self._last_look = time.monotonic()
            try:
                self._step()
            except Exception:  # the gate must go on whatever pactl or the capture does
                log.exception("hearing gate failed")
            self._wake.wait(self._next_look())

    def _next_look(self) -> float:
        """Seconds until the gate looks at the sink again unless an event wakes it."""
        if self._idle_since is not None:  # closing once idle for keep_open_seconds
            return max(0.1, self._idle_since + self.keep_open_seconds - time.monotonic())
        if _windows() and self._capturing:
            # No event tells the endpoint volume changed; reading it is a COM call, no process.
            return float(self.options.get("interval", self.interval))
        watcher = self._watcher
        if watcher is not None and watcher.stats.mode == "events":
            return self.EVENTS_RECHECK_S  # a stream closing or corking is an event too
        return float(self.options.get("interval", self.interval))

    def _step(self) -> None:
        """Open the capture while the sink plays; close it when it has been idle a while."""
        _server, sink = self._look()
        now = time.monotonic()
        if sink is not None and sink.playing:
            self._idle_since = None
            source = self._source_of(sink)
            if not self._capturing or source != self._capture_source:
                self._close_capture()
                self._open_capture(source)
        elif self._capturing:
            if self._idle_since is None:
                self._idle_since = now
            if now - self._idle_since >= self.keep_open_seconds:
                self._close_capture()

    def _look(self) -> tuple[bool, pulse_sinks.Sink | None]:
        """Ask the server for the headset's sink, its state and volume (one ``pactl`` run).

        On Windows: whether a render session is active, and the endpoint's volume (COM, no process).
        """
        wanted = str(self.options["sink"])
        sink: pulse_sinks.Sink | None
        if _windows():
            server, sink = True, self._windows_output(wanted)
            gain = win_loopback.endpoint_gain(win_loopback.read_endpoint_volume(wanted))
        else:
            server, sink = self._lister.find(wanted)
            unknown = pulse_sinks.EarGain(0.0, known=False, how="unknown")
            gain = pulse_sinks.ear_gain(sink) if sink is not None else unknown
        with self._lock:
            if gain != self._gain:
                log.info("headset volume outside the monitor: %s", gain)
            self._server, self._sink, self._gain = server, sink, gain
        return server, sink

    def _windows_output(self, wanted: str) -> pulse_sinks.Sink:
        """The headset's render endpoint as a sink: playing while an application's render session is active.

        Sessions unknown (the watcher unavailable, a one-shot check): playing, so the dose is
        measured rather than missed.
        """
        watcher = self._watcher
        snapshot = watcher.snapshot if watcher is not None else None
        playing = snapshot is None or bool(snapshot.playing)
        return pulse_sinks.Sink(wanted or "default output", pulse_sinks.RUNNING if playing else "IDLE")

    @staticmethod
    def _source_of(sink: pulse_sinks.Sink) -> str:
        """What the capture records for ``sink``: its monitor source (Windows: the endpoint's loopback)."""
        return sink.name if _windows() else sink.monitor_source

    def _open_capture(self, source: str) -> None:
        if self._stop.is_set():
            return
        capture = self._new_capture(source)
        capture.subscribe(self._on_block)
        capture.acquire()
        self._capture, self._capture_source, self._capturing = capture, source, True
        self.openings += 1
        log.info("listening to the headset's playback (%s)", source)
        # (This gate thread's own time: the stream opens within a second or two.)
        capture.wait_connected(self.OPEN_WAIT_S)
        if self._stop.is_set():  # closed meanwhile (close() did not wait for this thread)
            self._close_capture()

    def _new_capture(self, source: str) -> AudioCapture:
        """A capture of ``source`` (a sink's monitor) of its own: the headset's is the microphone's.

        Windows: the WASAPI loopback of the configured render endpoint (empty: the default output).
        """
        # 1 s buffers: the dose is an integral and a shock is reported at the next poll (5 s), so
        # nothing waits on a shorter one; half the wake-ups and analysis calls of 500 ms.
        rate = int(self.options["rate"])
        if _windows():
            return AudioCapture(device=str(self.options["sink"]), rate=rate, block_ms=1000.0, loopback=True)
        return AudioCapture(device=source, rate=rate, block_ms=1000.0)

    def _close_capture(self) -> None:
        capture, self._capture = self._capture, None
        self._capturing, self._capture_source, self._idle_since = False, "", None
        if capture is not None:
            capture.unsubscribe(self._on_block)
            capture.release()
            with self._lock:
                self.meter.break_continuity()  # the next stream's audio does not follow this one's

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            # Bounded: a gate step waiting for a stream to open closes it itself (see _open_capture).
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.context.call_state.remove_change_listener(self._wake.set)
        self._close_capture()
        with self._lock:
            self._account(self.meter.take())
            self._save()

    @property
    def capturing(self) -> bool:
        """Whether the headset's playback is being recorded now."""
        return self._capturing

    # -- polling --------------------------------------------------------------------------------
    def poll(self) -> list[Reading]:
        if self.context.mode == "check":
            self._check_once()
        elif self._thread is None:
            self.start()
        with self._lock:
            interval = self.meter.take()
            self._account(interval)
            server, sink = self._server, self._sink
            level = self._level_reading(interval, server, sink)
            readings = [level]
            if level.level is Level.NOT_SET_UP and not self.book.week_energy(self._today()):
                # Nothing to listen to and nothing heard this week: a 0 % dose would be a claim.
                unset = Level.NOT_SET_UP
                readings += [Reading(i.id, None, unset, level.message) for i in self.indicators[1:]]
            else:
                readings += self._dose_readings()
                readings.append(self._shock_reading())
            now = time.monotonic()
            due = self._saved_at is None or now - self._saved_at >= self.SAVE_EVERY_S or bool(interval.shocks)
            changed = self._unsaved and due
            if changed:
                self._unsaved, self._saved_at = False, now
        if changed:
            self._save()
        return readings

    def _check_once(self) -> None:
        """``deskwatch check``: find the sink and, if it plays, listen for :attr:`check_seconds`."""
        if _windows() and self._watcher is None:
            # WASAPI loopback delivers nothing while nothing plays: asking it would wait out the
            # whole timeout (~10 s, a Nagios check's own limit) on an idle seat.  The render
            # sessions tell at once whether anything plays (unknown: listened to, as before).
            from sensors.win_audio_sessions import WindowsAudioSessionWatcher

            watcher = WindowsAudioSessionWatcher(lambda _snapshot: None)
            watcher.start()
            self._watcher = watcher
            try:
                _server, sink = self._look()
            finally:
                watcher.stop()
                self._watcher = None
        else:
            _server, sink = self._look()
        if sink is None or not sink.playing or self._gain.silent:  # (muted: nothing to hear)
            return
        capture = self._new_capture(self._source_of(sink))
        try:
            samples, rate = capture.record(self.check_seconds, timeout=self.check_seconds + 8.0)
        except NoAudio:
            return
        self._on_block(samples, 0, rate)

    def _account(self, interval: sound_dose.Interval) -> None:
        """Add what was heard to today's dose and keep today's shocks (lock held)."""
        today = self._today()
        if interval.seconds > 0:
            self.book.add_energy(today, interval.energy, interval.seconds, interval.unknown_seconds)
            self._unsaved = True
        self.book.prune(today)
        self._shocks_today = [s for s in self._shocks_today if _date(s.time) == today]
        for shock in interval.shocks:
            log.warning("acoustic shock at %s: %.0f dB SPL (+%.0f dB)", _clock(shock.time), shock.level_db,
                        shock.rise_db)  # fmt: skip
            self._shocks_today.append(shock)

    def _level_reading(
        self, interval: sound_dose.Interval, server: bool, sink: pulse_sinks.Sink | None
    ) -> Reading:
        if not server:
            return Reading(LEVEL.id, None, Level.NOT_SET_UP, MSG_NO_SERVER)
        if sink is None:
            wanted = str(self.options["sink"]) or "default"
            return Reading(LEVEL.id, None, Level.NOT_SET_UP, MSG_NO_SINK.format(sink=wanted))
        level = interval.laeq_db
        gain = self._gain
        if level is None or interval.seconds < 0.5:
            if gain.silent and sink.playing:
                return Reading(
                    LEVEL.id, None, Level.OK, MSG_MUTED, detail={"sink": sink.name, "volume": gain.how}
                )
            if sink.playing and self.context.mode != "check":
                return Reading(LEVEL.id, None, Level.OK, MSG_LISTENING)
            return Reading(LEVEL.id, None, Level.OK, MSG_NOTHING_PLAYING, detail={"sink": sink.name})
        peak = interval.max_frame_db if interval.max_frame_db is not None else level
        detail: dict[str, Any] = {
            "sink": sink.name, "seconds": round(interval.seconds, 2), "max_frame_db": round(peak, 1),
            "volume": gain.how, "gain_db": round(gain.db, 2),
            "unknown_volume_seconds": round(interval.unknown_seconds, 2),
        }  # fmt: skip
        if interval.unknown_seconds > 0:
            # Counted as full volume: an upper bound, not an observation of what the clerk hears.
            # Not observed rather than unknown: the level has no limit of its own to be unsure
            # about (the dose carries the judgement, as an upper bound), and a mixer with no dB
            # scale would otherwise keep an unknown alert up all day.
            message = MSG_LEVEL_UNKNOWN_VOLUME.format(level=level, seconds=interval.seconds)
            return Reading(LEVEL.id, round(level, 1), Level.NOT_SET_UP, message, detail=detail)
        volume = MSG_VOLUME.get(gain.how, MSG_VOLUME["software"]).format(gain=gain.db)
        message = MSG_LEVEL.format(seconds=interval.seconds, peak=peak, volume=volume)
        return Reading(LEVEL.id, round(level, 1), message=message, detail=detail)

    def _dose_readings(self) -> list[Reading]:
        today = self._today()
        day = self.book.day(today)
        daily = self.book.daily_dose(today)
        laeq = sound_dose.equivalent_level(day.energy, day.seconds)
        if laeq is None:
            daily_msg = MSG_NO_DOSE
        elif day.unknown_seconds > 0:
            daily_msg = MSG_DOSE_UNKNOWN.format(
                hours=day.seconds / 3600, laeq=laeq, unknown=day.unknown_seconds / 3600
            )
        else:
            daily_msg = MSG_DOSE.format(hours=day.seconds / 3600, laeq=laeq)
        week_seconds = sum(self.book.day(today - dt.timedelta(days=d)).seconds for d in range(7))
        weekly = self.book.weekly_dose(today)
        detail = {
            "seconds": round(day.seconds, 1),
            "laeq_db": None if laeq is None else round(laeq, 1),
            "unknown_volume_seconds": round(day.unknown_seconds, 1),
        }
        return [
            Reading(DAILY_DOSE.id, round(daily, 2), message=daily_msg, detail=detail),
            Reading(WEEKLY_DOSE.id, round(weekly, 2), message=MSG_WEEK.format(hours=week_seconds / 3600)),
        ]

    def _shock_reading(self) -> Reading:
        count = len(self._shocks_today)
        if not count:
            return Reading(SHOCK.id, 0, Level.OK, MSG_NO_SHOCK)
        last = self._shocks_today[-1]
        detail = {"time": dt.datetime.fromtimestamp(last.time).isoformat(timespec="milliseconds"),
                  "level_db": round(last.level_db, 1), "rise_db": round(last.rise_db, 1)}  # fmt: skip
        hold = float(self.options["shock_hold_minutes"]) * 60
        if self.clock() - last.time <= hold:
            level = (
                Level.CRITICAL if last.level_db >= float(self.options["shock_limit_db"]) else Level.WARNING
            )
            message = MSG_SHOCK.format(time=_clock(last.time), level=last.level_db, rise=last.rise_db)
            return Reading(SHOCK.id, count, level, message, detail=detail)
        return Reading(
            SHOCK.id, count, Level.OK, MSG_LAST_SHOCK.format(time=_clock(last.time)), detail=detail
        )


def _date(timestamp: float) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp).date()


def _clock(timestamp: float) -> str:
    """Local wall-clock time to the second, as IT would look the call up."""
    return dt.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")

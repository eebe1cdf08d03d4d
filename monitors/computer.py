"""电脑系统: CPU, memory, swap, disks, temperature, load, processes, freezes, crashes.

Procedure 四.1.b: the computer runs smoothly, no freezes, software normal, no
malware; 四.2.b: slow, frozen, blue screen.  Cheap metrics are read every
poll; process scans and temperatures (tens of ms) at a slower cadence.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, IndicatorMaker, Level, Reading, Thresholds
from app.kernel.monitor import LoopLatencyProbe, Monitor, MonitorContext
from app.kernel.paths import write_private
from app.kernel.settings import Setting

log = logging.getLogger(__name__)

HEARTBEAT_FILE = "heartbeat.json"
#: Boot times read at different moments differ by rounding; more than this is a reboot.
BOOT_TIME_TOLERANCE_S = 5.0

_HIGH = Direction.HIGH_IS_BAD
_LOW = Direction.LOW_IS_BAD


_ind = IndicatorMaker("computer", Device.COMPUTER)


CPU = _ind(
    "cpu",
    Text("CPU usage", "CPU 使用率"),
    "%",
    thresholds=Thresholds(_HIGH, 90, 98, 80, 90, raise_after=60, clear_after=30),
    metric_unit="ratio",
    metric_scale=0.01,
)
MEMORY = _ind(
    "memory_available",
    Text("Memory available", "可用内存"),
    "%",
    thresholds=Thresholds(_LOW, 15, 7, 20, 10, raise_after=30, clear_after=30),
    metric_unit="ratio",
    metric_scale=0.01,
)
SWAP = _ind(
    "swap_used",
    Text("Swap in use", "交换空间使用率"),
    "%",
    thresholds=Thresholds(_HIGH, 50, 80, 40, 70, raise_after=60, clear_after=60),
    metric_unit="ratio",
    metric_scale=0.01,
)
DISK_SYSTEM = _ind(
    "disk_free_system",
    Text("Free space, system disk", "系统盘剩余空间"),
    "%",
    thresholds=Thresholds(_LOW, 10, 5, 12, 6),
    metric_unit="ratio",
    metric_scale=0.01,
)
DISK_RECORDINGS = _ind(
    "disk_free_recordings",
    Text("Free space, recordings folder", "录音文件夹剩余空间"),
    "%",
    thresholds=Thresholds(_LOW, 10, 5, 12, 6),
    metric_unit="ratio",
    metric_scale=0.01,
)
TEMPERATURE = _ind(
    "temperature",
    Text("Hottest component", "最高部件温度"),
    "°C",
    thresholds=Thresholds(_HIGH, 85, 95, 80, 90, raise_after=30, clear_after=30),
    metric_unit="celsius",
)
LOAD = _ind(
    "load",
    Text("Load per core", "每核平均负载"),
    "",
    thresholds=Thresholds(_HIGH, 2.0, 4.0, 1.5, 3.0, raise_after=120, clear_after=60),
)
REQUIRED = _ind(
    "required_processes",
    Text("Required programs missing", "必需程序未运行"),
    "",
    numeric=False,
)
FORBIDDEN = _ind(
    "forbidden_processes",
    Text("Forbidden programs running", "禁止程序正在运行"),
    "",
    numeric=False,
)
APP_STALL = _ind(
    "app_stall",
    Text("Deskwatch freeze (longest)", "本程序卡顿(最长)"),
    "ms",
    thresholds=Thresholds(_HIGH, 250, 2000, 100, 500),
    metric_unit="seconds",
    metric_scale=0.001,
)
SYSTEM_STALL = _ind(
    "system_stall",
    Text("System freeze (longest)", "系统卡顿(最长)"),
    "ms",
    thresholds=Thresholds(_HIGH, 1000, 5000, 500, 2000),
    metric_unit="seconds",
    metric_scale=0.001,
)
RESTART = _ind(
    "unexpected_restart",
    Text("Unexpected restart", "异常重启"),
    "",
    numeric=False,
)

MSG_MISSING = Text("Not running: {names}", "未运行:{names}")
MSG_ALL_RUNNING = Text("All required programs are running", "必需程序均在运行")
MSG_FORBIDDEN = Text("Running and not allowed: {names}", "不允许运行的程序正在运行:{names}")
MSG_NONE_FORBIDDEN = Text("No forbidden programs", "无禁止程序")
MSG_DISK = Text("{free} free of {total} at {path}", "{path} 剩余 {free},共 {total}")
MSG_DISK_MISSING = Text("Folder does not exist: {path}", "文件夹不存在:{path}")
MSG_TEMP = Text("{sensor}", "{sensor}")
MSG_CRASH = Text(
    "The workstation restarted without a clean shutdown around {time} "
    "(possible crash, blue screen or power loss)",
    "工作站在 {time} 前后未正常关机即重启(可能死机、蓝屏或断电)",
)
MSG_APP_CRASH = Text("Deskwatch stopped unexpectedly around {time}", "Deskwatch 在 {time} 前后意外停止")
MSG_CLEAN = Text("Last shutdown was clean", "上次正常关机")
MSG_SINCE = Text(
    "No unexpected restart since Deskwatch started at {time}", "自 {time} 本程序启动以来未异常重启"
)
MSG_NO_RECORD = Text(
    "Not observed: no record of an earlier session in {path} (first start, or the file was removed)",
    "未观测:{path} 中没有上次运行的记录(首次启动,或该文件已被删除)",
)
MSG_RECORD_UNREADABLE = Text(
    "Cannot tell how the last session ended: {path} is unreadable ({error})",
    "无法判断上次运行如何结束:{path} 无法读取({error})",
)
MSG_NOT_KNOWN = Text(
    "Not observed: how the last session ended is not known ({path} was unreadable)",
    "未观测:不知道上次运行如何结束({path} 无法读取)",
)
MSG_NO_BOOT_TIME = Text(
    "Cannot tell whether the computer restarted: its boot time is unreadable ({error})",
    "无法判断电脑是否重启:无法读取开机时间({error})",
)
MSG_RECORD_UNWRITABLE = Text(
    "Cannot record this session in {path} ({error}): an unexpected restart would go unseen",
    "无法在 {path} 中记录本次运行({error}):异常重启将无法发现",
)
MSG_MEMORY_UNREADABLE = Text("Cannot read the memory size: {error}", "无法读取内存大小:{error}")
MSG_DISK_UNREADABLE = Text(
    "Cannot read the free space at {path}: {error}", "无法读取 {path} 的剩余空间:{error}"
)
MSG_NO_PROCESSES = Text("Cannot list the running programs: {error}", "无法列出正在运行的程序:{error}")


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _norm_process(name: str) -> str:
    name = os.path.basename(name).lower()
    return name[:-4] if name.endswith(".exe") else name


class SystemStallProbe:
    """Measures how late a sleeping thread wakes: whole-system stalls.

    A thread that asks to sleep 200 ms and wakes seconds later saw the
    machine freeze (swap storm, hung driver, VM pause).
    """

    PERIOD_S = 1.0

    def __init__(self) -> None:
        self._worst = LoopLatencyProbe()  # same "worst since last asked" bookkeeping
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deskwatch-stall-probe", daemon=True)

    def start(self) -> None:
        """Begin measuring in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop measuring."""
        self._stop.set()

    def _run(self) -> None:
        while True:
            before = time.monotonic()
            if self._stop.wait(self.PERIOD_S):
                return
            self._worst.report(max(0.0, (time.monotonic() - before - self.PERIOD_S) * 1000))

    def take_max(self) -> float | None:
        """Worst lateness since the last call, or ``None`` before the first sample."""
        return self._worst.take_max()


class ComputerMonitor(Monitor):
    """Watches the PC itself through psutil."""

    id = "computer"
    device = Device.COMPUTER
    title = Text("Computer", "电脑系统")
    indicators = (
        CPU, MEMORY, SWAP, DISK_SYSTEM, DISK_RECORDINGS, TEMPERATURE, LOAD, REQUIRED, FORBIDDEN,
        APP_STALL, SYSTEM_STALL, RESTART,
    )  # fmt: skip
    interval = 5.0
    timeout = 20.0
    settings = (
        Setting(
            "system_disk",
            "",
            Text("System disk (empty: automatic)", "系统盘(留空自动)"),
        ),
        Setting(
            "required_processes",
            [],
            Text("Programs that must run (e.g. the CRM client)", "必须运行的程序(如客服系统客户端)"),
            type=list,
        ),
        Setting(
            "forbidden_processes",
            [],
            Text("Programs that must not run", "禁止运行的程序"),
            type=list,
        ),
        Setting(
            "slow_interval",
            30.0,
            Text("Process and temperature scan interval (s)", "进程与温度扫描间隔(秒)"),
            minimum=1,
            maximum=3600,
        ),
    )

    def __init__(self, settings: dict[str, Any], context: MonitorContext) -> None:
        super().__init__(settings, context)
        self._cpu_reference: tuple[float, float, float] | None = None
        self._last_slow = -float("inf")
        self._slow_readings: list[Reading] = []
        self._stall_probe: SystemStallProbe | None = None
        #: The restart indicator: what to report once (how the last session ended), then from then on.
        self._restart_first: Reading | None = None
        self._restart_after: Reading | None = None
        #: Why the heartbeat could not be written last time, or ``None`` when it was.
        self._record_error: str | None = None
        self._heartbeat = context.data_dir / HEARTBEAT_FILE

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        self._cpu_reference = _cpu_times()
        if self.context.mode == "app":
            self._restart_first, self._restart_after = self._check_previous_session()
            self._write_heartbeat(clean=False)
            self._stall_probe = SystemStallProbe()
            self._stall_probe.start()

    def close(self) -> None:
        if self._stall_probe is not None:
            self._stall_probe.stop()
            self._stall_probe = None
            self._write_heartbeat(clean=True)

    # -- polling --------------------------------------------------------------
    def poll(self) -> list[Reading]:
        readings: list[Reading] = []
        readings += self._cpu()
        readings += self._memory()
        readings += self._disks()
        readings += self._load()
        now = time.monotonic()
        if now - self._last_slow >= float(self.options["slow_interval"]):
            self._last_slow = now
            self._slow_readings = self._temperature() + self._processes()
        readings += self._slow_readings
        readings += self._stalls()
        if self.context.mode == "app":
            self._write_heartbeat(clean=False)
            readings += self._restart()
        return readings

    def _restart(self) -> list[Reading]:
        first, self._restart_first = self._restart_first, None
        if first is not None:
            # How the last session ended is reported once; a fault then clears, and its
            # alert stays visible (cleared but unacknowledged) until the clerk has seen it.
            return [first]
        if self._record_error is not None:
            message = MSG_RECORD_UNWRITABLE.format(path=str(self._heartbeat), error=self._record_error)
            return [Reading(RESTART.id, None, Level.UNKNOWN, message)]
        return [] if self._restart_after is None else [self._restart_after]

    def _cpu(self) -> list[Reading]:
        # Our own reference, not psutil.cpu_percent(None): psutil keeps that
        # reference per thread, so a start() on one thread and a poll() on
        # another read a meaningless 0.0 % ("all idle") on a busy machine.
        reference = self._cpu_reference
        now = _cpu_times()
        if reference is None or now[0] - reference[0] < CPU_MIN_WINDOW_S:
            # One-shot runs have no earlier reference: measure over a short window.
            reference = now
            time.sleep(CPU_MIN_WINDOW_S)
            now = _cpu_times()
        self._cpu_reference = now
        elapsed_total = now[1] - reference[1]
        if elapsed_total <= 0:
            return []  # no CPU time passed (a frozen clock): nothing observed this time
        busy = max(0.0, min(100.0, 100.0 * (now[2] - reference[2]) / elapsed_total))
        return [Reading(CPU.id, round(busy, 1))]

    def _memory(self) -> list[Reading]:
        vm = psutil.virtual_memory()
        if not vm.total:  # nothing was read (no "0 % available": that would be a false alarm)
            message = MSG_MEMORY_UNREADABLE.format(error="the system reports a total of 0 bytes")
            return [Reading(MEMORY.id, None, Level.UNKNOWN, message)]
        avail = 100.0 * vm.available / vm.total
        mem_msg = Text.same(f"{_gib(vm.available)} / {_gib(vm.total)}")
        readings = [
            Reading(MEMORY.id, round(avail, 1), message=mem_msg, detail={"available_bytes": vm.available})
        ]
        swap = psutil.swap_memory()
        if swap.total:  # no swap configured: nothing to watch, no reading
            readings.append(Reading(SWAP.id, round(swap.percent, 1)))
        return readings

    def _disk_paths(self) -> list[tuple[Indicator, Path]]:
        system = str(self.options.get("system_disk") or "")
        if not system:
            system = os.environ.get("SYSTEMDRIVE", "C:") + "\\" if sys.platform == "win32" else "/"
        recordings_path = self.context.recordings_dir
        if self.context.recordings_dir_is_default:
            # Our own default folder: create it rather than warn about it.
            try:
                recordings_path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                log.warning("cannot create %s: %s", recordings_path, exc)
        return [(DISK_SYSTEM, Path(system)), (DISK_RECORDINGS, recordings_path)]

    def _disks(self) -> list[Reading]:
        readings = []
        for indicator, path in self._disk_paths():
            if not path.exists():
                message = MSG_DISK_MISSING.format(path=str(path))
                readings.append(Reading(indicator.id, None, Level.WARNING, message))
                continue
            try:
                usage = psutil.disk_usage(str(path))
                if not usage.total:
                    raise OSError(0, "the file system reports a size of 0 bytes")
            except OSError as exc:  # a folder we may not enter, a network drive gone: not "0 % free"
                message = MSG_DISK_UNREADABLE.format(path=str(path), error=exc.strerror or str(exc))
                readings.append(
                    Reading(indicator.id, None, Level.UNKNOWN, message, detail={"path": str(path)})
                )
                continue
            free_pct = 100.0 * usage.free / usage.total
            message = MSG_DISK.format(free=_gib(usage.free), total=_gib(usage.total), path=str(path))
            readings.append(
                Reading(
                    indicator.id,
                    round(free_pct, 2),
                    message=message,
                    detail={"free_bytes": usage.free, "total_bytes": usage.total, "path": str(path)},
                )
            )
        return readings

    def _load(self) -> list[Reading]:
        if not hasattr(os, "getloadavg"):
            # psutil emulates getloadavg on Windows, but its first values are zeros.
            return []
        one, _five, _fifteen = os.getloadavg()
        return [Reading(LOAD.id, round(one / (psutil.cpu_count() or 1), 2))]

    def _temperature(self) -> list[Reading]:
        read = getattr(psutil, "sensors_temperatures", None)
        if read is None:  # only Linux and FreeBSD have it
            return []
        try:
            groups = read()
        except OSError:
            return []
        hottest: tuple[float, str] | None = None
        for chip, entries in groups.items():
            for entry in entries:
                if entry.current and (hottest is None or entry.current > hottest[0]):
                    hottest = (entry.current, f"{chip} {entry.label}".strip())
        if hottest is None:
            return []
        return [Reading(TEMPERATURE.id, round(hottest[0], 1), message=MSG_TEMP.format(sensor=hottest[1]))]

    def _processes(self) -> list[Reading]:
        required = [str(n) for n in self.options.get("required_processes", [])]
        forbidden = [str(n) for n in self.options.get("forbidden_processes", [])]
        if not required and not forbidden:
            return []
        running: set[str] = set()
        try:
            for proc in psutil.process_iter(["name", "exe", "cmdline"]):
                info = proc.info
                for candidate in (info.get("name"), info.get("exe"), (info.get("cmdline") or [None])[0]):
                    if candidate:
                        running.add(_norm_process(candidate))
            if not running:  # not even Deskwatch itself: the list was not read, nothing is "not running"
                raise OSError(0, "no program names could be read")
        except (OSError, psutil.Error) as exc:
            message = MSG_NO_PROCESSES.format(error=getattr(exc, "strerror", None) or str(exc))
            wanted = [(REQUIRED, required), (FORBIDDEN, forbidden)]
            return [Reading(ind.id, None, Level.UNKNOWN, message) for ind, names in wanted if names]
        readings = []
        if required:
            missing = [n for n in required if _norm_process(n) not in running]
            level = Level.CRITICAL if missing else Level.OK
            msg = MSG_MISSING.format(names=", ".join(missing)) if missing else MSG_ALL_RUNNING
            readings.append(Reading(REQUIRED.id, len(missing), level, msg, detail={"missing": missing}))
        if forbidden:
            found = [n for n in forbidden if _norm_process(n) in running]
            level = Level.CRITICAL if found else Level.OK
            msg = MSG_FORBIDDEN.format(names=", ".join(found)) if found else MSG_NONE_FORBIDDEN
            readings.append(Reading(FORBIDDEN.id, len(found), level, msg, detail={"found": found}))
        return readings

    def _stalls(self) -> list[Reading]:
        readings = []
        probe = self.context.loop_probe
        if probe is not None:
            lateness = probe.take_max()
            if lateness is not None:
                readings.append(Reading(APP_STALL.id, round(lateness, 1)))
        if self._stall_probe is not None:
            lateness = self._stall_probe.take_max()
            if lateness is not None:
                readings.append(Reading(SYSTEM_STALL.id, round(lateness, 1)))
        return readings

    # -- unexpected restarts ----------------------------------------------------
    def _write_heartbeat(self, clean: bool) -> None:
        try:
            boot_time: float | None = _boot_time()
        except BOOT_TIME_ERRORS:
            boot_time = None  # the next start then cannot tell a reboot from a Deskwatch crash, and says so
        beat = {"boot_time": boot_time, "last_beat": time.time(), "clean": clean, "pid": os.getpid()}
        try:
            self._heartbeat.parent.mkdir(parents=True, exist_ok=True)
            # Atomic, 0600 and never through a planted link (the data folder may be shared).
            write_private(self._heartbeat, json.dumps(beat))
        except OSError as exc:  # a full or read-only disk must not stop monitoring
            if self._record_error is None:
                log.warning("cannot write heartbeat %s: %s", self._heartbeat, exc)
            self._record_error = exc.strerror or str(exc)
        else:
            self._record_error = None

    def _check_previous_session(self) -> tuple[Reading, Reading]:
        """What to report about how the last session ended: once, and from then on.

        "OK" only when the record says so: with no record (the first start) or an
        unreadable one, nobody knows whether the last session crashed.
        """
        path = str(self._heartbeat)
        since = MSG_SINCE.format(time=time.strftime("%Y-%m-%d %H:%M"))
        try:
            previous = json.loads(self._heartbeat.read_text("utf-8"))
            last_beat, clean = float(previous["last_beat"]), previous["clean"]
            boot_time = None if previous["boot_time"] is None else float(previous["boot_time"])
            if not isinstance(clean, bool) or not math.isfinite(last_beat):
                raise ValueError("not a heartbeat record")
        except FileNotFoundError:
            missing = Reading(RESTART.id, None, Level.NOT_SET_UP, MSG_NO_RECORD.format(path=path))
            return missing, missing
        except (OSError, ValueError, KeyError, TypeError, OverflowError) as exc:
            log.warning("heartbeat file %s unreadable: %s", self._heartbeat, exc)
            error = f"{type(exc).__name__}: {exc}"
            return (
                Reading(
                    RESTART.id, None, Level.UNKNOWN, MSG_RECORD_UNREADABLE.format(path=path, error=error)
                ),
                Reading(RESTART.id, None, Level.NOT_SET_UP, MSG_NOT_KNOWN.format(path=path)),
            )
        after = Reading(RESTART.id, False, Level.OK, since)
        if clean:
            clean_stop = Reading(RESTART.id, False, Level.OK, MSG_CLEAN)
            return clean_stop, clean_stop
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last_beat))
        detail = {"last_heartbeat": last_beat, "previous_boot_time": boot_time}
        try:
            boot_now = _boot_time()
            if boot_time is None:
                raise RuntimeError("not recorded by the last session")
        except BOOT_TIME_ERRORS as exc:
            message = MSG_NO_BOOT_TIME.format(error=str(exc))
            return Reading(RESTART.id, None, Level.UNKNOWN, message, detail=detail), after
        if abs(boot_time - boot_now) > BOOT_TIME_TOLERANCE_S:
            return Reading(
                RESTART.id, True, Level.CRITICAL, MSG_CRASH.format(time=when), detail=detail
            ), after
        return Reading(RESTART.id, True, Level.WARNING, MSG_APP_CRASH.format(time=when), detail=detail), after


#: What :func:`_boot_time` raises when the boot time cannot be read (``/proc/stat`` without ``btime``…).
BOOT_TIME_ERRORS = (OSError, RuntimeError, psutil.Error)


def _boot_time() -> float:
    """When the computer booted (seconds since the epoch); raises one of :data:`BOOT_TIME_ERRORS`."""
    return float(psutil.boot_time())


#: The shortest window a CPU usage figure is measured over (a one-shot check waits this long).
CPU_MIN_WINDOW_S = 0.25


def _cpu_times() -> tuple[float, float, float]:
    """``(monotonic time, total CPU seconds, busy CPU seconds)`` of the whole machine.

    Busy is total less idle and I/O wait, as psutil counts it; guest time is
    already inside user time on Linux, so it is not added twice.
    """
    times = psutil.cpu_times()
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return time.monotonic(), total, total - idle

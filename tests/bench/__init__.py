"""Benchmarks (``make bench``): Deskwatch next to a bare baseline, side by side in one run.

Each ``bench_<name>.py`` module defines ``run(seconds) -> list[Result]``.
Not part of the test run: timings on a shared 2-core machine are for reports,
not for pass/fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench-results"


@dataclass
class Usage:
    """What one process cost over a measured window."""

    name: str
    cpu_seconds_per_minute: float
    peak_rss_mib: float
    #: CPU s/min of the process's threads by kernel name, when asked for (see :func:`thread_cpu`).
    threads: dict[str, float] = field(default_factory=dict)


@dataclass
class Result:
    """One benchmark line: Deskwatch against its baseline."""

    bench: str
    subject: Usage
    baseline: Usage
    notes: str = ""

    @property
    def cpu_ratio(self) -> float:
        return self.subject.cpu_seconds_per_minute / max(self.baseline.cpu_seconds_per_minute, 1e-9)

    @property
    def rss_ratio(self) -> float:
        return self.subject.peak_rss_mib / max(self.baseline.peak_rss_mib, 1e-9)


def _cpu_seconds(p: psutil.Process) -> float:
    """CPU time of a process and of its children it has reaped (``pactl``, ``lpstat`` helpers).

    The process's own time comes nanosecond-exact from its threads'
    schedstat (``cpu_times()`` counts in 10 ms ticks, too coarse for loops
    that cost microseconds per wake-up); reaped children's from ``cutime`` +
    ``cstime`` in ``/proc/PID/stat`` (the kernel adds them up exactly and
    rounds once).  Children still running are counted by the caller.
    """
    own: float | None = None
    task_dir = Path(f"/proc/{p.pid}/task")
    if task_dir.is_dir():
        total_ns = 0
        for task in task_dir.iterdir():
            try:
                total_ns += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        if total_ns:
            own = total_ns / 1e9
    times = p.cpu_times()
    if own is None:
        own = float(times.user + times.system)
    return own + float(times.children_user + times.children_system)


def peak_rss_mib(pid: int) -> float | None:
    """The kernel's high-water mark of the resident set (``VmHWM``), or ``None`` off Linux."""
    try:
        status = Path(f"/proc/{pid}/status").read_text("ascii", errors="replace")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def thread_cpu(pid: int, prefix: str | tuple[str, ...]) -> dict[str, float]:
    """CPU seconds so far of ``pid``'s threads whose kernel name starts with ``prefix`` (or one of them).

    Exact to the nanosecond (``schedstat``); Python threads carry their
    ``threading`` name there when the process runs under
    :data:`tests.bench.threads.NAMING_PRELUDE`.  A thread's cost has no
    floor to subtract, so it resolves what a whole process's noise hides.
    """
    found: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                name = (task / "comm").read_text().strip()
                if name.startswith(prefix):
                    ns = int((task / "schedstat").read_text().split()[0])
                    found[name] = found.get(name, 0.0) + ns / 1e9
            except (OSError, ValueError, IndexError):
                continue
    return found


def _tree_cpu_rss(proc: psutil.Process) -> tuple[float, float]:
    """CPU seconds of ``proc``, its live descendants and every child they reaped; RSS of ``proc``."""
    procs = [proc]
    with contextlib.suppress(psutil.Error):
        procs += proc.children(recursive=True)
    cpu = 0.0
    for p in procs:
        try:
            cpu += _cpu_seconds(p)
        except psutil.Error:
            continue
    rss = 0.0
    with contextlib.suppress(psutil.Error):
        rss = peak_rss_mib(proc.pid) or proc.memory_info().rss / 2**20
    return cpu, rss


def measure_side_by_side(
    commands: dict[str, Sequence[str]],
    seconds: float,
    warmup: float = 15.0,
    env: dict[str, str] | None = None,
    thread_prefix: str | tuple[str, ...] = "",
    stderr: dict[str, str] | None = None,
) -> dict[str, Usage]:
    """Start every command at once, skip ``warmup`` s, then measure for ``seconds``.

    The outside view: CPU is what each process, its live descendants and the
    children they reaped used inside the window (scaled to a minute by the
    window's real length); peak RSS is the process's ``VmHWM`` (start-up
    included).  With ``thread_prefix``, each :class:`Usage` also has the CPU
    of the process's threads so named that lived through the window.  With
    ``stderr``, it is given what each process wrote there (its last 64 KiB),
    read once it has ended: the warnings a run's figures should be read with.
    """
    full_env = {**os.environ, **(env or {})}
    procs = {
        name: subprocess.Popen(
            list(cmd), cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for name, cmd in commands.items()
    }
    handles = {name: psutil.Process(p.pid) for name, p in procs.items()}
    peaks = dict.fromkeys(procs, 0.0)
    try:
        _sleep_watching(procs, handles, peaks, warmup)
        start = {name: (_tree_cpu_rss(h)[0], time.monotonic()) for name, h in handles.items()}
        threads0 = {name: thread_cpu(h.pid, thread_prefix) for name, h in handles.items() if thread_prefix}
        _sleep_watching(procs, handles, peaks, seconds)
        usage = {}
        for name, handle in handles.items():
            cpu, rss = _tree_cpu_rss(handle)
            window = time.monotonic() - start[name][1]
            _check_alive(name, procs[name])
            threads = {}
            if thread_prefix:
                before = threads0[name]
                after = thread_cpu(handle.pid, thread_prefix)
                threads = {t: (c - before[t]) * 60.0 / window for t, c in after.items() if t in before}
            usage[name] = Usage(name, (cpu - start[name][0]) * 60.0 / window, max(peaks[name], rss), threads)
        return usage
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
            if p.stderr:
                if stderr is not None:
                    name = next(n for n, q in procs.items() if q is p)
                    stderr[name] = p.stderr.read()[-65536:].decode(errors="replace")
                p.stderr.close()


def _check_alive(name: str, proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{name} exited early with {proc.returncode}: {err[-2000:]}")


def _sleep_watching(
    procs: dict[str, subprocess.Popen[bytes]],
    handles: dict[str, psutil.Process],
    peaks: dict[str, float],
    seconds: float,
) -> None:
    """Wait ``seconds``, checking every 0.5 s that everyone runs and noting peak RSS."""
    end = time.monotonic() + seconds
    while True:
        for name, handle in handles.items():
            _check_alive(name, procs[name])
            with contextlib.suppress(psutil.Error):
                peaks[name] = max(peaks[name], peak_rss_mib(handle.pid) or 0.0)
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.5, left))


def report(results: list[Result]) -> str:
    """A plain table of results with ratios (empty for benchmarks that print their own)."""
    if not results:
        return ""
    lines = [
        f"{'benchmark':<22} {'process':<44} {'CPU s/min':>10} {'peak RSS MiB':>13}",
    ]
    for r in results:
        for usage in (r.subject, r.baseline):
            cpu, rss = usage.cpu_seconds_per_minute, usage.peak_rss_mib
            lines.append(f"{r.bench:<22} {usage.name:<44} {cpu:>10.3f} {rss:>13.1f}")
        lines.append(
            f"{'':<22} {'ratio (Deskwatch / baseline)':<44} {r.cpu_ratio:>10.2f} {r.rss_ratio:>13.2f}"
        )
        if r.notes:
            lines.append(f"{'':<22} {r.notes}")
    return "\n".join(lines)


def save(results: list[Result], name: str) -> Path:
    """Write results as JSON into ``bench-results/`` (nothing for benchmarks that save their own)."""
    path = RESULTS_DIR / f"{name}.json"
    if not results:
        return path
    RESULTS_DIR.mkdir(exist_ok=True)
    data = [asdict(r) | {"cpu_ratio": r.cpu_ratio, "rss_ratio": r.rss_ratio} for r in results]
    path.write_text(json.dumps(data, indent=2), "utf-8")
    return path


#: Deskwatch's own packages, run from bytecode on an installed seat (its ``postinst`` compiles them).
PACKAGES = ("app", "sensors", "monitors")


def compile_sources() -> None:
    """Compile Deskwatch's packages to ``__pycache__`` as an install does, even with PYTHONDONTWRITEBYTECODE.

    Where bytecode may not be written (as in this build environment) every
    start would compile the sources again: about 1-2 MiB more peak RSS (the
    compiler's garbage, left in Python's arenas) and twice the start-up time
    of a seat, where the package's ``postinst`` has compiled them.
    """
    import compileall

    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


def python() -> str:
    """The interpreter running the benchmarks (the project's venv)."""
    return sys.executable

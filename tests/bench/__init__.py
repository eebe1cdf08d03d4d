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
from dataclasses import asdict, dataclass
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
    """CPU time of a process; nanosecond-exact from schedstat on Linux.

    ``cpu_times()`` counts in 10 ms ticks, too coarse for loops that cost
    microseconds per wake-up.
    """
    task_dir = Path(f"/proc/{p.pid}/task")
    if task_dir.is_dir():
        total_ns = 0
        for task in task_dir.iterdir():
            try:
                total_ns += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        if total_ns:
            return total_ns / 1e9
    times = p.cpu_times()
    return float(times.user + times.system)


def _tree_cpu_rss(proc: psutil.Process) -> tuple[float, float]:
    procs = [proc]
    with contextlib.suppress(psutil.Error):
        procs += proc.children(recursive=True)
    cpu = rss = 0.0
    for p in procs:
        try:
            cpu += _cpu_seconds(p)
            rss += p.memory_info().rss
        except psutil.Error:
            continue
    return cpu, rss


def measure_side_by_side(
    commands: dict[str, Sequence[str]],
    seconds: float,
    warmup: float = 5.0,
    env: dict[str, str] | None = None,
) -> dict[str, Usage]:
    """Start every command at once, skip ``warmup`` s, then measure for ``seconds``.

    CPU is what each process tree used inside the window; RSS is its peak
    sampled every 0.5 s over the whole run (start-up included).
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
    start_cpu: dict[str, float] = {}
    try:
        began = time.monotonic()
        while time.monotonic() - began < warmup + seconds:
            for name, handle in handles.items():
                cpu, rss = _tree_cpu_rss(handle)
                peaks[name] = max(peaks[name], rss)
                if name not in start_cpu and time.monotonic() - began >= warmup:
                    start_cpu[name] = cpu
            time.sleep(0.5)
        usage = {}
        for name, handle in handles.items():
            cpu, rss = _tree_cpu_rss(handle)
            if procs[name].poll() is not None:
                err = procs[name].stderr.read().decode(errors="replace") if procs[name].stderr else ""
                raise RuntimeError(f"{name} exited early with {procs[name].returncode}: {err[-2000:]}")
            usage[name] = Usage(name, (cpu - start_cpu[name]) * 60.0 / seconds, max(peaks[name], rss) / 2**20)
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
                p.stderr.close()


def report(results: list[Result]) -> str:
    """A plain table of results with ratios (empty for benchmarks that print their own)."""
    if not results:
        return ""
    lines = [
        f"{'benchmark':<22} {'process':<34} {'CPU s/min':>10} {'peak RSS MiB':>13}",
    ]
    for r in results:
        for usage in (r.subject, r.baseline):
            cpu, rss = usage.cpu_seconds_per_minute, usage.peak_rss_mib
            lines.append(f"{r.bench:<22} {usage.name:<34} {cpu:>10.3f} {rss:>13.1f}")
        lines.append(
            f"{'':<22} {'ratio (Deskwatch / baseline)':<34} {r.cpu_ratio:>10.2f} {r.rss_ratio:>13.2f}"
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


def python() -> str:
    """The interpreter running the benchmarks (the project's venv)."""
    return sys.executable

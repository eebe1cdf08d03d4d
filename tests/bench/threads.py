"""Where the tray app's CPU goes, per thread, on the full seat: ``python -m tests.bench.threads``.

Not a side-by-side benchmark but its magnifying glass: the tray app of
``bench all`` (the seat of :mod:`tests.bench.seat`, on Xvfb with a tray)
runs for a warm-up, then every thread's CPU (its ``schedstat``, exact to
the nanosecond) and its wake-ups (``voluntary_ctxt_switches``: each time the
thread went to sleep, so each time something woke it) are read from
``/proc/PID/task`` every half second over the window.  Python threads get
their ``threading`` name as the kernel's thread name (``comm``) through a
small prelude, so ``top -H`` would show them too; threads of C libraries
(Qt's, libpulse's, PortAudio's) keep the names those give them.  Threads
that come and go (a poll's worker) are summed under their name; what
exited between two samples and reaped children are the remainder of the
process's own totals.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench import RESULTS_DIR, python

#: Makes each Python thread's name (less ``deskwatch-``, 15 bytes at most) its kernel name.
NAME_THREADS = """
import ctypes, threading
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_inner = threading.Thread._bootstrap_inner
def _named(self):
    _prctl(15, self.name.removeprefix("deskwatch-").encode()[:15], 0, 0, 0)  # PR_SET_NAME
    _inner(self)
threading.Thread._bootstrap_inner = _named
"""
#: Runs the app (``python -c NAMING_PRELUDE run …``) with its threads named.
NAMING_PRELUDE = (
    NAME_THREADS
    + """
import runpy, sys
sys.argv = ["deskwatch", *sys.argv[1:]]
runpy.run_module("app.cli", run_name="__main__", alter_sys=True)
"""
)

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """One thread's counters at one moment."""

    name: str
    cpu_ns: int
    voluntary: int
    involuntary: int


@dataclass
class ThreadUsage:
    """One thread name's cost over the window."""

    name: str
    cpu_seconds_per_minute: float
    wakes_per_second: float
    involuntary_per_second: float
    threads: int


def wakes(thread: threading.Thread) -> int:
    """How many times a thread of this process has gone to sleep so far (its voluntary switches).

    Each sleep ends in a wake-up, so the difference over a window counts its
    wake-ups; the tests use it to pin that a thread stays asleep.
    """
    assert thread.native_id is not None, "the thread has not started"
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("voluntary_ctxt"))


def read_tasks(pid: int) -> dict[int, Sample]:
    """Every live thread of ``pid`` (threads gone while reading are skipped)."""
    tasks: dict[int, Sample] = {}
    root = Path(f"/proc/{pid}/task")
    for task in root.iterdir():
        try:
            name = (task / "comm").read_text().strip()
            cpu = int((task / "schedstat").read_text().split()[0])
            status = (task / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        tid = int(task.name)
        if tid == pid:
            name = "MainThread (GUI)"
        tasks[tid] = Sample(
            name,
            cpu,
            int(fields["voluntary_ctxt_switches"]),
            int(fields["nonvoluntary_ctxt_switches"]),
        )
    return tasks


def process_cpu(pid: int) -> tuple[float, float]:
    """The process's own CPU seconds (every thread, exited ones too) and its reaped children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 14-17 of stat (utime stime cutime cstime), counted from after the name.
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def measure(pid: int, seconds: float, every: float = 0.5) -> tuple[list[ThreadUsage], dict[str, float]]:
    """Per-thread-name usage of ``pid`` over ``seconds``, and the process totals per minute."""
    first = read_tasks(pid)
    own0, children0 = process_cpu(pid)
    start = time.monotonic()
    last = dict(first)
    seen_new: set[int] = set()
    while time.monotonic() - start < seconds:
        time.sleep(every)
        for tid, sample in read_tasks(pid).items():
            if tid not in first:
                seen_new.add(tid)
            last[tid] = sample
    window = time.monotonic() - start
    own1, children1 = process_cpu(pid)
    per_name: dict[str, list[float]] = {}
    for tid, end in last.items():
        begin = first.get(tid, Sample(end.name, 0, 0, 0))
        row = per_name.setdefault(end.name, [0.0, 0.0, 0.0, 0.0])
        row[0] += (end.cpu_ns - begin.cpu_ns) / 1e9
        row[1] += end.voluntary - begin.voluntary
        row[2] += end.involuntary - begin.involuntary
        row[3] += 1
    usages = [
        ThreadUsage(name, cpu * 60 / window, vol / window, invol / window, int(n))
        for name, (cpu, vol, invol, n) in per_name.items()
    ]
    usages.sort(key=lambda u: -u.cpu_seconds_per_minute)
    counted = sum(u.cpu_seconds_per_minute for u in usages)
    totals = {
        "process": (own1 - own0) * 60 / window,
        "threads counted": counted,
        "reaped children": (children1 - children0) * 60 / window,
        "threads that came and went": len(seen_new),
    }
    return usages, totals


def run(
    seconds: float, warmup: float, printers: int = 2, sensors: int = 3, hearing: bool = True
) -> dict[str, object]:
    """Start the full seat and the tray app, measure, stop; returns what :func:`report` prints."""
    # Imported here: the tests that only count a thread's wake-ups need none of the seat.
    from tests.bench.seat import Seat
    from tests.services import stop
    from tests.xserver import xvfb

    with tempfile.TemporaryDirectory(prefix="dw-bench-threads-") as tmp, xvfb(with_tray=True) as x:
        root = Path(tmp)
        play = warmup + seconds + 120
        with Seat(root, printers=printers, sensors=sensors, play_seconds=play, hearing=hearing) as seat:
            config = seat.write_config(root / "deskwatch.toml")
            (root / "qt-tmp").mkdir()
            env = {**os.environ, **x.env, **seat.env(), "TMPDIR": str(root / "qt-tmp")}
            args = ["run", "--config", str(config), "--data-dir", str(root / "data")]
            log = root / "app.log"
            with log.open("wb") as err:
                app = subprocess.Popen(
                    [python(), "-c", NAMING_PRELUDE, *args], env=env, stdout=subprocess.DEVNULL, stderr=err
                )
            try:
                time.sleep(warmup)
                if app.poll() is not None:
                    raise RuntimeError(f"the app exited early: {log.read_text(errors='replace')[-2000:]}")
                usages, totals = measure(app.pid, seconds)
            finally:
                stop(app)
    return {"seconds": seconds, "threads": [u.__dict__ for u in usages], "totals": totals}


def report(result: dict[str, object]) -> str:
    """A table: CPU s/min and wake-ups per second per thread name."""
    lines = [f"{'thread':<24} {'n':>3} {'CPU s/min':>10} {'wakes/s':>8} {'preempted/s':>12}"]
    for row in result["threads"]:  # type: ignore[attr-defined]
        lines.append(
            f"{row['name']:<24} {row['threads']:>3} {row['cpu_seconds_per_minute']:>10.3f}"
            f" {row['wakes_per_second']:>8.2f} {row['involuntary_per_second']:>12.2f}"
        )
    for name, value in result["totals"].items():  # type: ignore[attr-defined]
        lines.append(f"{name:<28} {value:>10.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.threads")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "threads.json")
    parser.add_argument("--no-hearing", action="store_true", help="the seat with the hearing monitor off")
    args = parser.parse_args()
    result = run(args.seconds, args.warmup, hearing=not args.no_hearing)
    print(report(result))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), "utf-8")


if __name__ == "__main__":
    main()

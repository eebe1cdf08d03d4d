"""What is resident in the tray app on the full seat: Python objects per top-level module, and libraries.

``python -m tests.bench.memory_map [--seconds N] [--json OUT]`` starts the seat of
``bench all`` (:mod:`tests.bench.seat`) and the real tray app on Xvfb, and after
``N`` seconds (25) prints

* the Python memory each top-level module left allocated when it was imported
  (traced by ``tracemalloc`` around every loader's ``exec_module``, exclusive
  of the modules it imported in turn: ``numpy`` counts numpy's own objects,
  not the ``pickle`` it pulls in; what other threads allocate meanwhile is
  counted in too, so small groups are approximate), and which module first
  imported it; the rest of the Python heap is "after import";
* the resident set per mapped file (``/proc/self/smaps``: shared libraries,
  fonts, Qt resources), ``[heap]``, the threads' stacks and the other
  anonymous mappings (Python's object arenas, glibc's thread arenas).

Tracing costs memory and time of its own, so the peak RSS this prints is not
the figure to compare: ``bench all`` is.  In the app's process it runs as
``python -m tests.bench.memory_map --child OUT ARGS…``.

``--outside`` traces nothing: it runs the tray app and the bare PySide6 tray
app of ``bench tray`` side by side on the seat and reads both from outside
(``/proc/PID/status`` every 10 ms, ``/proc/PID/smaps`` at the end), to tell a
start-up peak from the steady set: when ``VmHWM`` was reached, anonymous
against file-backed pages over time, and the resident set per mapped file
of each process with the difference.
"""

from __future__ import annotations

import argparse
import importlib._bootstrap_external as external
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any


def top_level(name: str) -> str:
    """``numpy.core._multiarray_umath`` → ``numpy``; the project's packages stay split by layer."""
    parts = name.split(".")
    if parts[0] in ("app", "PySide6") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


class ImportMeter:
    """Python memory left allocated by each module's import, exclusive of its own imports."""

    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        #: Who first imported each group (the module being imported around it), to see what pulls it in.
        self.via: dict[str, str] = {}
        self._local = threading.local()  # per thread: a stack of [module name, traced at start, children]

    def install(self) -> None:
        for loader in (external._LoaderBasics, external.ExtensionFileLoader):
            original = loader.exec_module
            loader.exec_module = self._wrap(original)  # type: ignore[method-assign]

    def _wrap(self, original: Any) -> Any:
        def exec_module(loader: Any, module: Any) -> None:
            stack = self._local.__dict__.setdefault("stack", [])
            group = top_level(module.__name__)
            if group not in self.via:
                self.via[group] = stack[-1][0] if stack else "-"
            start = tracemalloc.get_traced_memory()[0]
            stack.append([module.__name__, start, 0])
            try:
                original(loader, module)
            finally:
                _name, begun, children = stack.pop()
                total = tracemalloc.get_traced_memory()[0] - begun
                self.own[group] += total - children
                if stack:
                    stack[-1][2] += total

        return exec_module


def _thread_stack_kib() -> int:
    """A thread's stack as glibc maps it by default: ``ulimit -s`` (8 MiB here; the guard page is apart)."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_STACK)
    return soft // 1024 if soft != resource.RLIM_INFINITY else 8 * 1024


THREAD_STACK_KIB = _thread_stack_kib()
ANON_KINDS = ("[anon: thread stacks]", "[anon]")


def anonymous_kind(size_kib: int) -> str:
    """What an unnamed mapping is: a thread's stack, or the rest.

    The rest is Python's object arenas (1 MiB each, adjacent ones merged by
    the kernel into one mapping), glibc's thread arenas (up to 64 MiB each,
    merged with their neighbours too, so smaps cannot tell them apart: glibc's
    ``malloc_stats`` can), malloc's blocks too big for a heap, and libraries'
    own pools.
    """
    return ANON_KINDS[0] if size_kib == THREAD_STACK_KIB else ANON_KINDS[1]


def smaps_by_file(pid: int | str = "self") -> dict[str, int]:
    """RSS (KiB) per mapped file name; ``[heap]``, and the anonymous mappings by :func:`anonymous_kind`."""
    rss: Counter[str] = Counter()
    kind = "[anon]"
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head = line.split(None, 5)
            if "-" in head[0] and not head[0].endswith(":"):
                path = head[5].strip() if len(head) > 5 else ""
                if path.startswith("/"):
                    kind = path.rsplit("/", 1)[-1]
                elif path:
                    kind = path
                else:
                    low, high = (int(address, 16) for address in head[0].split("-"))
                    kind = anonymous_kind((high - low) // 1024)
            elif head[0] == "Rss:":
                rss[kind] += int(head[1])
    return dict(rss)


def vm_kib(field: str) -> int:
    return status_kib()[field]


#: The memory fields of ``/proc/PID/status`` that :func:`status_kib` reads.
STATUS_FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")


def status_kib(pid: int | str = "self") -> dict[str, int]:
    """The process's peak and resident set (KiB), its anonymous, file-backed and shared parts."""
    fields = dict.fromkeys(STATUS_FIELDS, 0)
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in fields:
                fields[key] = int(value.split()[0])
    return fields


def child(out: Path, seconds: float, argv: list[str]) -> int:
    """The app's side: meter imports, run the tray app, write the record after ``seconds``, quit."""
    tracemalloc.start(1)
    meter = ImportMeter()
    meter.install()
    from tests.apprun import run_app_with

    def started(app: Any) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        def record() -> None:
            traced = tracemalloc.get_traced_memory()[0]
            modules = dict(meter.own)
            modules["(after import)"] = traced - sum(modules.values())
            data = {
                "python_kib": {k: v // 1024 for k, v in modules.items()},
                "python_total_kib": traced // 1024,
                "imported_via": meter.via,
                "modules_loaded": len(sys.modules),
                "modules": sorted(sys.modules),
                "files_kib": smaps_by_file(),
                "rss_kib": vm_kib("VmRSS"),
                "hwm_kib": vm_kib("VmHWM"),
            }
            out.write_text(json.dumps(data), "utf-8")
            QApplication.exit(0)

        QTimer.singleShot(int(seconds * 1000), record)

    return run_app_with(started, argv)


def report(data: dict[str, Any], most: int = 25) -> str:
    """The biggest module groups and files, in MiB."""
    lines = [
        f"RSS {data['rss_kib'] / 1024:.1f} MiB (traced run), Python heap traced "
        f"{data['python_total_kib'] / 1024:.1f} MiB in {data['modules_loaded']} modules",
        "  Python objects by top-level module (MiB):",
    ]
    via = data.get("imported_via", {})
    for name, kib in Counter(data["python_kib"]).most_common(most):
        by = f"  (first imported by {via[name]})" if name in via else ""
        lines.append(f"    {kib / 1024:6.2f}  {name}{by}")
    lines.append("  resident by mapped file (MiB):")
    for name, kib in Counter(data["files_kib"]).most_common(most):
        lines.append(f"    {kib / 1024:6.2f}  {name}")
    return "\n".join(lines)


def sample_side_by_side(
    commands: dict[str, list[str]], seconds: float, env: dict[str, str]
) -> dict[str, Any]:
    """Run ``commands`` at once, untraced; each one's status samples (every 10 ms) and smaps at the end."""
    samples: dict[str, list[tuple[float, dict[str, int]]]] = {name: [] for name in commands}
    procs = {
        name: subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, command in commands.items()
    }
    try:
        started = time.monotonic()
        while (now := time.monotonic() - started) < seconds:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} ended with {proc.returncode}")
                samples[name].append((now, status_kib(proc.pid)))
            time.sleep(0.01)
        return {
            name: {
                "samples": samples[name],
                "files_kib": smaps_by_file(proc.pid),
                "end": status_kib(proc.pid),
            }
            for name, proc in procs.items()
        }
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(20)


def outside_report(data: dict[str, Any], most: int = 30) -> str:
    """When each process peaked, anonymous and file-backed pages, and the files that differ most (MiB)."""
    mib = 1 / 1024
    lines = []
    for name, record in data.items():
        end = record["end"]
        peak_at = next(t for t, status in record["samples"] if status["VmHWM"] >= end["VmHWM"])
        lines.append(
            f"{name}: VmHWM {end['VmHWM'] * mib:.1f} MiB reached at {peak_at:.2f} s; at the end resident "
            f"{end['VmRSS'] * mib:.1f}: anonymous {end['RssAnon'] * mib:.1f}, file-backed "
            f"{end['RssFile'] * mib:.1f}, shared {end['RssShmem'] * mib:.1f}"
        )
        for t, status in record["samples"][:: max(1, len(record["samples"]) // 12)]:
            lines.append(
                f"    {t:6.2f} s  RSS {status['VmRSS'] * mib:6.1f}  anon {status['RssAnon'] * mib:5.1f}  "
                f"file {status['RssFile'] * mib:5.1f}"
            )
    subject, baseline = (Counter(record["files_kib"]) for record in data.values())
    first, second = data
    lines.append(f"  resident by mapped file (MiB): {first}, {second}, difference")
    for name, kib in (subject - baseline).most_common(most):
        lines.append(f"    {subject[name] * mib:6.2f} {baseline[name] * mib:6.2f} {kib * mib:+6.2f}  {name}")
    lines.append(f"    {sum(subject.values()) * mib:6.2f} {sum(baseline.values()) * mib:6.2f}  all")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.memory_map")
    parser.add_argument("--seconds", type=float, default=25.0, help="how long the app runs before the record")
    parser.add_argument("--json", type=Path, help="also write the record here")
    parser.add_argument(
        "--outside", action="store_true", help="untraced, next to the bare tray app, from outside"
    )
    parser.add_argument("--lang", choices=("en", "zh_CN"), help="the app's language (default: the locale's)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child[0]), args.seconds, args.child[1:])
    from tests.bench import compile_sources
    from tests.bench.bench_tray import BARE_TRAY
    from tests.bench.seat import Seat
    from tests.xserver import xvfb

    root_dir = Path(__file__).resolve().parents[2]
    compile_sources()  # bytecode, as an installed seat runs it
    with tempfile.TemporaryDirectory(prefix="dw-memory-map-") as tmp, xvfb(with_tray=True) as x:
        root = Path(tmp)
        with Seat(root, play_seconds=args.seconds + 120) as seat:
            config = seat.write_config(root / "deskwatch.toml")
            (root / "qt-tmp").mkdir()
            env = {**x.env, **seat.env(), "TMPDIR": str(root / "qt-tmp")}
            out = root / "memory.json"
            app_args = ["run", "--config", str(config), "--data-dir", str(root / "data")]
            app_args += ["--lang", args.lang] if args.lang else []
            started = time.monotonic()
            if args.outside:
                commands = {
                    "deskwatch": [sys.executable, "-m", "app.cli", *app_args],
                    "bare tray": [sys.executable, "-c", BARE_TRAY],
                }
                data = sample_side_by_side(commands, args.seconds, {**os.environ, **env})
                print(outside_report(data))
                print(f"  ({time.monotonic() - started:.0f} s)")
                if args.json:
                    args.json.write_text(json.dumps(data, indent=2), "utf-8")
                return 0
            command = [
                sys.executable, "-m", "tests.bench.memory_map", "--seconds", str(args.seconds),
                "--child", str(out), *app_args,
            ]  # fmt: skip
            result = subprocess.run(
                command, cwd=root_dir, env=env, capture_output=True, text=True, timeout=args.seconds + 120
            )
            if result.returncode != 0 or not out.exists():
                sys.exit(f"the app ended with {result.returncode}:\n{result.stderr[-3000:]}")
            data = json.loads(out.read_text("utf-8"))
    print(report(data))
    print(f"  ({time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(data, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

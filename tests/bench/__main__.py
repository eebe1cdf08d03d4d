"""Run benchmarks: ``python -m tests.bench [NAME ...] [--seconds N]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from tests import bench


def main() -> None:
    available = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("names", nargs="*", choices=[*available, []], help="benchmarks to run (default: all)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per benchmark")
    args = parser.parse_args()
    bench.compile_sources()  # measure what a seat runs: the package compiles its bytecode at install
    results = []
    for name in args.names or available:
        module = importlib.import_module(f"tests.bench.bench_{name}")
        print(f"== {name} ({args.seconds:g} s)", flush=True)
        part = module.run(args.seconds)
        print(bench.report(part), flush=True)
        bench.save(part, name)
        results += part
    print("\n== summary")
    print(bench.report(results))


if __name__ == "__main__":
    main()

"""Run every screenshot module in both languages on a real X server: ``python -m tests.screenshots``.

Options: ``--out DIR`` (default ``screenshots/``), ``--lang zh_CN --lang en``,
``--only panel`` (module names without ``shots_``).  ``--seat real`` shoots a
real seat instead of the demo devices (:mod:`tests.screenshots.real`), at
every ``--size`` (default 1280x800 and 1366x768).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

from tests import screenshots
from tests.screenshots import DEFAULT_OUT, LANGUAGES, ROOT, SCREEN_SIZE
from tests.screenshots.real import SIZES, shoot_real

log = logging.getLogger("tests.screenshots")


def discover() -> list[str]:
    """Names of the ``shots_<name>`` modules, sorted."""
    return sorted(
        info.name for info in pkgutil.iter_modules(screenshots.__path__) if info.name.startswith("shots_")
    )


def run_one(module: str, lang: str, outdir: Path) -> None:
    """Inner mode: import one module and take its screenshots (already on the X display)."""
    importlib.import_module(f"tests.screenshots.{module}").take(outdir, lang)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lang", action="append", choices=LANGUAGES)
    parser.add_argument("--only", action="append", metavar="NAME")
    parser.add_argument(
        "--seat", choices=("demo", "real"), default="demo", help="demo devices or a real seat"
    )
    parser.add_argument("--size", action="append", choices=SIZES, help="screen size of --seat real")
    parser.add_argument("--one", nargs=2, metavar=("MODULE", "LANG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size and args.seat != "real":
        parser.error("--size is for --seat real (the demo windows have their own sizes)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    outdir = args.out.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_one(args.one[0], args.one[1], outdir)
        return 0
    if args.seat == "real":
        return shoot_real(outdir, args.size or list(SIZES), args.lang or list(LANGUAGES))
    from tests.xserver import xvfb

    modules = discover()
    if args.only:
        modules = [m for m in modules if m.removeprefix("shots_") in args.only]
    failures = 0
    with xvfb(with_tray=True, size=SCREEN_SIZE) as server:
        for module in modules:
            for lang in args.lang or LANGUAGES:
                started = time.monotonic()
                env = {**server.env, "LANG": f"{lang}.UTF-8" if lang != "en" else "en_US.UTF-8"}
                result = subprocess.run(
                    [sys.executable, "-m", "tests.screenshots", "--out", str(outdir), "--one", module, lang],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                took = time.monotonic() - started
                if result.returncode != 0:
                    failures += 1
                    log.error("%s [%s] failed (%.1f s):\n%s", module, lang, took, result.stderr[-3000:])
                else:
                    log.info("%s [%s] done in %.1f s", module, lang, took)
    for path in sorted(outdir.glob("*.png")):
        log.info("  %s", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

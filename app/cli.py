"""The ``deskwatch`` command.

``deskwatch``                 start the tray application (the default)
``deskwatch run --headless``  monitor without a UI (for servers, benchmarks)
``deskwatch check [--json|--nagios]``  poll every enabled monitor once; exit code = worst level
``deskwatch config check [F]`` validate the config files in force, or one file
``deskwatch config show``     the merged configuration, each value with the layer it came from
``deskwatch selftest``        start-of-shift check; exit code 1 when a device fails
``deskwatch report``          supervisor report (HTML with charts + CSV of alerts)
``deskwatch export-rules``    Prometheus alerting rules (and Grafana dashboard) from the thresholds
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.kernel import i18n
from app.kernel.i18n import Text
from app.kernel.memory import limit_malloc_arenas
from app.kernel.model import format_value, worst
from app.kernel.monitor import Monitor

if TYPE_CHECKING:
    from app.core.runtime import Runtime

log = logging.getLogger("deskwatch")

HEADERS = (
    Text("Device", "设备"),
    Text("Indicator", "指标"),
    Text("Value", "数值"),
    Text("Level", "状态"),
    Text("Message", "说明"),
)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes, before or after the subcommand.

    Sub-parsers declare them with ``default=SUPPRESS``: argparse copies a
    sub-parser's defaults over the parent's values, so without it
    ``deskwatch --config F check`` would lose ``--config``.
    """
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", type=Path, metavar="FILE", default=default, help="use this config file")
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", default=default, help="keep history and state here"
    )
    parser.add_argument(
        "--lang", choices=("auto", "zh_CN", "en"), default=default, help="override the language"
    )
    verbose_default: Any = argparse.SUPPRESS if suppress else False
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=verbose_default, help="log debug messages"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (global options work before or after the subcommand)."""
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, suppress=True)

    parser = argparse.ArgumentParser(
        prog="deskwatch",
        description="Workstation health and equipment monitor for customer-service clerks.",
    )
    _add_global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"deskwatch {__version__}")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", parents=[common], help="start Deskwatch (the default command)")
    run.add_argument("--headless", action="store_true", help="monitor without a user interface")
    run.add_argument("--demo", action="store_true", help="simulated devices walking through every state")

    check = sub.add_parser("check", parents=[common], help="poll every monitor once and report")
    output = check.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    output.add_argument(
        "--nagios", action="store_true", help="print a Nagios plugin line with performance data"
    )
    check.add_argument("--only", action="append", metavar="MONITOR", help="run only these monitors")

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_check = config_sub.add_parser(
        "check", parents=[common], help="validate the site and user files in force, or FILE"
    )
    config_check.add_argument("file", type=Path, nargs="?", help="check this file instead")
    config_check.add_argument("--site", action="store_true", help="check FILE as a site file (its locks too)")
    config_show = config_sub.add_parser(
        "show", parents=[common], help="the configuration in force and the layer each value came from"
    )
    config_show.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    config_sub.add_parser("path", parents=[common], help="print where the config file is read from")

    selftest = sub.add_parser("selftest", parents=[common], help="start-of-shift check of every device")
    selftest.add_argument("--json", action="store_true", help="print JSON instead of a checklist")
    selftest.add_argument("--test-page", action="store_true", help="also print a printer test page")
    selftest.add_argument("--only", action="append", metavar="MONITOR", help="check only these monitors")

    report = sub.add_parser("report", parents=[common], help="supervisor report: HTML with charts + CSV")
    report.add_argument(
        "--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (default: 6 days ago)"
    )
    report.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: <data dir>/reports)")
    report.add_argument(
        "--per", choices=("day", "shift"), default="day", help="one column per day or per shift"
    )

    rules = sub.add_parser(
        "export-rules", parents=[common], help="Prometheus alerting rules from Deskwatch's thresholds"
    )
    rules.add_argument("--out", type=Path, metavar="FILE", help="write the rules here (default: stdout)")
    rules.add_argument("--dashboard", type=Path, metavar="FILE", help="also write the Grafana dashboard JSON")
    rules.add_argument(
        "--defaults", action="store_true", help="use the shipped defaults, ignoring the site and user files"
    )
    return parser


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """Align columns, counting Chinese characters as two cells wide."""
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [_pad(cell, widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _first_line(message: str) -> str:
    """A table cell holds one line; a multi-line hint (a config example) is in ``--json`` whole."""
    first, _, rest = message.partition("\n")
    return f"{first} …" if rest.strip() else first


def _monitor_classes() -> dict[str, type[Monitor]]:
    """Every monitor the package declares, imported only when a command needs them."""
    import monitors

    return monitors.discover()


def _check_runtime(args: argparse.Namespace) -> Runtime:
    """A one-shot runtime (no history, no debounce) for check and selftest; config errors to stderr."""
    from app.core.runtime import build_runtime

    runtime = build_runtime(
        monitor_classes=_monitor_classes(),
        config_path=args.config,
        data_dir=args.data_dir,
        mode="check",
        only=args.only,
    )
    if args.lang:
        i18n.set_language(args.lang)
    for error in runtime.config.errors:
        print(f"deskwatch: config error: {error}", file=sys.stderr)
    return runtime


def cmd_check(args: argparse.Namespace) -> int:
    """Poll once and print; exit code is the worst level's Nagios code."""
    runtime = _check_runtime(args)
    try:
        runtime.scheduler.poll_once()
    finally:
        # A hung monitor keeps its daemon thread; closing must not wait for it.
        runtime.scheduler.stop(timeout=0.5)
    states = runtime.engine.states()
    level = worst(s.level for s in states)
    if args.nagios:
        from app.core.nagios import render

        print(render(states))
    elif args.json:
        payload: dict[str, Any] = {
            "level": level.name.lower(),
            "indicators": [
                {
                    "id": s.key,
                    "device": s.indicator.device.id,
                    "label": s.label(),
                    "value": s.value,
                    "unit": s.indicator.unit,
                    "level": s.level.name.lower(),
                    "message": s.message() if s.message else "",
                }
                for s in states
            ],
            "config_errors": [str(e) for e in runtime.config.errors],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        rows = [[h() for h in HEADERS]]
        for s in states:
            rows.append(
                [
                    s.indicator.device.label(),
                    s.label(),
                    format_value(s.value, s.indicator.unit),
                    s.level.text(),
                    _first_line(s.message()) if s.message else "",
                ]
            )
        if len(rows) == 1:
            print(Text("No monitors enabled.", "没有启用任何监测。")())
        else:
            print(render_table(rows))
    return int(level)


def cmd_config(args: argparse.Namespace) -> int:
    """``config check [FILE] [--site]``, ``config show [--json]`` and ``config path``."""
    from app.core import config_report
    from app.core.config import load_config
    from app.kernel.paths import user_config_path

    user = args.config or user_config_path()
    if args.config_command == "path":
        print(user)
        return 0
    if args.config_command == "show":
        config = load_config(_monitor_classes(), user)
        if args.json:
            print(json.dumps(config_report.show_json(config), ensure_ascii=False, indent=2))
        else:
            sys.stdout.write(config_report.show_text(config))
        return 0
    report = config_report.check(_monitor_classes(), args.file, user, as_site=args.site)
    for line in report.err:
        print(line, file=sys.stderr)
    for line in report.out:
        print(line)
    return report.exit_code


CHECKLIST_MARK = {"pass": "[ OK ]", "fail": "[FAIL]", "skipped": "[SKIP]"}


def cmd_selftest(args: argparse.Namespace) -> int:
    """Run the start-of-shift check, print the checklist, store it; 1 when a device failed."""
    from app.core import selftest
    from app.core.history import History
    from app.core.runtime import HISTORY_FILE
    from app.kernel.paths import user_data_dir

    runtime = _check_runtime(args)
    options = {"test_page": bool(args.test_page or runtime.config.get("selftest", "test_page"))}
    check = selftest.SelfTest(runtime.config, runtime.monitors, user=runtime.engine.user)
    try:
        result = check.run(options)
    finally:
        runtime.scheduler.stop(timeout=0.5)
    data_dir = args.data_dir if args.data_dir is not None else user_data_dir()
    try:
        history = History(data_dir / HISTORY_FILE)
        selftest.store(history, result)
        history.close()
        if history.problem is not None:  # damaged (moved aside) or not writable (result not kept)
            print(f"deskwatch: {history.problem.message()}", file=sys.stderr)
    except Exception as exc:  # the checklist still counts when the history cannot be written
        print(f"deskwatch: could not store the result: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_checklist(result))
    return 0 if result.passed else 1


def render_checklist(result: Any) -> str:
    """The checklist as text: one line per check, advice indented under failures."""
    from app.core import selftest

    lines = [Text("Start-of-shift check", "班前检查")()]
    for check in result.checks:
        for line in check.results:
            # Continuation lines (a multi-line setup hint) stay under the text, not under the mark.
            message = line.message().replace("\n", "\n" + " " * 7)
            lines.append(f"{CHECKLIST_MARK[line.status]} {check.line_title(line)}: {message}")
            if line.advice is not None and line.status != selftest.PASS:
                lines.append(f"       → {line.advice()}")
    counts = result.counts()
    lines.append(
        Text(
            "Result: {status} ({passed} passed, {failed} failed, {skipped} skipped)",
            "结果:{status}(通过 {passed},未通过 {failed},跳过 {skipped})",
        ).format(
            status=selftest.STATUS_TEXT[result.status],
            passed=counts["pass"],
            failed=counts["fail"],
            skipped=counts["skipped"],
        )()
    )
    return "\n".join(lines)


def _parse_date(text: str | None, default: Any) -> Any:
    import datetime as dt

    if not text:
        return default
    return dt.date.fromisoformat(text)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report and the CSV of alerts for a date range."""
    import datetime as dt

    from app.core import reports
    from app.core.config import load_config
    from app.core.history import History, HistoryError
    from app.core.runtime import HISTORY_FILE
    from app.kernel.paths import user_config_path, user_data_dir

    classes = _monitor_classes()
    config = load_config(classes, args.config if args.config is not None else user_config_path())
    i18n.set_language(args.lang or config.get("", "language"))
    try:
        last = _parse_date(args.date_to, dt.date.today())
        first = _parse_date(args.date_from, last - dt.timedelta(days=6))
        shifts = reports.parse_shifts(config.get("reports", "shifts"))
    except ValueError as exc:
        print(f"deskwatch: {exc}", file=sys.stderr)
        return 2
    data_dir = args.data_dir if args.data_dir is not None else user_data_dir()
    db = data_dir / HISTORY_FILE
    if not db.exists():
        print(f"deskwatch: no history at {db} (has Deskwatch run with this data folder?)", file=sys.stderr)
        return 2
    try:
        # Read-only: a report needs no write access to the history (a copy, a read-only share).
        history = History(db, read_only=True)
    except HistoryError as exc:
        print(f"deskwatch: cannot read the history {db}: {exc}", file=sys.stderr)
        return 2
    try:
        data = reports.gather(
            history,
            first,
            last,
            per=args.per,
            shifts=shifts,
            indicators=reports.declared_indicators(classes.values()),
        )
        outdir = args.out if args.out is not None else data_dir / "reports"
        html_path, csv_path = reports.write_report(data, outdir)
    except ValueError as exc:
        print(f"deskwatch: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"deskwatch: cannot write the report: {exc}", file=sys.stderr)
        return 2
    except HistoryError as exc:  # damaged: the running app moves it aside, a report only says so
        print(f"deskwatch: cannot read the history {db}: {exc}", file=sys.stderr)
        return 2
    finally:
        history.close()
    print(html_path)
    print(csv_path)
    return 0


def cmd_export_rules(args: argparse.Namespace) -> int:
    """Print or write the Prometheus rules (and optionally the Grafana dashboard)."""
    from app.core.config import load_config
    from app.core.promfiles import generate_dashboard, generate_rules
    from app.kernel.paths import user_config_path

    user = None if args.defaults else (args.config if args.config is not None else user_config_path())
    # --defaults regenerates the shipped files: no site file of this machine may leak into them.
    config = load_config(_monitor_classes(), user, site_paths=() if args.defaults else None)
    for error in config.errors:
        print(f"deskwatch: config error: {error}", file=sys.stderr)
    text = generate_rules(config)
    try:
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, "utf-8")
        if args.dashboard is not None:
            args.dashboard.parent.mkdir(parents=True, exist_ok=True)
            args.dashboard.write_text(generate_dashboard(config), "utf-8")
    except OSError as exc:
        print(f"deskwatch: cannot write: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_headless(args: argparse.Namespace) -> int:
    """Monitor without a UI until SIGINT/SIGTERM; alerts go to the log."""
    from app.core.alerts import AlertEvent
    from app.core.runtime import build_runtime

    runtime = build_runtime(
        monitor_classes=_monitor_classes(), config_path=args.config, data_dir=args.data_dir, mode="app"
    )
    for error in runtime.config.errors:
        log.error("config error: %s", error)

    def on_alert(event: AlertEvent) -> None:
        alert = event.alert
        message = alert.message() if alert.message else ""
        log.warning("alert %s: %s %s %s", event.kind.value, alert.key, alert.level.name, message)

    runtime.engine.add_alert_listener(on_alert)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    log.info("deskwatch running headless; %d monitors", len(runtime.monitors))
    while not stop.wait(1.0):
        pass
    runtime.stop()
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    """Start the tray application."""
    try:
        from app.ui.startup import run_gui
    except ImportError as exc:
        print(
            f"deskwatch: the desktop interface is not available ({exc}); use 'run --headless'",
            file=sys.stderr,
        )
        return 3
    return int(run_gui(args))


def _tolerant_output() -> None:
    """Never fail on a character the terminal cannot show (an ASCII or strict UTF-8 stdout).

    A Nagios check must exit with the worst level, not 1 from a
    UnicodeEncodeError; such a character is printed as ``?`` instead.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deskwatch`` console script."""
    # Before numpy can be imported: its OpenBLAS would start a thread per core
    # (each with its stack and buffers, spinning after every call) for the few
    # small vectors the audio analysis hands it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Before any thread starts: a dozen mostly idle threads, each with an arena of its
    # own, kept free pages in a dozen places that a shift's RSS crept up by.
    limit_malloc_arenas()
    parser = build_parser()
    args = parser.parse_args(argv)
    _tolerant_output()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.lang:
        i18n.set_language(args.lang)
    if args.command == "check":
        return cmd_check(args)
    if args.command == "config":
        return cmd_config(args)
    if args.command == "selftest":
        return cmd_selftest(args)
    if args.command == "report":
        return cmd_report(args)
    if args.command == "export-rules":
        return cmd_export_rules(args)
    if args.command == "run" and args.headless:
        logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
        return cmd_headless(args)
    return cmd_gui(args)


if __name__ == "__main__":
    sys.exit(main())

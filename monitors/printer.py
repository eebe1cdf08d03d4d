"""打印机: printer state, faults in the clerk's words, queue health, test page.

Procedure 四.1.c: the printer prints fast, with good quality, no jams or
skewed paper; printers are function-tested before work starts.  Each
configured printer (or the default one) is read through its print server —
CUPS on Linux/macOS, the spooler on Windows, optionally SNMP for network
printers — as IPP state reasons, judged by their severity, and explained in
the clerk's language with the raw keyword kept in the reading's detail and value.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.kernel.i18n import Text
from app.kernel.model import DemoSignal, Device, Direction, IndicatorMaker, Level, Reading, Thresholds
from app.kernel.monitor import CheckResult, Monitor, MonitorContext
from app.kernel.settings import Setting
from sensors import printing as p
from sensors.cups_printer import CupsServer
from sensors.print_server import (
    PrinterMissing,
    PrintServer,
    PrintServerFault,
    PrintServerRefused,
    PrintServerUnreachable,
)
from sensors.untrusted import clean_text

if TYPE_CHECKING:
    from sensors.snmp_printer import SnmpPrinters

log = logging.getLogger(__name__)

_HIGH = Direction.HIGH_IS_BAD


#: The device group this monitor watches (its card, self-check advice and demo).
PRINTER = Device(
    "printer",
    Text("Printer", "打印机"),
    40,
    advice=Text(
        "Check paper, toner and covers, clear any jam, and make sure the printer is online",
        "检查纸张、墨粉和机盖,清除卡纸,确认打印机在线",
    ),
    demo=(
        DemoSignal(
            "state",
            Text("Printer state", "打印机状态"),
            states={
                "ok": Text("Idle, ready", "空闲,就绪"),
                "warning": Text("Toner low", "墨粉不足"),
                "critical": Text("Paper jam", "卡纸"),
            },
        ),
        DemoSignal("queue", Text("Jobs waiting", "等待的作业"), "", Direction.HIGH_IS_BAD, 5, 10, 0),
    ),
    demo_offset=3,
)

_ind = IndicatorMaker("printer", PRINTER)


STATUS = _ind(
    "status",
    Text("Printer status", "打印机状态"),
    numeric=False,
    description=Text(
        "Faults the printer reports (jam, paper, toner, door, offline, paused)",
        "打印机报告的故障(卡纸、缺纸、碳粉、盖门、脱机、暂停)",
    ),
)
ACCEPTING = _ind("accepting_jobs", Text("Accepting print jobs", "接受打印任务"), numeric=False)
QUEUED = _ind(
    "queued_jobs",
    Text("Jobs waiting", "排队任务数"),
    thresholds=Thresholds(_HIGH, 5, 10, 4, 9),
)
OLDEST_JOB = _ind(
    "oldest_job_age",
    Text("Oldest waiting job", "最早排队任务等待时间"),
    "s",
    thresholds=Thresholds(_HIGH, 360, 720, 300, 600),
    metric_unit="seconds",
)
FAILED = _ind(
    "failed_jobs",
    Text("Failed jobs (recent)", "近期失败任务数"),
    thresholds=Thresholds(_HIGH, 1, 3),
)
JOB_TIME = _ind(
    "last_job_seconds",
    Text("Time to print the last job", "最近任务打印耗时"),
    "s",
    thresholds=Thresholds(_HIGH, 60, 180, 45, 150),
    metric_unit="seconds",
)

MSG_UNREACHABLE = Text(
    "Print server {server} cannot be reached ({error}). Check that the print service is running.",
    "无法连接打印服务器 {server}({error})。请检查打印服务是否运行。",
)
MSG_FAILED = Text("Printer check failed: {error}", "打印机检查失败:{error}")
MSG_REFUSED = Text(
    "Print server {server} refused to report the printers ({error}). Ask IT to let this computer read them.",
    "打印服务器 {server} 拒绝提供打印机状态({error})。请联系信息技术部门开放读取权限。",
)
MSG_BAD_ANSWER = Text(
    "Print server {server} sent an answer that cannot be read ({error})",
    "打印服务器 {server} 的应答无法解析({error})",
)
MSG_MISSING = Text(
    "Printer {name} is not set up on {server}",
    "打印机 {name} 未在 {server} 上配置",
)
MSG_NO_PRINTER = Text(
    "No printer is set up on {server} and none is configured",
    "{server} 上没有打印机,也未配置打印机",
)
MSG_STOPPED = Text("Printer stopped", "打印机已停止")
MSG_STATE_UNKNOWN = Text("Printer state not known: {why}", "无法得知打印机状态:{why}")
MSG_ACCEPTING_UNKNOWN = Text(
    "The print server does not say whether it accepts jobs", "打印服务器未报告是否接受打印任务"
)
MSG_AGE_UNKNOWN = Text(
    "{count} job(s) waiting; the print server does not say since when",
    "{count} 个任务等待打印;打印服务器未报告提交时间",
)
#: No print time to judge: "not observed" (grey, never an alert), never OK.
MSG_JOB_TIME_UNKNOWN = Text(
    "Not observed: print time not known, the print server no longer reports when job {job} was sent",
    "未观测:打印耗时未知,打印服务器已不再报告任务 {job} 的提交时间",
)
MSG_PRINTER_SAYS = Text("{clerk} — {printer}", "{clerk} — {printer}")
MSG_ACCEPTING = Text("Accepting jobs", "正在接受任务")
MSG_REJECTING = Text(
    "Not accepting print jobs — documents cannot be printed",
    "不接受打印任务 — 无法打印文件",
)
MSG_QUEUE_EMPTY = Text("No jobs waiting", "没有排队的任务")
MSG_QUEUED = Text("{count} job(s) waiting to print", "{count} 个任务等待打印")
MSG_OLDEST = Text("Job {job} has waited {age}", "任务 {job} 已等待 {age}")
MSG_FAILED_JOBS = Text(
    "{count} job(s) failed in the last {minutes:g} min (last: job {job})",
    "最近 {minutes:g} 分钟内 {count} 个任务失败(最近一个:任务 {job})",
)
MSG_NO_FAILED = Text("No failed jobs in the last {minutes:g} min", "最近 {minutes:g} 分钟内没有失败的任务")
MSG_NO_RECENT_JOB = Text(
    "Not observed: nothing printed in the last {minutes:g} min", "未观测:最近 {minutes:g} 分钟内没有打印"
)
MSG_JOB_TIME = Text(
    "Job {job} took {duration} from sending to printed", "任务 {job} 从发送到打印完成用时 {duration}"
)
MSG_NO_LIBRARY = Text(
    "Printers cannot be read with '{transport}' on this computer ({error})",
    "本机无法通过 '{transport}' 读取打印机({error})",
)
MSG_BAD_SERVER = Text("Print server setting not understood: {error}", "打印服务器设置有误:{error}")
SETUP_NOTHING = Text(
    'transport = "none" and no snmp_printers: nothing to watch',
    'transport = "none" 且未设置 snmp_printers:没有要监测的打印机',
)
SETUP_HINT = Text(
    'Set [monitors.printer] printers = ["…"] or a default printer in the system',
    '请在 [monitors.printer] 中设置 printers = ["…"],或在系统中设置默认打印机',
)

CHECK_NAME = Text("Printer {name}", "打印机 {name}")
CHECK_PAGE = Text("Test page on {name}", "{name} 测试页")
CHECK_READY = Text("Ready", "就绪")
CHECK_PAGE_OK = Text("Test page printed in {seconds:.0f} s", "测试页已打印,用时 {seconds:.0f} 秒")
CHECK_PAGE_FAILED = Text("Test page did not print: {why}", "测试页未能打印:{why}")
CHECK_PAGE_TIMEOUT = Text("Test page not printed after {seconds:.0f} s", "{seconds:.0f} 秒后测试页仍未打印")
CHECK_PAGE_SKIPPED = Text("Printer is not ready", "打印机未就绪")
ADVICE_FIX = Text(
    "Clear the fault shown on the printer, then run the check again; if it stays, report it to IT.",
    "请先排除打印机上显示的故障,再重新检查;如仍有问题,请报告信息技术部门。",
)
ADVICE_SERVER = Text(
    "The print service is not running or cannot be reached; report it to IT.",
    "打印服务未运行或无法连接,请报告信息技术部门。",
)

_SEVERITY_LEVEL = {
    p.Severity.REPORT: Level.OK,
    p.Severity.WARNING: Level.WARNING,
    p.Severity.ERROR: Level.CRITICAL,
}


def _duration(seconds: float) -> Text:
    whole = max(0, round(seconds))
    if whole < 120:
        return Text(f"{whole} s", f"{whole} 秒")
    if whole < 7200:
        return Text(f"{whole // 60} min {whole % 60:02d} s", f"{whole // 60} 分 {whole % 60:02d} 秒")
    hours, minutes = whole // 3600, whole % 3600 // 60
    return Text(f"{hours} h {minutes:02d} min", f"{hours} 小时 {minutes:02d} 分")


def judge_status(snap: p.PrinterSnapshot) -> Reading:
    """The status reading of one printer: worst reason → level, clerk message, raw detail.

    A printer whose state could not be observed (no or an impossible
    ``printer-state``, SNMP replies not understood) is unknown, never "Ready".
    """
    if snap.state is None or snap.state not in p.STATE_NAMES:
        message = MSG_STATE_UNKNOWN.format(why=snap.message or f"printer-state {snap.state}")
        detail = {
            "state": None,
            "reasons": list(snap.reasons),
            "state_message": snap.message,
            **dict(snap.detail),
        }
        return Reading(STATUS.id, None, Level.UNKNOWN, message, snap.name, detail)
    reasons = p.normalise_reasons(snap.reasons)
    severities = [p.clerk_severity(r) for r in reasons]
    level = _SEVERITY_LEVEL[max(severities)] if severities else Level.OK
    shown = [r for r, s in zip(reasons, severities, strict=True) if s > p.Severity.REPORT]
    keywords = {r.keyword for r in shown}
    shown = [r for r in shown if p.SAME_AS.get(r.keyword) not in keywords]
    stopped_silently = snap.state == p.STATE_STOPPED and level is not Level.CRITICAL
    if stopped_silently:
        # A stopped queue prints nothing, whatever (little) the reasons say.
        level = Level.CRITICAL
    parts = [MSG_STOPPED] if stopped_silently else []
    parts += [r.message for r in shown]
    if parts:
        message = Text("; ".join(t.en for t in parts), ";".join(t.zh for t in parts))
    else:
        message = p.STATE_TEXT.get(snap.state, p.STATE_TEXT[p.STATE_IDLE])
    printer_says = snap.message.strip()
    said = {message.en.lower(), message.zh, *(r.message.en.lower() for r in shown)}
    # The printer's own words add detail to a fault ("Paper jam in tray 1"); when
    # all is well CUPS often still holds the last, now stale, message.
    if printer_says and level is not Level.OK and printer_says.lower() not in said:
        message = MSG_PRINTER_SAYS.format(clerk=message, printer=printer_says)
    state_name = p.STATE_NAMES.get(snap.state, str(snap.state))
    raw = [r.raw for r in reasons]
    value = f"{state_name}: {', '.join(raw)}" if raw else state_name
    detail = {
        "state": snap.state,
        "state_name": state_name,
        "reasons": raw,
        "keywords": [r.keyword for r in reasons],
        "severities": [s.name.lower() for s in severities],
        "state_message": snap.message,
        **dict(snap.detail),
    }
    return Reading(STATUS.id, value, level, message, snap.name, detail)


class PrinterMonitor(Monitor):
    """Watches printers through CUPS, the Windows spooler or SNMP."""

    id = "printer"
    device = PRINTER
    title = Text("Printer", "打印机")
    indicators = (STATUS, ACCEPTING, QUEUED, OLDEST_JOB, FAILED, JOB_TIME)
    interval = 15.0
    timeout = 20.0
    settings = (
        Setting(
            "printers",
            [],
            Text("Printers to watch (empty: the default printer)", "监测的打印机(留空:默认打印机)"),
            type=list,
        ),
        Setting(
            "server",
            "",
            Text("Print server (empty: the system's)", "打印服务器(留空:系统默认)"),
            help=Text(
                "CUPS: host, host:port or a socket path; Windows: \\\\server",
                "CUPS:主机名、主机名:端口或套接字路径;Windows:\\\\服务器名",
            ),
        ),
        Setting(
            "transport",
            "auto",
            Text("How to reach printers", "连接方式"),
            choices=("auto", "cups", "windows", "none"),
            help=Text(
                "auto: the Windows spooler on Windows, CUPS elsewhere; none: SNMP printers only",
                "auto:Windows 上用打印后台程序,其他系统用 CUPS;none:只用 SNMP 打印机",
            ),
        ),
        Setting(
            "snmp_printers",
            [],
            Text("Network printers read by SNMP (name=host)", "通过 SNMP 读取的网络打印机(名称=地址)"),
            type=list,
        ),
        Setting("snmp_community", "public", Text("SNMP community", "SNMP 团体名")),
        Setting(
            "connect_timeout",
            3.0,
            Text("Connection timeout (s)", "连接超时(秒)"),
            minimum=0.1,
            maximum=60,
        ),
        Setting(
            "failed_window_minutes",
            60.0,
            Text("Count failed jobs over (min)", "统计失败任务的时间范围(分钟)"),
            minimum=1,
            maximum=1440,
        ),
        Setting(
            "test_page_timeout",
            120.0,
            Text("Wait for the test page (s)", "等待测试页打印(秒)"),
            minimum=5,
            maximum=900,
        ),
    )

    def __init__(self, settings: Mapping[str, Any], context: MonitorContext) -> None:
        super().__init__(settings, context)
        self._known: list[str] = list(self.options.get("printers", []))
        self._no_printers = False
        #: Why the configured transport cannot work here (library missing), if it cannot.
        self._unavailable: Text | None = None
        self._server: PrintServer | None = None
        try:
            self._server = self._make_server()
        except ImportError as exc:
            self._unavailable = MSG_NO_LIBRARY.format(transport=self._transport(), error=str(exc))
        except ValueError as exc:
            self._unavailable = MSG_BAD_SERVER.format(error=str(exc))
        snmp = [str(s) for s in self.options.get("snmp_printers", [])]
        self._snmp: SnmpPrinters | None = None
        if snmp:
            from sensors.snmp_printer import SnmpPrinters  # loaded only for a seat with SNMP printers

            community = str(self.options.get("snmp_community", "public"))
            self._snmp = SnmpPrinters(snmp, community, float(self.options.get("connect_timeout", 3.0)))

    def _transport(self) -> str:
        transport = str(self.options.get("transport", "auto"))
        if transport == "auto":
            return "windows" if sys.platform == "win32" else "cups"
        return transport

    def _make_server(self) -> PrintServer | None:
        """A new connection to the configured print server (``None`` for SNMP only)."""
        transport = self._transport()
        server = str(self.options.get("server", ""))
        if transport == "cups":
            return CupsServer(server, connect_timeout=float(self.options.get("connect_timeout", 3.0)))
        if transport == "windows":
            from sensors.windows_printer import WindowsSpooler  # the Windows spooler: not loaded elsewhere

            return WindowsSpooler(server)
        return None

    def setup_hint(self) -> Text | None:
        if self._server is None and self._snmp is None and self._unavailable is None:
            return SETUP_NOTHING
        if self._no_printers:
            return SETUP_HINT
        return None

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    # -- polling ----------------------------------------------------------------
    def _printer_names(self, server: PrintServer) -> list[str]:
        configured = [str(n) for n in self.options.get("printers", [])]
        if configured:
            return configured
        default = server.default_printer()
        if default:
            return [default]
        # No default set: watch whatever the server has (often a single queue).
        return server.printer_names()

    def poll(self) -> list[Reading]:
        return self._collect(self._server)

    def _collect(self, server: PrintServer | None) -> list[Reading]:
        readings: list[Reading] = []
        if server is None and self._snmp is None and self._unavailable is None:
            return [Reading(STATUS.id, None, Level.NOT_SET_UP, SETUP_NOTHING, detail={"configured": False})]
        if self._unavailable is not None:
            readings += self._unknown(self._unavailable)
        if server is not None:
            readings += self._poll_server(server)
        if self._snmp is not None:
            readings += self._judge_all(self._snmp.snapshots(time.time()), self._snmp.description)
        return readings

    def _poll_server(self, server: PrintServer) -> list[Reading]:
        window = float(self.options.get("failed_window_minutes", 60.0)) * 60
        try:
            names = self._printer_names(server)
            self._no_printers = not names
            if not names:
                # The server answered and has no printer: nothing to watch, not a fault.
                msg = MSG_NO_PRINTER.format(server=server.description)
                msg = Text(f"{msg.en}. {SETUP_HINT.en}", f"{msg.zh}。{SETUP_HINT.zh}")
                return [Reading(STATUS.id, None, Level.NOT_SET_UP, msg, detail={"configured": False})]
            self._known = names
            snaps = server.snapshots(names, time.time() - window)
        except PrintServerUnreachable as exc:
            server.close()
            error = clean_text(exc)
            return self._unknown(MSG_UNREACHABLE.format(server=server.description, error=error))
        except PrintServerRefused as exc:  # authentication required, or forbidden: reached, not read
            return self._unknown(MSG_REFUSED.format(server=server.description, error=clean_text(exc)))
        except PrintServerFault as exc:  # the server's fault, counted and logged where it was parsed
            server.close()
            return self._unknown(MSG_BAD_ANSWER.format(server=server.description, error=clean_text(exc)))
        except Exception as exc:  # an IPP or spooler error must read as unknown, with why
            log.warning("printer poll failed: %s", clean_text(exc), exc_info=True)
            server.close()
            return self._unknown(MSG_FAILED.format(error=clean_text(f"{type(exc).__name__}: {exc}")))
        return self._judge_all(snaps, server.description)

    def _unknown(self, message: Text) -> list[Reading]:
        names = self._known or [""]
        return [Reading(STATUS.id, None, Level.UNKNOWN, message, name) for name in names]

    def _judge_all(self, snaps: Mapping[str, p.PrinterSnapshot | None], where: str) -> list[Reading]:
        readings: list[Reading] = []
        for name, snap in snaps.items():
            if snap is None:
                message = MSG_MISSING.format(name=name, server=where)
                readings.append(Reading(STATUS.id, "missing", Level.CRITICAL, message, name))
                continue
            readings += self.judge(snap)
        return readings

    def judge(self, snap: p.PrinterSnapshot) -> list[Reading]:
        """Readings for one printer snapshot (public for tests with recorded snapshots)."""
        readings = [judge_status(snap)]
        if snap.has_queue:
            readings += self._queue_readings(snap)
        return readings

    def _queue_readings(self, snap: p.PrinterSnapshot) -> list[Reading]:
        name = snap.name
        if snap.accepting is None:
            accepting = Reading(ACCEPTING.id, None, Level.UNKNOWN, MSG_ACCEPTING_UNKNOWN, name)
        else:
            level = Level.OK if snap.accepting else Level.CRITICAL
            message = MSG_ACCEPTING if snap.accepting else MSG_REJECTING
            accepting = Reading(ACCEPTING.id, snap.accepting, level, message, name)
        readings = [accepting]
        # Held jobs wait for the clerk on purpose; they neither count nor age.
        waiting = [j for j in snap.jobs if j.state != p.JOB_HELD]
        queued_msg = MSG_QUEUED.format(count=len(waiting)) if waiting else MSG_QUEUE_EMPTY
        ids = {"job_ids": [j.id for j in waiting]}
        readings.append(Reading(QUEUED.id, len(waiting), message=queued_msg, instance=name, detail=ids))
        now = snap.server_time if snap.server_time is not None else time.time()
        dated = [(j, j.created) for j in waiting if j.created is not None]
        if dated:
            oldest, created = min(dated, key=lambda pair: pair[1])
            age = round(max(0.0, now - created), 1)
            msg = MSG_OLDEST.format(job=oldest.id, age=_duration(age))
            detail = {"job_id": oldest.id, "job_state": oldest.state, "job_reasons": list(oldest.reasons)}
            readings.append(Reading(OLDEST_JOB.id, age, message=msg, instance=name, detail=detail))
        elif waiting:
            # Jobs wait, but nobody says since when: unknown, never an age from epoch 0.
            msg = MSG_AGE_UNKNOWN.format(count=len(waiting))
            readings.append(Reading(OLDEST_JOB.id, None, Level.UNKNOWN, msg, name, ids))
        else:
            readings.append(Reading(OLDEST_JOB.id, 0.0, message=MSG_QUEUE_EMPTY, instance=name))
        minutes = float(self.options.get("failed_window_minutes", 60.0))
        failed = [j for j in snap.finished if j.state == p.JOB_ABORTED]
        if failed:
            msg = MSG_FAILED_JOBS.format(count=len(failed), minutes=minutes, job=failed[-1].id)
        else:
            msg = MSG_NO_FAILED.format(minutes=minutes)
        readings.append(
            Reading(
                FAILED.id, len(failed), message=msg, instance=name, detail={"job_ids": [j.id for j in failed]}
            )
        )
        completed = [j for j in snap.finished if j.state == p.JOB_COMPLETED]
        timed = [(j, j.duration) for j in completed if j.duration is not None]
        if timed:
            # The newest job whose times are both known; the message names it.
            last, seconds = timed[-1]
            duration = round(seconds, 1)
            msg = MSG_JOB_TIME.format(job=last.id, duration=_duration(duration))
            readings.append(
                Reading(JOB_TIME.id, duration, message=msg, instance=name, detail={"job_id": last.id})
            )
        elif completed:
            # Printed, but the server forgot when the job was sent: nothing to measure, no
            # alarm -- and no "OK" either: not observed (not set up: grey, no alert).
            msg = MSG_JOB_TIME_UNKNOWN.format(job=completed[-1].id)
            detail = {"job_id": completed[-1].id, "time_at_creation": None}
            readings.append(Reading(JOB_TIME.id, None, Level.NOT_SET_UP, msg, name, detail))
        else:
            # Nothing printed lately: a slow job an hour ago is no longer news, and
            # no print time is no claim that printing is quick: not observed.
            msg = MSG_NO_RECENT_JOB.format(minutes=minutes)
            readings.append(Reading(JOB_TIME.id, None, Level.NOT_SET_UP, msg, name))
        return readings

    # -- start-of-shift check ---------------------------------------------------
    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult] | None:
        """Printer state for each printer; with ``test_page`` also prints one and waits for it."""
        results: list[CheckResult] = []
        # Its own connection: the check may run while the poll thread uses the monitor's.
        server = None if self._unavailable is not None else self._make_server()
        readings = self._collect(server)
        statuses = [r for r in readings if r.indicator_id == STATUS.id]
        accepting = {
            r.instance: r.value if isinstance(r.value, bool) else None
            for r in readings
            if r.indicator_id == ACCEPTING.id
        }
        for reading in statuses:
            label = CHECK_NAME.format(name=reading.instance or "—")
            message = reading.message or CHECK_READY
            if reading.level is Level.NOT_SET_UP:
                results.append(CheckResult(type(self).title, "skipped", message, None, dict(reading.detail)))
                continue
            ok = reading.level in (Level.OK, Level.WARNING) and accepting.get(reading.instance) is not False
            if reading.level is Level.UNKNOWN:
                advice: Text | None = ADVICE_SERVER
            else:
                advice = None if ok else ADVICE_FIX
            if accepting.get(reading.instance) is False:
                message = MSG_REJECTING
            results.append(
                CheckResult(label, "pass" if ok else "fail", message, advice, dict(reading.detail))
            )
            if options.get("test_page") and reading.instance:
                results.append(self._test_page(server, reading.instance, ok))
        if server is not None:
            server.close()
        return results

    def _test_page(self, server: PrintServer | None, name: str, ready: bool) -> CheckResult:
        label = CHECK_PAGE.format(name=name)
        if not ready or server is None or name not in self._known:
            return CheckResult(label, "skipped", CHECK_PAGE_SKIPPED, ADVICE_FIX)
        started = time.monotonic()
        limit = float(self.options.get("test_page_timeout", 120.0))
        try:
            job_id = server.submit_test_page(name)
            while True:
                job = server.job(name, job_id)
                elapsed = time.monotonic() - started
                detail: dict[str, Any] = {"job_id": job_id, "seconds": round(elapsed, 1)}
                if job is None or job.state == p.JOB_COMPLETED:
                    return CheckResult(label, "pass", CHECK_PAGE_OK.format(seconds=elapsed), detail=detail)
                detail["job_state"] = job.state
                # A queue that stopped while sending the page will not print it: say why now.
                snap = server.snapshots([name], time.time()).get(name)
                stopped = snap is None or snap.state == p.STATE_STOPPED
                if stopped or job.state in (p.JOB_ABORTED, p.JOB_CANCELED, p.JOB_STOPPED):
                    why = self._why_not(snap, job)
                    return CheckResult(label, "fail", CHECK_PAGE_FAILED.format(why=why), ADVICE_FIX, detail)
                if elapsed >= limit:
                    detail["printer"] = self._why_not(snap, job).en
                    message = CHECK_PAGE_TIMEOUT.format(seconds=elapsed)
                    return CheckResult(label, "fail", message, ADVICE_FIX, detail)
                time.sleep(0.2)
        except (PrintServerUnreachable, PrinterMissing, PrintServerRefused, PrintServerFault) as exc:
            return CheckResult(label, "fail", CHECK_PAGE_FAILED.format(why=clean_text(exc)), ADVICE_SERVER)
        except Exception as exc:  # any spooler error is a failed check, not a crash
            log.warning("test page on %s failed: %s", name, clean_text(exc), exc_info=True)
            return CheckResult(label, "fail", CHECK_PAGE_FAILED.format(why=clean_text(exc)), ADVICE_FIX)

    @staticmethod
    def _why_not(snap: p.PrinterSnapshot | None, job: p.Job) -> Text:
        """The printer's own fault in clerk words, else the job's state reasons."""
        if snap is not None:
            status = judge_status(snap)
            if status.level is not Level.OK and status.message is not None:
                return status.message
        return Text.same(", ".join(job.reasons) or p.STATE_NAMES.get(job.state, str(job.state)))

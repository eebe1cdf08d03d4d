"""电话系统: is the telephone line up, and how good would a call on it be?

Procedure 四.1.a: the phone connects quickly, calls are stable; 四.2.a: call
drops, no answer, busy.  SIP OPTIONS pings to the PBX or registrar over UDP
and TCP: a reply within ~2 s means the line is up (any error class reply is
a warning, none at all is critical, as Nagios ``check_sip`` judges).

Most PBXes answer OPTIONS over UDP only, some over TCP only, so the line is
judged by the transports the PBX *offers*.  A configured transport that has
never answered while another one does is "not offered" (``NOT_SET_UP``:
grey, never an alert); one that answered once and then stopped is a fault.
Which transports have answered is remembered in the data folder, so a
restart does not forget that TCP used to work.  When no transport has ever
answered, every one of them is a fault: the line is down.

The round-trip times, their jitter and the losses over the last pings feed a
simplified ITU-T G.107 E-model, judged once for R and MOS together: R ≥ 80
(MOS ≥ 4.0) good, 70 ≤ R < 80 fair (warning: some callers dissatisfied,
G.109), R < 70 (MOS < 3.6) poor (critical).  Sites without SIP can list
plain TCP targets (a gateway's web port, the call-centre server) for a
reachability check.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.kernel.i18n import Text
from app.kernel.model import (
    DemoSignal,
    Device,
    Direction,
    IndicatorMaker,
    Level,
    Reading,
    Thresholds,
    make_key,
)
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.paths import write_private
from app.kernel.settings import Setting
from sensors import sip

log = logging.getLogger(__name__)

_HIGH = Direction.HIGH_IS_BAD
_LOW = Direction.LOW_IS_BAD


#: The device group this monitor watches (its card, self-check advice and demo).
TELEPHONE = Device(
    "telephone",
    Text("Telephone", "电话系统"),
    10,
    advice=Text(
        "Check the phone and headset cables and that the softphone is logged in; "
        "if calls still cannot be made, report it to IT before taking calls",
        "检查电话机、耳机连线及软电话是否已登录;仍无法通话请在接听前报告信息技术部门",
    ),
    demo=(
        DemoSignal("rtt", Text("Line round trip", "线路往返时延"), "ms", Direction.HIGH_IS_BAD, 150, 400, 38),
        DemoSignal("mos", Text("Call quality", "通话质量"), "MOS", Direction.LOW_IS_BAD, 3.6, 3.1, 4.3),
    ),
    demo_offset=0,
)

_ind = IndicatorMaker("telephone", TELEPHONE)


SIP_REPLY = _ind("sip_reply", Text("PBX reply", "交换机应答"), numeric=False)
RTT = _ind(
    "rtt",
    Text("Round-trip time", "往返时延"),
    "ms",
    description=Text("G.114: one-way delay under 150 ms is acceptable", "G.114:单向时延低于 150 毫秒可接受"),
    thresholds=Thresholds(_HIGH, 300, 600, 250, 500, raise_after=30, clear_after=30),
    metric_unit="seconds",
    metric_scale=0.001,
)
JITTER = _ind(
    "jitter",
    Text("Jitter", "抖动"),
    "ms",
    thresholds=Thresholds(_HIGH, 30, 60, 20, 50, raise_after=30, clear_after=30),
    metric_unit="seconds",
    metric_scale=0.001,
)
LOSS = _ind(
    "loss",
    Text("Unanswered pings", "丢包率"),
    "%",
    thresholds=Thresholds(_HIGH, 5, 20, 3, 15, raise_after=30, clear_after=60),
    metric_unit="ratio",
    metric_scale=0.01,
)
#: R and MOS are one judgement (:func:`judge_quality`); the thresholds only debounce it.
_QUALITY_DEBOUNCE = Thresholds(_LOW, raise_after=30, clear_after=60)
R_FACTOR = _ind(
    "r_factor",
    Text("Call quality (R-factor)", "通话质量(R 值)"),
    "",
    description=Text(
        "ITU-T G.107 E-model estimate; ≥ 80 good, 70–80 fair (warning), < 70 poor (critical)",
        "ITU-T G.107 E 模型估计;≥ 80 良好,70–80 一般(警告),< 70 较差(严重)",
    ),
    thresholds=_QUALITY_DEBOUNCE,
)
MOS = _ind(
    "mos",
    Text("Call quality (MOS)", "通话质量(MOS)"),
    "",
    description=Text(
        "Mean opinion score from the R-factor (G.107 Annex B), judged with it",
        "由 R 值换算的平均意见得分(G.107 附录 B),与 R 值一同判断",
    ),
    thresholds=_QUALITY_DEBOUNCE,
)
TCP = _ind(
    "tcp_connect",
    Text("TCP reachability", "TCP 连通性"),
    "ms",
    metric_unit="seconds",
    metric_scale=0.001,
)

HINT = Text(
    "Not configured: set pbx_host (and pbx_port, default 5060) under [monitors.telephone] "
    'to ping the PBX with SIP OPTIONS, or tcp_targets = ["host:port"] for a plain reachability check.',
    "未配置:在 [monitors.telephone] 中设置 pbx_host(及 pbx_port,默认 5060)以 SIP OPTIONS 探测交换机,"
    '或设置 tcp_targets = ["主机:端口"] 做简单连通性检查。',
)
MSG_REPLY_OK = Text("{code} {reason} in {rtt:.0f} ms", "{code} {reason},{rtt:.0f} 毫秒")
MSG_REPLY_ERROR = Text("The PBX answers with an error: {code} {reason}", "交换机应答错误:{code} {reason}")
MSG_NO_REPLY = Text(
    "No answer from the PBX {target} over {transport}: {error}. Calls may fail; report it to IT.",
    "交换机 {target}({transport})无应答:{error}。通话可能失败,请报告信息技术部门。",
)
MSG_NOT_OFFERED = Text(
    "Not offered: the PBX {target} has never answered over {transport} (it answers over {others}). "
    "Remove {transport_lower} from transports to stop testing it.",
    "未提供:交换机 {target} 从未通过 {transport} 应答(通过 {others} 应答)。"
    "如不需要,可从 transports 中删除 {transport_lower}。",
)
MSG_WINDOW = Text("over the last {count} pings", "最近 {count} 次探测")
MSG_QUALITY = Text("{verdict} (R {r:.0f}, MOS {mos:.2f})", "{verdict}(R {r:.0f},MOS {mos:.2f})")
VERDICT_GOOD = Text("Good", "良好")
VERDICT_FAIR = Text("Fair", "一般")
VERDICT_POOR = Text("Poor: callers may hear delay or broken speech", "较差:可能出现延迟或断续")
#: R-factor bands (ITU-T G.107/G.109): lowest R of each band, its level and verdict.
QUALITY_BANDS: tuple[tuple[float, Level, Text], ...] = (
    (80.0, Level.OK, VERDICT_GOOD),
    (70.0, Level.WARNING, VERDICT_FAIR),
    (float("-inf"), Level.CRITICAL, VERDICT_POOR),
)
#: File in the data folder remembering which transports each PBX has answered on.
OFFERED_FILE = "telephone-transports.json"
MSG_TCP_OK = Text("Connected in {ms:.0f} ms", "{ms:.0f} 毫秒内连通")
MSG_TCP_FAILED = Text("Cannot connect to {target}: {error}", "无法连接 {target}:{error}")
MSG_BAD_TARGET = Text("Invalid target {target!r}: use host:port", "目标 {target!r} 无效:应为 主机:端口")


def parse_target(text: str) -> tuple[str, int] | None:
    """``host:port`` or ``[v6]:port`` → ``(host, port)``; ``None`` when malformed."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port_text = text.rpartition(":")
    if not host or not sep or not port_text.isdigit():
        return None
    port = int(port_text)
    return (host, port) if 0 < port < 65536 else None


def judge_quality(r: float) -> tuple[Level, Text]:
    """The one judgement of call quality: level and verdict for R-factor ``r`` (MOS follows R)."""
    for lowest, level, verdict in QUALITY_BANDS:
        if r >= lowest:
            return level, verdict
    return QUALITY_BANDS[-1][1], QUALITY_BANDS[-1][2]  # NaN: the worst band, never "good"


class TelephoneMonitor(Monitor):
    """Pings the PBX with SIP OPTIONS and estimates call quality."""

    id = "telephone"
    device = TELEPHONE
    title = Text("Telephone line", "电话系统")
    indicators = (SIP_REPLY, RTT, JITTER, LOSS, R_FACTOR, MOS, TCP)
    interval = 15.0
    timeout = 30.0
    settings = (
        Setting("pbx_host", "", Text("PBX / SIP registrar address", "交换机 / SIP 注册服务器地址")),
        Setting("pbx_port", 5060, Text("SIP port", "SIP 端口"), minimum=1, maximum=65535),
        Setting(
            "transports",
            ["udp", "tcp"],
            Text("SIP transports to test", "测试的 SIP 传输方式"),
            type=list,
            help=Text("udp, tcp or both", "udp、tcp 或两者"),
        ),
        Setting("reply_timeout", 2.0, Text("Reply timeout (s)", "应答超时(秒)"), minimum=0.1, maximum=30),
        Setting(
            "pings_per_poll",
            3,
            Text("Pings per check", "每次检查的探测次数"),
            minimum=1,
            maximum=20,
        ),
        Setting("ping_spacing", 0.2, Text("Seconds between pings", "探测间隔(秒)"), minimum=0.0, maximum=5),
        Setting(
            "window", 30, Text("Pings in the quality window", "质量统计窗口(次)"), minimum=2, maximum=1000
        ),
        Setting(
            "ok_codes",
            ["2xx"],
            Text("Reply codes that mean healthy", "表示正常的应答码"),
            type=list,
            help=Text('e.g. "200", "2xx", "404"', '例如 "200"、"2xx"、"404"'),
        ),
        Setting(
            "tcp_targets",
            [],
            Text("Plain TCP checks (host:port)", "TCP 连通性检查(主机:端口)"),
            type=list,
        ),
    )

    def __init__(self, settings: dict[str, Any], context: MonitorContext) -> None:
        super().__init__(settings, context)
        self._windows: dict[str, sip.LineWindow] = {}
        self._cseq = 0
        self._emodel = sip.EModel()
        #: Invalid replies seen per transport since start (counted, never raised).
        self._bad_replies: dict[str, int] = {}
        self._offered_path = Path(context.data_dir) / OFFERED_FILE
        #: Transports the PBX has answered on at least once (remembered across restarts).
        self._offered: set[str] = self._load_offered()

    @property
    def target(self) -> str:
        """``host:port`` of the configured PBX ("" when none)."""
        host = str(self.options["pbx_host"]).strip()
        return f"{host}:{int(self.options['pbx_port'])}" if host else ""

    def setup_hint(self) -> Text | None:
        if self.target or self.options["tcp_targets"]:
            return None
        return HINT

    def poll(self) -> list[Reading]:
        hint = self.setup_hint()
        if hint is not None:
            return [Reading(SIP_REPLY.id, None, Level.NOT_SET_UP, hint, detail={"configured": False})]
        readings: list[Reading] = []
        if self.target:
            readings += self._sip_all()
        for target in self.options["tcp_targets"]:
            readings.append(self._tcp(str(target)))
        return readings

    def _transports(self) -> list[str]:
        chosen = [str(t).lower() for t in self.options["transports"] if str(t).lower() in ("udp", "tcp")]
        return list(dict.fromkeys(chosen)) or ["udp"]

    # -- which transports the PBX offers ------------------------------------------
    def _load_offered(self) -> set[str]:
        try:
            known = json.loads(self._offered_path.read_text("utf-8"))
            listed = known.get(self.target, []) if isinstance(known, dict) else []
            return {str(t) for t in listed if t in ("udp", "tcp")}
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            log.info("cannot read %s (%s); starting without it", self._offered_path, exc)
            return set()

    def _remember_offered(self, transport: str) -> None:
        self._offered.add(transport)
        if self.context.mode != "app":
            return  # one-shot runs read the memory but leave it to the application
        try:
            try:
                known = json.loads(self._offered_path.read_text("utf-8"))
            except (FileNotFoundError, ValueError):
                known = {}
            if not isinstance(known, dict):
                known = {}
            known[self.target] = sorted(self._offered)
            self._offered_path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self._offered_path, json.dumps(known))
        except OSError as exc:  # memory only, then: the next answer tries again
            log.info("cannot save %s: %s", self._offered_path, exc)

    # -- SIP ----------------------------------------------------------------------
    def _sip_all(self) -> list[Reading]:
        """Ping every configured transport first, then judge them together."""
        transports = self._transports()
        results = {t: self._ping_transport(t) for t in transports}
        for transport, result in results.items():
            # Something answered on it (even badly): the PBX offers it.
            if (result.answered or result.bad_replies) and transport not in self._offered:
                self._remember_offered(transport)
        readings: list[Reading] = []
        first = transports[0] if transports else ""
        for transport, result in results.items():
            others = sorted(self._offered - {transport})
            if transport not in self._offered and others:
                readings.append(self._not_offered(transport, others))
                continue
            reading = self._reply_reading(result, transport)
            if not self._offered and transport != first and reading.level is Level.CRITICAL:
                # Nothing ever answered: the line is down, which the first transport's
                # critical says once; whether this one is offered at all is not known.
                reading = replace(reading, level=Level.UNKNOWN, caused_by=make_key(SIP_REPLY.id, first))
            readings.append(reading)
            if transport in self._offered:
                readings += self._quality(self._windows[transport], transport)
        return readings

    def _ping_transport(self, transport: str) -> sip.PingResult:
        host, port = str(self.options["pbx_host"]).strip(), int(self.options["pbx_port"])
        timeout = float(self.options["reply_timeout"])
        window = self._windows.setdefault(transport, sip.LineWindow(int(self.options["window"])))
        offered = transport in self._offered
        # A transport not (yet) offered while another one is: one ping tells whether it appeared.
        pings = int(self.options["pings_per_poll"]) if offered or not self._offered else 1
        last: sip.PingResult | None = None
        answered: sip.PingResult | None = None
        for n in range(pings):
            if n:
                time.sleep(float(self.options["ping_spacing"]))
            self._cseq += 1
            last = sip.ping(host, port, transport, timeout, cseq=self._cseq)
            if last.bad_replies:
                self._bad_replies[transport] = self._bad_replies.get(transport, 0) + last.bad_replies
                log.info("%d invalid SIP replies over %s from %s", last.bad_replies, transport, self.target)
            # Losses count only once the PBX has shown it offers this transport.
            if offered or last.answered:
                window.add(last.rtt_ms)
                offered = True
            if last.answered:
                answered = last
        assert last is not None
        return answered or last

    def _not_offered(self, transport: str, others: list[str]) -> Reading:
        message = MSG_NOT_OFFERED.format(
            target=self.target,
            transport=transport.upper(),
            transport_lower=transport,
            others=", ".join(o.upper() for o in others),
        )
        detail = {"target": self.target, "transport": transport, "offered": False}
        return Reading(SIP_REPLY.id, "not offered", Level.NOT_SET_UP, message, transport, detail)

    def _reply_reading(self, result: sip.PingResult, transport: str) -> Reading:
        detail = {
            "target": self.target,
            "transport": transport,
            "rtt_ms": result.rtt_ms,
            "offered": transport in self._offered,
            "bad_replies": self._bad_replies.get(transport, 0),
        }
        if result.status is None:
            message = MSG_NO_REPLY.format(target=self.target, transport=transport.upper(), error=result.error)
            return Reading(SIP_REPLY.id, "no reply", Level.CRITICAL, message, transport, detail)
        value = f"{result.status} {result.reason}".strip()
        if sip.code_matches(result.status, [str(c) for c in self.options["ok_codes"]]):
            message = MSG_REPLY_OK.format(code=result.status, reason=result.reason, rtt=result.rtt_ms or 0.0)
            return Reading(SIP_REPLY.id, value, Level.OK, message, transport, detail)
        message = MSG_REPLY_ERROR.format(code=result.status, reason=result.reason)
        return Reading(SIP_REPLY.id, value, Level.WARNING, message, transport, detail)

    def _quality(self, window: sip.LineWindow, transport: str) -> list[Reading]:
        over = MSG_WINDOW.format(count=window.count)
        loss = round(window.loss_percent, 1)
        readings = [Reading(LOSS.id, loss, message=over, instance=transport)]
        rtt, jitter = window.rtt_ms, window.jitter_ms
        if rtt is None:
            return readings
        readings.append(Reading(RTT.id, round(rtt, 1), message=over, instance=transport))
        jitter_value = 0.0 if jitter is None else jitter
        if jitter is not None:
            readings.append(Reading(JITTER.id, round(jitter, 1), message=over, instance=transport))
        r = self._emodel.r_factor(rtt, jitter_value, loss)
        mos = sip.mos_from_r(r)
        level, verdict = judge_quality(r)
        message = MSG_QUALITY.format(verdict=verdict, r=r, mos=mos)
        readings.append(Reading(R_FACTOR.id, round(r, 1), level, message, transport))
        readings.append(Reading(MOS.id, round(mos, 2), level, message, transport))
        return readings

    def _tcp(self, text: str) -> Reading:
        parsed = parse_target(text)
        if parsed is None:
            return Reading(TCP.id, None, Level.WARNING, MSG_BAD_TARGET.format(target=text), text)
        host, port = parsed
        ms, error = sip.tcp_connect(host, port, float(self.options["reply_timeout"]))
        if ms is None:
            return Reading(
                TCP.id, None, Level.CRITICAL, MSG_TCP_FAILED.format(target=text, error=error), text
            )
        return Reading(TCP.id, ms, Level.OK, MSG_TCP_OK.format(ms=ms), text)

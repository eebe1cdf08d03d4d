"""Card summaries and spoken names: what a closed card says, in both languages."""

from __future__ import annotations

from app.core.engine import IndicatorState
from app.core.summary import card_summary, compact_line, group_by_instance, shorten, spoken_card, spoken_row
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Thresholds

PRINTER = Device("test_printer", Text("Printer", "打印机"), 40, advice=Text("Load paper", "放入纸张"))
STATUS = Indicator("p.state", PRINTER, Text("Printer status", "打印机状态"), numeric=False)
JOBS = Indicator("p.jobs", PRINTER, Text("Jobs waiting", "等待的作业"))
ENV = Device("test_env", Text("Environment", "环境监控"), 50)
TEMP = Indicator(
    "e.t", ENV, Text("Temperature", "温度"), "°C", thresholds=Thresholds(Direction.HIGH_IS_BAD, 28, 30)
)
HUM = Indicator("e.h", ENV, Text("Humidity", "湿度"), "%RH")
CO2 = Indicator("e.c", ENV, Text("CO₂", "二氧化碳"), "ppm")
NOISE = Indicator("e.n", ENV, Text("Noise", "噪声"), "dB")


def state(
    indicator: Indicator, value: object, level: Level = Level.OK, instance: str = "", **kw: object
) -> IndicatorState:
    return IndicatorState(
        f"{indicator.id}[{instance}]",
        indicator,
        instance,
        value,
        level,
        kw.pop("raw", level),
        updated=1000.0,
        **kw,  # type: ignore[arg-type]
    )


READY = Text("Ready", "就绪")
PAPER = Text("Out of paper; Print queue paused", "缺纸;打印队列已暂停")


def test_a_healthy_item_is_one_compact_line_per_instance() -> None:
    states = [
        state(TEMP, 23.4, instance="desk"),
        state(HUM, 45.6, instance="desk"),
        state(TEMP, 21.0, instance="door"),
    ]
    groups = group_by_instance(states)
    assert [name for name, _ in groups] == ["desk", "door"]
    line = compact_line(*groups[0])
    assert line.text.en == "desk: 23.4 °C · 45.6 %RH" and line.text.zh == line.text.en
    assert line.full.en == "Temperature — desk: 23.4 °C\nHumidity — desk: 45.6 %RH"
    assert line.full.zh.startswith("温度 — desk: 23.4 °C")


def test_a_long_item_names_three_values_and_counts_the_rest() -> None:
    states = [state(i, 1.0, instance="s1") for i in (TEMP, HUM, CO2, NOISE)]
    line = compact_line("s1", states)
    assert line.text.en == "s1: 1.0 °C · 1.0 %RH · 1.0 ppm · +1 more" and line.text.zh.endswith("另 1 项")
    assert line.full.en.count("\n") == 3  # the tooltip lists them all


def test_shorten_cuts_at_a_word_and_counts_chinese_double() -> None:
    assert shorten("Monitor of Null Output device on the headset", 20) == "Monitor of Null…"
    assert shorten("short") == "short"
    assert shorten("打印队列已暂停打印队列已暂停", 10) == "打印队列…"


def test_problems_lead_with_what_to_do_and_healthy_instances_stay_compact() -> None:
    states = [
        state(STATUS, "idle", instance="Front1", message=READY),
        state(JOBS, 0, instance="Front1"),
        state(STATUS, "stopped", Level.CRITICAL, "Back2", message=PAPER),
        state(JOBS, 1, instance="Back2"),
        state(TEMP, None, instance="Back2"),
    ]
    summary = card_summary(PRINTER, states, now=1000.0)
    assert summary.level is Level.CRITICAL and summary.all_normal is None
    assert summary.problems == (
        (
            Level.CRITICAL,
            Text(
                "Printer status — Back2: Out of paper; Print queue paused",
                "打印机状态 — Back2:缺纸;打印队列已暂停",
            ),
        ),
    )
    assert summary.advice == Text("What to do: Load paper", "处理方法:放入纸张")
    assert [line.text.en for line in summary.lines] == [
        "Front1: Ready · Jobs waiting 0",
        "Back2: Jobs waiting 1",
    ]


def test_all_normal_says_when_it_was_checked() -> None:
    summary = card_summary(ENV, [state(TEMP, 23.0, instance="desk")], now=1000.0)
    assert summary.problems == () and summary.advice is None
    assert summary.all_normal is not None
    assert summary.all_normal.en.startswith("All normal · checked ") and summary.all_normal.zh.endswith(
        " 检查"
    )


def test_a_pending_value_is_a_problem_line_not_all_normal() -> None:
    pending = state(
        TEMP, 29.0, instance="desk", raw=Level.WARNING, rises_at=1040.0, thresholds=TEMP.thresholds
    )
    summary = card_summary(ENV, [pending], now=1000.0)
    assert summary.all_normal is None and summary.lines == ()
    assert summary.problems == (
        (
            Level.WARNING,
            Text("Temperature — desk: Over 28 °C, alert in 40 s", "温度 — desk:超过 28 °C,40秒后告警"),
        ),
    )


def test_not_set_up_says_why_once_and_is_not_normal() -> None:
    why = Text("No sensor configured", "未配置传感器")
    states = [
        state(TEMP, None, Level.NOT_SET_UP, message=why),
        state(HUM, None, Level.NOT_SET_UP, message=why),
    ]
    summary = card_summary(ENV, states, now=1000.0)
    assert summary.not_set_up == (why,) and summary.all_normal is None and summary.problems == ()


def test_spoken_names_say_device_item_level_and_why() -> None:
    states = [
        state(STATUS, "idle", instance="Front1", message=READY),
        state(STATUS, "stopped", Level.CRITICAL, "Back2", message=Text("Out of paper", "缺纸")),
    ]
    assert spoken_card(PRINTER, states) == Text(
        "Printer Back2, Critical, Out of paper", "打印机 Back2, 严重, 缺纸"
    )
    assert spoken_card(PRINTER, states[:1]) == Text("Printer, OK", "打印机, 正常")
    assert spoken_row(states[1]).zh == "打印机状态 — Back2, 严重, 缺纸"
    assert spoken_card(PRINTER, []) == PRINTER.label

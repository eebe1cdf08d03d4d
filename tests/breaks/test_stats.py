"""Statistics survive restarts; config section; the breaks.* indicators reach the engine."""

from __future__ import annotations

import time
from pathlib import Path

from app.core.breaks import (
    BREAK_RECORD,
    DAY_RECORD,
    PRESETS,
    BreakKind,
    BreakService,
    BreakSettings,
    HistoryBreakStore,
    Phase,
)
from app.core.config import APP_SECTIONS, load_config
from app.core.engine import Engine
from app.core.history import History
from app.kernel.callstate import CallState
from app.kernel.i18n import Text
from app.kernel.model import Device, Level
from tests.breaks.sim import MONDAY_9AM, Clerk, FakeSource
from tests.core.fakes import CLASSES, fake_config

MIN = 60.0


def _morning(path: Path) -> tuple[Clerk, History]:
    history = History(path)
    clerk = Clerk(BreakSettings(), store=HistoryBreakStore(history))
    clerk.run(70 * MIN)  # a micro-break, a rest break due …
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.postpone()
    clerk.run(10 * MIN, typing=False)  # … taken naturally
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.skip()
    clerk.call(5 * MIN)
    return clerk, history


def test_statistics_survive_a_restart(tmp_path: Path) -> None:
    clerk, history = _morning(tmp_path / "h.sqlite3")
    before = clerk.scheduler.today
    assert before.taken and before.natural and before.postponed and before.skipped
    work_before = dict(clerk.scheduler.work)
    stopped_at = clerk.now
    history.close()  # Deskwatch quits (the state was saved on the last event or minute)

    history = History(tmp_path / "h.sqlite3")
    restarted = Clerk(BreakSettings(), store=HistoryBreakStore(history), start=stopped_at + 5)
    after = restarted.scheduler.today
    assert after.to_dict() == before.to_dict() or (
        after.work_seconds >= before.work_seconds - MIN and after.taken == before.taken
    )
    assert (after.taken, after.natural, after.postponed, after.skipped, after.due) == (
        before.taken, before.natural, before.postponed, before.skipped, before.due,
    )  # fmt: skip
    # A 5 s restart is no break: the intervals go on where they were.
    assert restarted.scheduler.work[BreakKind.REST] >= work_before[BreakKind.REST] - MIN
    outcomes = [r["outcome"] for _, r in history.records(BREAK_RECORD, 0, stopped_at + 10)]
    assert {"taken", "natural", "postponed", "skipped"} <= set(outcomes)
    history.close()


def test_a_long_stop_counts_as_time_away_and_a_new_day_is_archived(tmp_path: Path) -> None:
    clerk, history = _morning(tmp_path / "h.sqlite3")
    history.close()
    history = History(tmp_path / "h.sqlite3")
    later = Clerk(BreakSettings(), store=HistoryBreakStore(history), start=clerk.now + 20 * MIN)
    assert later.scheduler.work[BreakKind.REST] == 0  # 20 min off: a rest break's worth
    history.close()

    history = History(tmp_path / "h.sqlite3")
    tomorrow = MONDAY_9AM + 86400
    service = BreakService(BreakSettings(), None, history, clock=lambda: tomorrow)
    assert service.scheduler.today.date == "2026-11-24" and service.scheduler.today.taken == 0
    days = history.records(DAY_RECORD, 0, tomorrow)
    assert [d["date"] for _, d in days] == ["2026-11-23"]
    week = service.week(tomorrow)
    assert len(week) == 7 and week[-1].date == "2026-11-24" and week[-2].date == "2026-11-23"
    assert week[-2].taken == clerk.scheduler.today.taken
    history.close()


def test_config_section_and_presets(tmp_path: Path) -> None:
    assert "breaks" in APP_SECTIONS
    config = fake_config()
    assert BreakSettings.from_config(config.app["breaks"]) == BreakSettings()
    user = tmp_path / "user.toml"
    user.write_text('[breaks]\npreset = "workrave"\nstrict = true\ncall_grace_seconds = 45\n', "utf-8")
    settings = BreakSettings.from_config(load_config(CLASSES, user, Path("/none")).app["breaks"])
    assert settings.plan == PRESETS["workrave"] and settings.strict and settings.call_grace_seconds == 45
    user.write_text('[breaks]\npreset = "custom"\nmicro_interval_minutes = 0\nrest_minutes = 5\n', "utf-8")
    settings = BreakSettings.from_config(load_config(CLASSES, user, Path("/none")).app["breaks"])
    assert not settings.plan.micro.enabled and settings.plan.rest.duration == 5 * MIN
    user.write_text('[breaks]\npreset = "lazy"\nmax_postpones = -1\n', "utf-8")
    config = load_config(CLASSES, user, Path("/none"))
    assert [e.key for e in config.errors] == ["breaks.preset", "breaks.max_postpones"]
    assert "'deskwatch'" in config.errors[0].allowed
    assert BreakSettings.from_config(config.app["breaks"]) == BreakSettings()  # defaults stay


def test_readings_reach_the_engine_on_the_breaks_card(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    now = [MONDAY_9AM]
    engine = Engine(fake_config(), [], history, clock=lambda: now[0])
    calls = CallState(hangover_seconds=0, clock=lambda: now[0])
    source = FakeSource("x11", Text("X11 screensaver extension", "X11 屏保扩展"))
    service = BreakService(
        BreakSettings(), engine, history, call_state=calls, source=source, clock=lambda: now[0]
    )
    calls.set_source("headset", True)
    for _ in range(65 * 60):  # a 65-minute call: no break can be shown
        now[0] += 1
        service.step(0.0, False)
    states = {s.indicator.id: s for s in engine.states() if s.indicator.device is Device.BREAKS}
    assert set(states) == {
        "breaks.screen_work_today", "breaks.next_break", "breaks.stretch",
        "breaks.taken_today", "breaks.skipped_today", "breaks.activity_source",
    }  # fmt: skip
    assert states["breaks.stretch"].value >= 64
    assert states["breaks.stretch"].level is Level.WARNING  # MHLW: at most an hour on end
    assert states["breaks.activity_source"].value == "X11 screensaver extension"
    assert states["breaks.next_break"].value == 0
    assert service.scheduler.phase is Phase.OVERDUE
    assert any(a.indicator_id == "breaks.stretch" for a in engine.alerts.visible())
    service.close()
    history.close()


def test_the_none_source_is_a_warning() -> None:
    engine = Engine(fake_config(), [])
    service = BreakService(BreakSettings(), engine, None, clock=time.time)
    service.publish()
    state = engine.state("breaks.activity_source")
    assert state is not None and state.level is Level.WARNING
    assert state.message is not None and "natural" in state.message.en

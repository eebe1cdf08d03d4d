"""Screenshots of the break reminders: pre-break notice, break window, quiet notice, breaks card."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.breaks import BreakPlan, BreakRule, BreakService, BreakSettings, Phase
from app.kernel import i18n
from app.kernel.callstate import CallState
from app.ui.breaks import BreaksController
from sensors.idle import ActivitySource
from tests.conftest import FakeClock
from tests.screenshots import qt_app, settle

#: Monday 23 November 2026, 09:00 local time.
START = 1_795_424_400.0


class _StillSource(ActivitySource):
    name = "x11"


def _controller(clock: FakeClock, settings: BreakSettings) -> BreaksController:
    source = _StillSource()
    source.label = i18n.Text("X11 screensaver extension", "X11 屏保扩展")
    calls = CallState(hangover_seconds=0, clock=clock)
    return BreaksController(BreakService(settings, call_state=calls, source=source, clock=clock))


def _step(controller: BreaksController, in_call: bool = False) -> None:
    """One tick of a clerk who keeps typing (``in_call``: on a call)."""
    calls = controller.service.call_state
    assert calls is not None
    calls.set_source("call", in_call)
    controller.service.step(0.0, False)


def _run_to(controller: BreaksController, clock: FakeClock, phase: Phase, in_call: bool = False) -> None:
    for _ in range(4 * 3600):
        clock.advance(1)
        _step(controller, in_call)
        if controller.scheduler.phase is phase:
            break
    controller.render()


def take(outdir: Path, lang: str) -> list[Path]:
    """Save the break reminder screenshots for ``lang`` (``en`` or ``zh_CN``) into ``outdir``."""
    qt_app(lang)  # keeps the translators alive on the application object
    outdir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def save(widget: object, name: str) -> None:
        path = outdir / f"breaks_{name}_{lang}.png"
        settle(0.2)
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        saved.append(path)

    # A rest break after a morning of calls: notice, then the window with the voice exercise.
    clock = FakeClock(START)
    rest_only = BreakSettings(plan=BreakPlan(BreakRule(0, 0), BreakRule(50 * 60, 10 * 60), 6 * 3600))
    controller = _controller(clock, rest_only)
    try:
        while controller.scheduler.phase is Phase.WORKING:  # 8 min calls, 1 min typing between
            for second in range(9 * 60):
                clock.advance(1)
                _step(controller, second < 8 * 60)
                if controller.scheduler.phase is Phase.NOTICE:
                    break
        _run_to(controller, clock, Phase.NOTICE)
        clock.advance(8)
        _step(controller)
        controller.render()
        save(controller.notice, "notice")
        controller.start_now()
        clock.advance(135)
        controller.render()
        window = controller.windows[0]
        window.resize(1024, 640)
        save(window, "window")
        # The card, with a week of history.
        week = controller.service.week(clock.now)
        for offset, day in enumerate(week[:-1]):
            day.work_seconds = [5.1, 6.4, 4.8, 5.7, 3.2, 0.0][offset % 6] * 3600
            day.taken = [9, 7, 10, 8, 6, 0][offset % 6]
        controller.service.week = lambda now=None: week  # type: ignore[method-assign]
        controller.service.skip()
        for _ in range(12 * 60):
            clock.advance(1)
            _step(controller)
        controller._week_refreshed = -1e12
        controller.render()
        controller.card.resize(380, 260)
        save(controller.card, "card")
    finally:
        controller.close()
        controller.service.close()

    # Strict mode, and the quiet notice when a call holds a break past the cap.
    clock = FakeClock(START)
    strict = BreakSettings(plan=BreakPlan(BreakRule(20 * 60, 20), BreakRule(0, 0), 0), strict=True)
    controller = _controller(clock, strict)
    try:
        _run_to(controller, clock, Phase.BREAK)
        clock.advance(6)
        controller.render()
        controller.windows[0].resize(1024, 640)
        save(controller.windows[0], "window_strict")
        for _ in range(21 * 60):
            clock.advance(1)
            _step(controller)
        _run_to(controller, clock, Phase.OVERDUE, in_call=True)
        for _ in range(4 * 60):
            clock.advance(1)
            _step(controller, True)
        controller.render()
        save(controller.quiet, "quiet")
    finally:
        controller.close()
        controller.service.close()
    return saved


if __name__ == "__main__":
    # One language per process, like ``python -m tests.screenshots --only breaks``.
    for shot in take(Path(sys.argv[1]), sys.argv[2]):
        print(shot)

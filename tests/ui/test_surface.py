"""The application surface and its one worker: lanes, bounds, GUI-thread delivery, stopping."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from app.ui.bridge import Worker, WorkerBusy
from app.ui.surface import Surface
from tests import devices
from tests.ui.conftest import wait_idle


def test_results_come_back_on_the_gui_thread_in_lane_order(qtbot: Any) -> None:
    worker = Worker()
    ran_on: list[str] = []
    delivered: list[tuple[int, str]] = []
    gui = threading.current_thread().name
    for n in range(5):

        def job(n: int = n) -> int:
            ran_on.append(threading.current_thread().name)
            return n

        worker.submit(job, lambda value: delivered.append((value, threading.current_thread().name)))
    qtbot.waitUntil(lambda: len(delivered) == 5, timeout=5000)
    assert [value for value, _ in delivered] == [0, 1, 2, 3, 4]  # one lane: in submission order
    assert {thread for _, thread in delivered} == {gui}
    assert gui not in ran_on
    worker.shutdown()


def test_a_blocked_lane_holds_up_no_other_lane(qtbot: Any) -> None:
    worker = Worker()
    release = threading.Event()
    stuck = worker.submit(lambda: release.wait(10), lane="dbus")
    got: list[str] = []
    worker.submit(lambda: "panel", got.append)
    qtbot.waitUntil(lambda: got == ["panel"], timeout=5000)
    assert stuck is not None and not stuck.done() and worker.busy("dbus")
    # A periodic read skips a beat while its lane is still busy, instead of piling up.
    assert worker.submit(lambda: None, lane="dbus", skip_if_busy=True) is None
    release.set()
    assert stuck.wait(5)
    qtbot.waitUntil(lambda: not worker.busy("dbus"), timeout=5000)
    assert worker.submit(lambda: None, lane="dbus", skip_if_busy=True) is not None
    worker.shutdown()


def test_past_the_bound_jobs_are_refused_without_blocking(qtbot: Any) -> None:
    worker = Worker(max_pending=2)
    release = threading.Event()
    first = worker.submit(lambda: release.wait(10))
    second = worker.submit(lambda: None)
    errors: list[BaseException] = []
    assert worker.submit(lambda: None, on_error=errors.append) is None
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], WorkerBusy)
    release.set()
    assert first is not None and second is not None and second.wait(5)
    worker.shutdown()


def test_shutdown_runs_what_is_queued_but_never_waits_forever(qtbot: Any) -> None:
    worker = Worker()
    release = threading.Event()
    written: list[int] = []
    worker.submit(lambda: written.append(1))
    worker.submit(lambda: written.append(2))  # e.g. an acknowledgement queued at quit
    stuck = worker.submit(lambda: release.wait(30), lane="dbus")  # a call that never returns
    started = time.monotonic()
    assert worker.shutdown(wait=True, timeout=0.5) is False  # the stuck lane is left behind
    assert time.monotonic() - started < 5
    assert written == [1, 2]
    assert stuck is not None and not stuck.done()
    release.set()
    assert stuck.wait(5)


def test_failures_go_to_on_error_and_dead_receivers_get_nothing(qtbot: Any) -> None:
    worker = Worker()
    errors: list[BaseException] = []

    def fail() -> None:
        raise OSError("disk gone")

    worker.submit(fail, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "disk gone"
    # Without its traceback, whose frames would tie the job into a cycle that the garbage
    # collector may free on any thread.
    assert errors[0].__traceback__ is None
    # A dialog closed (and deleted) while its job ran gets no callback.
    context = QObject()
    release = threading.Event()
    late: list[object] = []
    job = worker.submit(lambda: release.wait(10), late.append, context=context)
    shiboken6.delete(context)
    release.set()
    assert job is not None and job.wait(5)
    done: list[bool] = []
    worker.submit(lambda: True, done.append)  # same lane: delivered after the first
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert late == []
    worker.shutdown()
    assert worker.submit(lambda: None) is None  # nothing is taken after shutdown


def test_a_worker_dropped_while_its_job_is_stuck_is_freed_on_the_gui_thread(qtbot: Any) -> None:
    """A left-behind lane must not keep the worker alive: its thread would free it, off its thread.

    Freeing a QObject off its thread while the GUI thread hands it an event
    crashed the suite (a segfault in pytest-qt's event processing) one run in
    about fifteen, after the left-behind lane of the shutdown test finished.
    """
    worker = Worker()
    release = threading.Event()
    late: list[object] = []
    stuck = worker.submit(lambda: release.wait(10), late.append, lane="dbus")
    assert worker.shutdown(wait=True, timeout=0.1) is False
    gone = weakref.ref(worker)
    del worker
    gc.collect()
    assert gone() is None  # freed here and now, while its lane's thread still runs
    release.set()
    assert stuck is not None and stuck.wait(5)
    qtbot.wait(200)  # the hand-over reaches the GUI thread and goes nowhere
    assert late == []


class _Dialog(QObject):
    """A receiver that notes on which thread it is destroyed."""

    freed_on: ClassVar[list[str]] = []

    def show_result(self, value: object) -> None:
        self.value = value

    def __del__(self) -> None:
        _Dialog.freed_on.append(threading.current_thread().name)


def test_a_jobs_callbacks_are_let_go_of_on_the_gui_thread(qtbot: Any) -> None:
    """The lane thread keeps no reference to a finished job, so its receivers die on the GUI thread."""
    worker = Worker()
    _Dialog.freed_on.clear()
    for _ in range(20):
        dialog = _Dialog()
        worker.submit(lambda: 1, dialog.show_result)
        del dialog  # only the job holds it now
    qtbot.waitUntil(lambda: len(_Dialog.freed_on) == 20, timeout=5000)
    assert set(_Dialog.freed_on) == {threading.current_thread().name}
    worker.shutdown()


def test_stopping_is_heard_once_while_the_history_is_still_open(make_app: Any) -> None:
    app = make_app()
    heard: list[bool] = []

    def save() -> None:
        # A feature saves its state here: the database must still be open.
        assert app.runtime.history is not None
        app.runtime.history.set_state("test.feature", {"saved": True})
        heard.append(True)

    app.surface.stopping.connect(save)
    app.stop()
    app.stop()
    assert heard == [True]


def test_card_widgets_and_features_go_through_the_surface(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    surface: Surface = app.surface
    label = QLabel("from a feature")
    surface.add_card_widget(devices.PRINTER, label)
    card = app.panel.cards[devices.PRINTER]
    assert label.parent() is card
    app.set_language("en")  # the panel is rebuilt: the widget moves to the new card
    assert label.parent() is app.panel.cards[devices.PRINTER] is not card
    assert surface.card_widgets(devices.PRINTER) == [label]

    class Feature(QObject):
        pass

    assert surface.feature(Feature) is None
    feature = surface.add_feature(Feature(surface))
    assert surface.feature(Feature) is feature
    # Requests nobody handles are known as such (the menu disables them).
    assert not surface.handled(surface.take_break_requested)
    surface.take_break_requested.connect(lambda: None)
    assert surface.handled(surface.take_break_requested)
    wait_idle(qtbot, app)

from __future__ import annotations

from app.kernel.callstate import CallState
from tests.conftest import FakeClock


def test_call_state_combines_sources_with_hangover(clock: FakeClock) -> None:
    state = CallState(hangover_seconds=5, clock=clock)
    changes: list[bool] = []
    state.add_listener(changes.append)
    assert not state.in_call
    state.set_source("voice", True)
    assert state.in_call and state.since == clock.now
    state.set_source("mic-in-use", True)
    state.set_source("voice", False)  # the caller is talking, the clerk listens
    clock.advance(60)
    assert state.in_call, "a source still active keeps the call"
    state.set_source("mic-in-use", False)
    clock.advance(4)
    assert state.in_call, "hang-over bridges a short pause"
    clock.advance(2)
    assert not state.in_call and state.since is None
    assert changes == [True, False]

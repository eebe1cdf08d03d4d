"""``bench all`` on the same seat with the hearing monitor off: what the second capture costs.

The bench seat's headset sink plays all the time, so with the hearing
monitor on (``bench all``) its capture of the sink's monitor runs all the
time too; issue 16's seat predates that monitor.  Same side-by-side view,
same bare baselines, one run.
"""

from __future__ import annotations

from tests.bench import Result, bench_all


def run(seconds: float) -> list[Result]:
    """Measure for ``seconds`` after the usual warm-up, the hearing monitor off."""
    return bench_all.run(seconds, hearing=False)

"""The dose analysis costs no more than the microphone analysis (the issue's bar), measured side by side."""

from __future__ import annotations

import pytest

from tests.bench import Usage, bench_hearing


def test_dose_analysis_costs_less_than_the_microphone_analysis() -> None:
    # Interleaved medians on the same audio: load slows both alike.  Measured 0.17-0.20x here.
    cost = bench_hearing.costs(seconds_of_audio=10.0, rounds=3)
    assert 0 < cost["dose"] < cost["mic"], cost
    assert cost["dose_loud"] < cost["mic"], cost


def test_bench_report_has_the_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's shape (the process part is run by ``python -m tests.bench hearing``)."""
    cpu = dict(zip(bench_hearing.NAMES, (0.3, 0.5, 0.05), strict=True))
    fake = {name: Usage(name, cpu[name], 50.0) for name in bench_hearing.NAMES}
    monkeypatch.setattr(bench_hearing, "processes", lambda _seconds: fake)
    results = bench_hearing.run(1.0)
    assert [r.bench for r in results] == [
        "hearing-analysis", "hearing-analysis-loud", "hearing-process", "hearing-floor",
    ]  # fmt: skip
    assert all(0 < r.cpu_ratio < 1 for r in results[:2])
    assert results[2].cpu_ratio == pytest.approx(0.6)

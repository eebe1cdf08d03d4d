"""The dose analysis costs no more than the microphone analysis (the issue's bar), measured side by side."""

from __future__ import annotations

from tests.bench import bench_hearing


def test_dose_analysis_costs_less_than_the_microphone_analysis() -> None:
    # Interleaved medians on the same audio: load slows both alike.  Measured 0.17-0.20x here.
    cost = bench_hearing.costs(seconds_of_audio=10.0, rounds=3)
    assert 0 < cost["dose"] < cost["mic"], cost
    assert cost["dose_loud"] < cost["mic"], cost


def test_bench_report_has_the_ratio() -> None:
    results = bench_hearing.run(1.0)
    assert [r.bench for r in results] == ["hearing-analysis", "hearing-analysis-loud"]
    assert all(0 < r.cpu_ratio < 1 for r in results)

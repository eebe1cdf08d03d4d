"""Soak test (``./.ci/bootstrap soak``): Deskwatch at fast cadence with faults cycling.

Samples the process's RSS, thread count and open file descriptors, counts
unhandled exceptions in its log, and writes the curves (CSV + SVG) and a
summary to ``soak-results/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


@dataclass
class Sample:
    """One measurement of the Deskwatch process."""

    t: float  # seconds since start
    rss_mib: float
    threads: int
    fds: int
    cpu_seconds: float
    fault: str


def sample(proc: psutil.Process, started: float, fault: str) -> Sample:
    """Measure the process now."""
    with proc.oneshot():
        times = proc.cpu_times()
        return Sample(
            round(time.monotonic() - started, 1),
            proc.memory_info().rss / 2**20,
            proc.num_threads(),
            proc.num_fds(),
            times.user + times.system,
            fault,
        )


def slope_per_hour(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(p[0] for p in points) / n
    mean_v = sum(p[1] for p in points) / n
    var = sum((p[0] - mean_t) ** 2 for p in points)
    if var == 0:
        return 0.0
    cov = sum((p[0] - mean_t) * (p[1] - mean_v) for p in points)
    return cov / var * 3600


def summarise(samples: Sequence[Sample], exceptions: int, warmup_s: float = 120.0) -> dict[str, object]:
    """Figures for the report: growth after warm-up, bounds of threads and fds."""
    steady = [s for s in samples if s.t >= warmup_s] or list(samples)
    return {
        "duration_s": samples[-1].t if samples else 0,
        "rss_mib_first": round(samples[0].rss_mib, 1) if samples else None,
        "rss_mib_after_warmup": round(steady[0].rss_mib, 1) if steady else None,
        "rss_mib_last": round(samples[-1].rss_mib, 1) if samples else None,
        "rss_mib_max": round(max(s.rss_mib for s in samples), 1) if samples else None,
        "rss_growth_mib_per_hour_after_warmup": round(slope_per_hour([(s.t, s.rss_mib) for s in steady]), 2),
        # Issue 13's bar: does RSS level off? The slope over the second half of the run.
        "rss_growth_mib_per_hour_last_half": round(
            slope_per_hour([(s.t, s.rss_mib) for s in samples if s.t >= samples[-1].t / 2]), 2
        )
        if samples
        else None,
        "threads_min": min(s.threads for s in steady) if steady else None,
        "threads_max": max(s.threads for s in steady) if steady else None,
        "fds_min": min(s.fds for s in steady) if steady else None,
        "fds_max": max(s.fds for s in steady) if steady else None,
        "cpu_seconds_per_minute": round(
            (samples[-1].cpu_seconds - samples[0].cpu_seconds) * 60 / max(samples[-1].t - samples[0].t, 1), 3
        )
        if len(samples) > 1
        else None,
        "unhandled_exceptions": exceptions,
    }


def svg_chart(samples: Sequence[Sample], width: int = 900, height: int = 420) -> str:
    """Three stacked line charts (RSS, threads, fds) over time, as SVG."""
    if not samples:
        return "<svg xmlns='http://www.w3.org/2000/svg'/>"
    series = [("RSS (MiB)", [s.rss_mib for s in samples], "#1f77b4"),
              ("threads", [float(s.threads) for s in samples], "#2ca02c"),
              ("open fds", [float(s.fds) for s in samples], "#d62728")]  # fmt: skip
    t_max = max(samples[-1].t, 1.0)
    band = height // len(series)
    svg_open = f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'"
    parts = [svg_open + " font-family='sans-serif'>"]
    for row, (name, values, colour) in enumerate(series):
        top = row * band + 18
        h = band - 34
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        pts = " ".join(
            f"{60 + (s.t / t_max) * (width - 80):.1f},{top + h - (v - lo) / span * h:.1f}"
            for s, v in zip(samples, values, strict=True)
        )
        parts.append(f"<text x='60' y='{top - 4}' font-size='12'>{name}: {lo:.1f} … {hi:.1f}</text>")
        parts.append(f"<rect x='60' y='{top}' width='{width - 80}' height='{h}' fill='none' stroke='#ccc'/>")
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' points='{pts}'/>")
    parts.append(f"<text x='60' y='{height - 4}' font-size='11'>0 … {t_max / 60:.1f} min</text></svg>")
    return "\n".join(parts)


def write_results(out: Path, samples: Sequence[Sample], summary: dict[str, object]) -> None:
    """CSV of samples, SVG of the curves, JSON summary."""
    out.mkdir(parents=True, exist_ok=True)
    lines = ["t_s,rss_mib,threads,fds,cpu_s,fault"]
    lines += [f"{s.t},{s.rss_mib:.2f},{s.threads},{s.fds},{s.cpu_seconds:.3f},{s.fault}" for s in samples]
    (out / "samples.csv").write_text("\n".join(lines) + "\n", "utf-8")
    (out / "curves.svg").write_text(svg_chart(samples), "utf-8")
    (out / "summary.json").write_text(json.dumps(summary | {"samples": len(samples)}, indent=2), "utf-8")
    (out / "samples.json").write_text(json.dumps([asdict(s) for s in samples]), "utf-8")

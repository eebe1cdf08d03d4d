"""Which memory grows: ``python -m tests.soak.compare PROBE.jsonl [--from MIN]``.

Reads the snapshots ``tests.soak.probe`` wrote and prints, over the snapshots
from ``--from`` minutes on (default: the second half of the run), the growth
per hour of RSS, of glibc's heap in use and free, of gc objects and alerts,
and of the RSS of each mapping family (``[heap]``, ``[anon]`` (thread arenas,
Python arenas, stacks), each mapped file): the family whose slope makes up
the RSS slope is where to look.  Then the single mappings that grew most
between the first and the last of those snapshots.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tests.soak import slope_per_hour


def load(path: Path) -> list[dict[str, Any]]:
    """The probe's snapshots, in order."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def family_kib(row: dict[str, Any], family: str) -> float:
    """RSS of one mapping family in a snapshot (KiB; 0 when absent)."""
    return float(row["smaps"]["families"].get(family, {}).get("rss_kib", 0))


def report(rows: list[dict[str, Any]], from_minutes: float | None = None, top: int = 10) -> str:
    """The growth table for ``rows`` (see the module docstring)."""
    t0 = rows[0]["t"]
    start = (rows[-1]["t"] - t0) / 2 if from_minutes is None else from_minutes * 60
    window = [r for r in rows if r["t"] - t0 >= start]
    if len(window) < 2:
        return "not enough snapshots"

    def slope(value: Any) -> float:
        return slope_per_hour([(r["t"] - t0, float(value(r))) for r in window])

    first, last = window[0], window[-1]
    lines = [
        f"{len(window)} snapshots from {start / 60:.0f} to {(last['t'] - t0) / 60:.0f} min; growth per hour:",
        f"  RSS               {slope(lambda r: r['rss_mib']):+8.2f} MiB/h"
        f"   ({first['rss_mib']:.1f} -> {last['rss_mib']:.1f} MiB)",
        f"  malloc in use     {slope(lambda r: r['native']['malloc_in_use']):+8.2f} MiB/h",
        f"  malloc free       {slope(lambda r: r['native']['malloc_free']):+8.2f} MiB/h",
        f"  gc objects        {slope(lambda r: r['gc_objects']):+8.0f} /h",
        f"  visible alerts    {slope(lambda r: r['visible_alerts']):+8.1f} /h"
        f"   ({first['visible_alerts']} -> {last['visible_alerts']})",
    ]
    families = sorted({f for r in window for f in r["smaps"]["families"]})
    slopes = [(slope(lambda r, f=f: family_kib(r, f) / 1024), f) for f in families]
    slopes.sort(key=lambda item: -abs(item[0]))
    lines.append("  by mapping family (MiB/h):")
    lines += [f"    {value:+8.2f}  {family}" for value, family in slopes[:top] if abs(value) >= 0.01]
    before, after = first["smaps"]["mappings"], last["smaps"]["mappings"]
    grown = sorted(((after.get(k, 0) - before.get(k, 0), k) for k in {*before, *after}), reverse=True)
    lines.append("  single mappings, first -> last snapshot of the window (KiB):")
    lines += [f"    {delta:+8d}  {key}" for delta, key in grown[:top] if delta]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak.compare")
    parser.add_argument("probe", type=Path)
    parser.add_argument("--from", dest="from_minutes", type=float, help="start of the window (minutes)")
    args = parser.parse_args()
    print(report(load(args.probe), args.from_minutes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

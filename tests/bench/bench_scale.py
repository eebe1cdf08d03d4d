"""What each extra device costs: 1, 5 and 20 printers, 1, 4 and 8 sensors, next to the headset.

One run, side by side, seen from outside (children counted, see
:func:`tests.bench.measure_side_by_side`): ``deskwatch run --headless``
with only the printer monitor on 1, 5 and 20 queues of one private cupsd;
with only the environment monitor on 1, 4 and 8 sensors (text boards,
MH-Z19s and Modbus transmitters in turn, each process its own) and on 1,
4 and 8 pollutant sensors (a PMS5003 at its stable 2.3 s, a ZE08-CH2O at
1 s, a float32 TVOC transmitter in turn); with only the headset (continuous
capture of a null sink playing speech); and with no monitor at all, the
floor.  Reported per added device: from one to five and
from five to twenty printers (one to four, four to eight sensors, the same
for pollutant sensors) -- the second step must not cost more per device than
the first (growth no faster than linear) -- and the first device over the
floor, against the headset.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from pathlib import Path

from tests.audio.conftest import SINK
from tests.bench import Result, Usage, measure_side_by_side, python
from tests.bench.seat import POLLUTANT_KINDS, Seat

PRINTERS = (1, 5, 20)
SENSORS = (1, 4, 8)
WARMUP_S = 15.0
#: Per-device steps smaller than this (CPU-s/min) are within the noise of one 60 s run.
RESOLUTION = 0.002


def only(monitor_id: str | None, table: str = "") -> str:
    """A config with every monitor off but ``monitor_id`` (configured by ``table``)."""
    import monitors

    text = table
    for other in monitors.discover():
        if other != monitor_id:
            text += f"[monitors.{other}]\nenabled = false\n"
    return text


def headless_commands(
    configs: dict[str, str], root: Path, stem: str, named_threads: bool = False
) -> dict[str, list[str]]:
    """``deskwatch run --headless`` per named config text, each with its own file and data folder.

    ``named_threads``: Python threads carry their names into the kernel's
    (:data:`tests.bench.threads.NAMING_PRELUDE`), for a per-thread count.
    """
    from tests.bench.threads import NAMING_PRELUDE

    start = ["-c", NAMING_PRELUDE] if named_threads else ["-m", "app.cli"]
    commands = {}
    for n, (name, text) in enumerate(configs.items()):
        path = root / f"{stem}{n}.toml"
        path.write_text(text, "utf-8")
        commands[name] = [python(), *start, "run", "--headless", "--config", str(path),
                          "--data-dir", str(root / f"data-{stem}{n}")]  # fmt: skip
    return commands


def run(
    seconds: float,
    warmup: float = WARMUP_S,
    printers: tuple[int, ...] = PRINTERS,
    sensors: tuple[int, ...] = SENSORS,
    pollutants: tuple[int, ...] = SENSORS,
) -> list[Result]:
    """Measure for ``seconds`` after ``warmup`` (smaller values only for the smoke test)."""
    with tempfile.TemporaryDirectory(prefix="dw-bench-scale-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        configs: dict[str, str] = {"floor: no monitor": only(None)}
        queues_seat = stack.enter_context(
            Seat(root / "printers", printers=max(printers), sensors=0, headset=False, phone=False)
        )
        assert queues_seat.cups is not None
        for n in printers:
            names = ", ".join(f'"{q}"' for q in queues_seat.queues[:n])
            configs[f"printers: {n}"] = only(
                "printer", f'[monitors.printer]\nserver = "{queues_seat.cups.server}"\nprinters = [{names}]\n'
            )
        for n in sensors:
            seat = stack.enter_context(
                Seat(root / f"sensors{n}", printers=0, sensors=n, headset=False, phone=False)
            )
            configs[f"sensors: {n}"] = only("environment", "".join(seat.sensor_tables))
        for n in pollutants:
            seat = stack.enter_context(
                Seat(
                    root / f"pollutants{n}",
                    printers=0,
                    sensors=n,
                    headset=False,
                    phone=False,
                    kinds=POLLUTANT_KINDS,
                )
            )
            configs[f"pollutants: {n}"] = only("environment", "".join(seat.sensor_tables))
        headset = stack.enter_context(
            Seat(root / "headset", printers=0, sensors=0, phone=False, play_seconds=warmup + seconds + 120)
        )
        configs["headset"] = only("headset", f'[monitors.headset]\ndevice = "{SINK}"\n')
        commands = headless_commands(configs, root, "scale")
        usage = measure_side_by_side(commands, seconds, warmup=warmup, env=headset.env())
    return summarise(usage, printers, sensors, pollutants)


def summarise(
    usage: dict[str, Usage],
    printers: tuple[int, ...],
    sensors: tuple[int, ...],
    pollutants: tuple[int, ...] = (),
) -> list[Result]:
    """Per-device costs as results (each against the floor) with the steps in the notes."""
    floor = usage["floor: no monitor"]
    head = usage["headset"]
    headset_cost = head.cpu_seconds_per_minute - floor.cpu_seconds_per_minute
    results = [Result("scale", head, floor, f"headset over the floor: {headset_cost:.3f} CPU-s/min")]
    for kind, counts in (("printers", printers), ("sensors", sensors), ("pollutants", pollutants)):
        if not counts:
            continue
        cpu = {n: usage[f"{kind}: {n}"].cpu_seconds_per_minute for n in counts}
        first = cpu[counts[0]] - floor.cpu_seconds_per_minute
        steps = [(a, b, (cpu[b] - cpu[a]) / (b - a)) for a, b in itertools.pairwise(counts)]
        text = "; ".join(f"{a}→{b}: {per:.4f} CPU-s/min each" for a, b, per in steps)
        growth = ""
        if len(steps) >= 2 and max(per for _, _, per in steps) < RESOLUTION:
            growth = f"; every step below the {RESOLUTION:g} CPU-s/min a side-by-side run resolves: flat"
        elif len(steps) >= 2 and steps[0][2] > 0:
            last_over_first = steps[-1][2] / steps[0][2]
            growth = f"; last step / first step per device {last_over_first:.2f} (≤ 1: linear or better)"
        per_device = max(first / counts[0], *(per for _, _, per in steps)) if steps else first / counts[0]
        ratio = per_device / headset_cost if headset_cost > 0 else float("inf")
        note = (
            f"{kind}: first over the floor {first:.4f}; {text}{growth}; "
            f"dearest per device / headset {ratio:.2f} (< 1 wanted)"
        )
        for n in counts:
            results.append(Result("scale", usage[f"{kind}: {n}"], floor, note if n == counts[-1] else ""))
    return results

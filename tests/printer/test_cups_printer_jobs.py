"""Job history as a stock cupsd really answers it (issue 12): missing times are unknown, never epoch 0.

Soon after a job completes (within a second or two when nothing read the job
itself, a minute after the last Get-Job-Attributes), cupsd unloads its
attributes; Get-Jobs then rebuilds the job from a summary whose creation time
is 0 and leaves ``time-at-creation`` out (``time-at-completed`` stays).
Deskwatch used to read the missing time as epoch 0 and report "Job 3 took
498931 h" as critical.  These tests let the real cupsd forget, then check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kernel.model import Level
from monitors.printer import PrinterMonitor
from sensors import printing as p
from sensors.cups_printer import CupsServer, cups_job
from tests.printer.conftest import PrivateCups, wait_for

ROOT = Path(__file__).resolve().parents[2]
#: cupsd unloads a completed job once nobody has read it for 60 s (at once if nobody ever did).
FORGET_WITHIN = 90.0


def get_jobs(server: PrivateCups) -> dict[int, dict[str, object]]:
    """Completed jobs exactly as the printer monitor asks for them."""
    return dict(CupsServer(server.server)._jobs("completed"))


def deskwatch_check(
    tmp_path: Path, server: PrivateCups, queue: str
) -> tuple[int, dict[str, dict[str, object]]]:
    config = tmp_path / "deskwatch.toml"
    config.write_text(f'[monitors.printer]\nserver = "{server.server}"\nprinters = ["{queue}"]\n', "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", "--json", "--only", "printer", "--config", str(config),
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    payload = json.loads(done.stdout)
    return done.returncode, {i["id"]: i for i in payload["indicators"]}


@pytest.fixture(scope="module")
def forgetful(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivateCups, str, list[int]]]:
    """A private cupsd with printed jobs whose Get-Jobs entries have lost ``time-at-creation``."""
    server = PrivateCups(tmp_path_factory.mktemp("cups-history"))
    server.start()
    try:
        queue = server.add_queue("hist")
        server.set_mode(queue, "slow2")  # every job takes about two seconds to print
        jobs = [server.submit(queue) for _ in range(2)]
        # Only Get-Jobs, as the monitor polls: Get-Job-Attributes would keep the jobs loaded.
        done = {p.JOB_COMPLETED}
        wait_for(lambda: all(get_jobs(server).get(j, {}).get("job-state") in done for j in jobs), 30)

        def forgotten() -> bool:
            listed = get_jobs(server)
            return all("time-at-creation" not in listed[j] and "time-at-completed" in listed[j] for j in jobs)

        wait_for(forgotten, FORGET_WITHIN, "cupsd to unload the finished jobs' attributes")
        yield server, queue, jobs
    finally:
        server.stop()


@pytest.mark.timeout(FORGET_WITHIN + 60)
def test_forgotten_creation_times_are_fetched_again_not_read_as_epoch_0(
    tmp_path: Path, forgetful: tuple[PrivateCups, str, list[int]]
) -> None:
    server, queue, jobs = forgetful
    # What Get-Jobs says, taken alone: the creation time is unknown, and no duration is made up.
    listed = get_jobs(server)
    alone = cups_job(jobs[-1], listed[jobs[-1]])
    assert alone.created is None and alone.completed is not None and alone.duration is None

    # The transport asks for the job itself (Get-Job-Attributes reloads it).
    snap = CupsServer(server.server).snapshots([queue], time.time() - 3600)[queue]
    assert snap is not None
    durations = {j.id: j.duration for j in snap.finished}
    assert set(durations) == set(jobs)
    assert all(d is not None and 1.0 <= d < 30 for d in durations.values()), durations

    # And the clerk's view, through the real command line: no false alarm.
    code, states = deskwatch_check(tmp_path, server, queue)
    last = states[f"printer.last_job_seconds[{queue}]"]
    assert last["level"] == "ok", last
    assert isinstance(last["value"], float) and 1.0 <= last["value"] < 30
    assert " h " not in str(last["message"])
    assert code == 0, states


def test_a_job_without_any_creation_time_has_no_duration_and_no_alarm(tmp_path: Path) -> None:
    """A job the server cannot date at all (Get-Job-Attributes has no time either)."""
    from app.kernel.monitor import MonitorContext

    monitor = PrinterMonitor(
        {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"},
        MonitorContext(data_dir=tmp_path),
    )
    now = time.time()
    undated = p.Job(7, p.JOB_COMPLETED, None, now - 5)
    waiting = p.Job(8, p.JOB_PENDING, None)
    snap = p.PrinterSnapshot(
        "front", p.STATE_PROCESSING, jobs=(waiting,), finished=(undated,), server_time=now
    )
    got = {r.indicator_id.split(".")[1]: r for r in monitor.judge(snap)}
    # Nothing to measure is no alarm and no "OK" either: not observed.
    assert got["last_job_seconds"].value is None and got["last_job_seconds"].level is Level.NOT_SET_UP
    assert got["last_job_seconds"].message is not None and "not known" in got["last_job_seconds"].message.en
    assert got["last_job_seconds"].message.en.startswith("Not observed")
    # A waiting job nobody dated: its age is unknown, never "56 years".
    assert got["oldest_job_age"].value is None and got["oldest_job_age"].level is Level.UNKNOWN
    # An older job with both times still gives the print time, naming that job.
    dated = p.Job(6, p.JOB_COMPLETED, now - 20, now - 17)
    snap = p.PrinterSnapshot("front", p.STATE_IDLE, finished=(dated, undated), server_time=now)
    last = {r.indicator_id.split(".")[1]: r for r in monitor.judge(snap)}["last_job_seconds"]
    assert last.value == 3.0 and last.detail["job_id"] == 6

"""What the ``deskwatch`` command sets up for the process before any library loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Imports numpy after (or without) the command's start-up and prints the process's thread count.
COUNT_THREADS = """
import os, sys
if sys.argv[1] == "cli":
    from app.cli import main
    main(["config", "path"])
import numpy
print(len(os.listdir("/proc/self/task")))
"""


def _threads_after_numpy(how: str, **env: str) -> int:
    base = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", COUNT_THREADS, how],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_numpy_loaded_by_deskwatch_starts_no_blas_thread_pool() -> None:
    assert _threads_after_numpy("cli") == 1
    if len(os.sched_getaffinity(0)) >= 2:
        # Without it, OpenBLAS starts a thread per core: the setting is what makes the difference.
        assert _threads_after_numpy("plain") > 1


def test_a_blas_thread_count_set_by_the_site_is_kept() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: OpenBLAS starts no pool either way")
    assert _threads_after_numpy("cli", OPENBLAS_NUM_THREADS="2") == 2

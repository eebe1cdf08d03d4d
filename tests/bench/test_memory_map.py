"""The memory map's import meter and report (its full-seat run is ``python -m tests.bench.memory_map``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.bench.memory_map import (
    ANON_KINDS,
    THREAD_STACK_KIB,
    anonymous_kind,
    outside_report,
    report,
    smaps_by_file,
    status_kib,
    top_level,
)

ROOT = Path(__file__).resolve().parents[2]

#: A fresh interpreter meters its imports: ``email.message`` imports ``email._policybase`` and more.
METERED = textwrap.dedent(
    """
    import json, tracemalloc
    from tests.bench.memory_map import ImportMeter
    tracemalloc.start(1)
    meter = ImportMeter()
    meter.install()
    import email.message, difflib
    print(json.dumps({"own": meter.own, "via": meter.via}))
    """
)


def test_each_module_group_counts_what_its_own_import_left() -> None:
    result = subprocess.run(
        [sys.executable, "-c", METERED], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    data = json.loads(result.stdout)
    assert data["own"]["email"] > 10_000 and data["own"]["difflib"] > 10_000
    # difflib alone imports nothing new: its group is its own module only.
    assert data["via"]["email"] == "-" and data["via"]["difflib"] == "-"


def test_groups_and_report() -> None:
    assert top_level("numpy.core._multiarray_umath") == "numpy"
    assert top_level("app.ui.panel.window") == "app.ui" and top_level("PySide6.QtCore") == "PySide6.QtCore"
    files = smaps_by_file()
    assert files["[anon]"] > 0 and any(name.startswith("libpython") or "python" in name for name in files)
    text = report(
        {
            "rss_kib": 2048, "python_total_kib": 1024, "modules_loaded": 3,
            "imported_via": {"numpy": "sensors"}, "python_kib": {"numpy": 512, "tomllib": 100},
            "files_kib": {"[anon]": 1024},
        }
    )  # fmt: skip
    assert "0.50  numpy  (first imported by sensors)" in text and "1.00  [anon]" in text


def test_status_and_the_outside_report() -> None:
    own = status_kib()
    assert own["VmHWM"] >= own["VmRSS"] > 0 and own["RssAnon"] > 0 and own["RssFile"] > 0
    samples = [
        (0.0, {"VmHWM": 1024, "VmRSS": 1024, "RssAnon": 512, "RssFile": 512, "RssShmem": 0}),
        (1.5, {"VmHWM": 4096, "VmRSS": 4096, "RssAnon": 3072, "RssFile": 1024, "RssShmem": 0}),
        (3.0, {"VmHWM": 4096, "VmRSS": 2048, "RssAnon": 1024, "RssFile": 1024, "RssShmem": 0}),
    ]
    data = {
        "app": {"samples": samples, "end": samples[-1][1], "files_kib": {"[anon]": 1024, "libbig.so": 2048}},
        "bare": {"samples": samples[:1], "end": samples[0][1], "files_kib": {"[anon]": 512}},
    }
    text = outside_report(data)
    # A start-up peak shows as the time VmHWM was reached and a lower resident set at the end.
    assert "app: VmHWM 4.0 MiB reached at 1.50 s; at the end resident 2.0: anonymous 1.0" in text
    assert "  2.00   0.00  +2.00  libbig.so" in text and "  1.00   0.50  +0.50  [anon]" in text


#: A thread that waits on an event: its stack is mapped (8 MiB) and a few pages of it resident.
THREADED = textwrap.dedent(
    """
    import json, threading
    from tests.bench.memory_map import smaps_by_file
    go = threading.Event()
    threads = [threading.Thread(target=go.wait) for _ in range(4)]
    for t in threads: t.start()
    files = smaps_by_file()
    go.set()
    print(json.dumps(files))
    """
)


def test_anonymous_memory_is_told_apart() -> None:
    assert anonymous_kind(THREAD_STACK_KIB) == "[anon: thread stacks]"
    assert anonymous_kind(THREAD_STACK_KIB + 4) == anonymous_kind(1024) == "[anon]"
    result = subprocess.run(
        [sys.executable, "-c", THREADED], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    files = json.loads(result.stdout)
    assert 0 < files["[anon: thread stacks]"] < 4 * 1024, files  # touched pages only, not 4 × 8 MiB
    assert set(ANON_KINDS) <= set(files) and files["[anon]"] > 0

"""A module imported on first use, then in the importer's namespace itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from app.kernel.lazy import LazyModule, lazy_import

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_use_imports_the_module_and_replaces_the_stand_in() -> None:
    namespace: dict[str, Any] = {}
    namespace["js"] = lazy_import("json", namespace)
    assert isinstance(namespace["js"], LazyModule) and "imported on first use" in repr(namespace["js"])
    assert namespace["js"].dumps([1]) == "[1]"
    import json

    assert namespace["js"] is json


#: In a fresh interpreter: nothing imported until used, then once, from several threads at once.
FRESH = textwrap.dedent(
    """
    import sys, threading
    from app.kernel.lazy import lazy_import
    np = lazy_import("numpy", globals())
    print("numpy" in sys.modules)
    sums = []
    threads = [threading.Thread(target=lambda: sums.append(int(np.arange(5).sum()))) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("numpy" in sys.modules, sums, type(np).__name__)
    """
)


def test_nothing_is_imported_before_the_first_use_and_threads_share_one_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == ["False", "True [10, 10, 10, 10] module"]

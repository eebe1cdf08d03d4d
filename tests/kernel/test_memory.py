"""Handing free heap memory back to the OS: real pages, measured by the kernel's count of RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import psutil
import pytest

from app.kernel.memory import can_release_free_heap, release_free_heap

pytestmark = pytest.mark.skipif(not can_release_free_heap(), reason="needs glibc's malloc_trim")

MIB = 1024 * 1024


def _fragment_a_thread_arena(keep: list[bytes]) -> None:
    """Fill a thread's arena with 2 KiB blocks, then free all but every 64th.

    The survivors pin the arena's top, so glibc cannot shrink it by itself:
    exactly the free-but-resident memory a long shift accumulates.
    """
    blocks = [bytes(2048) for _ in range(60_000)]  # ~120 MiB through malloc, not pymalloc
    keep.extend(blocks[::64])
    blocks.clear()


def test_release_gives_freed_pages_of_a_thread_arena_back() -> None:
    keep: list[bytes] = []
    worker = threading.Thread(target=_fragment_a_thread_arena, args=(keep,))
    worker.start()
    worker.join()
    process = psutil.Process()
    before = process.memory_info().rss
    released = release_free_heap()
    after = process.memory_info().rss
    assert released
    assert before - after > 60 * MIB, f"RSS went from {before / MIB:.1f} to {after / MIB:.1f} MiB"
    assert len(keep) == 938  # the survivors are still there, untouched
    assert all(block == bytes(2048) for block in keep)


def test_release_with_nothing_to_give_back_is_harmless() -> None:
    release_free_heap()
    assert release_free_heap() in (True, False)


# Run in a fresh interpreter: the cap must be set before the threads exist, and it
# counts the heaps glibc made (malloc_info's XML lists one <heap> per arena).
_COUNT_ARENAS = r"""
import ctypes, os, sys, tempfile, threading
from app.kernel.memory import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas(2)
barrier = threading.Barrier(8)
def work():
    barrier.wait()  # all eight allocate at once, so each asks glibc for an arena
    blocks = [bytes(4096) for _ in range(2000)]
    barrier.wait()
    del blocks
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
path = tempfile.mktemp()
handle = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, handle)
libc.fclose(handle)
print(open(path).read().count("<heap nr="))
os.unlink(path)
"""


def _arenas_used(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    command = [sys.executable, "-c", _COUNT_ARENAS, mode]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    return int(out.stdout.strip())


def test_arena_cap_keeps_eight_threads_in_two_arenas() -> None:
    uncapped = _arenas_used("default")
    capped = _arenas_used("limit")
    assert capped <= 2, f"{capped} arenas with the cap"
    assert uncapped > capped, f"glibc's default made {uncapped} arenas, capped {capped}: shows nothing"


def test_administrators_arena_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.kernel.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False

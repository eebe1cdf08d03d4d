"""Handing free heap memory back to the OS: real pages, measured by the kernel's count of RSS."""

from __future__ import annotations

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

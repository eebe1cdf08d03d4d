"""What :mod:`sensors.spinning_threads` takes for a spinning thread, and what it never touches.

The real spin (PortAudio 19.6's ALSA error loop) and its parking are in
test_capture_portaudio_spin.py.
"""

from __future__ import annotations

import ctypes
import sys
import threading

import pytest

from sensors import spinning_threads


def test_python_threads_are_never_parked() -> None:
    with pytest.raises(ValueError):
        spinning_threads.park(threading.get_native_id())


def test_a_busy_thread_that_does_not_write_is_not_spinning() -> None:
    before = spinning_threads.ThreadSample(1, 5, 10.0, 100, 0.0)
    busy = spinning_threads.ThreadSample(1, 5, 10.5, 101, 0.5)
    flooding = spinning_threads.ThreadSample(1, 5, 10.5, 50_100, 0.5)
    reused = spinning_threads.ThreadSample(1, 6, 10.5, 50_100, 0.5)
    assert not spinning_threads.is_spinning(before, busy)
    assert spinning_threads.is_spinning(before, flooding)
    assert not spinning_threads.is_spinning(before, reused)  # another thread with the same id
    unread = spinning_threads.ThreadSample(1, 5, 10.0, -1, 0.0)  # write calls not read while idle
    assert spinning_threads.is_spinning(unread, flooding)
    assert not spinning_threads.is_spinning(unread, busy)


def test_a_thread_is_sampled_from_proc() -> None:
    tid = threading.get_native_id()
    first = spinning_threads.sample(tid)
    sum(i * i for i in range(300_000))  # some CPU
    second = spinning_threads.sample(tid)
    assert first is not None and second is not None
    assert second.started == first.started and second.cpu_s >= first.cpu_s
    assert tid in spinning_threads.task_ids() and tid not in spinning_threads.foreign_task_ids()
    assert spinning_threads.sample(-1) is None


def _own_stack_size() -> int:
    """The calling thread's stack size, as glibc gave it (pthread_getattr_np)."""
    libc = ctypes.CDLL(None)
    libc.pthread_self.restype = ctypes.c_ulong
    attr = ctypes.create_string_buffer(128)
    assert libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) == 0
    size = ctypes.c_size_t()
    libc.pthread_attr_getstacksize(attr, ctypes.byref(size))
    libc.pthread_attr_destroy(attr)
    return size.value


def stack_of_a_new_thread() -> int:
    sizes: list[int] = []
    thread = threading.Thread(target=lambda: sizes.append(_own_stack_size()))
    thread.start()
    thread.join()
    return sizes[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_threads_started_meanwhile_get_a_stack_size_no_cached_stack_has() -> None:
    usual = stack_of_a_new_thread()
    with spinning_threads.fresh_thread_stacks():
        fresh = stack_of_a_new_thread()
    assert fresh == spinning_threads.FRESH_STACK_SIZE > usual
    assert stack_of_a_new_thread() == usual  # the default is put back

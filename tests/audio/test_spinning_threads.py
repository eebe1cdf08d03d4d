"""What :mod:`sensors.spinning_threads` takes for a spinning thread, and what it never touches.

The real spin (PortAudio 19.6's ALSA error loop) and its parking are in
test_capture_portaudio_spin.py.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

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


#: A C thread shaped like PortAudio 19.6's error loop: cancellation off, one stderr write per turn.
SPINNER_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static volatile long spinner_tid;
static volatile long turns;
static void *spin(void *arg) {
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    spinner_tid = syscall(SYS_gettid);
    for (;;) { fputs(".", stderr); fflush(stderr); turns++; }
    return NULL;
}
long start_spinner(void) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, spin, NULL) != 0) return -1;
    pthread_detach(thread);
    while (!spinner_tid) usleep(100);
    return spinner_tid;
}
long spinner_turns(void) { return turns; }
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc, /proc")
def test_a_c_thread_spinning_on_stderr_is_parked_without_holding_its_lock(tmp_path: Path) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed (Debian: build-essential); .ci/bootstrap installs it")
    source, library = tmp_path / "spinner.c", tmp_path / "spinner.so"
    source.write_text(SPINNER_C, "utf-8")
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-pthread", "-o", str(library), str(source)], check=True)
    spinner = ctypes.CDLL(str(library))
    spinner.start_spinner.restype = spinner.spinner_turns.restype = ctypes.c_long
    tid = spinner.start_spinner()
    assert tid > 0 and tid in spinning_threads.foreign_task_ids()
    before = spinning_threads.sample(tid)
    time.sleep(0.3)
    now = spinning_threads.sample(tid)
    assert before is not None and now is not None and spinning_threads.is_spinning(before, now)

    assert spinning_threads.park(tid, before.started)
    turns = spinner.spinner_turns()
    time.sleep(0.3)
    assert spinner.spinner_turns() == turns  # stopped
    after = spinning_threads.sample(tid)
    assert after is not None and after.cpu_s - now.cpu_s < 0.2
    # It holds no lock: C stderr still works for everyone else (a hang here would be the bug).
    libc = ctypes.CDLL(None)
    libc.fputs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    stderr = ctypes.c_void_p.in_dll(libc, "stderr")
    writer = threading.Thread(target=lambda: libc.fputs(b"\n", stderr), daemon=True)
    writer.start()
    writer.join(5)
    assert not writer.is_alive(), "C stderr is locked by the parked thread"

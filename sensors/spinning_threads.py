"""A C library's thread spinning in this process: told from /proc, then parked (Linux).

Why this exists: PortAudio 19.6 (Debian 12's libportaudio2) has an endless
loop in its ALSA host API (``PaAlsaStream_WaitForFrames``, PortAudio issue
1037): when polling a capture stream fails (its PulseAudio stream or server,
or a USB device, went away) while the callback thread's uninitialised
``framesAvail`` is not zero, the error path's ``PA_UNLESS`` jumps back to its
own ``error:`` label.  The thread then prints ``Expression 'self->capture.ready
|| self->playback.ready' failed`` to stderr as fast as it can, for ever, with
cancellation disabled: ``Pa_CloseStream``/``Pa_AbortStream`` join it and never
return, and nothing inside PortAudio can stop it.

What can: that thread is ours, so it can be sent a signal whose handler is
libc's ``pause()`` with every other signal blocked -- it sleeps there for
good, at no CPU.  The only lock the loop takes is C stdio's ``stderr`` lock
(its ``fprintf``); a thread parked while holding it would block every later
C write to stderr in the process, so the signal is sent while this thread
holds that lock: the spinning one is then between two messages or waiting
for the lock, and holds nothing when it stops.  Only threads that are no Python thread, burn a
core and write to stderr all the time are ever parked (:func:`is_spinning`):
a Python callback that is merely slow is never touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: A thread is spinning when it used this share of a core over a window of at least :data:`WINDOW_S`
#: (low: a spin that began late in the window is caught at once, not a window later)...
CPU_SHARE = 0.25
#: ...and made at least this many write calls a second (PortAudio's loop writes each message at
#: once; its healthy callback thread writes nothing): no busy thread of other kinds is taken for one.
WRITES_PER_S = 200.0
#: When only the thread's total is known (its write calls are read only once it is busy): at least
#: this many since it started.
SPIN_WRITES = 10_000
#: Shortest window a share is judged over.
WINDOW_S = 0.2
#: Attempts at parking a thread before giving up.
PARK_ATTEMPTS = 3

_LINUX = sys.platform.startswith("linux")


@dataclass(frozen=True)
class ThreadSample:
    """One thread's CPU and write-call count as the kernel keeps them."""

    tid: int
    #: The thread's start time (clock ticks since boot): a reused thread id has another.
    started: int
    cpu_s: float
    #: Write calls since the thread started (-1: not read).
    writes: int
    at: float


def task_ids() -> set[int]:
    """The kernel thread ids of this process (empty off Linux)."""
    if not _LINUX:
        return set()
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def foreign_task_ids() -> set[int]:
    """Thread ids of this process that are no Python thread (started by C libraries)."""
    python = {t.native_id for t in threading.enumerate()}
    return task_ids() - python


def thread_name(tid: int) -> str:
    """``tid``'s kernel name (``comm``; a new thread inherits its creator's), "" if gone."""
    try:
        with open(f"/proc/self/task/{tid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def sample(tid: int, writes: bool = True) -> ThreadSample | None:
    """``tid``'s counters now (``writes``: its write calls too), ``None`` when it is gone (or not Linux)."""
    if not _LINUX:
        return None
    io = ""
    try:
        with open(f"/proc/self/task/{tid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
        if writes:
            with open(f"/proc/self/task/{tid}/io", encoding="ascii", errors="replace") as handle:
                io = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: fields count from its end.
    fields = stat[stat.rfind(")") + 2 :].split()
    calls = next((int(line.split()[1]) for line in io.splitlines() if line.startswith("syscw:")), -1)
    try:
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
        return ThreadSample(tid, int(fields[19]), cpu, calls, time.monotonic())
    except (IndexError, ValueError):
        return None


def is_spinning(before: ThreadSample, now: ThreadSample) -> bool:
    """Whether the thread burnt a core writing all the time between the two samples."""
    span = now.at - before.at
    if span < WINDOW_S or now.started != before.started:
        return False
    if (now.cpu_s - before.cpu_s) / span < CPU_SHARE:
        return False
    if before.writes < 0:
        return now.writes >= SPIN_WRITES
    return (now.writes - before.writes) / span >= WRITES_PER_S


class Watch:
    """A set of threads sampled now and then; :meth:`spinning` names those that spin."""

    def __init__(self, tids: set[int]) -> None:
        self._last = {s.tid: s for s in (sample(tid, writes=False) for tid in tids) if s is not None}
        self._lock = threading.Lock()
        self._claimed = False

    @property
    def tids(self) -> set[int]:
        return set(self._last)

    def claim_spinning(self) -> list[int]:
        """:meth:`spinning`, for the first caller only (any thread): later ones get ``[]``."""
        with self._lock:
            if self._claimed:
                return []
            found = self.spinning()
            self._claimed = bool(found)
            return found

    def spinning(self) -> list[int]:
        """Threads spinning since the last call at least :data:`WINDOW_S` ago (their counters renewed)."""
        found = []
        for tid, before in list(self._last.items()):
            if time.monotonic() - before.at < WINDOW_S:
                continue
            # Twice a second on a healthy stream: its CPU only; its write calls once it is busy.
            now = sample(tid, writes=False)
            if now is not None and (now.cpu_s - before.cpu_s) / (now.at - before.at) >= CPU_SHARE:
                now = sample(tid)
            if now is None or now.started != before.started:
                del self._last[tid]  # ended (its id may be reused by another thread)
                continue
            self._last[tid] = now
            if is_spinning(before, now):
                found.append(tid)
        return found


class _SigAction(ctypes.Structure):
    # glibc's struct sigaction on Linux (x86-64, arm64): handler, 1024-bit mask, flags, restorer.
    _fields_ = [
        ("handler", ctypes.c_void_p),
        ("mask", ctypes.c_ulong * (1024 // (8 * ctypes.sizeof(ctypes.c_ulong)))),
        ("flags", ctypes.c_int),
        ("restorer", ctypes.c_void_p),
    ]


_SA_RESTART = 0x10000000
_lock = threading.Lock()
_libc: ctypes.CDLL | None = None
#: (park, wake): real-time signals nothing else in Deskwatch uses.
_signals: tuple[int, int] | None = None


def _setup() -> tuple[ctypes.CDLL, int, int] | None:
    """Install the parking and waking handlers once; ``None`` where that cannot be done."""
    global _libc, _signals
    with _lock:
        if _libc is not None and _signals is not None:
            return _libc, *_signals
        if not _LINUX:
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            park, wake = int(signal.SIGRTMAX) - 2, int(signal.SIGRTMAX) - 3
            handlers = {
                park: ctypes.cast(libc.pause, ctypes.c_void_p).value,  # sleeps until a handler runs
                wake: ctypes.cast(libc.sched_yield, ctypes.c_void_p).value,  # that handler: does nothing
            }
            bits = 8 * ctypes.sizeof(ctypes.c_ulong)
            for number, handler in handlers.items():
                action = _SigAction()
                action.handler, action.flags = handler, _SA_RESTART
                if number == park:  # while parked, everything but the wake-up stays pending
                    for i in range(len(action.mask)):
                        action.mask[i] = ~0 & ((1 << bits) - 1)
                    action.mask[(wake - 1) // bits] &= ~(1 << ((wake - 1) % bits))
                if libc.sigaction(number, ctypes.byref(action), None) != 0:
                    raise OSError(ctypes.get_errno(), "sigaction failed")
            libc.tgkill.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            libc.flockfile.argtypes = libc.funlockfile.argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError, ValueError) as exc:
            log.warning("cannot park spinning threads: %s", exc)
            return None
        _libc, _signals = libc, (park, wake)
        return libc, park, wake


def _parked(tid: int, park: int, wake: int) -> bool | None:
    """Whether ``tid`` sits in the parking handler (its blocked mask is the handler's); ``None``: gone."""
    try:
        with open(f"/proc/self/task/{tid}/status", encoding="ascii", errors="replace") as handle:
            line = next((x for x in handle if x.startswith("SigBlk:")), "")
    except OSError:
        return None
    try:
        blocked = int(line.split()[1], 16)
    except (IndexError, ValueError):
        return False
    return bool(blocked >> (park - 1) & 1) and not blocked >> (wake - 1) & 1


def _wait(tid: int, park: int, wake: int, parked: bool, timeout: float = 0.2) -> bool | None:
    deadline = time.monotonic() + timeout
    while True:
        state = _parked(tid, park, wake)
        if state is None or state is parked or time.monotonic() > deadline:
            return state
        time.sleep(0.002)


def park(tid: int, started: int | None = None) -> bool:
    """Stop thread ``tid`` of this process for good (it sleeps in a signal handler); True when parked.

    ``started`` (from :class:`ThreadSample`) guards against a thread id reused
    meanwhile.  The thread is first moved to ``SCHED_IDLE``, so even one that
    could not be parked only runs when nothing else wants the CPU.
    """
    if tid in {t.native_id for t in threading.enumerate()}:
        raise ValueError("a Python thread is never parked")  # it may hold the GIL
    current = sample(tid)
    if current is None or (started is not None and current.started != started):
        return False
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    setup = _setup()
    if setup is None:
        return False
    libc, park_signal, wake_signal = setup
    stderr = ctypes.c_void_p.in_dll(libc, "stderr").value
    pid = os.getpid()
    for _ in range(PARK_ATTEMPTS):
        # Holding stderr's lock here, the thread cannot hold it: it is parked either between
        # two messages or while it waits for this lock (a futex wait a signal handler interrupts).
        libc.flockfile(stderr)
        try:
            if libc.tgkill(pid, tid, park_signal) != 0:
                return False  # ended meanwhile
            state = _wait(tid, park_signal, wake_signal, True, timeout=1.0)
        finally:
            libc.funlockfile(stderr)
        if state is None:
            return False
        if state:
            return True
        libc.tgkill(pid, tid, wake_signal)  # not in the handler in time: let it go, try again
    log.warning("thread %d could not be parked", tid)
    return False


#: Stack size given to threads started inside :func:`fresh_thread_stacks` (bytes): no other
#: thread of the process has stacks of this size, so glibc cannot hand one a cached stack.
FRESH_STACK_SIZE = 8 * 1024 * 1024 + 64 * 1024


@contextlib.contextmanager
def fresh_thread_stacks() -> Iterator[None]:
    """Threads a C library starts meanwhile get a new (zeroed) stack, not one glibc kept from an ended thread.

    Why: PortAudio 19.6's ALSA callback thread reads its ``framesAvail``
    before setting it when the stream's first poll fails, and loops for
    ever if that is not zero (see the module doc).  On a new stack it is
    zero; glibc's cache of stacks of ended threads (libpulse's mainloop
    threads, ours) is what made it not zero.  A stack size no other thread
    uses is never matched in that cache.  Process-wide while it lasts
    (``pthread_setattr_default_np``): keep it short.  No-op off glibc.
    """
    libc = _thread_libc()
    saved = ctypes.create_string_buffer(_ATTR_SIZE)
    fresh = ctypes.create_string_buffer(_ATTR_SIZE)
    try:
        if libc is None or libc.pthread_getattr_default_np(saved) != 0:
            yield
            return
    except AttributeError:
        yield
        return
    try:
        ok = (
            libc.pthread_attr_init(fresh) == 0
            and libc.pthread_attr_setstacksize(fresh, ctypes.c_size_t(FRESH_STACK_SIZE)) == 0
            and libc.pthread_setattr_default_np(fresh) == 0
        )
        if not ok:
            log.debug("cannot set the default thread stack size")
        yield
    finally:
        libc.pthread_setattr_default_np(saved)
        libc.pthread_attr_destroy(fresh)
        libc.pthread_attr_destroy(saved)


#: Room for a pthread_attr_t (56 bytes on x86-64, 64 on arm64).
_ATTR_SIZE = 128


def _thread_libc() -> ctypes.CDLL | None:
    if not _LINUX:
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None

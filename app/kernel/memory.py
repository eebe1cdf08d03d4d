"""Gives heap memory that Python has freed back to the operating system.

Deskwatch runs for a whole shift with a dozen threads (audio callbacks, one
poll thread per monitor, history, exporter).  glibc gives each thread its own
malloc arena and returns freed pages of those arenas to the kernel only when
the top of an arena is free, so a long run's RSS creeps up by the pages that
are free inside the arenas but never handed back (measured on a 60-minute
soak: +1.9 MiB/h of *free* malloc memory, against +0.3 MiB/h in use).
``malloc_trim(0)`` walks every arena and releases whole free pages with
``madvise``; calling it now and then keeps RSS level.  Other C libraries
(Windows' CRT, musl) return memory differently and have no such call: there
this is a no-op.

Fewer arenas also means less of that free memory to begin with: by default
glibc makes up to eight arenas per core, one per thread that allocates while
the others hold theirs.  Deskwatch's threads spend their time waiting and run
Python under one lock, so they gain nothing from separate arenas, and each
arena keeps its own free pages.  :func:`limit_malloc_arenas` caps them at
the start of the process (``MALLOC_ARENA_MAX`` in the environment wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import platform
from collections.abc import Callable

log = logging.getLogger(__name__)


#: Arenas a Deskwatch process keeps (glibc's default is eight per core).
MALLOC_ARENAS = 2
#: glibc's ``mallopt`` parameter number for the arena limit (``M_ARENA_MAX`` in malloc.h).
_M_ARENA_MAX = -8


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's glibc, or ``None`` where the C library is another one."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    libc = _glibc()
    try:
        trim = libc.malloc_trim if libc is not None else None
    except AttributeError:  # a glibc without the symbol: nothing to call
        return None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``count``; ``True`` if the cap was set.

    Call it before threads start: a thread keeps the arena it was given.
    A ``MALLOC_ARENA_MAX`` set by the administrator is left in force.
    """
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = libc.mallopt
    except AttributeError:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))


def can_release_free_heap() -> bool:
    """Whether this platform's C library can hand free heap pages back on request."""
    return _malloc_trim() is not None


def release_free_heap() -> bool:
    """Return free heap pages of every malloc arena to the OS; ``True`` if any were released.

    Costs about a millisecond per arena with a few MiB free; safe to call
    from any thread (glibc locks each arena while it trims it).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    try:
        return bool(trim(0))
    except OSError:  # ctypes turns a fault in the call into OSError on some builds
        log.debug("malloc_trim failed", exc_info=True)
        return False

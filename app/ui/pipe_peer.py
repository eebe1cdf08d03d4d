"""Whether the process at the other end of a Windows named pipe runs as this user.

Named pipes share one namespace across the whole machine -- every session of
a terminal server -- so another local user can create
``\\\\.\\pipe\\deskwatch-<name>`` before this clerk's Deskwatch does.  A launch
that knocked on such a pipe would hand its message to that user and take the
squatter for a running Deskwatch ("already running", and no tray icon).  So
both ends ask who the other is: ``GetNamedPipeServerProcessId`` (or
``...ClientProcessId`` on the server's side), then that process's token
user (``OpenProcess`` with ``PROCESS_QUERY_LIMITED_INFORMATION``,
``OpenProcessToken``, ``GetTokenInformation(TokenUser)``), compared with
our own token's user.  Anything that cannot be asked -- another user's
process is normally not ours to open -- counts as not ours.

The Win32 functions come in one object (:class:`Win32Calls`), so the tests
run this code on Linux against functions that answer as Windows does.
"""

from __future__ import annotations

import ctypes
import logging
import struct
from typing import Any

log = logging.getLogger(__name__)

#: OpenProcess access enough for a token query (granted for processes of the same user).
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
TOKEN_QUERY = 0x0008
#: TOKEN_INFORMATION_CLASS value of TokenUser.
TOKEN_USER = 1
#: A SID has at most this many sub-authorities (winnt.h).
SID_MAX_SUB_AUTHORITIES = 15
#: More than any TOKEN_USER needs (a pointer, the attributes and a SID of 68 bytes at most).
MAX_TOKEN_USER = 256


class Win32Calls:
    """The kernel32 and advapi32 functions used here, declared with their C signatures (Windows only)."""

    def __init__(self) -> None:
        from ctypes import wintypes

        win_dll: Any = getattr(ctypes, "WinDLL")  # noqa: B009 -- not declared off Windows
        kernel32 = win_dll("kernel32", use_last_error=True)
        advapi32 = win_dll("advapi32", use_last_error=True)
        handle, dword, ulong_p = wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.ULONG)
        declared = {
            (kernel32, "GetNamedPipeServerProcessId"): ([handle, ulong_p], wintypes.BOOL),
            (kernel32, "GetNamedPipeClientProcessId"): ([handle, ulong_p], wintypes.BOOL),
            (kernel32, "OpenProcess"): ([dword, wintypes.BOOL, dword], handle),
            (kernel32, "GetCurrentProcess"): ([], handle),
            (kernel32, "CloseHandle"): ([handle], wintypes.BOOL),
            (advapi32, "OpenProcessToken"): ([handle, dword, ctypes.POINTER(handle)], wintypes.BOOL),
            (advapi32, "GetTokenInformation"): (
                [handle, ctypes.c_int, ctypes.c_void_p, dword, ctypes.POINTER(dword)],
                wintypes.BOOL,
            ),
        }
        for (dll, name), (argtypes, restype) in declared.items():
            function = getattr(dll, name)
            function.argtypes, function.restype = argtypes, restype
            setattr(self, name, function)

    @staticmethod
    def last_error() -> int:
        """``GetLastError`` of the latest call above."""
        get: Any = getattr(ctypes, "get_last_error")  # noqa: B009 -- not declared off Windows
        return int(get())


class PipePeers:
    """Answers "is the other end of this pipe handle one of this user's processes?"."""

    def __init__(self, calls: Any = None) -> None:
        self._calls = calls
        self._own: bytes | None = None

    @property
    def calls(self) -> Any:
        """The Win32 functions (loaded on first use: ``WinDLL`` exists on Windows only)."""
        if self._calls is None:
            self._calls = Win32Calls()
        return self._calls

    def server_is_ours(self, pipe: int) -> bool:
        """Whether the process serving ``pipe`` (a client's handle) runs as this user."""
        return self._is_ours(pipe, "GetNamedPipeServerProcessId", "server")

    def client_is_ours(self, pipe: int) -> bool:
        """Whether the process connected to ``pipe`` (a server's handle) runs as this user."""
        return self._is_ours(pipe, "GetNamedPipeClientProcessId", "client")

    def _is_ours(self, pipe: int, which: str, end: str) -> bool:
        try:
            pid = ctypes.c_ulong(0)
            if not getattr(self.calls, which)(pipe, ctypes.byref(pid)):
                log.warning("named pipe: cannot tell its %s process (error %d)", end, self.calls.last_error())
                return False
            theirs = self._process_user(pid.value)
            own = self.own_user()
        except (OSError, AttributeError, ValueError) as exc:  # no Win32 here, or a call refused
            log.warning("named pipe: cannot check its %s: %s", end, exc)
            return False
        if theirs is None or own is None or theirs != own:
            log.warning(
                "named pipe: its %s (process %d) runs as %s, not as this user (%s); ignoring it",
                end,
                pid.value,
                "an unknown user" if theirs is None else sid_string(theirs),
                "unknown" if own is None else sid_string(own),
            )
            return False
        return True

    def own_user(self) -> bytes | None:
        """This process's token user SID (cached)."""
        if self._own is None:
            self._own = self._token_user(self.calls.GetCurrentProcess())
        return self._own

    def _process_user(self, pid: int) -> bytes | None:
        process = self.calls.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not process:  # ERROR_ACCESS_DENIED: normally another user's process
            return None
        try:
            return self._token_user(process)
        finally:
            self.calls.CloseHandle(process)

    def _token_user(self, process: Any) -> bytes | None:
        calls = self.calls
        token = ctypes.c_void_p()
        if not calls.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
            return None
        try:
            needed = ctypes.c_ulong(0)
            # Asked with no buffer, it fails (ERROR_INSUFFICIENT_BUFFER) and says how big one must be.
            calls.GetTokenInformation(token, TOKEN_USER, None, 0, ctypes.byref(needed))
            if not 0 < needed.value <= MAX_TOKEN_USER:
                return None
            buffer = ctypes.create_string_buffer(needed.value)
            if not calls.GetTokenInformation(token, TOKEN_USER, buffer, needed.value, ctypes.byref(needed)):
                return None
            return token_user_sid(buffer)
        finally:
            calls.CloseHandle(token)


def token_user_sid(buffer: ctypes.Array[ctypes.c_char]) -> bytes | None:
    """The SID a ``TOKEN_USER`` in ``buffer`` points to (inside the buffer), or ``None`` if malformed.

    ``TOKEN_USER`` is ``{PSID Sid; DWORD Attributes;}`` followed by the SID
    itself: revision (1), sub-authority count, a 6-byte authority, then the
    sub-authorities (4 bytes each).
    """
    start, end = ctypes.addressof(buffer), ctypes.addressof(buffer) + ctypes.sizeof(buffer)
    pointer = ctypes.c_void_p.from_buffer(buffer).value
    header = 8
    if pointer is None or not start + ctypes.sizeof(ctypes.c_void_p) <= pointer <= end - header:
        return None
    revision, count = ctypes.string_at(pointer, 2)
    size = header + 4 * count
    if revision != 1 or count > SID_MAX_SUB_AUTHORITIES or pointer + size > end:
        return None
    return ctypes.string_at(pointer, size)


def sid_string(sid: bytes) -> str:
    """``S-1-5-21-…`` for a binary SID (for log lines)."""
    authority = int.from_bytes(sid[2:8], "big")
    subs = struct.unpack(f"<{sid[1]}I", sid[8 : 8 + 4 * sid[1]])
    return "-".join(["S", str(sid[0]), str(authority), *map(str, subs)])

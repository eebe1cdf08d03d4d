"""Starting the tests' real services so that a failure says why at once.

Every private server the tests run (cupsd, Prometheus, SIPp, PulseAudio, Xvfb
and trayer) goes through the same two steps:

1. its configuration is checked by the service's *own* validator before the
   service starts (``cupsd -t``, ``promtool check config``, an XML parser for
   SIPp scenarios) — packages move, and a directive one release accepts the
   next refuses (Debian 12's CUPS 2.4.2-3+deb12u10 and ``JobPrivateAccess``);
2. readiness is awaited with :func:`wait_ready`, which fails with the
   process's exit code and the tail of its logs instead of a bare timeout.

Failures raise :class:`ServiceError` (a ``RuntimeError``, so the benchmarks
and the soak, which run outside pytest, report it the same way).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: How much of a log a failure message quotes (the end is where the reason is).
TAIL_CHARS = 3000


class ServiceError(RuntimeError):
    """A test service refused its configuration or did not come up; the message says why."""


def require(binary: str, package: str) -> str:
    """Path of ``binary``, or a :class:`ServiceError` naming the Debian package to install."""
    path = shutil.which(binary)
    if path is None:
        raise ServiceError(
            f"{binary} is not installed (Debian package {package}); ./.ci/bootstrap test installs it"
        )
    return path


def tail(path: Path, limit: int = TAIL_CHARS) -> str:
    """The last ``limit`` characters of a log file ('' when it does not exist yet)."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def quote_logs(logs: Sequence[Path]) -> str:
    """The tail of each log, headed by its path, for a failure message."""
    parts = []
    for log in logs:
        text = tail(log).strip()
        parts.append(f"--- {log}:\n{text}" if text else f"--- {log}: (empty)")
    return "\n".join(parts)


def check_config(what: str, command: Sequence[str], timeout: float = 30.0) -> str:
    """Run a service's own configuration check; its output, or a :class:`ServiceError` quoting it.

    The validator's stdout and stderr both go into the message: ``cupsd -t``
    prints the verdict on one and the offending line on the other.
    """
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceError(f"{what}: could not run the config check `{' '.join(command)}`: {exc}") from exc
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    if done.returncode != 0:
        raise ServiceError(
            f"{what}: configuration refused by `{' '.join(command)}` (exit {done.returncode}):\n{output}"
        )
    return output


def check_xml(what: str, path: Path, root: str) -> ET.Element:
    """Parse an XML configuration with a real XML parser and check its root element."""
    try:
        element = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ServiceError(f"{what}: {path} is not valid XML: {exc}") from exc
    if element.tag != root:
        raise ServiceError(f"{what}: {path} has root <{element.tag}>, expected <{root}>")
    return element


def wait_ready(
    what: str,
    ready: Callable[[], object],
    *,
    process: subprocess.Popen[bytes] | None = None,
    logs: Sequence[Path] = (),
    timeout: float = 15.0,
    interval: float = 0.05,
) -> None:
    """Poll ``ready`` until it returns something true.

    If ``process`` exits first, or ``timeout`` passes, raise a
    :class:`ServiceError` with the exit code, the last error ``ready`` raised
    (an ``OSError`` or ``RuntimeError`` counts as "not yet") and the tail of
    every file in ``logs``.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if ready():
                return
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, ServiceError):
                raise
            last_error = exc
        if process is not None and process.poll() is not None:
            problem = f"exited with {process.returncode} before it was ready"
            break
        if time.monotonic() > deadline:
            problem = f"not ready after {timeout:g} s"
            break
        time.sleep(interval)
    detail = f" (last check: {last_error})" if last_error is not None else ""
    raise ServiceError(f"{what}: {problem}{detail}\n{quote_logs(logs)}".rstrip())


def stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

"""A real X server (Xvfb) with an optional system-tray host (trayer), for tests and screenshots."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import ServiceError, quote_logs, require, stop, wait_ready


@dataclass
class XServer:
    """A running X display; ``env`` is what a client needs to reach it."""

    display: str
    env: dict[str, str]


def _announced_display(pipe: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 10.0) -> str:
    """The display number Xvfb writes to its ``-displayfd`` pipe once it listens."""
    announced = b""
    deadline = time.monotonic() + timeout
    with os.fdopen(pipe, "rb", buffering=0) as stream:
        while not announced.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                raise ServiceError(f"Xvfb announced no display within {timeout:g} s\n{quote_logs([log])}")
            chunk = stream.read(64)
            if not chunk:  # Xvfb exited: its stderr says why (a bad -screen, no fonts …)
                problem = f"Xvfb exited with {server.wait()} before announcing its display"
                raise ServiceError(f"{problem}\n{quote_logs([log])}")
            announced += chunk
    return f":{int(announced)}"


@contextmanager
def xvfb(with_tray: bool = True, size: str = "1280x800x24", *more_screens: str) -> Iterator[XServer]:
    """Start Xvfb (and trayer, owning ``_NET_SYSTEM_TRAY_S0``); stop both on exit.

    ``more_screens`` adds X screens 1, 2 … of those sizes (multi-monitor tests).
    """
    require("Xvfb", "xvfb")
    runtime_dir = tempfile.mkdtemp(prefix="dw-xdg-")
    os.chmod(runtime_dir, 0o700)
    # Each server's stderr goes to a file that a start-up failure quotes.
    xvfb_log, tray_log = Path(runtime_dir) / "xvfb.log", Path(runtime_dir) / "trayer.log"
    # -displayfd lets the server pick a free display number and tell us which:
    # no race between concurrent test runs choosing the same one.
    read_fd, write_fd = os.pipe()
    with xvfb_log.open("wb") as err:
        server = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-nolisten",
                "tcp",
                *(
                    arg
                    for n, geometry in enumerate((size, *more_screens))
                    for arg in ("-screen", str(n), geometry)
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            pass_fds=(write_fd,),
        )
    os.close(write_fd)
    tray: subprocess.Popen[bytes] | None = None
    try:
        display = _announced_display(read_fd, server, xvfb_log)
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": runtime_dir}
        xdpyinfo = require("xdpyinfo", "x11-utils")
        wait_ready(
            f"Xvfb display {display}",
            lambda: subprocess.run([xdpyinfo], env=env, capture_output=True).returncode == 0,
            process=server,
            logs=[xvfb_log],
            timeout=10,
        )
        if with_tray:
            trayer = require("trayer", "trayer")
            with tray_log.open("wb") as err:
                tray = subprocess.Popen(
                    [
                        trayer, "--edge", "top", "--align", "right", "--widthtype", "request",
                        "--height", "32", "--SetDockType", "true", "--transparent", "false",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )  # fmt: skip

            def tray_owned() -> bool:
                from Xlib import X
                from Xlib.display import Display

                conn = Display(display)
                try:
                    atom = conn.intern_atom(f"_NET_SYSTEM_TRAY_S{conn.get_default_screen()}")
                    return bool(conn.get_selection_owner(atom) != X.NONE)
                finally:
                    conn.close()

            wait_ready(
                "trayer owning _NET_SYSTEM_TRAY_S0",
                tray_owned,
                process=tray,
                logs=[tray_log, xvfb_log],
                timeout=10,
            )
        yield XServer(display, env)
    finally:
        for proc in (tray, server):
            if proc is not None:
                stop(proc, timeout=5)
        shutil.rmtree(runtime_dir, ignore_errors=True)

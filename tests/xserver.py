"""A real X server (Xvfb) with an optional system-tray host (trayer), for tests and screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class XServer:
    """A running X display; ``env`` is what a client needs to reach it."""

    display: str
    env: dict[str, str]


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise RuntimeError(f"{binary} is not installed; run ./.ci/bootstrap test to install it")
    return path


def _wait(check: subprocess.Popen[bytes] | None, predicate, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if check is not None and check.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {check.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not ready after {timeout} s")


@contextmanager
def xvfb(with_tray: bool = True, size: str = "1280x800x24", *more_screens: str) -> Iterator[XServer]:
    """Start Xvfb (and trayer, owning ``_NET_SYSTEM_TRAY_S0``); stop both on exit.

    ``more_screens`` adds X screens 1, 2 … of those sizes (multi-monitor tests).
    """
    _require("Xvfb")
    runtime_dir = tempfile.mkdtemp(prefix="dw-xdg-")
    os.chmod(runtime_dir, 0o700)
    # -displayfd lets the server pick a free display number and tell us which:
    # no race between concurrent test runs choosing the same one.
    read_fd, write_fd = os.pipe()
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
        stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,),
    )
    os.close(write_fd)
    tray: subprocess.Popen[bytes] | None = None
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            announced = pipe.readline().strip()
        if not announced:
            raise RuntimeError(f"Xvfb exited with {server.wait()} before announcing its display")
        display = f":{int(announced)}"
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": runtime_dir}
        _require("xdpyinfo")
        _wait(
            server,
            lambda: subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0,
            "Xvfb display",
        )
        if with_tray:
            _require("trayer")
            tray = subprocess.Popen(
                [
                    "trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                    "--height", "32", "--SetDockType", "true", "--transparent", "false",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
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

            _wait(tray, tray_owned, "trayer owning _NET_SYSTEM_TRAY_S0")
        yield XServer(display, env)
    finally:
        for proc in (tray, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(runtime_dir, ignore_errors=True)

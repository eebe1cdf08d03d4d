"""Starting PulseAudio clients (``parec``, ``pacat``) against the private server, for call tests."""

from __future__ import annotations

import os
import subprocess

from tests.audio.conftest import PulseServer


def start_client(pulse: PulseServer, *args: str) -> subprocess.Popen[bytes]:
    """Start ``args`` as a client of ``pulse`` (stop it with ``helpers.stop_process``)."""
    return subprocess.Popen(
        list(args), env={**os.environ, **pulse.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

"""A private PulseAudio server with a null sink standing in for the headset.

Started once per session as a per-user daemon with its own HOME and
XDG_RUNTIME_DIR (so it works as root and never touches a real desktop's
server).  Whatever is played into the ``deskwatch_headset`` sink comes out of
its ``.monitor`` source, which PortAudio (ALSA's pulse plugin) records like a
microphone.  Unloading the sink module unplugs the "headset".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.audio.helpers import stop_process
from tests.services import wait_ready

SINK = "deskwatch_headset"
SOURCE = f"{SINK}.monitor"
RATE = 16000


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(
            f"{binary} is not installed (Debian: pulseaudio / pulseaudio-utils); .ci/bootstrap installs it"
        )
    return path


class PulseServer:
    """Handle on the private server: load/unload the sink, play signals into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.home = root / "home"
        self.socket = self.runtime / "pulse" / "native"
        root.mkdir(parents=True, exist_ok=True)
        client_conf = root / "client.conf"
        # Shared-memory transport off on both sides: with several clients coming
        # and going, PulseAudio 16 aborts on "non-registered memfd ID"
        # (pulseaudio issue #824), taking the test's "headset" with it.
        client_conf.write_text("autospawn = no\nenable-shm = no\nenable-memfd = no\n", "utf-8")
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_CLIENTCONFIG": str(client_conf),
        }
        self.module: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.players: list[subprocess.Popen[bytes]] = []

    def pactl(self, *args: str) -> str:
        env = {**os.environ, **self.env, "LC_ALL": "C"}
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, env=env, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> None:
        _require("pactl")
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.runtime), "LC_ALL": "C"}
        # PulseAudio has no configuration validator (-n: no default.pa); the
        # daemon's own refusal lands in its stderr and log, which wait_ready quotes.
        stderr_log = self.root / "pulse.stderr"
        with stderr_log.open("ab") as err:
            self.process = subprocess.Popen(
                [
                    _require("pulseaudio"),
                    "-n",
                    "--daemonize=no",
                    "--exit-idle-time=-1",
                    "--disallow-exit",
                    "--use-pid-file=no",
                    "--disable-shm=yes",
                    "--log-target=file:" + str(self.root / "pulse.log"),
                    "-L",
                    "module-native-protocol-unix auth-anonymous=1",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        wait_ready(
            "pulseaudio (pactl info)",
            lambda: self.socket.exists() and self.pactl("info"),
            process=self.process,
            logs=[stderr_log, self.root / "pulse.log"],
            timeout=15,
        )
        self.plug()

    def plug(self) -> None:
        """Load the null sink (the headset appears)."""
        out = self.pactl("load-module", "module-null-sink", f"sink_name={SINK}", f"rate={RATE}", "channels=1")
        self.module = int(out.strip())
        self.pactl("set-default-sink", SINK)

    def unplug(self) -> None:
        """Unload the null sink (the headset disappears)."""
        if self.module is not None:
            self.pactl("unload-module", str(self.module))
            self.module = None

    def load(self, module: str, *args: str) -> int:
        """Load a PulseAudio module; its index (for :meth:`unload_module`)."""
        return int(self.pactl("load-module", module, *args).strip())

    def unload_module(self, index: int) -> None:
        """Unload a module loaded with :meth:`load` (ignored when it is gone already)."""
        with contextlib.suppress(RuntimeError):
            self.pactl("unload-module", str(index))

    @contextlib.contextmanager
    def filters_on_headset(self) -> Iterator[str]:
        """module-remap-source, module-loopback and module-echo-cancel reading the headset.

        Yields the echo canceller's source name.  Echo cancelling needs a
        playback sink other than the headset's own (PulseAudio refuses a sink
        and its monitor), so a second null sink stands in for the speakers.
        """
        modules: list[int] = []
        try:
            modules.append(self.load("module-null-sink", "sink_name=dw_speakers"))
            modules.append(self.load("module-remap-source", f"master={SOURCE}", "source_name=dw_remapped"))
            modules.append(self.load("module-loopback", f"source={SOURCE}", "sink=dw_speakers"))
            modules.append(
                self.load(
                    "module-echo-cancel", f"source_master={SOURCE}", "sink_master=dw_speakers",
                    "source_name=dw_echo_cancelled", "sink_name=dw_echo_sink",
                )
            )  # fmt: skip
            yield "dw_echo_cancelled"
        finally:
            for index in reversed(modules):
                self.unload_module(index)
            # The echo canceller's gain control turns its master down (to 33 % here)
            # and leaves it there: put the "microphone" back for the tests that follow.
            with contextlib.suppress(RuntimeError):
                self.pactl("set-source-volume", SOURCE, "100%")

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """The headset sink (and so its monitor source) suspended: open streams get no samples."""
        self.pactl("suspend-sink", SINK, "1")
        try:
            yield
        finally:
            with contextlib.suppress(RuntimeError):
                self.pactl("suspend-sink", SINK, "0")

    def play(
        self, pcm: npt.NDArray[np.int16], rate: int = RATE, latency_ms: int = 50
    ) -> subprocess.Popen[bytes]:
        """Play int16 mono samples into the sink; returns the player (stopped at teardown).

        ``latency_ms`` is the player's buffer: 50 ms starts a signal at once (the latency
        bench times from here); a longer one keeps playing through a loaded machine's
        scheduling delays, where 50 ms ran dry and the sink played zeros (read, rightly,
        as dropouts, and in the classification tests as a spoilt window).
        """
        path = self.root / f"signal-{len(self.players)}.raw"
        path.write_bytes(pcm.astype("<i2").tobytes())
        player = subprocess.Popen(
            [
                "pacat", "--playback", f"--device={SINK}", f"--rate={rate}", "--channels=1",
                "--format=s16le", f"--latency-msec={latency_ms}", str(path),
            ],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.players.append(player)
        return player

    def stop_players(self) -> None:
        for player in self.players:
            if player.poll() is None:
                player.terminate()
                player.wait(5)
        self.players.clear()

    def stop(self) -> None:
        self.stop_players()
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        self.module = None

    def restart(self) -> None:
        """Stop the daemon and start it again (as a desktop session restarting PulseAudio does)."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    """The private PulseAudio server, with this process's clients pointed at it."""
    root = Path(tempfile.mkdtemp(prefix="deskwatch-pulse-"))
    server = PulseServer(root)
    saved = {key: os.environ.get(key) for key in (*server.env, "PULSE_SOURCE")}
    server.start()
    os.environ.update(server.env)
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with contextlib.suppress(OSError):
            shutil.copy(root / "pulse.log", Path(tempfile.gettempdir()) / "deskwatch-pulse-last.log")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pulse(pulse_server: PulseServer) -> Iterator[PulseServer]:
    """The server with the headset plugged in and nothing playing, before and after the test."""
    if pulse_server.module is None:
        pulse_server.plug()
    yield pulse_server
    pulse_server.stop_players()
    if pulse_server.module is None:
        pulse_server.plug()

"""``deskwatch check --json`` with the headset and recorder on the PulseAudio null sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from monitors.headset import HeadsetMonitor
from sensors.audio import RELEASE_BOUND_S
from tests.audio.conftest import SINK, PulseServer
from tests.audio.signals import cases

ROOT = Path(__file__).resolve().parents[2]


#: What ``deskwatch check --only headset`` may take whatever the device does (README):
#: the monitor's poll timeout, the scheduler's 0.5 s wait, closing the audio stream,
#: plus 10 s for starting Python and PortAudio on a loaded machine.
CHECK_BOUND_S = HeadsetMonitor.timeout + 0.5 + RELEASE_BOUND_S + 10.0


def check(tmp_path: Path, config: str, *only: str, command: str = "check") -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / "deskwatch.toml"
    path.write_text(config, "utf-8")
    args = [
        sys.executable,
        "-m",
        "app.cli",
        command,
        "--json",
        "--config",
        str(path),
        "--data-dir",
        str(tmp_path),
    ]
    for monitor in only:
        args += ["--only", monitor]
    done = subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=CHECK_BOUND_S + 30
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_check_lists_headset_recorder_and_telephone(pulse: PulseServer, tmp_path: Path) -> None:
    pulse.play(cases(seconds=20.0)["clean_speech"])
    config = f'recordings_dir = "{tmp_path}"\n[monitors.headset]\ndevice = "{SINK}"\ncheck_seconds = 2.0\n'
    code, payload = check(tmp_path, config, "headset", "recorder", "telephone")
    by_id = {i["id"]: i for i in payload["indicators"]}
    assert by_id["headset.connected"]["value"] is True
    assert by_id["headset.speech_level"]["level"] == "ok" and by_id["headset.speech_level"]["unit"] == "dBFS"
    assert -33 < by_id["headset.speech_level"]["value"] < -27
    assert by_id["headset.microphone"]["value"] == "ok"
    assert by_id["headset.in_call"]["level"] == "ok"
    assert by_id["recorder.folder"]["value"] == "ok"
    assert by_id["recorder.time_left"]["unit"] == "h"
    # Unconfigured: present, with the hint, "not set up" (never "ok"), and not an alert.
    assert (
        by_id["telephone.sip_reply"]["level"] == "not_set_up"
        and "pbx_host" in by_id["telephone.sip_reply"]["message"]
    )
    assert {i["device"] for i in payload["indicators"]} == {"headset", "recorder", "telephone"}
    assert code == {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[payload["level"]]


def test_check_reports_a_missing_headset_without_crashing(pulse: PulseServer, tmp_path: Path) -> None:
    code, payload = check(tmp_path, '[monitors.headset]\ndevice = "Plantronics"\n', "headset")
    by_id = {i["id"]: i for i in payload["indicators"]}
    assert by_id["headset.connected"]["level"] == "critical"
    assert "Plantronics" in by_id["headset.connected"]["message"]
    assert code == 2


def _timed_check(tmp_path: Path, device: str) -> tuple[float, dict[str, dict]]:  # type: ignore[type-arg]
    started = time.monotonic()
    _, payload = check(tmp_path, f'[monitors.headset]\ndevice = "{device}"\n', "headset")
    return time.monotonic() - started, {i["id"]: i for i in payload["indicators"]}


def _assert_no_audio_is_unknown(by_id: dict[str, dict]) -> None:  # type: ignore[type-arg]
    connected = by_id["headset.connected"]
    assert connected["level"] == "unknown" and "No audio from" in connected["message"], connected
    for name in ("microphone", "noise_floor", "speech_level", "snr", "hum", "dropouts"):
        assert by_id[f"headset.{name}"]["level"] == "unknown", by_id[f"headset.{name}"]
        assert "No audio for" in by_id[f"headset.{name}"]["message"]


def test_check_returns_when_the_input_delivers_no_samples(pulse: PulseServer, tmp_path: Path) -> None:
    with pulse.suspended():  # the source exists, a stream opens on it, and no sample ever comes
        seconds, by_id = _timed_check(tmp_path, SINK)
    assert seconds < CHECK_BOUND_S, f"check took {seconds:.1f} s"
    _assert_no_audio_is_unknown(by_id)


def test_check_returns_with_echo_cancel_on_a_stalled_headset_source(
    pulse: PulseServer, tmp_path: Path
) -> None:
    """The seat's case: module-echo-cancel on the headset source; check did not return within 40 s."""
    with pulse.filters_on_headset() as echo_cancelled, pulse.suspended():
        seconds, by_id = _timed_check(tmp_path, echo_cancelled)
    assert seconds < CHECK_BOUND_S, f"check took {seconds:.1f} s"
    _assert_no_audio_is_unknown(by_id)
    assert by_id["headset.in_call"]["message"] == "No call", "the filters are no call"


def test_selftest_fails_a_headset_that_delivers_nothing(pulse: PulseServer, tmp_path: Path) -> None:
    with pulse.suspended():
        started = time.monotonic()
        code, payload = check(
            tmp_path, f'[monitors.headset]\ndevice = "{SINK}"\n', "headset", command="selftest"
        )
        seconds = time.monotonic() - started
    assert seconds < CHECK_BOUND_S, f"selftest took {seconds:.1f} s"
    (headset,) = [c for c in payload["checks"] if c["monitor"] == "headset"]
    assert headset["status"] == "fail" and code == 1
    assert "No audio" in headset["results"][0]["message"]["en"]


def test_a_seat_without_any_audio_input_is_not_set_up_not_ok(tmp_path: Path) -> None:
    """No sound server and no input device: nothing to observe, so no "OK" and no "no call"."""
    from tests.cli import run_deskwatch

    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-pulse", "PULSE_RUNTIME_PATH": str(tmp_path / "none")}
    done = run_deskwatch(
        "check", "--json", "--data-dir", str(tmp_path), "--only", "headset", env=env, timeout=CHECK_BOUND_S
    )
    payload = json.loads(done.stdout)
    levels = {i["id"]: i["level"] for i in payload["indicators"]}
    assert levels["headset.connected"] == "not_set_up", payload
    assert levels["headset.in_call"] == "not_set_up", payload
    assert "ok" not in levels.values()
    assert done.returncode == 0

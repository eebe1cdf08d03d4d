"""``deskwatch check --json`` with the headset and recorder on the PulseAudio null sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.audio.conftest import SINK, PulseServer
from tests.audio.signals import cases

ROOT = Path(__file__).resolve().parents[2]


def check(tmp_path: Path, config: str, *only: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / "deskwatch.toml"
    path.write_text(config, "utf-8")
    args = [
        sys.executable,
        "-m",
        "app.cli",
        "check",
        "--json",
        "--config",
        str(path),
        "--data-dir",
        str(tmp_path),
    ]
    for monitor in only:
        args += ["--only", monitor]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=60)
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

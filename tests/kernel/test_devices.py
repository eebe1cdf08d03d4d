"""Shared device groups are declared in the kernel, whichever monitor is imported first."""

from __future__ import annotations

import subprocess
import sys


def test_headset_group_is_the_same_object_for_both_monitors_in_either_order() -> None:
    for first, second in (("hearing", "headset"), ("headset", "hearing")):
        code = (
            f"import monitors.{first} as a, monitors.{second} as b\n"
            "from app.kernel import devices\n"
            "from app.kernel.model import Device\n"
            "assert a.HEADSET is b.HEADSET is devices.HEADSET is Device.named('headset')\n"
            "import monitors.hearing as h\n"
            "assert {i.device for i in h.HearingMonitor.indicators} == {devices.HEADSET}\n"
            "print(devices.HEADSET.order, devices.HEADSET.label.zh)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.stdout.strip() == "20 耳机", done.stderr

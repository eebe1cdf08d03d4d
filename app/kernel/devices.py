"""Device groups that more than one monitor reports on, declared once where all of them can import them.

A device group (:class:`~app.kernel.model.Device`) is declared by the module
that watches it.  When two monitors put readings on one card -- the headset's
microphone (``monitors.headset``) and the sound dose it plays into the clerk's
ears (``monitors.hearing``), both under 耳机 -- neither may import the other
(monitors are independent of each other), and neither may rely on the other
having been imported first: the group is declared here, in the kernel, and
both import it.
"""

from __future__ import annotations

from app.kernel.i18n import Text
from app.kernel.model import DemoSignal, Device, Direction

#: 耳机: the headset's microphone (``monitors.headset``) and what it plays (``monitors.hearing``).
HEADSET = Device(
    "headset",
    Text("Headset", "耳机"),
    20,
    advice=Text(
        "Check that the headset is plugged in and not muted; try the other socket or a spare headset",
        "检查耳机是否插好、是否静音;换一个插孔或备用耳机试试",
    ),
    demo=(
        DemoSignal("noise", Text("Noise floor", "底噪"), "dBFS", Direction.HIGH_IS_BAD, -55, -50, -68),
        DemoSignal("speech", Text("Speech level", "语音电平"), "dBFS", Direction.LOW_IS_BAD, -40, -50, -28),
    ),
    demo_offset=1,
)

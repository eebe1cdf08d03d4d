"""Screenshot of the start-of-shift checklist dialog with a failed recorder check."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtWidgets import QApplication

from app.core.selftest import DeviceCheck, SelfTestResult
from app.kernel import i18n
from app.kernel.i18n import Text
from app.kernel.model import Device
from app.kernel.monitor import CheckResult
from app.ui.selftest import SelfTestDialog
from tests import devices

#: Monday 23 November 2026, 07:55 local time.
START = 1_795_420_500.0


def _check(monitor: str, device: Device, title: Text, *results: CheckResult) -> DeviceCheck:
    return DeviceCheck(monitor, device, title, results)


def scene() -> SelfTestResult:
    """A realistic morning: everything works except the recorder, and the room sensor is not set up."""
    checks = (
        _check("telephone", devices.TELEPHONE, Text("Telephone", "电话系统"),
               CheckResult(Text("Line to the PBX", "到交换机的线路"), "pass",
                           Text("Answered in 12 ms, MOS 4.3", "12 毫秒应答,MOS 4.3"))),
        _check("headset", devices.HEADSET, Text("Headset", "耳机"),
               CheckResult(Text("Headset", "耳机"), "pass",
                           Text("Microphone level −32 dBFS", "麦克风电平 −32 dBFS"))),
        _check("computer", Device.COMPUTER, Text("Computer", "电脑系统"),
               CheckResult(Text("Computer", "电脑系统"), "pass",
                           Text("All readings normal", "各项读数正常"))),
        _check("printer", devices.PRINTER, Text("Printer", "打印机"),
               CheckResult(Text("Printer HP-3F", "打印机 HP-3F"), "pass", Text("Ready", "就绪")),
               CheckResult(Text("Test page on HP-3F", "HP-3F 测试页"), "pass",
                           Text("Test page printed in 6 s", "测试页 6 秒内打印完成"))),
        _check("recorder", devices.RECORDER, Text("Recorder", "录音设备"),
               CheckResult(Text("Record and play back", "录音回放"), "fail",
                           Text("The test recording is silent (−91 dBFS)", "测试录音无声(−91 dBFS)"),
                           devices.RECORDER.advice)),
        _check("environment", devices.ENVIRONMENT, Text("Environment", "环境监控"),
               CheckResult(Text("Environment", "环境监控"), "skipped",
                           Text("No environmental sensor is configured", "尚未配置环境传感器"),
                           Text("Set the device up in Settings, then run the check again",
                                "请在设置中配置该设备,然后重新检查"))),
    )  # fmt: skip
    return SelfTestResult(START, START + 9, checks, "王芳")


def take(outdir: Path, lang: str) -> list[Path]:
    """Save ``selftest_<lang>.png``: the checklist after a check."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    i18n.set_language(lang)
    try:
        from app.ui.translations import Translations  # the UI's catalogue, when present

        Translations().install(lang)
    except ImportError:
        pass
    outdir.mkdir(parents=True, exist_ok=True)
    stand_in = SimpleNamespace(runtime=None)
    dialog = SelfTestDialog(stand_in)
    dialog.resize(680, 620)
    dialog.show()
    dialog._show(scene())
    for _ in range(5):
        app.processEvents()
    path = outdir / f"selftest_{lang}.png"
    dialog.grab().save(str(path))
    dialog.close()
    dialog.deleteLater()
    return [path]

"""Qt stays at the edge: the core, monitors and sensors import no PySide6."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_FREE = [ROOT / "app" / "core", ROOT / "monitors", ROOT / "sensors"]
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "app.ui")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_qt_imports_in_qt_free_packages() -> None:
    offenders = []
    files = [f for folder in QT_FREE for f in folder.rglob("*.py")]
    assert len(files) > 5, "the Qt-free packages were not found"
    for file in files:
        for name in _imports(file):
            if name.startswith(FORBIDDEN):
                offenders.append(f"{file.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_importing_everything_qt_free_loads_no_qt() -> None:
    """Catches indirect imports too: load every module, then look at sys.modules."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import app.core, monitors, sensors\n"
        "for pkg in (app.core, monitors, sensors):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "monitors.discover()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6')]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""

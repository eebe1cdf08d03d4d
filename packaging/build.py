"""Build Deskwatch's wheel and its Debian package (``./.ci/bootstrap package``).

The ``.deb`` carries Deskwatch in its own virtual environment at
``/opt/deskwatch/venv``: the generic top-level packages ``app``, ``monitors``,
``sensors`` and ``resources`` stay out of the system Python.  The venv is made
by Debian's own ``/usr/bin/python3.X`` (the package depends on it) at its final
path inside a staging root; the few files that name the staging path (script
shebangs, ``activate``, ``pyvenv.cfg``) are rewritten, and the build fails if
the staging path is left anywhere in the tree.

Run with the project's venv interpreter: its pip installs into the staging
venv (``pip --python``), so the package venv itself carries no pip.  Third-party
versions are pinned in ``packaging/constraints.txt``; every file's time is
``SOURCE_DATE_EPOCH`` (the last commit's time), so two builds of one commit
give the same files.  No bytecode is shipped: ``postinst`` compiles it and
``prerm`` removes it, as Debian's own Python packages do.
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "packaging"
DEBIAN_FILES = HERE / "debian"
PACKAGE = "deskwatch"
PREFIX = Path("/opt/deskwatch")
VENV = PREFIX / "venv"
ARCH = "amd64"
#: Debian's interpreter, never a pyenv/pip-installed one: the venv links to it.
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
ICON_SIZES = (16, 32, 48, 64, 128, 256)

#: The PySide6 modules Deskwatch imports (``grep -r "from PySide6" app``) and the
#: Qt plugins it can load on an X11 or Wayland desktop, or offscreen in tests.  The
#: rest of the PySide6 wheel (QML and Quick, Designer, the developer tools, SQL
#: drivers, EGLFS/VNC platforms, the Wayland compositor …) is left out of the
#: package: half its size, and the build checks the kept modules still import.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtDBus", "QtSvg")
#: plugin folder → plugins kept (``None``: the whole folder).
QT_PLUGINS: dict[str, tuple[str, ...] | None] = {
    "platforms": ("libqxcb.so", "libqwayland.so", "libqoffscreen.so", "libqminimal.so"),
    "xcbglintegrations": None,
    "wayland-decoration-client": None,
    "wayland-graphics-integration-client": None,
    "wayland-shell-integration": None,
    "platformthemes": ("libqxdgdesktopportal.so",),  # not GTK's: it would need GTK
    "platforminputcontexts": (
        "libcomposeplatforminputcontextplugin.so",
        "libibusplatforminputcontextplugin.so",
    ),
    "imageformats": ("libqsvg.so", "libqico.so", "libqgif.so"),
    "iconengines": None,
    "tls": None,
    "networkinformation": None,
}
#: Qt's own catalogues for the standard dialogs (app/ui/translations.py); English needs none.
QT_TRANSLATIONS = re.compile(r"^qt(base)?_zh_CN\.qm$")
#: What the check after pruning imports with the package's interpreter.
SMOKE_TEST = (
    "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
    "from PySide6.QtWidgets import QApplication\n"
    "import PySide6.QtNetwork, PySide6.QtDBus, PySide6.QtSvg\n"
    "import numpy, pyaudio, psutil, serial, prometheus_client\n"
    "import app.cli, app.ui.main\n"
    "qt = QApplication([])\n"
    "from app.ui.theme import level_icon\n"
    "assert not level_icon(None).isNull()\n"
)


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"package: [{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a command, fail loudly with its output, return its stdout."""
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    if result.returncode != 0:
        # Long tools (dpkg-shlibdeps) explain themselves in their last lines.
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        sys.exit(f"package: {' '.join(map(str, args[:3]))} … failed ({result.returncode}):\n{tail}")
    return result.stdout


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version: str = tomllib.load(handle)["project"]["version"]
    init = (ROOT / "app" / "__init__.py").read_text("utf-8")
    if f'__version__ = "{version}"' not in init:
        sys.exit(f"package: app/__init__.py's __version__ differs from pyproject.toml's {version}")
    top = (DEBIAN_FILES / "changelog").read_text("utf-8").split("\n", 1)[0]
    if not top.startswith(f"{PACKAGE} ({version}) "):
        sys.exit(f"package: packaging/debian/changelog's newest entry is not {version}: {top!r}")
    return version


def source_date_epoch() -> int:
    """``$SOURCE_DATE_EPOCH``, else the last commit's time (reproducible-builds.org)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    out = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else 0


def build_wheel(dist: Path, env: dict[str, str]) -> Path:
    log("building the wheel")
    for old in dist.glob(f"{PACKAGE}-*.whl"):
        old.unlink()
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT, env=env)
    (wheel,) = dist.glob(f"{PACKAGE}-*.whl")
    return wheel


def build_venv(stage: Path, wheel: Path, env: dict[str, str]) -> Path:
    """The package's venv at its final path under ``stage``; returns its site-packages.

    pip runs with its own cache (``PIP_CACHE_DIR``, set by :func:`main`): PyAudio
    comes as source, and a wheel the user's cache holds may have been built
    by another interpreter (a pyenv one links its own library path into them).
    """
    venv = stage / VENV.relative_to("/")
    log(f"making the venv with {SYSTEM_PYTHON}")
    run(SYSTEM_PYTHON, "-m", "venv", "--without-pip", venv, env=env)
    run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
        "--no-compile", "--no-warn-script-location", "--constraint", HERE / "constraints.txt", wheel, env=env,
    )  # fmt: skip
    # direct_url.json names the wheel's path on the build machine: not the seat's business.
    for direct in venv.glob("lib/python3*/site-packages/*.dist-info/direct_url.json"):
        direct.unlink()
    (site,) = venv.glob("lib/python3*/site-packages")
    check_pinned(site)
    prune(venv, site)
    strip(site)
    unstage_paths(venv, stage)
    fix_records(site)
    smoke_test(venv, env)
    return site


def normalised(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_pinned(site: Path) -> None:
    """Every distribution in the venv is pinned in constraints.txt (a new dependency must be added)."""
    pins = set()
    for line in (HERE / "constraints.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            pins.add(normalised(line.split("==", 1)[0]))
    installed = {normalised(name) for name, _, _ in distributions(site)} - {PACKAGE}
    if installed - pins:
        sys.exit(f"package: pin {', '.join(sorted(installed - pins))} in packaging/constraints.txt")


def unstage_paths(venv: Path, stage: Path) -> None:
    """Rewrite the staging path to the installed path in the venv's text files."""
    staged = str(stage / VENV.relative_to("/"))
    for path in [venv / "pyvenv.cfg", *sorted((venv / "bin").iterdir())]:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if staged.encode() in data:
            path.write_bytes(data.replace(staged.encode(), str(VENV).encode()))
    # Anything else naming the staging path would break on the seat: refuse to package it.
    found = subprocess.run(["grep", "-rlF", "--", str(stage), str(stage)], capture_output=True, text=True)
    if found.returncode != 1:
        sys.exit(f"package: the staging path is still named in:\n{found.stdout}{found.stderr}")


def is_shared_object(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and re.search(r"\.so(\.\d+)*$", path.name) is not None


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def prune(venv: Path, site: Path) -> None:
    """Leave out what Deskwatch never loads: most of Qt, test suites, other tools' scripts."""
    pyside = site / "PySide6"
    for entry in sorted(pyside.iterdir()):
        module = entry.name.split(".")[0]
        unused_module = entry.name.endswith(".abi3.so") and module not in QT_MODULES
        tool = entry.is_file() and "." not in entry.name and os.access(entry, os.X_OK)  # designer, lupdate …
        if (
            unused_module
            or tool
            or entry.suffix == ".pyi"
            or entry.name.startswith("libpyside6qml")
            or entry.name in ("include", "typesystems", "glue", "doc", "scripts")
        ):
            remove(entry)
    qt = pyside / "Qt"
    for name in ("libexec", "metatypes", "qml"):
        if (qt / name).exists():
            remove(qt / name)
    for catalogue in sorted((qt / "translations").iterdir()):
        if not QT_TRANSLATIONS.match(catalogue.name):
            remove(catalogue)
    for folder in sorted((qt / "plugins").iterdir()):
        keep = QT_PLUGINS.get(folder.name, ())
        if keep == ():
            remove(folder)
        elif keep is not None:
            for plugin in sorted(folder.iterdir()):
                if plugin.name not in keep:
                    remove(plugin)
    # Qt's own libraries: only those something kept links to.
    libs = qt / "lib"
    needed = loaded_closure(
        [p for p in sorted(site.rglob("*")) if is_shared_object(p) and p.parent != libs], site
    )
    for lib in sorted(libs.iterdir()):
        if lib not in needed and (is_shared_object(lib) or lib.is_dir()):
            remove(lib)
    for tests in sorted(site.glob("*/**/tests"), reverse=True):
        if tests.is_dir() and tests.parent != site:
            remove(tests)
    for cache in sorted(venv.rglob("__pycache__"), reverse=True):
        remove(cache)
    # Only Deskwatch's own command: the dependencies' scripts (pyside6-*, f2py …)
    # would run tools left out above, and IT has no use for them on a seat.
    for script in sorted((venv / "bin").iterdir()):
        if not (script.name == PACKAGE or script.name.startswith(("python", "activate", "Activate"))):
            remove(script)


def built_here(site: Path) -> list[Path]:
    """Shared objects of the distributions pip compiled from source here (``linux_*`` wheels).

    The ``manylinux`` wheels' objects are left as they come: auditwheel has
    rewritten them with patchelf, and stripping such a file breaks it (numpy's
    OpenBLAS: "ELF load command address/offset not page-aligned").
    """
    found = []
    for wheel in sorted(site.glob("*.dist-info/WHEEL")):
        tags = re.findall(r"^Tag: (\S+)$", wheel.read_text("utf-8"), re.MULTILINE)
        if any(re.search(r"-linux_[^-]+$", tag) for tag in tags):
            record = (wheel.parent / "RECORD").read_text("utf-8")
            for line in record.splitlines():
                path = site / line.split(",", 1)[0]
                if is_shared_object(path):
                    found.append(path)
    return found


def strip(site: Path) -> None:
    """Strip debugging symbols from what was compiled here, as Debian's dh_strip does."""
    objects = built_here(site)
    if objects:
        run("strip", "--remove-section=.comment", "--remove-section=.note", "--strip-unneeded", *objects)


def fix_records(site: Path) -> None:
    """Make each ``RECORD`` describe the files as shipped: hashes of rewritten scripts, no pruned files.

    pip hashed the scripts while they named the staging path; a RECORD that
    matches the files keeps ``pip list``/``pip show`` and any later check honest,
    and keeps the staging folder's name out of the package's bytes.
    """
    for record in sorted(site.glob("*.dist-info/RECORD")):
        rows = []
        for row in csv.reader(record.read_text("utf-8").splitlines()):
            path = (site / row[0]).resolve() if row else None
            if path is None or path == record.resolve():
                rows.append(row)
            elif path.is_file():
                digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=")
                rows.append([row[0], f"sha256={digest.decode()}", str(path.stat().st_size)])
        with record.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)


def smoke_test(venv: Path, env: dict[str, str]) -> None:
    """The pruned, stripped venv still imports Deskwatch's UI and draws an icon (offscreen)."""
    run(venv / "bin" / "python", "-I", "-B", "-c", SMOKE_TEST, env=env)


def elf_needed(path: Path) -> list[str]:
    """The ``DT_NEEDED`` sonames of an ELF file."""
    out = run("objdump", "-p", path)
    return re.findall(r"^\s+NEEDED\s+(\S+)$", out, re.MULTILINE)


def loaded_closure(roots: list[Path], site: Path) -> set[Path]:
    """``roots`` and every library of the venv they need, directly or not (``DT_NEEDED``)."""
    bundled: dict[str, Path] = {}
    for so in sorted(site.rglob("*.so*")):
        if is_shared_object(so):
            bundled.setdefault(so.name, so)
    todo, seen = list(roots), set[Path]()
    while todo:
        so = todo.pop()
        if so in seen:
            continue
        seen.add(so)
        todo.extend(bundled[name] for name in elf_needed(so) if name in bundled)
    return seen


def shlib_depends(site: Path, stage: Path) -> str:
    """Debian dependencies of the shared objects the (pruned) venv ships."""
    seen = {p for p in sorted(site.rglob("*")) if is_shared_object(p)}
    # dpkg-shlibdeps reads debian/control; a minimal one in a scratch folder will do.
    work = stage.parent / "shlibdeps"
    (work / "debian").mkdir(parents=True, exist_ok=True)
    (work / "debian" / "control").write_text(
        f"Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: {ARCH}\n"
    )
    libdirs = sorted({str(p.parent) for p in seen})
    out = run(
        "dpkg-shlibdeps", "-O", "--ignore-missing-info", "--warnings=0",
        *(f"-l{d}" for d in libdirs), *(f"-e{p}" for p in sorted(seen)), cwd=work,
    )  # fmt: skip
    match = re.search(r"^shlibs:Depends=(.*)$", out, re.MULTILINE)
    return match.group(1) if match else ""


def install_file(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def gzip_file(source: Path, target: Path) -> None:
    """``gzip -9n``: no name and no time in the header, so the bytes depend on the content only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(source.read_bytes())
    target.chmod(0o644)


def desktop_files(stage: Path) -> None:
    """The menu entry, and the same entry in the system-wide autostart folder."""
    entry = ROOT / "resources" / "deskwatch.desktop"
    install_file(entry, stage / "usr/share/applications/deskwatch.desktop")
    text = entry.read_text("utf-8")
    # Same file name as the user's own autostart entry: the user's copy (or a
    # Hidden=true one) takes precedence over it (XDG autostart spec).
    autostart = text.rstrip("\n") + "\nX-GNOME-Autostart-enabled=true\n"
    target = stage / "etc/xdg/autostart/deskwatch.desktop"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(autostart, "utf-8")
    target.chmod(0o644)


def icons(stage: Path) -> None:
    theme = stage / "usr/share/icons/hicolor"
    for size in ICON_SIZES:
        install_file(
            ROOT / f"resources/icons/deskwatch-{size}.png", theme / f"{size}x{size}/apps/deskwatch.png"
        )
    install_file(ROOT / "resources/icons/deskwatch.svg", theme / "scalable/apps/deskwatch.svg")


def distributions(site: Path) -> list[tuple[str, str, str]]:
    """(name, version, licence) of every distribution in the venv, from its metadata."""
    found = []
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        headers = HeaderParser().parsestr(meta.read_text("utf-8", errors="replace"), headersonly=True)
        licence = headers.get("License-Expression") or ""
        if not licence:
            short = (headers.get("License") or "").strip().splitlines()
            licence = short[0] if short and len(short[0]) < 60 else ""
        if not licence:
            classifiers = [
                c.split(" :: ")[-1] for c in headers.get_all("Classifier") or [] if c.startswith("License ::")
            ]
            licence = ", ".join(classifiers) or "see its dist-info folder"
        found.append((headers["Name"], headers["Version"], licence))
    return found


def copyright_file(stage: Path, site: Path) -> None:
    """DEP-5 copyright: Deskwatch's own licence, then what the venv bundles and under which licence."""
    bundled = [d for d in distributions(site) if d[0].lower() != PACKAGE]
    listing = "\n".join(f" {name} {version}: {licence}" for name, version, licence in bundled)
    text = (DEBIAN_FILES / "copyright").read_text("utf-8").replace("@BUNDLED@", listing)
    target = stage / f"usr/share/doc/{PACKAGE}/copyright"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "utf-8")
    target.chmod(0o644)


def docs(stage: Path) -> None:
    doc = stage / f"usr/share/doc/{PACKAGE}"
    gzip_file(DEBIAN_FILES / "changelog", doc / "changelog.gz")
    gzip_file(DEBIAN_FILES / "deskwatch.1", stage / "usr/share/man/man1/deskwatch.1.gz")
    install_file(DEBIAN_FILES / "deskwatch.wrapper", stage / "usr/bin/deskwatch", 0o755)
    install_file(DEBIAN_FILES / "lintian-overrides", stage / f"usr/share/lintian/overrides/{PACKAGE}")


def walk(stage: Path) -> Iterable[Path]:
    for base, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(files):
            yield Path(base) / name


def control_files(stage: Path, version: str, depends: str) -> None:
    control = stage / "DEBIAN"
    control.mkdir()
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python_version = system_python_version()
    size_kib = sum(p.lstat().st_size for p in walk(stage) if "DEBIAN" not in p.parts) // 1024
    fields = {
        "Package": PACKAGE,
        "Version": version,
        "Architecture": ARCH,
        "Maintainer": "Deskwatch developers <deskwatch@users.noreply.r-seed-49b7d000.example>",
        "Installed-Size": str(size_kib),
        "Depends": ", ".join(x for x in (f"{python} (>= {python_version})", depends) if x),
        # libXss is loaded through ctypes (X11 idle time, sensors/idle.py): dpkg-shlibdeps cannot see it.
        "Recommends": "fonts-noto-cjk, hicolor-icon-theme, libxss1",
        "Suggests": "cups-client, pulseaudio",
        "Section": "utils",
        "Priority": "optional",
    }
    description = (DEBIAN_FILES / "description").read_text("utf-8").rstrip("\n")
    body = "".join(f"{key}: {value}\n" for key, value in fields.items()) + f"Description: {description}\n"
    (control / "control").write_text(body, "utf-8")
    conffiles = sorted("/" + str(p.relative_to(stage)) for p in walk(stage / "etc"))
    (control / "conffiles").write_text("".join(f"{c}\n" for c in conffiles))
    for script in ("postinst", "prerm"):
        install_file(DEBIAN_FILES / script, control / script, 0o755)
    sums = []
    for path in walk(stage):
        rel = path.relative_to(stage)
        if rel.parts[0] != "DEBIAN" and not path.is_symlink():
            sums.append(f"{hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()}  {rel}\n")
    (control / "md5sums").write_text("".join(sums))
    for path in control.iterdir():
        if path.name in ("control", "conffiles", "md5sums"):
            path.chmod(0o644)


def system_python_version() -> str:
    return run(SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())").strip()


def normalise(stage: Path, epoch: int) -> None:
    """Modes 0755/0644 and every time set to ``SOURCE_DATE_EPOCH``."""
    for base, dirs, files in os.walk(stage):
        for name in dirs:
            os.chmod(Path(base) / name, 0o755)
        for name in files:
            path = Path(base) / name
            if not path.is_symlink():
                program = os.stat(path).st_mode & 0o111 and not is_shared_object(path)
                os.chmod(path, 0o755 if program else 0o644)
    for base, dirs, files in os.walk(stage):
        for name in [*dirs, *files]:
            os.utime(Path(base) / name, (epoch, epoch), follow_symlinks=False)
    os.utime(stage, (epoch, epoch))


def build_deb(dist: Path, build: Path, wheel: Path, version: str, epoch: int, env: dict[str, str]) -> Path:
    if not SYSTEM_PYTHON.is_file():
        sys.exit(f"package: {SYSTEM_PYTHON}, Debian's interpreter of this Python version, is missing")
    work = build / "deb"
    shutil.rmtree(work, ignore_errors=True)
    stage = work / "root"
    stage.mkdir(parents=True)
    site = build_venv(stage, wheel, env)
    log("collecting shared-library dependencies")
    depends = shlib_depends(site, stage)
    desktop_files(stage)
    icons(stage)
    copyright_file(stage, site)
    docs(stage)
    normalise(stage, epoch)
    control_files(stage, version, depends)
    normalise(stage / "DEBIAN", epoch)
    deb = dist / f"{PACKAGE}_{version}_{ARCH}.deb"
    log(f"writing {deb.name}")
    # gzip: lintian accepts only gzip or xz members, and xz takes minutes on a 150 MB tree.
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", stage, deb, env=env)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument(
        "--build-dir", type=Path, default=ROOT / "build", help="scratch folder (default build/)"
    )
    parser.add_argument(
        "--pip-cache",
        type=Path,
        default=ROOT / "build" / "pip-cache",
        help="pip's cache (default build/pip-cache)",
    )
    parser.add_argument("--wheel-only", action="store_true", help="build the wheel, not the .deb")
    args = parser.parse_args(argv)
    dist: Path = args.dist.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    version = project_version()
    epoch = source_date_epoch()
    env = dict(
        os.environ,
        SOURCE_DATE_EPOCH=str(epoch),
        PYTHONDONTWRITEBYTECODE="1",
        PIP_CACHE_DIR=str(args.pip_cache.resolve()),
        # No debugging information in what pip compiles (PyAudio): it names
        # pip's random build folder, and the linker's build ID hashes it, so the
        # module would differ from one build to the next. It is stripped anyway.
        CFLAGS=" ".join(x for x in (os.environ.get("CFLAGS", ""), "-g0") if x),
    )
    wheel = build_wheel(dist, env)
    log(f"wrote {wheel}")
    if not args.wheel_only:
        log(f"wrote {build_deb(dist, args.build_dir.resolve(), wheel, version, epoch, env)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where Deskwatch keeps its files: shipped resources, site and user config, user data."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

APP_NAME = "deskwatch"
CONFIG_FILE_NAME = "deskwatch.toml"
HISTORY_FILE_NAME = "history.sqlite3"


def resources_dir() -> Path:
    """The shipped ``resources/`` folder (next to the packages, in a checkout or a wheel)."""
    return Path(__file__).resolve().parents[2] / "resources"


def user_config_path() -> Path:
    """The user's TOML file (``$DESKWATCH_CONFIG`` overrides the platform default)."""
    override = os.environ.get("DESKWATCH_CONFIG")
    if override:
        return Path(override)
    return _user_dir("config") / CONFIG_FILE_NAME


#: The XDG Base Directory default when ``$XDG_CONFIG_DIRS`` is unset or empty.
XDG_CONFIG_DIRS_DEFAULT = "/etc/xdg"


def site_config_locations(
    platform: str = sys.platform, environ: Mapping[str, str] = os.environ
) -> list[PurePath]:
    """Where IT may put the site file, most important first (``platform``/``environ`` for tests).

    Windows: ``%PROGRAMDATA%\\deskwatch\\deskwatch.toml``.  macOS:
    ``/Library/Application Support/deskwatch/deskwatch.toml``.  Elsewhere
    (Linux, BSD): ``<dir>/deskwatch/deskwatch.toml`` for each ``<dir>`` of the
    colon-separated ``$XDG_CONFIG_DIRS`` (default ``/etc/xdg``), in its order;
    relative entries are ignored, as the XDG Base Directory spec says.  The
    caller reads the first one that exists (see :func:`app.core.config.load_config`).
    """
    if platform == "win32":
        base = environ.get("PROGRAMDATA") or environ.get("ALLUSERSPROFILE") or "C:\\ProgramData"
        return [PureWindowsPath(base, APP_NAME, CONFIG_FILE_NAME)]
    if platform == "darwin":
        return [PurePosixPath("/Library/Application Support", APP_NAME, CONFIG_FILE_NAME)]
    return [folder / APP_NAME / CONFIG_FILE_NAME for folder in xdg_config_dirs(environ)]


def xdg_config_dirs(environ: Mapping[str, str] = os.environ) -> list[PurePosixPath]:
    """``$XDG_CONFIG_DIRS`` in its order (default ``/etc/xdg``), relative and repeated entries dropped."""
    dirs: list[PurePosixPath] = []
    for entry in (environ.get("XDG_CONFIG_DIRS") or "").split(":"):
        folder = PurePosixPath(entry)
        if entry and folder.is_absolute() and folder not in dirs:
            dirs.append(folder)
    return dirs or [PurePosixPath(XDG_CONFIG_DIRS_DEFAULT)]


def site_config_paths() -> list[Path]:
    """:func:`site_config_locations` for this computer, as paths that can be opened."""
    return [Path(location) for location in site_config_locations()]


def user_data_dir() -> Path:
    """Folder for the history database and state files (``$DESKWATCH_DATA_DIR`` overrides)."""
    override = os.environ.get("DESKWATCH_DATA_DIR")
    if override:
        return Path(override)
    return _user_dir("data")


#: Where the XDG Base Directory spec puts a user's folders when its variable is unset.
XDG_USER_DEFAULTS = {"config": ("XDG_CONFIG_HOME", ".config"), "data": ("XDG_DATA_HOME", ".local/share")}


def _user_dir(kind: str, platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> Path:
    """The user's ``kind`` (``config``/``data``) folder: platformdirs' answer, without it on Linux.

    On Linux and the BSDs the answer is the XDG Base Directory spec's, which
    needs no library: importing platformdirs costs the tray app about half a
    MiB (its modules, ``urllib.parse``, ``ipaddress``) for two paths.  Windows
    and macOS ask platformdirs, loaded then.
    """
    if platform in ("win32", "darwin"):
        import platformdirs

        found = platformdirs.user_config_dir if kind == "config" else platformdirs.user_data_dir
        return Path(found(APP_NAME, appauthor=False))
    variable, default = XDG_USER_DEFAULTS[kind]
    base = environ.get(variable, "")
    if not os.path.isabs(base):  # unset, empty or relative: the spec says to ignore it
        base = os.path.join(_home(environ), default)
    return Path(base, APP_NAME)


def _home(environ: Mapping[str, str]) -> str:
    """``$HOME`` when it is an absolute path, else the account's home folder (as platformdirs does)."""
    home = environ.get("HOME", "")
    if os.path.isabs(home):
        return home
    import pwd

    return pwd.getpwuid(os.getuid()).pw_dir


#: Deskwatch's own folders and files hold call and alert history: private to the clerk.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make sure folder ``path`` exists; when this call creates it, it is 0700.

    ``mkdir``'s mode is filtered by the umask, so the mode is set explicitly.
    An existing folder is never changed here: it may be a folder the user
    chose or shares (``--data-dir /tmp``); :func:`secure_data_dir` tightens
    existing folders that are recognisably Deskwatch's.
    """
    if path.is_dir():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return path
    tighten(path)
    return path


def tighten(path: Path) -> None:
    """Give one of our own files 0600 or folders 0700, never through a symlink.

    Missing paths, links, other users' files and filesystems that refuse
    ``chmod`` (a FAT share) are skipped: a failed tightening must not stop
    Deskwatch.  The file is changed by path, never opened: opening and
    closing a database file (or its -wal/-shm) would drop the POSIX locks
    SQLite holds on it in this process, and another process would then
    reinitialise the shared memory under our feet.
    """
    if os.name == "nt":  # the profile folder's ACL keeps it private there
        return
    try:
        info = os.lstat(path)
        if info.st_uid != os.geteuid():
            return
        if stat.S_ISDIR(info.st_mode):
            wanted = PRIVATE_DIR_MODE
        elif stat.S_ISREG(info.st_mode):
            wanted = PRIVATE_FILE_MODE
        else:
            return
        if stat.S_IMODE(info.st_mode) & ~wanted:
            os.chmod(path, stat.S_IMODE(info.st_mode) & wanted)
    except OSError:
        pass


def write_private(path: Path, data: str, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Write a text file readable by its owner only, atomically (a temp file, then rename).

    The temporary file is created with ``O_EXCL|O_NOFOLLOW`` under an
    unpredictable name (``tempfile``), so a link planted in the folder is
    never written through, and the mode is 0600 whatever the umask.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: Deskwatch's own folders inside the data dir, made private with it.
OWN_SUBDIRS = ("reports",)
#: Names of Deskwatch's own files in the data dir (the history with its -wal/-shm
#: and damaged copies, state files): only these are tightened, never the user's files.
OWN_FILE_PREFIXES = ("history.", "heartbeat")


def secure_data_dir(data_dir: Path) -> Path:
    """Create the data folder 0700 and tighten what an older version left too open.

    An existing folder is tightened only when it is recognisably ours: the
    default data folder, or one holding Deskwatch's history; never a shared
    folder (sticky or world-writable, like ``/tmp``) and never another user's.
    Inside it, only Deskwatch's own files and report folders are changed,
    never through a link.
    """
    existed = data_dir.is_dir()
    private_dir(data_dir)
    if existed and not _is_ours(data_dir):
        return data_dir
    tighten(data_dir)
    for entry in os.scandir(data_dir):
        if entry.is_file(follow_symlinks=False) and entry.name.startswith(OWN_FILE_PREFIXES):
            tighten(Path(entry.path))
        elif entry.name in OWN_SUBDIRS and entry.is_dir(follow_symlinks=False):
            tighten(Path(entry.path))
            for inner in os.scandir(entry.path):
                if inner.is_file(follow_symlinks=False):
                    tighten(Path(inner.path))
    return data_dir


def _is_ours(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_ISVTX | stat.S_IWOTH):
        return False  # a link, or a folder meant to be shared
    default = _user_dir("data")
    return folder.absolute() == default.absolute() or (folder / HISTORY_FILE_NAME).is_file()

"""``deskwatch config show`` and ``config check`` with a site file, run as the real command.

Each test writes a site file into a temporary ``$XDG_CONFIG_DIRS`` folder and a
user's file at ``$DESKWATCH_CONFIG``, then runs ``deskwatch`` in a child process.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import ROOT, run_deskwatch

DISK = "computer.disk_free_system"
#: Thresholds no real disk passes (free space is below 99.99 %): critical.
STRICT_DISK = f"""
[indicators."{DISK}"]
warning = 100.0
warning_clear = 100.0
critical = 99.99
critical_clear = 100.0
"""
#: Thresholds every disk with 1 % free passes.
LENIENT_DISK = (
    f'[indicators."{DISK}"]\nwarning = 1.0\nwarning_clear = 1.5\ncritical = 0.5\ncritical_clear = 0.8\n'
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def show(*extra: str) -> dict[str, Any]:
    result = run_deskwatch("config", "show", "--json", *extra)
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def by_key(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in payload["settings"]}


def test_config_show_names_each_values_layer_as_toml_and_json(site_file: Path, user_file: Path) -> None:
    write(
        site_file,
        'locked = ["monitors.telephone.pbx_host", "exporter"]\n'
        '[monitors.telephone]\npbx_host = "pbx.corp.example"\n[exporter]\nenabled = true\n',
    )
    write(user_file, '[monitors.telephone]\npbx_host = "mine"\npbx_port = 5070\n[alerts]\nsounds = true\n')
    payload = show()
    assert payload["files"]["site"] == str(site_file) and payload["files"]["user"] == str(user_file)
    assert payload["locked"] == ["monitors.telephone.pbx_host", "exporter"]
    keys = by_key(payload)
    pbx = keys["monitors.telephone.pbx_host"]
    assert (pbx["value"], pbx["layer"], pbx["file"], pbx["locked"]) == (
        "pbx.corp.example",
        "site",
        str(site_file),
        True,
    )
    assert (keys["monitors.telephone.pbx_port"]["layer"], keys["monitors.telephone.pbx_port"]["value"]) == (
        "user",
        5070,
    )
    assert keys["alerts.sounds"]["file"] == str(user_file)
    assert keys["exporter.port"]["layer"] == "default" and keys["exporter.port"]["locked"] is True
    assert keys["alerts.it_email"] == {**keys["alerts.it_email"], "layer": "default", "file": None}
    assert any(
        "monitors.telephone.pbx_host: ignored: locked by your IT department" in n for n in payload["notices"]
    )

    text = run_deskwatch("config", "show")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert f"# site:    {site_file}" in lines
    pbx_line = next(line for line in lines if line.startswith("pbx_host = "))
    assert pbx_line.startswith('pbx_host = "pbx.corp.example"')
    assert pbx_line.endswith(f"# site: {site_file} (locked: monitors.telephone.pbx_host)")
    assert next(line for line in lines if line.startswith("pbx_port = ")).endswith(f"# user: {user_file}")
    # The text is TOML holding the same values as the JSON.
    parsed = tomllib.loads(text.stdout)
    for key, entry in keys.items():
        node: Any = parsed
        for part in entry["path"]:
            node = node.get(part) if isinstance(node, dict) else None
        assert node == entry["value"], key


def test_config_show_without_a_site_file_says_where_it_looked(
    user_file: Path, isolated_user_dirs: Path
) -> None:
    payload = show()
    assert payload["files"]["site"] is None
    assert payload["files"]["site_search"] == [
        str(isolated_user_dirs / "site" / "deskwatch" / "deskwatch.toml")
    ]
    assert {e["layer"] for e in payload["settings"]} == {"default"}
    assert payload["files"]["user_exists"] is False


def test_config_check_names_the_lock_and_the_files(site_file: Path, user_file: Path) -> None:
    write(
        site_file,
        'locked = ["monitors.telephone.pbx_host"]\n[monitors.telephone]\npbx_host = "pbx.corp.example"\n',
    )
    write(user_file, '[monitors.telephone]\npbx_host = "10.9.9.9"\n')
    result = run_deskwatch("config", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{site_file}: OK", f"{user_file}: OK"]
    expected = (
        f"note: {user_file}: monitors.telephone.pbx_host: ignored: locked by your IT department "
        f"(lock monitors.telephone.pbx_host in the site file {site_file}); in force: 'pbx.corp.example'"
    )
    assert result.stderr.splitlines() == [expected]
    # One file: checked as the user's file under the site file in force.
    result = run_deskwatch("config", "check", str(user_file))
    assert (result.returncode, result.stdout.strip(), result.stderr.strip()) == (
        0,
        f"{user_file}: OK",
        expected,
    )


def test_bad_site_file_is_named_and_deskwatch_still_runs(
    site_file: Path, user_file: Path, tmp_path: Path
) -> None:
    write(site_file, 'locked = ["exportr"]\n[exporter]\nport = "high"\nenabled = true\n')
    result = run_deskwatch("config", "check")
    assert result.returncode == 1
    assert (
        f"{site_file}: locked[1]: 'exportr' names no setting or section (allowed: did you mean exporter"
        in result.stderr
    )
    assert f"{site_file}: exporter.port: invalid value 'high'" in result.stderr
    assert f"{site_file}: 2 error(s)" in result.stderr
    # IT checks a draft before copying it out: --site checks its locks too.
    draft = write(tmp_path / "draft.toml", 'locked = ["exporter"]\n[exporter]\nenabled = true\n')
    result = run_deskwatch("config", "check", "--site", str(draft))
    assert (result.returncode, result.stdout.strip()) == (0, f"{draft}: OK")
    # The app runs on, reporting the site file's problems.
    result = run_deskwatch("check", "--json", "--only", "computer")
    assert result.returncode in (0, 1, 2), result.stderr
    errors = json.loads(result.stdout)["config_errors"]
    assert any(e.startswith(f"{site_file}: exporter.port:") for e in errors)
    write(site_file, "locked = [\n")
    result = run_deskwatch("check", "--json", "--only", "computer")
    assert result.returncode in (0, 1, 2), result.stderr
    assert any(
        e.startswith(f"{site_file}: (file): not valid TOML")
        for e in json.loads(result.stdout)["config_errors"]
    )


def disk_level() -> str:
    result = run_deskwatch("check", "--json", "--only", "computer")
    assert result.returncode in (0, 1, 2), result.stderr
    return next(i["level"] for i in json.loads(result.stdout)["indicators"] if i["id"] == DISK)


def test_check_uses_the_locked_site_value_not_the_users(site_file: Path, user_file: Path) -> None:
    write(user_file, LENIENT_DISK)
    write(site_file, STRICT_DISK)  # not locked yet: the user's lenient thresholds win
    assert disk_level() == "ok"
    write(site_file, f"locked = ['indicators.\"{DISK}\"']\n" + STRICT_DISK)
    assert disk_level() == "critical"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can enter (pytest's own temp folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="deskwatch-site-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _readable_by_others(path: Path) -> bool:
    """Whether a user outside root's group can read ``path`` (every folder above it searchable)."""
    folders_searchable = all(folder.stat().st_mode & 0o001 for folder in path.resolve().parents)
    return folders_searchable and bool(path.stat().st_mode & 0o004)


def run_cli_as_user(uid: int, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``deskwatch ARGS`` as another user: (exit code, stdout, stderr).

    In a forked child that drops to ``uid``, with Deskwatch already imported:
    a fresh interpreter as that user would have to read the checkout and the
    venv, which a clone under root's 0700 home does not allow (a fresh CI
    machine).  The child only reads files and writes to pipes, then ``_exit``s.
    """
    from contextlib import redirect_stderr, redirect_stdout

    import app.cli

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            os.environ.clear()
            os.environ.update(env)
            # Once as root to /dev/null: every module the command imports on demand is
            # loaded before the user can no longer read the checkout (read-only commands).
            with open(os.devnull, "w") as sink, redirect_stdout(sink), redirect_stderr(sink):
                app.cli.main(args)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            code = app.cli.main(args)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException as exc:  # reported to the parent, never raised into pytest's copy
            print(f"child failed: {exc!r}", file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with open(out_r, encoding="utf-8") as out, open(err_r, encoding="utf-8") as err:
        stdout, stderr = out.read(), err.read()
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stdout, stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to switch users")
def test_a_root_owned_0644_site_file_is_read_by_an_ordinary_user(shared_dir: Path) -> None:
    site_file = write(
        shared_dir / "xdg" / "deskwatch" / "deskwatch.toml",
        'locked = ["exporter"]\n[exporter]\nenabled = true\n',
    )
    for folder in (site_file.parent, site_file.parent.parent):
        folder.chmod(0o755)
    site_file.chmod(0o644)
    assert site_file.stat().st_uid == 0
    home = shared_dir / "home"
    home.mkdir()
    os.chown(home, 65534, 65534)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "en_US.UTF-8",
        "XDG_CONFIG_DIRS": str(site_file.parents[1]),
        "DESKWATCH_CONFIG": str(home / "deskwatch.toml"),
        "DESKWATCH_DATA_DIR": str(home / "data"),
    }
    write(home / "deskwatch.toml", "[exporter]\nenabled = false\n")
    os.chown(home / "deskwatch.toml", 65534, 65534)

    def as_nobody(*args: str) -> tuple[int, str, str]:
        return run_cli_as_user(65534, list(args), env)

    site_file.chmod(0o600)  # first as IT must not leave it: the clerk's Deskwatch cannot read it
    returncode, _out, err = as_nobody("config", "check")
    assert returncode == 1, err
    assert (
        f"{site_file}: (file): cannot be read: Permission denied (allowed: a file every user can read" in err
    )
    site_file.chmod(0o644)
    returncode, out, err = as_nobody("config", "show", "--json")
    assert returncode == 0, err
    payload = json.loads(out)
    shipped = ROOT / "resources" / "deskwatch.toml"
    if not _readable_by_others(shipped):
        # A checkout in root's 0700 home (a fresh CI machine): the shipped defaults are
        # out of the user's reach, which is said and is not what this test is about.
        assert payload["errors"] == [
            f"{shipped}: (file): cannot be read: Permission denied (allowed: a readable file)"
        ]
    else:
        assert payload["errors"] == []
    enabled = by_key(payload)["exporter.enabled"]
    assert (enabled["value"], enabled["layer"], enabled["locked"]) == (True, "site", True)
    assert site_file.stat().st_mode & 0o777 == 0o644  # reading never changed it


def test_export_rules_takes_the_site_thresholds_but_defaults_stay_shipped(site_file: Path) -> None:
    write(site_file, f'[indicators."{DISK}"]\nwarning = 33.0\nwarning_clear = 35.0\n')
    site_rules = run_deskwatch("export-rules")
    assert site_rules.returncode == 0, site_rules.stderr
    assert "deskwatch_computer_disk_free_system_ratio <= 0.33" in site_rules.stdout
    shipped = run_deskwatch("export-rules", "--defaults")
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout == (ROOT / "resources" / "prometheus" / "deskwatch-rules.yml").read_text("utf-8")

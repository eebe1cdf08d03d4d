"""Deskwatch's IPP client against private cupsds configured as sites configure them.

One requires authentication to read queues and jobs; one requires
encryption (HTTP 426, then TLS with cupsd's self-signed certificate); the
plain one never loads :mod:`ssl`.  And where the client goes when the
``server`` setting is empty, as libcups would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kernel.model import Level
from sensors import printing as p
from sensors.cups_printer import DEFAULT_SOCKET, CupsServer, system_server
from tests.printer.conftest import PrivateCups, free_port, make_monitor, wait_for

ROOT = Path(__file__).resolve().parents[2]


def reconfigured(root: Path, edit: dict[str, str]) -> Iterator[tuple[PrivateCups, str]]:
    """A private cupsd with a queue, restarted with ``edit`` applied to its cupsd.conf."""
    cupsd = PrivateCups(root)
    cupsd.start()
    try:
        queue = cupsd.add_queue("site")
        cupsd.stop()
        conf = root / "cupsd.conf"
        text = conf.read_text("utf-8")
        for old, new in edit.items():
            assert old in text
            text = text.replace(old, new)
        conf.write_text(text, "utf-8")
        # cupsd makes its self-signed certificate here (ServerKeychain) when a client needs TLS.
        (root / "ssl").mkdir(mode=0o700, exist_ok=True)
        cupsd.start()
        yield cupsd, queue
    finally:
        cupsd.stop()


#: Reading printers and jobs needs a user name and password (a site's locked-down policy).
LOCKED = {
    "  <Limit All>\n": "  <Limit CUPS-Get-Printers CUPS-Get-Default Get-Jobs Get-Job-Attributes "
    "Get-Printer-Attributes>\n    AuthType Basic\n    Require valid-user\n  </Limit>\n  <Limit All>\n"
}
#: Every request over TLS (cupsd answers plain HTTP with 426 Upgrade Required; not on loopback).
ENCRYPTED = {"<Location />\n": "<Location />\n  Encryption Required\n"}


def own_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivateCups, str]]:
    yield from reconfigured(tmp_path_factory.mktemp("cups-locked"), LOCKED)


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivateCups, str, str]]:
    """A cupsd requiring TLS, and its address off loopback (cupsd never asks loopback clients for TLS)."""
    address = own_address()
    if address is None:
        pytest.skip("no network address but loopback: cupsd requires TLS of no loopback client")
    port = free_port()
    edit = {**ENCRYPTED, "Browsing Off\n": f"Listen {address}:{port}\nBrowsing Off\n"}
    for cupsd, queue in reconfigured(tmp_path_factory.mktemp("cups-tls"), edit):
        yield cupsd, queue, f"{address}:{port}"


def test_authentication_required_is_unknown_with_the_reason_never_ok(
    tmp_path: Path, locked: tuple[PrivateCups, str]
) -> None:
    cupsd, queue = locked
    monitor = make_monitor(tmp_path, CupsServer(cupsd.server), printers=[queue])
    (status,) = monitor.poll()
    assert status.level is Level.UNKNOWN and status.instance == queue
    assert status.message is not None and "refused" in status.message.en
    assert "authentication required" in status.message.en and "拒绝" in status.message.zh


def test_encryption_required_upgrades_to_tls_and_reads_the_queue(
    encrypted: tuple[PrivateCups, str, str],
) -> None:
    cupsd, queue, remote = encrypted
    cupsd.set_mode(queue, "jam")
    cupsd.submit(queue)
    server = CupsServer(remote)

    def jammed() -> bool:
        snap = server.snapshots([queue], 0)[queue]
        return snap is not None and snap.state == p.STATE_STOPPED and "media-jam-error" in snap.reasons

    wait_for(jammed, what="the jam, read over TLS")
    assert server._link.upgraded and server._link.tls
    job = server.submit_test_page(queue)  # a test page over TLS too
    assert server.job(queue, job) is not None


def test_encryption_from_the_start_when_the_client_config_requires_it(
    encrypted: tuple[PrivateCups, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cupsd, queue, _remote = encrypted
    monkeypatch.setenv("CUPS_SERVER", cupsd.server)
    monkeypatch.setenv("CUPS_ENCRYPTION", "Required")
    server = CupsServer("")
    assert server._link.tls and server.snapshots([queue], 0)[queue] is not None
    assert not server._link.upgraded  # TLS from the first byte, no 426 needed


PROBE = """
import json, sys
from sensors.cups_printer import CupsServer
server = CupsServer(sys.argv[1])
snap = server.snapshots([sys.argv[2]], 0)[sys.argv[2]]
print(json.dumps({"state": snap.state, "ssl": "ssl" in sys.modules, "libcups": "cups" in sys.modules}))
"""


def probe(server: str, queue: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, server, queue], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_ssl_is_loaded_only_for_a_server_that_requires_it(
    cupsd: PrivateCups, queue: str, encrypted: tuple[PrivateCups, str, str]
) -> None:
    # ssl maps OpenSSL's libcrypto and libssl (about 4 MiB resident): not for a plain local cupsd.
    assert probe(cupsd.server, queue) == {"state": p.STATE_IDLE, "ssl": False, "libcups": False}
    assert probe(cupsd.socket, queue) == {"state": p.STATE_IDLE, "ssl": False, "libcups": False}
    _tls_server, tls_queue, remote = encrypted
    assert probe(remote, tls_queue)["ssl"] is True


@pytest.mark.parametrize(
    ("environ", "conf", "expected"),
    [
        ({"CUPS_SERVER": "127.0.0.1:8631"}, {}, ("127.0.0.1", 8631, False)),
        ({"CUPS_SERVER": "/tmp/cups.sock"}, {"servername": "printsrv"}, ("/tmp/cups.sock", 631, False)),
        ({}, {"servername": "printsrv:8000/version=1.1"}, ("printsrv", 8000, False)),
        ({"IPP_PORT": "8632"}, {"servername": "printsrv"}, ("printsrv", 8632, False)),
        ({"CUPS_ENCRYPTION": "Required"}, {"servername": "[::1]:631"}, ("::1", 631, True)),
        ({}, {"servername": "printsrv", "encryption": "Always"}, ("printsrv", 631, True)),
        ({"CUPS_SERVER": "printsrv"}, {"encryption": "IfRequested"}, ("printsrv", 631, False)),
    ],
)
def test_the_system_server_is_found_as_libcups_finds_it(
    environ: dict[str, str], conf: dict[str, str], expected: tuple[str, int, bool]
) -> None:
    assert system_server(environ, conf) == expected


def test_no_setting_at_all_means_the_local_socket_or_localhost() -> None:
    host, port, tls = system_server({}, {})
    assert host == (DEFAULT_SOCKET if Path(DEFAULT_SOCKET).exists() else "localhost") and port == 631
    assert not tls


def test_client_conf_servername_is_read(tmp_path: Path) -> None:
    from sensors.cups_printer import _client_conf

    system, user = tmp_path / "client.conf", tmp_path / "user.conf"
    system.write_text("# site\nServerName printsrv\nEncryption Required\n", "utf-8")
    user.write_text("ServerName /run/other.sock\n", "utf-8")
    assert _client_conf([str(system), str(user), str(tmp_path / "missing")]) == {
        "servername": "/run/other.sock",
        "encryption": "Required",
    }

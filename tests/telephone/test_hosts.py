"""Host names reach the resolver without the IDNA codec when they are ASCII (``sensors.hosts``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

from sensors.hosts import resolver_host

#: A fresh interpreter resolves the PBX's address as the telephone monitor does, then a str name.
FRESH = textwrap.dedent(
    """
    import socket, sys
    from sensors.hosts import resolver_host
    socket.getaddrinfo(resolver_host("127.0.0.1"), 5060, type=socket.SOCK_DGRAM)
    socket.getaddrinfo(resolver_host("localhost"), 5060, type=socket.SOCK_DGRAM)
    before = "encodings.idna" in sys.modules
    socket.getaddrinfo("127.0.0.1", 5060, type=socket.SOCK_DGRAM)
    print(before, "encodings.idna" in sys.modules)
    """
)


def test_ascii_names_skip_the_idna_codec() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=60, check=True
    )
    # Not loaded through resolver_host; the plain str call shows the codec would have been.
    assert result.stdout.split() == ["False", "True"]


def test_same_answers_and_other_names_go_through_the_codec() -> None:
    assert resolver_host("pbx.example.net") == b"pbx.example.net"
    assert resolver_host("总机.example") == "总机.example"
    plain = socket.getaddrinfo("127.0.0.1", 5060, type=socket.SOCK_DGRAM)
    assert socket.getaddrinfo(resolver_host("127.0.0.1"), 5060, type=socket.SOCK_DGRAM) == plain

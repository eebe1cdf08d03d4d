"""Host names for socket calls, without Python's IDNA codec for plain ASCII names.

``socket.getaddrinfo`` (and ``socket.create_connection`` through it)
encodes a ``str`` host with the ``idna`` codec, which imports ``stringprep``
(0.3 MiB resident in the tray app) even for ``127.0.0.1``.  An ASCII name
is passed as bytes, which the resolver takes as it is; a name with other
characters (an internationalised host name) still goes through the codec.
"""

from __future__ import annotations


def resolver_host(host: str) -> str | bytes:
    """``host`` as ``getaddrinfo`` takes it without the IDNA codec when it is ASCII."""
    return host.encode("ascii") if host.isascii() else host

"""IPP/1.1 messages (RFC 8010 encoding): requests built, responses parsed as hostile input.

Pure functions, no I/O.  :func:`encode_request` builds a request from
operation attributes; :func:`decode_response` turns a server's bytes into an
:class:`IppResponse` whose attribute groups are plain dicts, a single value as
itself and several as a list, the shape the print-server code reads.

A response is input from outside: every length is checked against what is
left, attribute counts, values per attribute and collection depth are bounded,
and anything malformed, truncated or oversized raises :class:`IppDecodeError`
(a ``ValueError``) and nothing else.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# -- operations (RFC 8011 §5.4.15; CUPS extensions as CUPS documents them) ------
OP_PRINT_JOB = 0x0002
OP_GET_JOB_ATTRIBUTES = 0x0009
OP_GET_JOBS = 0x000A
OP_GET_PRINTER_ATTRIBUTES = 0x000B
OP_CUPS_GET_DEFAULT = 0x4001
OP_CUPS_GET_PRINTERS = 0x4002

# -- delimiter tags (RFC 8010 §3.5.1) --------------------------------------------
TAG_OPERATION = 0x01
TAG_JOB = 0x02
TAG_END = 0x03
TAG_PRINTER = 0x04
TAG_UNSUPPORTED_GROUP = 0x05
#: Highest delimiter tag; 0x10 and above are value tags.
_LAST_DELIMITER = 0x0F

# -- value tags (RFC 8010 §3.5.2) ------------------------------------------------
TAG_UNSUPPORTED = 0x10
TAG_UNKNOWN = 0x12
TAG_NO_VALUE = 0x13
TAG_INTEGER = 0x21
TAG_BOOLEAN = 0x22
TAG_ENUM = 0x23
TAG_OCTET_STRING = 0x30
TAG_DATE_TIME = 0x31
TAG_RESOLUTION = 0x32
TAG_RANGE = 0x33
TAG_BEGIN_COLLECTION = 0x34
TAG_TEXT_WITH_LANGUAGE = 0x35
TAG_NAME_WITH_LANGUAGE = 0x36
TAG_END_COLLECTION = 0x37
TAG_TEXT = 0x41
TAG_NAME = 0x42
TAG_KEYWORD = 0x44
TAG_URI = 0x45
TAG_CHARSET = 0x47
TAG_LANGUAGE = 0x48
TAG_MIME_TYPE = 0x49
TAG_MEMBER_NAME = 0x4A
#: Out-of-band values (unsupported, default, unknown, no-value, ...): no value to read.
_OUT_OF_BAND = range(0x10, 0x20)
#: Character-string tags (text, name, keyword, uri, charset, language, MIME type ...).
_STRINGS = range(0x40, 0x60)

# -- status codes (RFC 8011 §B) -------------------------------------------------
STATUS_OK_LAST = 0x00FF
STATUS_FORBIDDEN = 0x0401
STATUS_NOT_AUTHENTICATED = 0x0402
STATUS_NOT_AUTHORIZED = 0x0403
STATUS_NOT_FOUND = 0x0406

STATUS_NAMES = {
    0x0000: "successful-ok",
    0x0400: "client-error-bad-request",
    STATUS_FORBIDDEN: "client-error-forbidden",
    STATUS_NOT_AUTHENTICATED: "client-error-not-authenticated",
    STATUS_NOT_AUTHORIZED: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    STATUS_NOT_FOUND: "client-error-not-found",
    0x0407: "client-error-gone",
    0x040A: "client-error-document-format-not-supported",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable",
    0x0503: "server-error-version-not-supported",
    0x0504: "server-error-device-error",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
}

# -- bounds on what a response may hold -----------------------------------------
#: Attributes in one response (every value of every job counts once per attribute).
MAX_ATTRIBUTES = 200_000
#: Values of one attribute (a 1setOf); printer-state-reasons has a handful.
MAX_VALUES = 4096
#: Attribute groups in one response (one per job or printer; cupsd keeps 500 jobs by default).
MAX_GROUPS = 50_000
#: Nesting of collections (media-col holds media-size: two levels in practice).
MAX_DEPTH = 8


class IppDecodeError(ValueError):
    """The bytes are not a well-formed IPP response (truncated, garbage, oversized)."""


@dataclass(frozen=True)
class IppResponse:
    """A parsed IPP response: status, request id and attribute groups in order."""

    version: tuple[int, int]
    status: int
    request_id: int
    #: (group tag, attributes) in the order sent; a value is one value or a list of several.
    groups: tuple[tuple[int, dict[str, Any]], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether the status is one of the successful ones (0x0000-0x00FF)."""
        return 0 <= self.status <= STATUS_OK_LAST

    def group(self, tag: int) -> list[dict[str, Any]]:
        """Every group of one kind (``TAG_JOB``, ``TAG_PRINTER`` ...), in order."""
        return [attrs for kind, attrs in self.groups if kind == tag]

    @property
    def operation(self) -> dict[str, Any]:
        """The operation attributes (status-message and the like); empty if none."""
        found = self.group(TAG_OPERATION)
        return found[0] if found else {}

    @property
    def status_name(self) -> str:
        """The status keyword (``client-error-not-found``), or its hex code if not known."""
        return STATUS_NAMES.get(self.status, f"0x{self.status:04x}")


# -- requests -------------------------------------------------------------------

#: One request attribute: value tag, name, its values (str, int, bool or bytes).
Attribute = tuple[int, str, Sequence[object]]


def _encode_value(tag: int, value: object) -> bytes:
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return struct.pack(">i", value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} as IPP tag 0x{tag:02x}")


def encode_request(
    operation: int, request_id: int, attributes: Iterable[Attribute], data: bytes = b""
) -> bytes:
    """An IPP/1.1 request: operation attributes (charset and language first), then ``data``.

    ``attributes-charset`` and ``attributes-natural-language`` are added in
    front, as RFC 8011 §4.1.4 requires them to come first.
    """
    out = bytearray(struct.pack(">BBHI", 1, 1, operation, request_id))
    out.append(TAG_OPERATION)
    leading: list[Attribute] = [
        (TAG_CHARSET, "attributes-charset", ["utf-8"]),
        (TAG_LANGUAGE, "attributes-natural-language", ["en"]),
    ]
    for tag, name, values in [*leading, *attributes]:
        for n, value in enumerate(values):
            encoded = _encode_value(tag, value)
            key = name.encode("ascii") if n == 0 else b""
            if len(key) > 0xFFFF or len(encoded) > 0xFFFF:
                raise ValueError(f"IPP attribute {name!r} too long")
            out += struct.pack(">BH", tag, len(key)) + key + struct.pack(">H", len(encoded)) + encoded
    out.append(TAG_END)
    return bytes(out) + data


# -- responses ------------------------------------------------------------------


class _Reader:
    """A cursor over the response that refuses to read past its end."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise IppDecodeError(f"truncated at byte {self.pos}: {what} needs {count} bytes")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self, what: str) -> int:
        if self.pos >= len(self.data):
            raise IppDecodeError(f"truncated at byte {self.pos}: no {what}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def short(self, what: str) -> int:
        value: int = struct.unpack(">H", self.take(2, what))[0]
        return value

    def attribute(self, tag: int) -> tuple[str, bytes]:
        """Name and raw value after a value tag (name-length, name, value-length, value)."""
        name = self.take(self.short("name length"), "attribute name")
        value = self.take(self.short("value length"), "attribute value")
        try:
            return name.decode("ascii"), value
        except UnicodeDecodeError:
            raise IppDecodeError(f"attribute name at byte {self.pos} is not ASCII") from None


def _fixed(value: bytes, size: int, tag: int) -> bytes:
    if len(value) != size:
        raise IppDecodeError(f"value of tag 0x{tag:02x} has {len(value)} bytes, not {size}")
    return value


def _decode_value(tag: int, value: bytes) -> object:
    """One value by its tag; an unknown tag keeps its bytes (RFC 8010: ignore, do not fail)."""
    if tag in _OUT_OF_BAND:
        return None
    if tag in (TAG_INTEGER, TAG_ENUM):
        number: int = struct.unpack(">i", _fixed(value, 4, tag))[0]
        return number
    if tag == TAG_BOOLEAN:
        flag = _fixed(value, 1, tag)[0]
        if flag > 1:
            raise IppDecodeError(f"boolean value {flag}")
        return flag == 1
    if tag in (TAG_TEXT_WITH_LANGUAGE, TAG_NAME_WITH_LANGUAGE):
        inner = _Reader(value)
        inner.take(inner.short("language length"), "language")
        text = inner.take(inner.short("text length"), "text")
        if inner.pos != len(value):
            raise IppDecodeError("trailing bytes in a text-with-language value")
        return text.decode("utf-8", "replace")
    if tag in _STRINGS:
        return value.decode("utf-8", "replace")
    if tag == TAG_RANGE:
        return struct.unpack(">ii", _fixed(value, 8, tag))
    if tag == TAG_RESOLUTION:
        return struct.unpack(">iib", _fixed(value, 9, tag))
    if tag == TAG_DATE_TIME:
        return _fixed(value, 11, tag)
    return value


class _Budget:
    """How many more attributes the response may hold."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_ATTRIBUTES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise IppDecodeError(f"more than {MAX_ATTRIBUTES} attributes")


def _add(attrs: dict[str, Any], name: str, value: object, first: bool) -> None:
    """Store a value: the first as itself, further ones turn it into a list (bounded)."""
    if first:
        attrs[name] = value
        return
    current = attrs[name]
    if isinstance(current, _Values):
        if len(current) >= MAX_VALUES:
            raise IppDecodeError(f"attribute {name!r} has more than {MAX_VALUES} values")
        current.append(value)
    else:
        attrs[name] = _Values([current, value])


class _Values(list[Any]):
    """The values of a 1setOf while parsing (a plain list once done)."""


def _collection(reader: _Reader, budget: _Budget, depth: int) -> dict[str, Any]:
    """Members after a begCollection up to its endCollection (RFC 8010 §3.1.6)."""
    if depth > MAX_DEPTH:
        raise IppDecodeError(f"collections nested deeper than {MAX_DEPTH}")
    members: dict[str, Any] = {}
    member: str | None = None
    while True:
        tag = reader.byte("value tag in a collection")
        if tag <= _LAST_DELIMITER:
            raise IppDecodeError(f"collection not closed before group tag 0x{tag:02x}")
        name, raw = reader.attribute(tag)
        if name:
            raise IppDecodeError(f"collection member value with a name ({name!r})")
        budget.spend()
        closing = tag in (TAG_END_COLLECTION, TAG_MEMBER_NAME)
        if closing and member is not None and members[member] is _Pending:
            raise IppDecodeError(f"collection member {member!r} without a value")
        if tag == TAG_END_COLLECTION:
            return {key: list(v) if isinstance(v, _Values) else v for key, v in members.items()}
        if tag == TAG_MEMBER_NAME:
            member = raw.decode("utf-8", "replace")
            if not member:
                raise IppDecodeError("empty collection member name")
            if member in members:
                raise IppDecodeError(f"collection member {member!r} twice")
            members[member] = _Pending
            continue
        if member is None:
            raise IppDecodeError("collection value before any member name")
        nested = tag == TAG_BEGIN_COLLECTION
        value = _collection(reader, budget, depth + 1) if nested else _decode_value(tag, raw)
        _add(members, member, value, members[member] is _Pending)


#: Marks a collection member whose name came and whose first value has not.
_Pending = object()


def decode_response(data: bytes) -> IppResponse:
    """Parse a whole IPP response; raise :class:`IppDecodeError` on any fault.

    Data after the end-of-attributes tag (a document) is ignored.  Repeated
    attribute names within a group keep the first, as RFC 8011 §4.1.3 lets a
    receiver do.
    """
    reader = _Reader(data)
    header = reader.take(8, "header")
    major, minor, status, request_id = struct.unpack(">BBHI", header)
    if major not in (1, 2):
        raise IppDecodeError(f"IPP version {major}.{minor}: not an IPP response")
    budget = _Budget()
    groups: list[tuple[int, dict[str, Any]]] = []
    attrs: dict[str, Any] | None = None
    last: str | None = None  # the attribute further values (empty name) belong to
    skipping = False  # a repeated attribute: its values are dropped
    while True:
        tag = reader.byte("tag")
        if tag == TAG_END:
            break
        if tag <= _LAST_DELIMITER:
            if tag == 0:
                raise IppDecodeError("reserved tag 0x00")
            if len(groups) >= MAX_GROUPS:
                raise IppDecodeError(f"more than {MAX_GROUPS} attribute groups")
            attrs = {}
            groups.append((tag, attrs))
            last = None
            continue
        if attrs is None:
            raise IppDecodeError(f"value tag 0x{tag:02x} before any attribute group")
        if tag in (TAG_END_COLLECTION, TAG_MEMBER_NAME):
            raise IppDecodeError(f"tag 0x{tag:02x} outside a collection")
        name, raw = reader.attribute(tag)
        budget.spend()
        nested = tag == TAG_BEGIN_COLLECTION
        value = _collection(reader, budget, 1) if nested else _decode_value(tag, raw)
        if name:
            last, skipping = name, name in attrs
            if not skipping:
                _add(attrs, name, value, True)
        elif last is None:
            raise IppDecodeError("additional value without an attribute")
        elif not skipping:
            _add(attrs, last, value, False)
    for _tag, group in groups:
        for key, value in group.items():
            if isinstance(value, _Values):
                group[key] = list(value)
    return IppResponse((major, minor), status, request_id, tuple(groups))

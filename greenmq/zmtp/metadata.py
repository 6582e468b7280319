"""ZMTP metadata properties (the body of READY and INITIATE).

Each property is a 1-byte name length, the name, a 4-byte big-endian value
length and the value. Names are case-insensitive when matched, but are sent
with libzmq's spelling because libzmq compares ``Socket-Type`` and
``Identity`` case-sensitively.
"""

from ..constants import ProtocolError
from .errors import ZmtpError

_MAX_VALUE = 2**31 - 1


class Metadata:
    """The properties a peer announced.

    Names are matched case-insensitively, as RFC 37 says; libzmq's
    ``zmq_msg_gets`` matches them exactly, so any name that works there works here.
    """

    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = {}
        for name, value in items:
            self._items[name.lower()] = (name, value)

    def get(self, name, default=None):
        """The value of property ``name`` (bytes), or ``default``."""
        found = self._items.get(name.lower())
        return default if found is None else found[1]

    def __contains__(self, name):
        return name.lower() in self._items

    def __getitem__(self, name):
        return self._items[name.lower()][1]

    def set(self, name, value):
        """Add or replace a property (used for locally known facts such as Peer-Address)."""
        self._items[name.lower()] = (name, value)

    def items(self):
        """(name, value) pairs with the spelling the peer used."""
        return list(self._items.values())

    def __repr__(self):
        return f"Metadata({self.items()!r})"


def encode_properties(properties):
    """Encode an iterable of (name: str, value: bytes) pairs."""
    chunks = []
    for name, value in properties:
        raw_name = name.encode("ascii")
        if not 0 < len(raw_name) < 256:
            raise ValueError(f"metadata name {name!r} must be 1 to 255 bytes")
        if len(value) > _MAX_VALUE:
            raise ValueError("metadata value too long")
        chunks.append(bytes((len(raw_name),)))
        chunks.append(raw_name)
        chunks.append(len(value).to_bytes(4, "big"))
        chunks.append(bytes(value))
    return b"".join(chunks)


def decode_properties(data):
    """Parse properties; raise :class:`ZmtpError` on any truncation or bad length."""
    items = []
    pos = 0
    n = len(data)
    while pos < n:
        name_length = data[pos]
        pos += 1
        if name_length == 0 or pos + name_length + 4 > n:
            raise ZmtpError("truncated metadata property", ProtocolError.ZMTP_INVALID_METADATA)
        try:
            name = bytes(data[pos:pos + name_length]).decode("ascii")
        except UnicodeDecodeError:
            raise ZmtpError("metadata name is not ASCII", ProtocolError.ZMTP_INVALID_METADATA) from None
        pos += name_length
        value_length = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
        if value_length > _MAX_VALUE or pos + value_length > n:
            raise ZmtpError("truncated metadata value", ProtocolError.ZMTP_INVALID_METADATA)
        items.append((name, bytes(data[pos:pos + value_length])))
        pos += value_length
    return Metadata(items)

"""The 64-byte ZMTP 3.x greeting.

``signature (FF, 8 bytes padding, 7F) · major · minor · mechanism (20 bytes,
NUL padded) · as-server · 31 bytes filler``. greenmq sends all 64 bytes at
once, which the spec allows and which can never deadlock against libzmq's
byte-at-a-time version negotiation. libzmq writes "identity length + 1" into
the padding, so the padding is never checked.
"""

from ..constants import ProtocolError
from .errors import ZmtpError, ZmtpVersionError

GREETING_SIZE = 64
MAJOR = 3
MINOR = 1


def make_greeting(mechanism, as_server=False, minor=MINOR):
    """The greeting greenmq sends for ``mechanism`` (bytes such as b"NULL")."""
    return b"".join((
        b"\xff" + bytes(8) + b"\x7f",
        bytes((MAJOR, minor)),
        mechanism.ljust(20, b"\x00"),
        b"\x01" if as_server else b"\x00",
        bytes(31),
    ))


def check_partial_greeting(data):
    """Reject a peer as early as its first bytes allow (ZMTP 1.0/2.0 peers)."""
    if not data:
        return
    if data[0] != 0xFF or (len(data) >= 10 and not data[9] & 1):
        raise ZmtpVersionError("peer speaks ZMTP 1.0, which greenmq does not support")
    if len(data) >= 11 and data[10] < MAJOR:
        raise ZmtpVersionError(f"peer speaks ZMTP revision {data[10]}, greenmq needs 3.0 or later")


class Greeting:
    """A parsed peer greeting."""

    __slots__ = ("major", "minor", "mechanism", "as_server")

    def __init__(self, data):
        check_partial_greeting(data)
        self.major = data[10]
        self.minor = data[11]
        self.mechanism = bytes(data[12:32])
        self.as_server = bool(data[32])

    def check_mechanism(self, ours):
        if self.mechanism != ours.ljust(20, b"\x00"):
            raise ZmtpError(
                f"mechanism mismatch: peer uses {self.mechanism.rstrip(bytes(1))!r}, we use {ours!r}",
                ProtocolError.ZMTP_MECHANISM_MISMATCH,
            )

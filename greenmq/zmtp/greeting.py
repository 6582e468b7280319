"""The ZMTP greeting, sent in stages so that ZMTP 2.0 and 1.0 peers can be recognised.

A 3.x greeting is 64 bytes: ``signature (FF, 8 bytes padding, 7F) · major ·
minor · mechanism (20 bytes, NUL padded) · as-server · 31 bytes filler``.
greenmq sends it as libzmq does (RFC 37 "Detecting ZMTP 1.0 and 2.0 Peers"):
the 10-byte signature at once, the major version once the peer's signature
has arrived, and the rest once the peer's revision byte says it speaks 3.x.
The padding holds "identity length + 1", so that a ZMTP 1.0 peer reads the
signature as the header of our identity frame (length, then flags 7F).
The peer's padding is never checked.

:func:`peer_revision` reads the peer's first bytes the way libzmq does: a
first byte other than FF, or a clear bit 0 in byte 9, is a ZMTP 1.0 peer
(:data:`UNVERSIONED`); otherwise byte 10 is the revision, where libzmq takes
0 for 1.0 framing, 1 for 2.0 and anything else for 3.x.
"""

from ..constants import ProtocolError
from .errors import ZmtpError

GREETING_SIZE = 64
SIGNATURE_SIZE = 10
REVISION_POS = 10  # the revision (major version) byte
MAJOR = 3
MINOR = 1
UNVERSIONED = -1  # peer_revision(): the peer speaks ZMTP 1.0 (no revision at all)
ZMTP_2_0 = 1  # peer_revision() of a ZMTP 2.0 peer; 0 is 1.0 framing behind a revision byte


def signature(identity_size=0):
    """The first 10 bytes: FF, "identity length + 1" in 8 bytes big-endian, 7F."""
    return b"\xff" + (identity_size + 1).to_bytes(8, "big") + b"\x7f"


def make_greeting(mechanism, as_server=False, minor=MINOR, identity_size=0):
    """The 64-byte greeting greenmq sends for ``mechanism`` (bytes such as b"NULL")."""
    return b"".join((
        signature(identity_size),
        bytes((MAJOR, minor)),
        mechanism.ljust(20, b"\x00"),
        b"\x01" if as_server else b"\x00",
        bytes(31),
    ))


def peer_revision(data):
    """The protocol revision the peer's first bytes announce: :data:`UNVERSIONED` for a ZMTP
    1.0 peer, the revision byte (0, 1, 3 ...) for the others, None while too few have arrived."""
    if not data:
        return None
    if data[0] != 0xFF:
        return UNVERSIONED
    if len(data) < SIGNATURE_SIZE:
        return None
    if not data[9] & 1:
        return UNVERSIONED
    if len(data) <= REVISION_POS:
        return None
    return data[REVISION_POS]


def is_legacy(revision):
    """Whether ``revision`` (from :func:`peer_revision`) is ZMTP 2.0 or 1.0, as libzmq reads it."""
    return revision <= ZMTP_2_0


class Greeting:
    """A parsed 3.x peer greeting."""

    __slots__ = ("major", "minor", "mechanism", "as_server")

    def __init__(self, data):
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

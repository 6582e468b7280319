"""The NULL security mechanism: each side sends READY with its metadata, no authentication.

libzmq sends READY as soon as the greeting is done, whichever side it is on,
so greenmq does the same; the handshake is over once READY has gone both ways.
"""

from ..constants import ProtocolError
from .errors import ZmtpError, ZmtpPeerError
from .frames import encode_command
from .metadata import decode_properties, encode_properties


class NullMechanism:
    """Handshake state for NULL; a mechanism object turns commands into replies."""

    name = b"NULL"

    def __init__(self, properties):
        self._properties = properties
        self.peer_metadata = None

    def start(self):
        """Bytes to send once the greeting is complete."""
        return encode_command(b"READY", encode_properties(self._properties))

    def process(self, name, data):
        """Handle one handshake command; return True when the handshake is complete."""
        if name == b"READY" and self.peer_metadata is None:
            self.peer_metadata = decode_properties(data)
            return True
        if name == b"ERROR":
            raise ZmtpPeerError(error_reason(data))
        raise ZmtpError(f"unexpected command {name!r} in NULL handshake", ProtocolError.ZMTP_UNEXPECTED_COMMAND)


def error_reason(data):
    """The reason text of an ERROR command body (after the name)."""
    if not data or data[0] + 1 > len(data):
        raise ZmtpError("malformed ERROR command", ProtocolError.ZMTP_MALFORMED_COMMAND_ERROR)
    return bytes(data[1:1 + data[0]]).decode("ascii", "replace")


def encode_error(reason):
    """An ERROR command frame with ``reason`` (truncated to 255 bytes)."""
    raw = reason.encode("ascii", "replace")[:255]
    return encode_command(b"ERROR", bytes((len(raw),)) + raw)

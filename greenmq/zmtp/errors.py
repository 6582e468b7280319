"""Why a ZMTP connection failed.

The protocol layer raises these; the engine catches them, writes out whatever
the connection queued (an ERROR command, say), closes the transport and tells
the socket's monitor. Each carries the ``ZMQ_PROTOCOL_ERROR_*`` value libzmq
would report, so monitors see the same events from greenmq as from libzmq.
"""

from ..constants import ProtocolError


class ZmtpError(Exception):
    """The peer broke the protocol, or cannot talk to us; the connection must close."""

    def __init__(self, reason, code=ProtocolError.ZMTP_UNSPECIFIED):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class ZmtpVersionError(ZmtpError):
    """A ZMTP 2.0/1.0 peer this socket refuses, as libzmq would (ZAP is on), or a socket type
    those revisions did not have."""


class ZmtpPeerError(ZmtpError):
    """The peer sent an ERROR command: it refuses the connection."""


class MessageTooLarge(ZmtpError):
    """A frame announced a size above ``MAXMSGSIZE`` (checked before allocating)."""


class ZapRefused(ZmtpError):
    """The ZAP handler did not admit the peer (status 300, 400 or 500).

    For 400 and 500 an ERROR command carrying the status code is queued for the
    peer first; 300 (a temporary failure) closes without one, so that the peer
    reconnects later."""

    def __init__(self, status):
        super().__init__(f"ZAP handler answered {status.decode('ascii', 'replace')}")
        self.status = int(status)


class ZapUnavailable(ZmtpError):
    """The mechanism needs a ZAP handler (a PLAIN server does) and none is bound."""

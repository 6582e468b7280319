"""ZAP (ZeroMQ RFC 27) messages: what a server asks its authentication handler, and the answer.

A server socket with a security mechanism asks the handler bound at
``inproc://zeromq.zap.01`` in its context whether to admit a peer. This
module only builds the request frames and checks the reply frames, with the
``ZMQ_PROTOCOL_ERROR_ZAP_*`` codes libzmq reports for a handler that answers
badly; the engine does the asking.
"""

from ..constants import ProtocolError
from .errors import ZmtpError
from .metadata import decode_properties

ENDPOINT = "inproc://zeromq.zap.01"
VERSION = b"1.0"
# libzmq asks one question per connection, always with this request id.
REQUEST_ID = b"1"
STATUS_CODES = (b"200", b"300", b"400", b"500")


class ZapReply:
    """A handler's well-formed answer: ``status`` (b"200" admits), ``text``, ``user_id``, ``metadata``."""

    __slots__ = ("status", "text", "user_id", "metadata")

    def __init__(self, status, text=b"", user_id=b"", metadata=None):
        self.status = status
        self.text = text
        self.user_id = user_id
        self.metadata = metadata if metadata is not None else decode_properties(b"")

    @property
    def admitted(self):
        return self.status == b"200"


def request_frames(domain, address, identity, mechanism, credentials):
    """The frames of a ZAP request, after the empty delimiter a DEALER sends first."""
    return [b"", VERSION, REQUEST_ID, domain, address, identity, mechanism, *credentials]


def parse_reply(frames):
    """Check a reply as a DEALER receives it (delimiter first); return a :class:`ZapReply`."""
    if len(frames) != 7 or frames[0]:
        raise ZmtpError("malformed ZAP reply", ProtocolError.ZAP_MALFORMED_REPLY)
    _, version, request_id, status, text, user_id, metadata = (bytes(frame) for frame in frames)
    if version != VERSION:
        raise ZmtpError(f"ZAP reply has version {version!r}", ProtocolError.ZAP_BAD_VERSION)
    if request_id != REQUEST_ID:
        raise ZmtpError("ZAP reply answers another request", ProtocolError.ZAP_BAD_REQUEST_ID)
    if status not in STATUS_CODES:
        raise ZmtpError(f"ZAP reply has status code {status!r}", ProtocolError.ZAP_INVALID_STATUS_CODE)
    try:
        properties = decode_properties(metadata)
    except ZmtpError:
        raise ZmtpError("ZAP reply has malformed metadata", ProtocolError.ZAP_INVALID_METADATA) from None
    return ZapReply(status, text, user_id, properties)

"""What every security mechanism shares: output, completion, peer metadata and ZAP.

A mechanism is a small state machine driven by :class:`ZmtpConnection`:
:meth:`Mechanism.start` runs once the greetings are exchanged, then
:meth:`Mechanism.process` takes each handshake command from the peer. Both
append the commands to send to :attr:`Mechanism.output` and return True once
the handshake is complete.

A server that needs its ZAP handler's verdict sets :attr:`zap_request` and
stops; the connection processes no more commands until the engine, which owns
the I/O, answers through :meth:`zap_answered`. The policy for a missing
handler differs per mechanism (:meth:`_no_zap_handler`), as in libzmq, and
so does what ``ZAP_ENFORCE_DOMAIN`` changes: NULL asks only with a domain and,
enforcing, fails without a handler; CURVE, enforcing, asks only with a domain
and then needs a handler; PLAIN always needs one.
"""

from ..constants import ProtocolError
from .errors import ZapRefused, ZapUnavailable, ZmtpError, ZmtpPeerError
from .framing import command_name, encode_command
from .metadata import decode_properties

SILENT_STATUS = b"300"


class Mechanism:
    """Base class: subclasses set ``name`` and implement ``start`` and ``process``."""

    name = b"NULL"
    as_server = False

    def __init__(self, config, properties):
        self.config = config
        self.properties = properties
        self.output = []
        self.complete = False
        self.peer_metadata = None
        # (mechanism name, credential frames) while the ZAP handler's verdict is awaited.
        self.zap_request = None
        # Properties an admitting ZAP reply adds to the peer's metadata (User-Id and its metadata).
        self.zap_properties = []
        # The traffic codec once the handshake is complete (CURVE), else None.
        self.codec = None
        # Set by the connection: checks the peer's metadata (its socket type), raising if unfit.
        self.check_metadata = None

    def start(self):
        """Called once the greetings are exchanged; returns ``complete``."""
        raise NotImplementedError

    def process(self, name, data):
        """Handle one handshake command from the peer; returns ``complete``."""
        raise NotImplementedError

    # -- helpers --------------------------------------------------------

    def split_command(self, body):
        """(name, data) of a handshake command body."""
        return command_name(body)

    def accept_metadata(self, data):
        """Decode and check the peer's metadata (READY or INITIATE body); it becomes ``peer_metadata``."""
        metadata = decode_properties(data)
        if self.check_metadata is not None:
            self.check_metadata(metadata)
        self.peer_metadata = metadata

    def send_command(self, name, data=b""):
        self.output.append(encode_command(name, data))

    def unexpected(self, name, data):
        """A command that has no place at this point of the handshake (ERROR is the peer refusing us)."""
        if name == b"ERROR":
            raise ZmtpPeerError(error_reason(data))
        raise ZmtpError(f"unexpected command {name!r} in {self.name.decode()} handshake",
                        ProtocolError.ZMTP_UNEXPECTED_COMMAND)

    # -- ZAP ------------------------------------------------------------

    def ask_zap(self, credentials):
        self.zap_request = (self.name, list(credentials))

    def zap_answered(self, reply):
        """The handler's :class:`~greenmq.zmtp.zap.ZapReply`, or None when no handler is bound.
        Returns ``complete``."""
        self.zap_request = None
        if reply is None:
            self._no_zap_handler()
        elif reply.admitted:
            # libzmq sets User-Id for every ZAP-admitted peer, even when it is empty.
            self.zap_properties.append(("User-Id", reply.user_id))
            self.zap_properties.extend(reply.metadata.items())
            self._zap_admitted()
        else:
            self._zap_refused(reply.status)
        return self.complete

    def _zap_refused(self, status):
        """The handler refused the peer: an ERROR with the status (none for 300), then the end."""
        if status != SILENT_STATUS:
            self.output.append(encode_error(status.decode("ascii")))
        raise ZapRefused(status)

    def _no_zap_handler(self):
        """Default (NULL, CURVE): without a handler every peer is admitted, unless
        ZAP_ENFORCE_DOMAIN says a handler must answer (libzmq's EFAULT failure)."""
        if self.config.zap_enforce_domain:
            raise ZapUnavailable("ZAP_ENFORCE_DOMAIN is set and no ZAP handler is bound at inproc://zeromq.zap.01")
        self._zap_admitted()

    def _zap_admitted(self):
        raise NotImplementedError


def error_reason(data):
    """The reason text of an ERROR command body (after the name)."""
    if not data or data[0] + 1 > len(data):
        raise ZmtpError("malformed ERROR command", ProtocolError.ZMTP_MALFORMED_COMMAND_ERROR)
    return bytes(data[1:1 + data[0]]).decode("ascii", "replace")


def encode_error(reason):
    """An ERROR command frame with ``reason`` (truncated to 255 bytes)."""
    raw = reason.encode("ascii", "replace")[:255]
    return encode_command(b"ERROR", bytes((len(raw),)) + raw)

"""A ZMTP 3.x connection as a pure state machine (no I/O, no clocks).

The engine feeds received bytes to :meth:`ZmtpConnection.receive`, which
returns the messages they completed, and sends whatever
:meth:`data_to_send` returns. Failures raise :class:`ZmtpError`; if the
failure deserves an ERROR command, it is queued in the output before the
exception is raised so that the engine can flush it and close.

States: ``GREETING`` → ``HANDSHAKE`` (mechanism commands) → ``READY``
(traffic: messages, PING/PONG, SUBSCRIBE/CANCEL).
"""

from ..constants import ProtocolError
from .errors import ZmtpError, ZmtpPeerError
from .frames import FrameDecoder, encode_command, encode_messages
from .greeting import GREETING_SIZE, Greeting, check_partial_greeting, make_greeting
from .null import NullMechanism, encode_error, error_reason
from .sockettypes import compatible

GREETING = "GREETING"
HANDSHAKE = "HANDSHAKE"
READY = "READY"

# Socket types that announce an Identity property, as libzmq does.
_SENDS_IDENTITY = (b"REQ", b"DEALER", b"ROUTER")
_PING_CONTEXT_MAX = 16


def command_name(body):
    """Split a command body into (name, data)."""
    if not body or body[0] + 1 > len(body):
        raise ZmtpError("malformed command frame", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
    size = body[0]
    return bytes(body[1:1 + size]), body[1 + size:]


class ZmtpConnection:
    """One side of a ZMTP 3.x conversation.

    ``socket_type`` is our wire type (b"PUSH" ...), ``identity`` the routing id
    we announce, ``metadata`` extra (name, value) properties (``ZMQ_METADATA``),
    ``max_message_size`` is ``MAXMSGSIZE`` (-1 for no limit).
    """

    def __init__(self, socket_type, identity=b"", metadata=(), max_message_size=-1, mechanism=None):
        self.socket_type = socket_type
        properties = [("Socket-Type", socket_type)]
        if socket_type in _SENDS_IDENTITY:
            properties.append(("Identity", identity))
        properties.extend(metadata)
        self.mechanism = mechanism if mechanism is not None else NullMechanism(properties)
        self.state = GREETING
        self.peer_greeting = None
        self.peer_metadata = None
        self.peer_minor = None
        self.peer_ttl = 0
        self.pongs_received = 0
        self.subscriptions = []
        self._decoder = FrameDecoder(max_message_size, pause_on_command=True)
        self._greeting_buffer = b""
        self._output = [make_greeting(self.mechanism.name)]

    # -- output ---------------------------------------------------------

    def data_to_send(self):
        """Bytes the protocol wants on the wire (greeting, handshake, PONG, ERROR); clears them."""
        if not self._output:
            return b""
        data = b"".join(self._output)
        self._output = []
        return data

    @property
    def has_output(self):
        return bool(self._output)

    def encode_messages(self, messages, out):
        """Append the wire form of ``messages`` to ``out``; returns (byte count, large frame count).

        Subscriptions become commands for ZMTP 3.1 peers and messages for 3.0 peers."""
        return encode_messages(messages, out, subscription_commands=bool(self.peer_minor))

    def ping(self, ttl_deciseconds=0, context=b""):
        """Queue a PING command."""
        self._output.append(encode_command(b"PING", ttl_deciseconds.to_bytes(2, "big") + context))

    def fail(self, reason, code=ProtocolError.ZMTP_UNSPECIFIED):
        """Queue an ERROR command for the peer and raise the matching exception."""
        self._output.append(encode_error(reason))
        raise ZmtpError(reason, code)

    # -- input ----------------------------------------------------------

    @property
    def decoder(self):
        return self._decoder

    def receive(self, data):
        """Consume bytes from the peer; return the list of messages they completed."""
        if self.state is READY:
            messages = self._decoder.feed(data)
            if self._decoder.commands:
                self._traffic_commands()
            return messages
        if self.state is GREETING:
            data = self._receive_greeting(data)
            if data is None:
                return []
        return self._continue_handshake(self._decoder.feed(data))

    def _continue_handshake(self, messages):
        decoder = self._decoder
        while self.state is HANDSHAKE:
            if messages:
                raise ZmtpError("message received before the handshake completed",
                                ProtocolError.ZMTP_UNEXPECTED_COMMAND)
            if not decoder.commands:
                return []
            name, data = command_name(decoder.commands.pop(0))
            if self.mechanism.process(name, data):
                self._handshake_done()
            messages = decoder.feed(b"")
        if decoder.commands:
            self._traffic_commands()
        return messages

    def _receive_greeting(self, data):
        buffered = self._greeting_buffer + data
        check_partial_greeting(buffered)
        if len(buffered) < GREETING_SIZE:
            self._greeting_buffer = buffered
            return None
        self._greeting_buffer = b""
        greeting = Greeting(buffered[:GREETING_SIZE])
        greeting.check_mechanism(self.mechanism.name)
        self.peer_greeting = greeting
        self.peer_minor = greeting.minor
        self.state = HANDSHAKE
        self._output.append(self.mechanism.start())
        return buffered[GREETING_SIZE:]

    def _handshake_done(self):
        metadata = self.mechanism.peer_metadata
        peer_type = metadata.get("Socket-Type")
        if peer_type is None:
            self.fail("peer did not announce its Socket-Type", ProtocolError.ZMTP_INVALID_METADATA)
        if not compatible(self.socket_type, peer_type):
            self.fail(f"socket type {peer_type.decode('ascii', 'replace')} cannot talk to "
                      f"{self.socket_type.decode()}", ProtocolError.ZMTP_INVALID_METADATA)
        self.peer_metadata = metadata
        self.state = READY
        self._decoder.pause_on_command = False

    def _traffic_commands(self):
        commands = self._decoder.commands
        self._decoder.commands = []
        for body in commands:
            name, data = command_name(body)
            if name == b"PING":
                if len(data) < 2:
                    raise ZmtpError("malformed PING", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
                self.peer_ttl = int.from_bytes(data[:2], "big")
                self._output.append(encode_command(b"PONG", bytes(data[2:2 + _PING_CONTEXT_MAX])))
            elif name == b"PONG":
                self.pongs_received += 1
            elif name == b"SUBSCRIBE":
                self.subscriptions.append((True, bytes(data)))
            elif name == b"CANCEL":
                self.subscriptions.append((False, bytes(data)))
            elif name == b"ERROR":
                raise ZmtpPeerError(error_reason(data))
            # libzmq silently drops any other command after the handshake.

"""A ZMTP 3.x connection as a pure state machine (no I/O, no clocks).

The engine feeds received bytes to :meth:`ZmtpConnection.receive`, which
returns the messages they completed, takes everything else the peer said
(subscriptions, PING, PONG) from :meth:`take_events`, and sends whatever
:meth:`data_to_send` returns. Failures raise :class:`ZmtpError`; if the
failure deserves an ERROR command, it is queued in the output before the
exception is raised so that the engine can flush it and close.

States: ``GREETING`` → ``HANDSHAKE`` (mechanism commands) → ``READY``
(traffic: messages, PING/PONG, SUBSCRIBE/CANCEL). The greeting goes out in
stages (see :mod:`~greenmq.zmtp.greeting`); a peer whose first bytes show
ZMTP 2.0 or 1.0 leads to ``DOWNGRADED``: :attr:`ZmtpConnection.downgraded`
is then the :class:`~greenmq.zmtp.legacy.LegacyConnection` that carries on,
and the engine talks to it from then on.
"""

from ..constants import ProtocolError
from .curve import MESSAGE_OVERHEAD
from .errors import ZmtpError, ZmtpPeerError, ZmtpVersionError
from .events import Ping, Pong
from .framing import (FrameDecoder, GroupCommand, Subscription, command_name, encode_command, encode_message,
                      encode_messages)
from .greeting import (
    GREETING_SIZE, REVISION_POS, SIGNATURE_SIZE, UNVERSIONED, Greeting, is_legacy, make_greeting, peer_revision,
)
from .legacy import LegacyConnection, refusal
from .mechanism import encode_error, error_reason
from .security import NULL_SECURITY
from .sockettypes import compatible

GREETING = "GREETING"
HANDSHAKE = "HANDSHAKE"
READY = "READY"
DOWNGRADED = "DOWNGRADED"

# Socket types that announce an Identity property, as libzmq does.
_SENDS_IDENTITY = (b"REQ", b"DEALER", b"ROUTER")
_PING_CONTEXT_MAX = 16


class ZmtpConnection:
    """One side of a ZMTP 3.x conversation.

    ``socket_type`` is our wire type (b"PUSH" ...), ``identity`` the routing id
    we announce, ``metadata`` extra (name, value) properties (``ZMQ_METADATA``),
    ``max_message_size`` is ``MAXMSGSIZE`` (-1 for no limit), ``security`` a
    :class:`~greenmq.zmtp.security.SecurityConfig` (NULL when omitted), ``hello`` a
    message sent ahead of all others once the handshake is done (libzmq's HELLO_MSG).

    While a server mechanism waits for its ZAP handler, :attr:`zap_request` is
    set and received commands wait in the decoder; the engine asks the handler
    and passes the answer to :meth:`zap_reply`.
    """

    # A ZMTP 3.x connection (a LegacyConnection says True): a mechanism, heartbeats.
    legacy = False
    # How a writer joins messages a publisher already encoded (see greenmq._pipe.WirePipe):
    # they are in this connection's wire form.
    join_encoded = staticmethod(b"".join)

    def __init__(self, socket_type, identity=b"", metadata=(), max_message_size=-1, security=NULL_SECURITY,
                 hello=b""):
        self.socket_type = socket_type
        self._hello = hello  # HELLO_MSG: the first message, sent as the handshake completes
        # A RADIO takes JOIN and LEAVE from its DISH peers; other types drop them, as libzmq's sessions do.
        self._takes_groups = socket_type == b"RADIO"
        properties = [("Socket-Type", socket_type)]
        if socket_type in _SENDS_IDENTITY:
            properties.append(("Identity", identity))
        properties.extend(metadata)
        self.mechanism = security.create(properties)
        self.mechanism.check_metadata = self._check_peer_metadata
        self.codec = None
        self.state = GREETING
        self.peer_metadata = None
        self.peer_minor = None
        self.downgraded = None  # the LegacyConnection that took over from a ZMTP 2.0/1.0 peer
        self._identity = identity
        self._max_message_size = max_message_size
        self._events = []
        self._decoder = FrameDecoder(max_message_size, pause_on_command=True)
        self._greeting_buffer = b""
        self._greeting = make_greeting(self.mechanism.name, self.mechanism.as_server, identity_size=len(identity))
        self._greeting_sent = SIGNATURE_SIZE
        self._output = [self._greeting[:SIGNATURE_SIZE]]

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
        if self.codec is not None:
            return self.codec.seal_messages(messages, out, subscription_commands=bool(self.peer_minor))
        return encode_messages(messages, out, subscription_commands=bool(self.peer_minor))

    def encode_message(self, msg):
        """The wire form of one message (not a subscription), as ``bytes``."""
        if self.codec is not None:
            chunks = []
            self.codec.seal_messages((msg,), chunks)
            return b"".join(chunks)
        return encode_message(msg)

    def ping(self, ttl_deciseconds=0, context=b""):
        """Queue a PING command."""
        self._queue_command(b"PING", ttl_deciseconds.to_bytes(2, "big") + context)

    def _queue_command(self, name, data):
        """A traffic command: sealed in a MESSAGE when the mechanism encrypts."""
        if self.codec is not None:
            self._output.append(self.codec.seal_command(bytes((len(name),)) + name + data))
        else:
            self._output.append(encode_command(name, data))

    @property
    def zap_request(self):
        """(mechanism, credential frames) while the mechanism awaits the ZAP handler, else None."""
        return self.mechanism.zap_request

    def zap_reply(self, reply):
        """The ZAP handler's :class:`~greenmq.zmtp.zap.ZapReply`, or None when no handler is bound.

        Returns the messages that completed meanwhile (always none: data before
        the handshake is an error). Raises ``ZapRefused`` when the peer is refused.
        """
        try:
            done = self.mechanism.zap_answered(reply)
        finally:
            self._take_mechanism_output()  # an ERROR for a refused peer, too
        if done:
            self._handshake_done()
        # Commands that arrived meanwhile come first; only then may the decoder read on.
        return self._continue_handshake([] if self._decoder.commands else self._decoder.feed(b""))

    def fail(self, reason, code=ProtocolError.ZMTP_UNSPECIFIED):
        """Queue an ERROR command for the peer and raise the matching exception."""
        self._output.append(encode_error(reason))
        raise ZmtpError(reason, code)

    # -- input ----------------------------------------------------------

    def take_events(self):
        """Everything the peer said since the last call besides messages, in arrival order:
        :class:`Subscription`, :class:`GroupCommand` (to a RADIO), :class:`~greenmq.zmtp.events.Ping`,
        :class:`~greenmq.zmtp.events.Pong`."""
        if not self._events:
            return ()
        events, self._events = self._events, []
        return events

    @property
    def idle(self):
        """True between messages: no partial frame or multipart message is held."""
        return self._decoder.idle

    def bytes_expected(self):
        """How many bytes the frame being received still misses (0 between frames): an
        engine reads a large frame's body in one piece into a buffer it reuses."""
        return self._decoder.body_remaining()

    def receive(self, data):
        """Consume bytes from the peer; return the list of messages they completed."""
        if self.state is READY:
            messages = self._decoder.feed(data)
            if self.codec is not None:
                messages = self.codec.open_messages(messages, self._decoder.commands)
            if self._decoder.commands:
                self._traffic_commands()
            return messages
        if self.state is GREETING:
            data = self._receive_greeting(data)
            if data is None:
                if self.downgraded is not None:  # it takes the peer's bytes from the first one
                    return self.downgraded.receive(self._take_greeting_buffer())
                return []
        elif self.state is DOWNGRADED:
            return self.downgraded.receive(data)
        return self._continue_handshake(self._decoder.feed(data))

    def _continue_handshake(self, messages):
        decoder = self._decoder
        while self.state is HANDSHAKE:
            if messages:
                raise ZmtpError("message received before the handshake completed",
                                ProtocolError.ZMTP_UNEXPECTED_COMMAND)
            if not decoder.commands or self.mechanism.zap_request is not None:
                return []
            name, data = self.mechanism.split_command(decoder.commands.pop(0))
            try:
                done = self.mechanism.process(name, data)
            finally:
                self._take_mechanism_output()
            if done:
                self._handshake_done()
            messages = decoder.feed(b"")
        if self.codec is not None:
            messages = self.codec.open_messages(messages, decoder.commands)
        if decoder.commands:
            self._traffic_commands()
        return messages

    def _take_mechanism_output(self):
        output = self.mechanism.output
        if output:
            self._output.extend(output)
            output.clear()

    def _send_greeting_up_to(self, size):
        """Queue our greeting up to byte ``size`` (the stages: after the peer's signature, the
        major version; after its revision, the rest)."""
        if self._greeting_sent < size:
            self._output.append(self._greeting[self._greeting_sent:size])
            self._greeting_sent = size

    def _receive_greeting(self, data):
        """The peer's greeting; the bytes after it, or None while it is incomplete (or when the
        peer turned out to speak ZMTP 2.0/1.0: see :attr:`downgraded`)."""
        buffered = self._greeting_buffer + data
        self._greeting_buffer = buffered
        revision = peer_revision(buffered)
        if revision is None:
            if len(buffered) >= SIGNATURE_SIZE:
                self._send_greeting_up_to(REVISION_POS + 1)
            return None
        if is_legacy(revision):
            self._downgrade(revision)
            return None
        self._send_greeting_up_to(GREETING_SIZE)
        if len(buffered) < GREETING_SIZE:
            return None
        self._greeting_buffer = b""
        greeting = Greeting(buffered[:GREETING_SIZE])
        greeting.check_mechanism(self.mechanism.name)
        self.peer_minor = greeting.minor
        self.state = HANDSHAKE
        done = self.mechanism.start()
        self._take_mechanism_output()
        if done:
            self._handshake_done()
        return buffered[GREETING_SIZE:]

    def _downgrade(self, revision):
        """The peer speaks ZMTP 2.0 or 1.0: a LegacyConnection carries on, as libzmq would."""
        reason = refusal(self.socket_type, self.mechanism.config)
        if reason is not None:
            raise ZmtpVersionError(reason)
        if revision != UNVERSIONED:
            self._send_greeting_up_to(REVISION_POS + 1)  # the peer waits for our revision first
        self.downgraded = LegacyConnection(self.socket_type, self._identity, self._max_message_size, revision,
                                           self._output, self._hello)
        self._output = []
        self.state = DOWNGRADED

    def _take_greeting_buffer(self):
        data, self._greeting_buffer = self._greeting_buffer, b""
        return data

    def _check_peer_metadata(self, metadata):
        """The peer's socket type must be able to talk to ours (ERROR, then close, if not).

        Mechanisms call this as soon as they decode the peer's metadata, before
        they answer: under PLAIN and CURVE a peer that cannot talk to us never
        gets our READY (under NULL both sides send READY at once, as in libzmq,
        and the ERROR follows it)."""
        peer_type = metadata.get("Socket-Type")
        if peer_type is None:
            self.fail("peer did not announce its Socket-Type", ProtocolError.ZMTP_INVALID_METADATA)
        if not compatible(self.socket_type, peer_type):
            self.fail(f"socket type {peer_type.decode('ascii', 'replace')} cannot talk to "
                      f"{self.socket_type.decode()}", ProtocolError.ZMTP_INVALID_METADATA)

    def _handshake_done(self):
        metadata = self.mechanism.peer_metadata
        for name, value in self.mechanism.zap_properties:
            metadata.set(name, value)
        self.peer_metadata = metadata
        self.state = READY
        self._decoder.pause_on_command = False
        self.codec = self.mechanism.codec
        if self._hello:
            self._output.append(self.encode_message(self._hello))
        if self.codec is not None and self._decoder.max_size >= 0:
            # MAXMSGSIZE limits the payload; a MESSAGE adds its name, nonce, MAC and flags.
            self._decoder.max_size += MESSAGE_OVERHEAD

    def _traffic_commands(self):
        commands = self._decoder.commands
        self._decoder.commands = []
        for body in commands:
            name, data = command_name(body)
            if name == b"PING":
                if len(data) < 2:
                    raise ZmtpError("malformed PING", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
                self._events.append(Ping(int.from_bytes(data[:2], "big")))
                self._queue_command(b"PONG", bytes(data[2:2 + _PING_CONTEXT_MAX]))
            elif name == b"PONG":
                self._events.append(Pong())
            elif name == b"SUBSCRIBE":
                self._events.append(Subscription(True, bytes(data)))
            elif name == b"CANCEL":
                self._events.append(Subscription(False, bytes(data)))
            elif (name == b"JOIN" or name == b"LEAVE") and self._takes_groups:
                self._events.append(GroupCommand(name == b"JOIN", bytes(data)))
            elif name == b"ERROR":
                raise ZmtpPeerError(error_reason(data))
            # libzmq silently drops any other command after the handshake.

"""ZMTP 2.0 and 1.0 peers (RFC 15, RFC 13), served as libzmq serves them.

:class:`~greenmq.zmtp.ZmtpConnection` stages its greeting (see
:mod:`~greenmq.zmtp.greeting`); when the peer's first bytes show an older
revision, it hands over to a :class:`LegacyConnection`, which finishes the
greeting and carries the traffic. There is no security mechanism, so no
handshake commands, no metadata, no heartbeats and no commands at all:

- ZMTP 2.0 (revision 1): each side sends its socket-type byte after the
  revision, then its identity as a frame ``00 <len> <id>``. Frames are 3.x
  data frames (flags, then a 1- or 8-byte size), so the 3.x codec serves
  them as they are; a frame with the 3.x COMMAND bit is dropped, as libzmq
  drops it.
- ZMTP 1.0: the peer's identity frame is its whole greeting, and our
  signature was the header of ours (length "identity + 1", flags 7F): only
  the identity's body follows. Frames use the 1.0 framing
  (:mod:`~greenmq.zmtp.framing_v1`). libzmq also reads revision 0 as 1.0
  framing after a 2.0-style greeting, and so does greenmq.

The peer's identity becomes its ``Identity`` property (a ROUTER's routing id,
or a generated one when it is empty). Subscriptions travel as messages
(``0x01``/``0x00`` + topic) both ways. A 1.0 subscriber sends none, so a PUB
or XPUB subscribes it to everything, as libzmq does. libzmq checks no socket
type for these peers, and neither does greenmq; it refuses them when ZAP is
on (a mechanism other than NULL, or a ZAP domain set), as libzmq does, and
for socket types that did not exist in those revisions.
"""

from ..constants import SocketType
from . import framing, framing_v1
from .errors import MessageTooLarge, ZmtpError
from .framing import LONG, FrameDecoder, Subscription
from .greeting import UNVERSIONED, ZMTP_2_0
from .metadata import Metadata

HANDSHAKE = "HANDSHAKE"
READY = "READY"

# The socket-type byte of a 2.0 greeting: libzmq's socket type number (XPUB and XSUB included).
TYPE_NUMBERS = {name.encode(): SocketType[name].value for name in (
    "PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB")}
_VERSIONED_GREETING_SIZE = 12  # signature, revision, socket type
MAX_IDENTITY = 255


def refusal(socket_type, security):
    """Why a socket of wire type ``socket_type`` with ``security`` (a
    :class:`~greenmq.zmtp.security.SecurityConfig`) must refuse a ZMTP 2.0/1.0 peer; None if it
    may serve it."""
    if security.mechanism != b"NULL" or security.zap_domain:
        return "a ZMTP 2.0/1.0 peer is refused while ZAP is on (a mechanism other than NULL, or a ZAP domain)"
    if socket_type not in TYPE_NUMBERS:
        return f"a {socket_type.decode()} socket cannot talk to a ZMTP 2.0/1.0 peer"
    return None


def _split_header_v2(data, pos=0):
    """``(header size, body size)`` of the 2.0 frame at ``data[pos]``; None until complete."""
    if pos >= len(data):
        return None
    if data[pos] & LONG:
        if pos + 9 > len(data):
            return None
        return 9, int.from_bytes(data[pos + 1:pos + 9], "big")
    if pos + 2 > len(data):
        return None
    return 2, data[pos + 1]


class _Framing2:
    """ZMTP 2.0: the 3.x data framing, subscriptions as messages."""

    decoder = FrameDecoder
    frame_header = staticmethod(framing.frame_header)
    split_header = staticmethod(_split_header_v2)
    encode_message = staticmethod(framing.encode_message)
    join_encoded = staticmethod(b"".join)  # a publisher's 3.x wire bytes are 2.0 wire bytes

    @staticmethod
    def encode_messages(messages, out):
        return framing.encode_messages(messages, out, subscription_commands=False)


class _Framing1:
    """ZMTP 1.0: length (counting the flags) first, then flags."""

    decoder = framing_v1.FrameDecoder1
    frame_header = staticmethod(framing_v1.frame_header)
    split_header = staticmethod(framing_v1.split_header)
    encode_message = staticmethod(framing_v1.encode_message)
    encode_messages = staticmethod(framing_v1.encode_messages)
    join_encoded = staticmethod(framing_v1.transcode)


class LegacyConnection:
    """The rest of a ZMTP 2.0 or 1.0 conversation, after the peer's revision became known.

    It has the traffic interface of :class:`~greenmq.zmtp.ZmtpConnection`
    (``receive``, ``take_events``, ``data_to_send``, ``encode_messages`` ...),
    so the engine's reader and writer drive either. ``revision`` is what
    :func:`~greenmq.zmtp.greeting.peer_revision` said; ``output`` what the
    3.x connection had queued and not yet handed out; ``identity`` our routing id;
    ``hello`` our HELLO_MSG, the first message once the peer's identity is in (libzmq's
    session sends it whatever the peer's revision).

    States: ``HANDSHAKE`` (the rest of the peer's greeting and its identity frame) →
    ``READY``.
    """

    # No mechanism: no HANDSHAKE_SUCCEEDED event, no heartbeats (libzmq starts neither).
    legacy = True
    zap_request = None

    def __init__(self, socket_type, identity, max_message_size, revision, output=(), hello=b""):
        self.revision = revision
        self._hello = hello
        self._framing = _Framing2 if revision == ZMTP_2_0 else _Framing1
        self.state = HANDSHAKE
        self.peer_metadata = None
        self.peer_socket_type = None  # the number a versioned peer announced (never checked)
        self._max_size = max_message_size
        self._decoder = self._framing.decoder(max_message_size)
        self._events = []
        self._buffer = b""
        self._output = list(output)
        if revision == UNVERSIONED:
            # Our signature was read as the header of our identity frame: its body follows.
            self._output.append(identity)
            self._peer_greeting_size = 0
            self._subscribe_all = socket_type in (b"PUB", b"XPUB")
        else:
            self._output.append(bytes((TYPE_NUMBERS[socket_type],))
                                + self._framing.frame_header(len(identity)) + identity)
            self._peer_greeting_size = _VERSIONED_GREETING_SIZE
            self._subscribe_all = False

    # -- output ---------------------------------------------------------

    def data_to_send(self):
        """Bytes the protocol wants on the wire (the rest of the greeting); clears them."""
        if not self._output:
            return b""
        data = b"".join(self._output)
        self._output = []
        return data

    @property
    def has_output(self):
        return bool(self._output)

    def encode_messages(self, messages, out):
        """Append the wire form of ``messages`` to ``out``; returns (byte count, large frame count)."""
        return self._framing.encode_messages(messages, out)

    def encode_message(self, msg):
        """The wire form of one message (not a subscription), as ``bytes``."""
        return self._framing.encode_message(msg)

    def join_encoded(self, batch):
        """Messages a publisher encoded in the 3.x wire form, as this connection's wire bytes."""
        return self._framing.join_encoded(batch)

    # -- input ----------------------------------------------------------

    def take_events(self):
        """The peer's implicit subscription (a 1.0 subscriber's), once; else nothing."""
        if not self._events:
            return ()
        events, self._events = self._events, []
        return events

    @property
    def idle(self):
        """True between messages: no partial frame or multipart message is held."""
        return self.state is READY and self._decoder.idle

    def bytes_expected(self):
        """How many bytes the frame being received still misses (0 between frames)."""
        return self._decoder.body_remaining()

    def receive(self, data):
        """Consume bytes from the peer; return the list of messages they completed."""
        if self.state is not READY:
            data = self._receive_greeting(data)
            if data is None:
                return []
        decoder = self._decoder
        messages = decoder.feed(data)
        if decoder.commands:
            decoder.commands.clear()  # no commands before 3.0: libzmq drops such frames too
        return messages

    def _receive_greeting(self, data):
        """The rest of the peer's greeting and its identity frame; the bytes after them, or None
        while they are incomplete."""
        buffered = self._buffer + bytes(data)
        start = self._peer_greeting_size
        header = self._framing.split_header(buffered, start)
        if header is not None:
            header_size, size = header
            if size > MAX_IDENTITY:
                raise ZmtpError(f"identity frame of {size} bytes (at most {MAX_IDENTITY})")
            if 0 <= self._max_size < size:
                raise MessageTooLarge(f"identity frame of {size} bytes exceeds MAXMSGSIZE {self._max_size}")
            end = start + header_size + size
            if len(buffered) >= end:
                self._buffer = b""
                self._greeted(bytes(buffered[:start]), bytes(buffered[start + header_size:end]))
                return buffered[end:]
        self._buffer = buffered
        return None

    def _greeted(self, greeting, identity):
        if greeting:
            self.peer_socket_type = greeting[_VERSIONED_GREETING_SIZE - 1]
        self.peer_metadata = Metadata([("Identity", identity)])
        if self._subscribe_all:
            self._events.append(Subscription(True, b""))
        self.state = READY
        if self._hello:
            self._output.append(self.encode_message(self._hello))

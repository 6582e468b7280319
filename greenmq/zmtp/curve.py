"""The CURVE mechanism (ZeroMQ RFC 25/26, CurveZMQ) as libzmq implements it.

Handshake (sizes include the 1-byte name length; see the wire checklist):

- client → HELLO (200 bytes): version 1.0, 72 zero bytes, the client's
  ephemeral key C′, a short nonce and Box[64 zero bytes](C′→S).
- server → WELCOME (168 bytes): a long nonce and Box[S′ + cookie](S→C′). The
  cookie is the server's own memory of C′ and s′, sealed under a key only it
  knows, so the server keeps nothing per client until INITIATE.
- client → INITIATE: the cookie, a short nonce and Box[C + vouch + metadata](C′→S′);
  the vouch, Box[C′ + S](C→S′), proves the permanent key C belongs to C′.
- server → READY: a short nonce and Box[metadata](S′→C′).

After that every ZMTP frame, commands included, travels as a MESSAGE: a short
nonce and Box[flags + body](C′↔S′), where flag bit 0 is MORE and bit 1 is
COMMAND (a libzmq extension). Short nonces are a per-direction counter kept
for the whole connection, starting at 1 (HELLO is the client's 1); a peer's
nonces must strictly increase, which is what defeats replays.

Anything malformed -- a wrong size, a box that does not open, a nonce that
does not increase -- fails the handshake or the connection without an ERROR
reply, as RFC 26 asks for MESSAGE and as libzmq does throughout.
"""

import struct

from ..constants import ProtocolError
from . import crypto
from .errors import ZmtpError
from .framing import LONG, MORE, GroupCommand, Subscription
from .mechanism import Mechanism
from .metadata import encode_properties

HELLO_SIZE = 200 - 6  # body after b"\x05HELLO"
WELCOME_SIZE = 168 - 8
INITIATE_MIN = 257 - 9
READY_MIN = 30 - 6
COOKIE_SIZE = 96
VOUCH_SIZE = 96

HELLO_PREFIX = b"CurveZMQHELLO---"
WELCOME_PREFIX = b"WELCOME-"
COOKIE_PREFIX = b"COOKIE--"
INITIATE_PREFIX = b"CurveZMQINITIATE"
VOUCH_PREFIX = b"VOUCH---"
READY_PREFIX = b"CurveZMQREADY---"
CLIENT_MESSAGE_PREFIX = b"CurveZMQMESSAGEC"
SERVER_MESSAGE_PREFIX = b"CurveZMQMESSAGES"

COMMAND_FLAG = 0x02
MESSAGE_NAME = b"\x07MESSAGE"
# What a MESSAGE adds to a frame's body: name (8), short nonce (8), MAC (16), flags (1).
MESSAGE_OVERHEAD = 33
_NONCE = struct.Struct(">Q")
# A short frame's header and the MESSAGE name, by frame size.
_SHORT_HEAD = [bytes((0, n)) + MESSAGE_NAME for n in range(256)]
_LONG_HEADER = struct.Struct(">BQ")
# The classic NaCl layout (see crypto.PLAIN_ZEROS): zeros before a MAC, and before a plaintext.
_BOX_ZEROS, _PLAIN_ZEROS = crypto.BOX_ZEROS, crypto.PLAIN_ZEROS
_BOX_PADDING = bytes(_BOX_ZEROS)
# Received frames up to this size are opened in a scratch buffer shared by a batch.
_SCRATCH_SIZE = 8192
# Bodies at least this long are handed to the writer as views of their own buffer.
_LARGE = 65536


def _crypto_error(what, code=ProtocolError.ZMTP_CRYPTOGRAPHIC):
    return ZmtpError(f"CURVE: {what}", code)


def _shared_key(public, secret):
    key = crypto.shared_key(public, secret)
    if key is None:
        raise _crypto_error("peer sent a low-order public key")
    return key


class _CurveMechanism(Mechanism):
    name = b"CURVE"

    def __init__(self, config, properties):
        crypto.require()
        super().__init__(config, properties)
        self._nonce = 1  # our next short nonce
        self._peer_nonce = 0  # the last short nonce the peer used
        self._session_key = None  # precomputed C′/S′ key once known

    def _next_short_nonce(self):
        nonce = _NONCE.pack(self._nonce)
        self._nonce += 1
        return nonce

    def _check_peer_nonce(self, raw, code):
        value = _NONCE.unpack(raw)[0]
        if value <= self._peer_nonce:
            raise _crypto_error("nonce did not increase (replayed command?)", code)
        self._peer_nonce = value

    def _finish(self, prefix_out, prefix_in):
        self.codec = CurveCodec(self._session_key, prefix_out, prefix_in, self._nonce, self._peer_nonce)
        self.complete = True


class CurveClient(_CurveMechanism):
    """The connecting side (``CURVE_SERVER`` = 0): needs ``CURVE_SERVERKEY`` and its own key pair."""

    def __init__(self, config, properties):
        super().__init__(config, properties)
        if len(config.server_key) != crypto.KEY_SIZE:
            raise _crypto_error("CURVE_SERVERKEY is not set", ProtocolError.ZMTP_KEY_EXCHANGE)
        self._public = config.public_key
        self._secret = config.secret_key
        self._ephemeral_public, self._ephemeral_secret = crypto.keypair()
        self._state = "hello sent"

    def start(self):
        short = self._next_short_nonce()
        key = _shared_key(self.config.server_key, self._ephemeral_secret)
        box = crypto.box(bytes(64), HELLO_PREFIX + short, key)
        self.send_command(b"HELLO", b"\x01\x00" + bytes(72) + self._ephemeral_public + short + bytes(box))
        return False

    def process(self, name, data):
        if self._state == "hello sent" and name == b"WELCOME":
            self._welcome(data)
            return False
        if self._state == "initiate sent" and name == b"READY":
            self._ready(data)
            return True
        return self.unexpected(name, data)

    def _welcome(self, data):
        if len(data) != WELCOME_SIZE:
            raise _crypto_error("WELCOME has the wrong size", ProtocolError.ZMTP_MALFORMED_COMMAND_WELCOME)
        key = _shared_key(self.config.server_key, self._ephemeral_secret)
        plaintext = crypto.unbox(data[16:], WELCOME_PREFIX + bytes(data[:16]), key)
        if plaintext is None:
            raise _crypto_error("WELCOME box does not open (wrong server key?)")
        server_ephemeral = bytes(plaintext[:32])
        cookie = bytes(plaintext[32:])
        self._session_key = _shared_key(server_ephemeral, self._ephemeral_secret)

        vouch_nonce = crypto.random_bytes(16)
        vouch_key = _shared_key(server_ephemeral, self._secret)
        vouch = vouch_nonce + bytes(crypto.box(self._ephemeral_public + self.config.server_key,
                                               VOUCH_PREFIX + vouch_nonce, vouch_key))
        short = self._next_short_nonce()
        plaintext = self._public + vouch + encode_properties(self.properties)
        box = crypto.box(plaintext, INITIATE_PREFIX + short, self._session_key)
        self.send_command(b"INITIATE", cookie + short + bytes(box))
        self._state = "initiate sent"

    def _ready(self, data):
        if len(data) < READY_MIN:
            raise _crypto_error("READY is too short", ProtocolError.ZMTP_MALFORMED_COMMAND_READY)
        short = bytes(data[:8])
        plaintext = crypto.unbox(data[8:], READY_PREFIX + short, self._session_key)
        if plaintext is None:
            raise _crypto_error("READY box does not open")
        self._check_peer_nonce(short, ProtocolError.ZMTP_MALFORMED_COMMAND_READY)
        self.accept_metadata(plaintext)
        self._finish(CLIENT_MESSAGE_PREFIX, SERVER_MESSAGE_PREFIX)


class CurveServer(_CurveMechanism):
    """The accepting side (``CURVE_SERVER`` = 1): needs its secret key; asks ZAP about client keys."""

    as_server = True

    def __init__(self, config, properties):
        super().__init__(config, properties)
        if len(config.secret_key) != crypto.KEY_SIZE:
            raise _crypto_error("CURVE_SECRETKEY is not set", ProtocolError.ZMTP_KEY_EXCHANGE)
        # Derived, not read from CURVE_PUBLICKEY: clients box to the key that matches our secret.
        self._public = crypto.public_key(config.secret_key)
        self._cookie_key = crypto.random_bytes(32)
        self._client_ephemeral = None
        self._state = "waiting for hello"

    def start(self):
        return False

    def process(self, name, data):
        if self._state == "waiting for hello" and name == b"HELLO":
            self._hello(data)
            return False
        if self._state == "welcome sent" and name == b"INITIATE":
            self._initiate(data)
            return self.complete
        return self.unexpected(name, data)

    def _hello(self, data):
        code = ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO
        if len(data) != HELLO_SIZE:
            raise _crypto_error("HELLO has the wrong size", code)
        if data[0] != 1 or data[1] != 0:
            raise _crypto_error(f"HELLO has CurveZMQ version {data[0]}.{data[1]}", code)
        client_ephemeral = bytes(data[74:106])
        short = bytes(data[106:114])
        key = _shared_key(client_ephemeral, self.config.secret_key)
        if crypto.unbox(data[114:], HELLO_PREFIX + short, key) is None:
            raise _crypto_error("HELLO box does not open")
        self._check_peer_nonce(short, code)
        self._client_ephemeral = client_ephemeral

        # The ephemeral secret leaves this object inside the cookie and comes back in INITIATE.
        ephemeral_public, ephemeral_secret = crypto.keypair()
        cookie_nonce = crypto.random_bytes(16)
        cookie = cookie_nonce + crypto.secretbox(client_ephemeral + ephemeral_secret,
                                                 COOKIE_PREFIX + cookie_nonce, self._cookie_key)
        welcome_nonce = crypto.random_bytes(16)
        box = crypto.box(ephemeral_public + cookie, WELCOME_PREFIX + welcome_nonce, key)
        self.send_command(b"WELCOME", welcome_nonce + bytes(box))
        self._state = "welcome sent"

    def _initiate(self, data):
        code = ProtocolError.ZMTP_MALFORMED_COMMAND_INITIATE
        if len(data) < INITIATE_MIN:
            raise _crypto_error("INITIATE is too short", code)
        cookie = bytes(data[:COOKIE_SIZE])
        opened = crypto.secretbox_open(cookie[16:], COOKIE_PREFIX + cookie[:16], self._cookie_key)
        if opened is None or opened[:32] != self._client_ephemeral:
            raise _crypto_error("INITIATE carries a cookie we did not make")
        ephemeral_secret = opened[32:]
        self._session_key = _shared_key(self._client_ephemeral, ephemeral_secret)

        short = bytes(data[COOKIE_SIZE:COOKIE_SIZE + 8])
        plaintext = crypto.unbox(data[COOKIE_SIZE + 8:], INITIATE_PREFIX + short, self._session_key)
        if plaintext is None:
            raise _crypto_error("INITIATE box does not open")
        self._check_peer_nonce(short, code)
        client_public = bytes(plaintext[:32])
        vouch = bytes(plaintext[32:32 + VOUCH_SIZE])
        vouch_key = _shared_key(client_public, ephemeral_secret)
        vouched = crypto.unbox(vouch[16:], VOUCH_PREFIX + vouch[:16], vouch_key)
        if vouched is None:
            raise _crypto_error("INITIATE vouch does not open")
        if vouched[:32] != self._client_ephemeral:
            raise _crypto_error("INITIATE vouch is for another connection", ProtocolError.ZMTP_KEY_EXCHANGE)
        if vouched[32:] != self._public:  # libzmq does not check this; RFC 26 says to
            raise _crypto_error("INITIATE vouch is for another server")
        self.accept_metadata(plaintext[32 + VOUCH_SIZE:])
        if self.config.zap_enforce_domain and not self.config.zap_domain:
            self._zap_admitted()  # libzmq: enforcing, ZAP is for a domain; without one, no question
            return
        self._state = "waiting for zap"
        self.ask_zap([client_public])

    def _zap_admitted(self):
        short = self._next_short_nonce()
        box = crypto.box(encode_properties(self.properties), READY_PREFIX + short, self._session_key)
        self.send_command(b"READY", short + bytes(box))
        self._finish(SERVER_MESSAGE_PREFIX, CLIENT_MESSAGE_PREFIX)


class CurveCodec:
    """Traffic after a CURVE handshake: every frame sealed in, and opened from, a MESSAGE command.

    Messages use the representation of :mod:`~greenmq.zmtp.framing`.
    """

    __slots__ = ("_key", "_prefix_out", "_prefix_in", "_nonce", "_peer_nonce", "_parts")

    def __init__(self, key, prefix_out, prefix_in, nonce, peer_nonce):
        self._key = key
        self._prefix_out = prefix_out
        self._prefix_in = prefix_in
        self._nonce = nonce
        self._peer_nonce = peer_nonce
        self._parts = []

    # -- sending --------------------------------------------------------

    def seal_frame(self, flags, body, out):
        """Append the wire bytes of one MESSAGE carrying ``body``; returns their length.

        The frame is built in one buffer in the classic NaCl layout (see
        :data:`~greenmq.zmtp.crypto.PLAIN_ZEROS`): header, 32 zero bytes, flags
        and body, sealed in place; then the name and nonce go into the 16 bytes
        before the MAC. The body is copied once. This runs once per frame sent,
        so it calls libsodium itself."""
        nonce = _NONCE.pack(self._nonce)
        self._nonce += 1
        plain_size = len(body) + 1
        size = plain_size + MESSAGE_OVERHEAD - 1
        head = _SHORT_HEAD[size] if size < 256 else _LONG_HEADER.pack(LONG, size) + MESSAGE_NAME
        start = len(head) - len(MESSAGE_NAME)  # where the box goes: after the frame's header
        plain_start = start + _PLAIN_ZEROS
        frame = bytearray(plain_start + plain_size)
        frame[plain_start] = flags
        frame[plain_start + 1:] = body
        at = crypto.from_buffer(frame) + start
        crypto.box_padded(at, at, plain_size + _PLAIN_ZEROS, self._prefix_out + nonce, self._key)
        frame[:start + 16] = head + nonce
        out.append(memoryview(frame) if size >= _LARGE else frame)
        return len(frame)

    def seal_command(self, body):
        """The wire bytes of a command (its length-prefixed name and data) inside a MESSAGE."""
        out = []
        self.seal_frame(COMMAND_FLAG, body, out)
        return b"".join(out)

    def seal_messages(self, messages, out, subscription_commands=True):
        """Like :func:`~greenmq.zmtp.framing.encode_messages`, encrypted: returns (bytes, large frames).

        A large frame is one :meth:`seal_frame` appended as a memoryview."""
        first = len(out)
        total = 0
        seal = self.seal_frame
        for msg in messages:
            if msg.__class__ is bytes:
                total += seal(0, msg, out)
            elif msg.__class__ is Subscription:
                if subscription_commands:
                    name = b"SUBSCRIBE" if msg.subscribe else b"CANCEL"
                    total += seal(COMMAND_FLAG, bytes((len(name),)) + name + msg.topic, out)
                else:
                    total += seal(0, msg.as_message(), out)
            elif msg.__class__ is GroupCommand:
                total += seal(COMMAND_FLAG, msg.command_body(), out)
            else:
                last = len(msg) - 1
                for index, body in enumerate(msg):
                    total += seal(MORE if index < last else 0, body, out)
        large_count = sum(chunk.__class__ is memoryview for chunk in out[first:])
        return total, large_count

    # -- receiving ------------------------------------------------------

    def open_messages(self, raw_messages, commands):
        """Decrypt the MESSAGE frames a :class:`FrameDecoder` produced.

        ``raw_messages`` are its messages, ``commands`` its command list (which
        a peer may have used for MESSAGE too); returns the plaintext messages and
        replaces the content of ``commands`` with the commands carried inside.

        This runs once per received frame, so the loop calls libsodium itself
        and keeps the codec's state in locals.
        """
        if commands or list in map(type, raw_messages):  # (a C-level scan: this runs per read)
            bodies = [frame for raw in raw_messages for frame in (raw if raw.__class__ is list else (raw,))]
            bodies.extend(commands)
        else:
            bodies = raw_messages
        messages = []
        inner_commands = []
        open_padded = crypto.open_padded
        from_buffer = crypto.from_buffer
        key = self._key
        prefix = self._prefix_in
        # Short nonces are compared as their 8 big-endian bytes: the same order as the numbers.
        peer_nonce = _NONCE.pack(self._peer_nonce)
        parts = self._parts
        overhead = MESSAGE_OVERHEAD - 1
        append = messages.append
        name, scratch_size = MESSAGE_NAME, _SCRATCH_SIZE
        # Frames are opened in place in the classic NaCl layout: a copy of the frame whose first
        # 16 bytes (name and nonce) are zero. Small ones share one scratch buffer, made for this
        # batch: its head stays zero (libsodium zeroes the 32 bytes before a plaintext it opens),
        # and a frame costs no allocation and no pointer of its own.
        scratch = scratch_view = scratch_pointer = None
        try:
            for body in bodies:
                size = len(body)
                if size - overhead < 1 or not body.startswith(name):
                    raise _crypto_error("expected a MESSAGE command", ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE)
                nonce = body[8:16]
                if nonce <= peer_nonce:
                    raise _crypto_error("MESSAGE nonce did not increase (replayed?)",
                                        ProtocolError.ZMTP_INVALID_SEQUENCE)
                if size <= scratch_size:
                    if scratch is None:
                        scratch = bytearray(scratch_size)
                        scratch_view = memoryview(scratch)
                        scratch_pointer = from_buffer(scratch)
                    scratch_view[_BOX_ZEROS:size] = memoryview(body)[_BOX_ZEROS:]
                    if open_padded(scratch_pointer, scratch_pointer, size, prefix + nonce, key):
                        raise _crypto_error("MESSAGE box does not open")
                    flags = scratch[_PLAIN_ZEROS]
                    payload = bytes(scratch_view[_PLAIN_ZEROS + 1:size])
                else:
                    box = bytearray(body)
                    box[:_BOX_ZEROS] = _BOX_PADDING
                    pointer = from_buffer(box)
                    if open_padded(pointer, pointer, size, prefix + nonce, key):
                        raise _crypto_error("MESSAGE box does not open")
                    flags = box[_PLAIN_ZEROS]
                    del pointer  # (it holds the buffer, which cannot change size while it does)
                    del box[:_PLAIN_ZEROS + 1]  # cheap: a bytearray drops its head by moving its start
                    payload = bytes(box)
                peer_nonce = nonce
                if not flags and not parts:  # the common case first: a one-frame message
                    append(payload)
                elif flags & COMMAND_FLAG:
                    if parts:
                        raise _crypto_error("command inside a multipart message",
                                            ProtocolError.ZMTP_UNEXPECTED_COMMAND)
                    inner_commands.append(payload)
                elif flags & MORE:
                    parts.append(payload)
                elif parts:
                    parts.append(payload)
                    messages.append(parts)
                    parts = []
                else:
                    messages.append(payload)
        finally:
            self._peer_nonce = _NONCE.unpack(peer_nonce)[0]
            self._parts = parts
        commands[:] = inner_commands
        return messages

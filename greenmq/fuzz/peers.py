"""The other end of a handshake, played by the fuzzer: honest by default, forging on request.

A handshake target drives one greenmq :class:`~greenmq.zmtp.ZmtpConnection`
against one of these peers. The peer builds each handshake command the way
a correct peer would, but takes the part worth fuzzing from the input: the
metadata inside READY/INITIATE, the credentials in PLAIN's HELLO, and for
CURVE the plaintext sealed in each box -- so mutations reach the code
behind the cryptography, which raw byte mutation never would. ``forge``
XORs a mask over what a command carries (for CURVE, its plaintext before
sealing), ``seal`` builds a traffic frame (a MESSAGE box under CURVE).
Only the public names of :mod:`greenmq.zmtp` are used.
"""

from __future__ import annotations

import functools
import hashlib
import struct

from ..zmtp import curve as curve_names
from ..zmtp import crypto
from ..zmtp.framing import COMMAND, MORE, command_name, encode_command, frame_header
from ..zmtp.greeting import make_greeting

_NONCE = struct.Struct(">Q")


@functools.cache
def fixed_keypair(role: str) -> tuple[bytes, bytes]:
    """A CURVE key pair that is the same in every process (public, secret): the parent that writes
    the seeds and the child that fuzzes must agree on the server's key. For fuzzing only."""
    secret = hashlib.sha256(b"greenmq fuzz " + role.encode()).digest()
    return crypto.public_key(secret), secret


def xor(data: bytes, mask: bytes) -> bytes:
    """``data`` with ``mask`` XORed over its first bytes (a mask longer than the data is cut)."""
    head = bytes(a ^ b for a, b in zip(data, mask))
    return head + data[len(head):]


class Peer:
    """A NULL or PLAIN peer: its handshake commands in order, then ERROR."""

    def __init__(self, mechanism: bytes, as_server: bool, script: tuple[bytes, ...]):
        self.mechanism = mechanism
        self.as_server = as_server
        self.script = script
        self.step_index = 0
        self.heard: list[bytes] = []

    def greeting(self) -> bytes:
        return make_greeting(self.mechanism, self.as_server)

    def hear(self, body: bytes) -> None:
        """A command greenmq sent us (the body: name length, name, data)."""
        self.heard.append(body)

    def _next_name(self) -> bytes:
        name = self.script[self.step_index] if self.step_index < len(self.script) else b"ERROR"
        self.step_index += 1
        return name

    def step(self, payload: bytes) -> bytes:
        """The next handshake command with ``payload`` as its data."""
        return encode_command(self._next_name(), payload)

    def forge(self, mask: bytes) -> bytes:
        """The next handshake command with its (empty) data replaced by the mask itself."""
        return encode_command(self._next_name(), mask)

    def seal(self, flags: int, body: bytes) -> bytes:
        """A traffic frame: ``flags`` bit 0 is MORE, bit 1 COMMAND."""
        return frame_header(len(body), more=bool(flags & MORE), command=bool(flags & 2)) + body


class CurveClientPeer(Peer):
    """A CurveZMQ client against a greenmq CURVE server with public key ``server_public``."""

    def __init__(self, server_public: bytes, public: bytes, secret: bytes):
        super().__init__(b"CURVE", False, (b"HELLO", b"INITIATE"))
        self.server_public = server_public
        self.public, self.secret = public, secret
        self.ephemeral_public, self.ephemeral_secret = crypto.keypair()
        self.nonce = 1
        self.server_ephemeral: bytes | None = None
        self.session_key: bytes | None = None
        self.cookie = bytes(curve_names.COOKIE_SIZE)

    def _short(self) -> bytes:
        nonce = _NONCE.pack(self.nonce)
        self.nonce += 1
        return nonce

    def hear(self, body: bytes) -> None:
        super().hear(body)
        name, data = command_name(body)
        if name != b"WELCOME" or len(data) != curve_names.WELCOME_SIZE:
            return
        key = crypto.shared_key(self.server_public, self.ephemeral_secret)
        opened = crypto.unbox(data[16:], curve_names.WELCOME_PREFIX + bytes(data[:16]), key) if key else None
        if opened is not None:
            self.server_ephemeral, self.cookie = bytes(opened[:32]), bytes(opened[32:])
            self.session_key = crypto.shared_key(self.server_ephemeral, self.ephemeral_secret)

    def _hello(self, mask: bytes) -> bytes:
        short = self._short()
        key = crypto.shared_key(self.server_public, self.ephemeral_secret)
        assert key is not None
        box = bytes(crypto.box(bytes(64), curve_names.HELLO_PREFIX + short, key))
        return encode_command(b"HELLO", xor(b"\x01\x00" + bytes(72) + self.ephemeral_public + short + box, mask))

    def _initiate(self, metadata: bytes, mask: bytes) -> bytes:
        server_ephemeral = self.server_ephemeral
        if server_ephemeral is None or self.session_key is None:
            return encode_command(b"INITIATE", xor(bytes(curve_names.INITIATE_MIN), mask))
        vouch_plain = xor(self.ephemeral_public + self.server_public + self.public, mask)
        vouch_key = crypto.shared_key(server_ephemeral, self.secret)
        vouch_nonce = crypto.random_bytes(16)
        vouch = vouch_nonce + bytes(crypto.box(vouch_plain[:64], curve_names.VOUCH_PREFIX + vouch_nonce,
                                               vouch_key or bytes(32)))
        short = self._short()
        plaintext = vouch_plain[64:] + vouch + metadata
        box = bytes(crypto.box(plaintext, curve_names.INITIATE_PREFIX + short, self.session_key))
        return encode_command(b"INITIATE", self.cookie + short + box)

    def step(self, payload: bytes) -> bytes:
        name = self._next_name()
        if name == b"HELLO":
            return self._hello(b"")
        if name == b"INITIATE":
            return self._initiate(payload, b"")
        return encode_command(name, payload)

    def forge(self, mask: bytes) -> bytes:
        name = self._next_name()
        if name == b"HELLO":
            return self._hello(mask)
        if name == b"INITIATE":
            return self._initiate(b"", mask)
        return encode_command(name, mask)

    def seal(self, flags: int, body: bytes) -> bytes:
        if self.session_key is None:
            return super().seal(flags, body)
        return _message(curve_names.CLIENT_MESSAGE_PREFIX, self._short(), flags, body, self.session_key)


class CurveServerPeer(Peer):
    """A CurveZMQ server against a greenmq CURVE client that trusts ``public``."""

    def __init__(self, public: bytes, secret: bytes):
        super().__init__(b"CURVE", True, (b"WELCOME", b"READY"))
        self.public, self.secret = public, secret
        self.client_ephemeral: bytes | None = None
        self.session_key: bytes | None = None
        self.nonce = 1

    def hear(self, body: bytes) -> None:
        super().hear(body)
        name, data = command_name(body)
        if name == b"HELLO" and len(data) == curve_names.HELLO_SIZE:
            self.client_ephemeral = bytes(data[74:106])

    def _welcome(self, mask: bytes) -> bytes:
        if self.client_ephemeral is None:
            return encode_command(b"WELCOME", xor(bytes(curve_names.WELCOME_SIZE), mask))
        ephemeral_public, ephemeral_secret = crypto.keypair()
        plaintext = xor(ephemeral_public + crypto.random_bytes(curve_names.COOKIE_SIZE), mask)
        key = crypto.shared_key(self.client_ephemeral, self.secret)
        self.session_key = crypto.shared_key(self.client_ephemeral, ephemeral_secret)
        nonce = crypto.random_bytes(16)
        box = bytes(crypto.box(plaintext, curve_names.WELCOME_PREFIX + nonce, key or bytes(32)))
        return encode_command(b"WELCOME", nonce + box)

    def _ready(self, metadata: bytes) -> bytes:
        short = _NONCE.pack(self.nonce)
        self.nonce += 1
        box = bytes(crypto.box(metadata, curve_names.READY_PREFIX + short, self.session_key or bytes(32)))
        return encode_command(b"READY", short + box)

    def step(self, payload: bytes) -> bytes:
        name = self._next_name()
        if name == b"WELCOME":
            return self._welcome(b"")
        if name == b"READY":
            return self._ready(payload)
        return encode_command(name, payload)

    def forge(self, mask: bytes) -> bytes:
        name = self._next_name()
        if name == b"WELCOME":
            return self._welcome(mask)
        if name == b"READY":
            return self._ready(mask)
        return encode_command(name, mask)

    def seal(self, flags: int, body: bytes) -> bytes:
        if self.session_key is None:
            return super().seal(flags, body)
        short = _NONCE.pack(self.nonce)
        self.nonce += 1
        return _message(curve_names.SERVER_MESSAGE_PREFIX, short, flags, body, self.session_key)


def _message(prefix: bytes, short: bytes, flags: int, body: bytes, key: bytes) -> bytes:
    """A CURVE MESSAGE frame: name, short nonce, Box[flags + body]."""
    box = bytes(crypto.box(bytes((flags & 0xFF,)) + body, prefix + short, key))
    data = curve_names.MESSAGE_NAME + short + box
    return frame_header(len(data), command=bool(flags & COMMAND)) + data

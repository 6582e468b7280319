"""A CurveZMQ peer written from RFC 26 with PyNaCl, for the CURVE tests.

:class:`RawCurve` builds and opens every CurveZMQ command with PyNaCl alone,
byte by byte from RFC 26 and the wire checklist (/work/shared/specs/README.md,
bullets 31-36), without any greenmq code. Tests use it to check greenmq's
output against the spec rather than against greenmq itself, and to forge
commands that are well formed and correctly encrypted but malicious.

PyNaCl is optional (greenmq's ``curve`` extra). Without it this module still
imports, with ``nacl`` None, so that test modules mixing CURVE with PLAIN or
NULL still collect; the tests that use it are marked ``curve`` and skipped
(conftest.py).
"""

import struct

try:
    import nacl.bindings as nacl
    from nacl.exceptions import CryptoError
except ImportError:  # no PyNaCl: the tests marked `curve` do not run
    nacl = CryptoError = None

from security_support import CLIENT_PUBLIC, CLIENT_SECRET, SERVER_PUBLIC, SERVER_SECRET
from zmtp_support import command, frame, properties, split_command


def short_nonce(value):
    return struct.pack(">Q", value)


def box(plaintext, nonce, public, secret):
    """NaCl crypto_box in CurveZMQ's layout: 16-byte authenticator, then the ciphertext."""
    return nacl.crypto_box(plaintext, nonce, public, secret)


def unbox(ciphertext, nonce, public, secret):
    """The plaintext of a :func:`box`, or None when it does not open."""
    try:
        return nacl.crypto_box_open(ciphertext, nonce, public, secret)
    except CryptoError:
        return None


class RawCurve:
    """One side of a CurveZMQ conversation, built from the RFC with PyNaCl.

    As a client it needs the server's permanent public key; as a server, its
    own secret key. Each ``hello``/``welcome``/``initiate``/``ready``/``message``
    returns wire bytes (the whole frame); keyword arguments let a test replace
    any field to forge a malicious command. ``read_*`` open the peer's command
    bodies and assert that they are well formed.
    """

    def __init__(self, as_server=False, public=None, secret=None, server_public=SERVER_PUBLIC):
        self.as_server = as_server
        if as_server:
            self.public, self.secret = public or SERVER_PUBLIC, secret or SERVER_SECRET
        else:
            self.public, self.secret = public or CLIENT_PUBLIC, secret or CLIENT_SECRET
        self.server_public = self.public if as_server else server_public
        self.eph_public, self.eph_secret = nacl.crypto_box_keypair()
        self.peer_eph = None  # the peer's ephemeral (short-term) public key once known
        self.nonce = 1  # our next short nonce
        self.cookie = None
        self.cookie_key = nacl.randombytes(32)

    def _next_nonce(self):
        value = self.nonce
        self.nonce += 1
        return short_nonce(value)

    # -- client commands -------------------------------------------------

    def hello(self, version=b"\x01\x00", nonce=None, plaintext=bytes(64), eph_public=None, server_public=None):
        nonce = self._next_nonce() if nonce is None else nonce
        eph_public = self.eph_public if eph_public is None else eph_public
        sealed = box(plaintext, b"CurveZMQHELLO---" + nonce, server_public or self.server_public, self.eph_secret)
        return command(b"HELLO", version + bytes(72) + eph_public + nonce + sealed)

    def read_welcome(self, body):
        name, data = split_command(body)
        assert name == b"WELCOME" and len(data) == 160
        opened = unbox(data[16:], b"WELCOME-" + data[:16], self.server_public, self.eph_secret)
        assert opened is not None, "WELCOME box does not open"
        self.peer_eph, self.cookie = opened[:32], opened[32:]
        assert len(self.cookie) == 96

    def vouch(self, eph_public=None, server_public=None, key_secret=None, key_public=None):
        """16-byte nonce + Box[C′ + S](C→S′)."""
        nonce = nacl.randombytes(16)
        plaintext = (eph_public or self.eph_public) + (server_public or self.server_public)
        return nonce + box(plaintext, b"VOUCH---" + nonce, key_public or self.peer_eph, key_secret or self.secret)

    def initiate(self, metadata=None, cookie=None, nonce=None, vouch=None,
                 client_public=None, plaintext=None):
        nonce = self._next_nonce() if nonce is None else nonce
        if metadata is None:
            metadata = properties((b"Socket-Type", b"PUSH"))
        if plaintext is None:
            plaintext = (client_public or self.public) + (vouch or self.vouch()) + metadata
        sealed = box(plaintext, b"CurveZMQINITIATE" + nonce, self.peer_eph, self.eph_secret)
        return command(b"INITIATE", (self.cookie if cookie is None else cookie) + nonce + sealed)

    def read_ready(self, body):
        """The server's READY: returns (short nonce value, metadata bytes)."""
        name, data = split_command(body)
        assert name == b"READY" and len(data) >= 24
        opened = unbox(data[8:], b"CurveZMQREADY---" + data[:8], self.peer_eph, self.eph_secret)
        assert opened is not None, "READY box does not open"
        return struct.unpack(">Q", data[:8])[0], opened

    # -- server commands -------------------------------------------------

    def read_hello(self, body):
        """The client's HELLO: returns its short nonce value; checks the box holds 64 zero bytes."""
        name, data = split_command(body)
        assert name == b"HELLO" and len(data) == 194
        assert data[:2] == b"\x01\x00" and data[2:74] == bytes(72)
        self.peer_eph = data[74:106]
        opened = unbox(data[114:], b"CurveZMQHELLO---" + data[106:114], self.peer_eph, self.secret)
        assert opened == bytes(64), "HELLO box does not open to 64 zero bytes"
        return struct.unpack(">Q", data[106:114])[0]

    def welcome(self):
        cookie_nonce = nacl.randombytes(16)
        self.cookie = cookie_nonce + nacl.crypto_secretbox(self.peer_eph + self.eph_secret,
                                                           b"COOKIE--" + cookie_nonce, self.cookie_key)
        nonce = nacl.randombytes(16)
        return command(b"WELCOME", nonce + box(self.eph_public + self.cookie, b"WELCOME-" + nonce, self.peer_eph,
                                               self.secret))

    def read_initiate(self, body):
        """The client's INITIATE: returns (short nonce value, client public key, metadata bytes)."""
        name, data = split_command(body)
        assert name == b"INITIATE" and len(data) >= 248
        assert data[:96] == self.cookie
        opened = unbox(data[104:], b"CurveZMQINITIATE" + data[96:104], self.peer_eph, self.eph_secret)
        assert opened is not None, "INITIATE box does not open"
        client_public, vouch = opened[:32], opened[32:128]
        vouched = unbox(vouch[16:], b"VOUCH---" + vouch[:16], client_public, self.eph_secret)
        assert vouched == self.peer_eph + self.public, "bad vouch"
        return struct.unpack(">Q", data[96:104])[0], client_public, opened[128:]

    def ready(self, metadata=None, nonce=None):
        nonce = self._next_nonce() if nonce is None else nonce
        if metadata is None:
            metadata = properties((b"Socket-Type", b"PULL"))
        return command(b"READY", nonce + box(metadata, b"CurveZMQREADY---" + nonce, self.peer_eph, self.eph_secret))

    # -- traffic ---------------------------------------------------------

    @property
    def _prefix_out(self):
        return b"CurveZMQMESSAGES" if self.as_server else b"CurveZMQMESSAGEC"

    @property
    def _prefix_in(self):
        return b"CurveZMQMESSAGEC" if self.as_server else b"CurveZMQMESSAGES"

    def message(self, payload, flags=0, nonce=None, outer_flags=0):
        """One MESSAGE frame: ``flags`` is the encrypted flags byte (1 MORE, 2 COMMAND)."""
        nonce = self._next_nonce() if nonce is None else nonce
        sealed = box(bytes((flags,)) + payload, self._prefix_out + nonce, self.peer_eph, self.eph_secret)
        return frame(b"\x07MESSAGE" + nonce + sealed, outer_flags)

    def open_message(self, body):
        """(short nonce value, inner flags, payload) of a MESSAGE body."""
        assert body[:8] == b"\x07MESSAGE" and len(body) >= 33
        opened = unbox(body[16:], self._prefix_in + body[8:16], self.peer_eph, self.eph_secret)
        assert opened is not None, "MESSAGE box does not open"
        return struct.unpack(">Q", body[8:16])[0], opened[0], opened[1:]

"""Test support for PLAIN and CURVE: known keys, frame parsing and a CurveZMQ peer written from RFC 26.

:class:`RawCurve` builds and opens every CurveZMQ command with PyNaCl alone,
byte by byte from RFC 26 and the wire checklist (/work/shared/specs/README.md,
bullets 31-36), without any greenmq code. Tests use it to check greenmq's
output against the spec rather than against greenmq itself, and to forge
commands that are well formed and correctly encrypted but malicious.
"""

import struct

import nacl.bindings as nacl
from nacl.exceptions import CryptoError

from greenmq.zmtp import ZmtpConnection
from greenmq.zmtp.security import SecurityConfig

# The official test key pairs of libzmq/zmq_curve.adoc ("TEST KEY VALUES").
CLIENT_PUBLIC = bytes.fromhex("BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518")
CLIENT_SECRET = bytes.fromhex("7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888")
SERVER_PUBLIC = bytes.fromhex("54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652")
SERVER_SECRET = bytes.fromhex("8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7")
CLIENT_PUBLIC_Z85 = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
CLIENT_SECRET_Z85 = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
SERVER_PUBLIC_Z85 = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
SERVER_SECRET_Z85 = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"


def greeting(mechanism, as_server=False, minor=1):
    """A ZMTP 3.x greeting written out from checklist bullet 1."""
    return (b"\xff" + bytes(8) + b"\x7f" + bytes((3, minor)) + mechanism.ljust(20, b"\x00")
            + bytes((int(as_server),)) + bytes(31))


def frame(body, flags=0):
    """One ZMTP frame: the short form up to 255 bytes, else the long one."""
    if len(body) <= 255:
        return bytes((flags, len(body))) + body
    return bytes((flags | 0x02,)) + len(body).to_bytes(8, "big") + body


def command(name, data=b""):
    return frame(bytes((len(name),)) + name + data, 0x04)


def properties(*pairs):
    """ZMTP metadata (checklist bullet 17) from (name: bytes, value: bytes) pairs."""
    return b"".join(bytes((len(name),)) + name + len(value).to_bytes(4, "big") + value for name, value in pairs)


def parse_frames(data):
    """Split wire bytes into (flags, header length, body) triples; the bytes must end on a frame boundary."""
    frames = []
    pos = 0
    while pos < len(data):
        flags = data[pos]
        if flags & 0x02:
            size = int.from_bytes(data[pos + 1:pos + 9], "big")
            header = 9
        else:
            size = data[pos + 1]
            header = 2
        body = data[pos + header:pos + header + size]
        assert len(body) == size, "truncated frame"
        frames.append((flags, header, body))
        pos += header + size
    return frames


def split_command(body):
    """(name, data) of a command body."""
    return body[1:1 + body[0]], body[1 + body[0]:]


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


# -- greenmq connections ---------------------------------------------------------


def curve_client(socket_type=b"PUSH", public=CLIENT_PUBLIC, secret=CLIENT_SECRET, server_key=SERVER_PUBLIC,
                 **kwargs):
    config = SecurityConfig(b"CURVE", False, public_key=public, secret_key=secret, server_key=server_key)
    return ZmtpConnection(socket_type, security=config, **kwargs)


def curve_server(socket_type=b"PULL", secret=SERVER_SECRET, **kwargs):
    config = SecurityConfig(b"CURVE", True, public_key=SERVER_PUBLIC, secret_key=secret)
    return ZmtpConnection(socket_type, security=config, **kwargs)


def plain_client(socket_type=b"PUSH", username=b"admin", password=b"secret", **kwargs):
    return ZmtpConnection(socket_type, security=SecurityConfig(b"PLAIN", False, username=username,
                                                               password=password), **kwargs)


def plain_server(socket_type=b"PULL", zap_domain=b"", **kwargs):
    return ZmtpConnection(socket_type, security=SecurityConfig(b"PLAIN", True, zap_domain=zap_domain), **kwargs)


def pump(client, server, zap=None, limit=20):
    """Move bytes between two connections until neither has anything to say.

    ``zap`` answers the server's ZAP requests: a callable taking
    (mechanism, credentials) and returning a ZapReply or None. Returns the
    messages each side received: (at client, at server).
    """
    at_client, at_server = [], []
    for _ in range(limit):
        moved = False
        data = client.data_to_send()
        if data:
            at_server.extend(server.receive(data))
            moved = True
        if server.zap_request is not None and zap is not None:
            at_server.extend(server.zap_reply(zap(*server.zap_request)))
            moved = True
        data = server.data_to_send()
        if data:
            at_client.extend(client.receive(data))
            moved = True
        if not moved:
            return at_client, at_server
    raise AssertionError("the connections kept talking")

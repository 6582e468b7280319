"""Fuzz targets for the sans-I/O protocol (:mod:`greenmq.zmtp`): frames, greeting, handshakes, ZAP.

The only exception these may raise on bad input is :class:`~greenmq.zmtp.ZmtpError`
(and its subclasses): that is how the protocol layer tells the engine to
close a connection. Each target also checks a property of its own: the
frame decoder must not care how its input is cut, and what it decodes must
encode back to bytes that decode the same.
"""

from __future__ import annotations

from typing import Any

from ..zmtp import ZmtpConnection, ZmtpError, decode_properties, encode_messages, encode_properties, make_greeting
from ..zmtp import crypto
from ..zmtp.framing import FrameDecoder, Subscription, encode_command
from ..zmtp.security import SecurityConfig
from ..zmtp.zap import ZapReply, parse_reply
from .peers import CurveClientPeer, CurveServerPeer, Peer, fixed_keypair
from .script import Script, build, chunks
from .target import InvariantBroken, Target, register

# Socket types a handshake target plays (ours; the peer announces its own in its metadata).
SOCKET_TYPES = (b"PUSH", b"PULL", b"PAIR", b"DEALER", b"ROUTER", b"REQ", b"REP", b"PUB", b"SUB", b"XPUB", b"XSUB")
PEER_OF = {b"PUSH": b"PULL", b"PULL": b"PUSH", b"PAIR": b"PAIR", b"DEALER": b"ROUTER", b"ROUTER": b"DEALER",
           b"REQ": b"REP", b"REP": b"REQ", b"PUB": b"SUB", b"SUB": b"PUB", b"XPUB": b"XSUB", b"XSUB": b"XPUB"}

# Operations of a handshake script (opcode modulo their number).
RAW, STEP, FORGE, FRAME, COMMAND_OP, REPLAY = range(6)
OPERATIONS = 6


def _decode(decoder: FrameDecoder, data: bytes, chunk: int) -> tuple[Any, list[Any], list[bytes], bool, int]:
    """(error type or None, messages, commands, idle, body_remaining) of decoding ``data`` in pieces."""
    messages: list[Any] = []
    try:
        for piece in chunks(data, chunk):
            messages.extend(decoder.feed(piece))
    except ZmtpError as error:
        return type(error), messages, decoder.commands, decoder.idle, decoder.body_remaining()
    return None, messages, decoder.commands, decoder.idle, decoder.body_remaining()


def _as_frames(message: Any) -> list[bytes]:
    return [bytes(frame) for frame in (message if isinstance(message, list) else [message])]


@register
class FramesTarget(Target):
    """The frame decoder: cut anywhere, round-tripped through the encoder."""

    name = "frames"
    summary = "FrameDecoder.feed on any bytes, cut at any point; decoded messages re-encode and decode the same"
    errors = (ZmtpError,)
    decoder = FrameDecoder  # the class under test (a test swaps in a broken double)

    def seeds(self) -> list[bytes]:
        out: list[bytes] = []
        encode_messages([b"hello", [b"id", b"", b"body"], b"x" * 300, Subscription(True, b"topic")], out)
        stream = b"".join(bytes(chunk) for chunk in out)
        return [bytes((0,)) + stream, bytes((3,)) + stream, bytes((1,)) + frame_of(b"y" * 2000)]

    def run(self, data: bytes) -> None:
        chunk = data[0] % 17 if data else 0
        stream = data[1:]
        whole = _decode(self.decoder(self.max_message_size), stream, 0)
        cut = _decode(self.decoder(self.max_message_size), stream, chunk)
        if whole[0] is not cut[0]:
            raise InvariantBroken(f"whole input gives {whole[0]}, cut in pieces of {chunk} gives {cut[0]}")
        if whole[0] is not None:
            return  # refused either way, as it should be
        if [_as_frames(m) for m in whole[1]] != [_as_frames(m) for m in cut[1]] or whole[2:] != cut[2:]:
            raise InvariantBroken(f"decoding depends on how the input is cut (pieces of {chunk})")
        out: list[Any] = []
        encode_messages(whole[1], out)
        again = _decode(self.decoder(self.max_message_size), b"".join(bytes(chunk) for chunk in out), 0)
        if again[0] is not None or [_as_frames(m) for m in again[1]] != [_as_frames(m) for m in whole[1]]:
            raise InvariantBroken("decoded messages do not survive encoding and decoding again")


def frame_of(body: bytes, more: bool = False) -> bytes:
    out: list[Any] = []
    encode_messages([[body, b""] if more else body], out)
    return b"".join(bytes(chunk) for chunk in out)


def security_and_peer(mechanism: bytes, greenmq_is_server: bool,
                      zap_domain: bytes = b"") -> tuple[SecurityConfig, Peer]:
    """greenmq's security settings for one side of a handshake, and the fuzzer's peer for the other."""
    if mechanism == b"CURVE":
        (server_public, server_secret), (client_public, client_secret) = fixed_keypair("server"), \
            fixed_keypair("client")
        if greenmq_is_server:
            return (SecurityConfig(b"CURVE", True, secret_key=server_secret, public_key=server_public,
                                   zap_domain=zap_domain),
                    CurveClientPeer(server_public, client_public, client_secret))
        return (SecurityConfig(b"CURVE", False, public_key=client_public, secret_key=client_secret,
                               server_key=server_public),
                CurveServerPeer(server_public, server_secret))
    if mechanism == b"PLAIN":
        if greenmq_is_server:
            return SecurityConfig(b"PLAIN", True, zap_domain=zap_domain), Peer(b"PLAIN", False, (b"HELLO", b"INITIATE"))
        return (SecurityConfig(b"PLAIN", False, username=b"admin", password=b"secret"),
                Peer(b"PLAIN", True, (b"WELCOME", b"READY")))
    return SecurityConfig(zap_domain=zap_domain), Peer(b"NULL", not greenmq_is_server, (b"READY",))


# ZAP answers a handshake script may choose (config byte 2).
ZAP_ANSWERS = (ZapReply(b"200", b"OK", b"user"), ZapReply(b"400", b"no"), ZapReply(b"300", b"later"), None,
               ZapReply(b"500", b"broken"))


class HandshakeTarget(Target):
    """One mechanism and role of greenmq against a fuzzer-driven peer (see :mod:`~greenmq.fuzz.peers`).

    Input: config bytes (socket type, how the peer's bytes are cut, the ZAP answer, a ZAP domain),
    then operations: raw bytes; the peer's next honest command with the payload as its fuzzable
    part; a forged one (payload XORed over it); a traffic frame; any command; a replay."""

    errors = (ZmtpError,)
    mechanism = b"NULL"
    greenmq_is_server = True
    max_len = 2048

    def run(self, data: bytes) -> None:
        script = Script(data)
        socket_type = SOCKET_TYPES[script.byte() % len(SOCKET_TYPES)]
        chunk = script.byte() % 9
        zap_answer = ZAP_ANSWERS[script.byte() % len(ZAP_ANSWERS)]
        zap_domain = b"fuzz" if script.byte() & 1 else b""
        if self.mechanism == b"CURVE" and not crypto.AVAILABLE:
            return
        security, peer = security_and_peer(self.mechanism, self.greenmq_is_server, zap_domain)
        conn = ZmtpConnection(socket_type, b"me", [("X-Fuzz", b"1")], self.max_message_size, security)
        listener = _Listener(peer)
        listener.hear(conn.data_to_send())
        self._feed(conn, peer.greeting(), chunk, zap_answer, listener)
        last = b""
        for opcode, payload in script.ops():
            operation = opcode % OPERATIONS
            if operation == RAW:
                wire = payload
            elif operation == STEP:
                wire = peer.step(payload)
            elif operation == FORGE:
                wire = peer.forge(payload)
            elif operation == FRAME:
                wire = peer.seal(payload[0] if payload else 0, payload[1:])
            elif operation == COMMAND_OP:
                wire = peer.seal(2 | 4, payload)
            else:
                wire = last
            last = wire
            self._feed(conn, wire, chunk, zap_answer, listener)

    def _feed(self, conn: ZmtpConnection, wire: bytes, chunk: int, zap_answer: Any, listener: _Listener) -> None:
        for piece in chunks(wire, chunk):
            messages = conn.receive(piece)
            while conn.zap_request is not None:
                messages += conn.zap_reply(zap_answer)
            for message in messages:
                if any(len(frame) > self.max_message_size for frame in _as_frames(message)):
                    raise InvariantBroken(f"a frame above MAXMSGSIZE ({self.max_message_size}) was delivered")
            conn.take_events()
            listener.hear(conn.data_to_send())

    def seeds(self) -> list[bytes]:
        config = (SOCKET_TYPES.index(b"DEALER"), 0, 0, 0)
        metadata = encode_properties([("Socket-Type", PEER_OF[b"DEALER"]), ("Identity", b"peer")])
        if self.mechanism == b"PLAIN" and self.greenmq_is_server:
            steps = [(STEP, b"\x05admin\x06secret"), (STEP, metadata)]
        elif self.mechanism == b"PLAIN" or self.mechanism == b"CURVE":
            steps = [(STEP, b""), (STEP, metadata)]
        else:
            steps = [(STEP, metadata)]
        traffic = [(FRAME, b"\x01id"), (FRAME, b"\x00body"), (COMMAND_OP, b"\x04PING\x00\x0aabc"),
                   (COMMAND_OP, b"\x09SUBSCRIBE" + b"t"), (FRAME, b"\x00" + b"z" * 200)]
        chunked = (config[0], 3) + config[2:]
        return [build(config, steps + traffic), build(chunked, steps + traffic),
                build((0, 0, 1, 1), steps), build(config, steps + [(COMMAND_OP, b"\x05ERROR\x03bye")]),
                build(config, [(COMMAND_OP, b"\x05ERROR\x03bye")])]


class _Listener:
    """Splits what greenmq sends into commands for the peer (after greenmq's 64-byte greeting)."""

    def __init__(self, peer: Peer):
        self.peer = peer
        self.greeting = b""
        self.decoder = FrameDecoder()

    def hear(self, wire: bytes) -> None:
        if len(self.greeting) < 64:
            need = 64 - len(self.greeting)
            self.greeting += wire[:need]
            wire = wire[need:]
        self.decoder.feed(wire)
        for body in self.decoder.commands:
            self.peer.hear(bytes(body))
        self.decoder.commands.clear()


def _handshake_target(name: str, mechanism: bytes, server: bool, summary: str) -> None:
    register(type(f"{mechanism.decode().title()}{'Server' if server else 'Client'}Target", (HandshakeTarget,), {
        "name": name, "mechanism": mechanism, "greenmq_is_server": server, "summary": summary,
        "__doc__": summary}))


_handshake_target("null-server", b"NULL", True, "NULL handshake, greenmq accepting: READY, ERROR, traffic after it")
_handshake_target("null-client", b"NULL", False, "NULL handshake, greenmq connecting: READY, ERROR, traffic after it")
_handshake_target("plain-server", b"PLAIN", True, "PLAIN server: HELLO, ZAP answers, INITIATE, ERROR, traffic")
_handshake_target("plain-client", b"PLAIN", False, "PLAIN client: WELCOME, READY, ERROR (libzmq's too), traffic")
_handshake_target("curve-server", b"CURVE", True,
                  "CURVE server: HELLO, INITIATE (cookie, vouch, metadata inside the boxes), ZAP, MESSAGE boxes")
_handshake_target("curve-client", b"CURVE", False,
                  "CURVE client: WELCOME (server key, cookie inside the box), READY, MESSAGE boxes")


@register
class GreetingTarget(Target):
    """The 64-byte greeting, alone and followed by whatever comes next."""

    name = "greeting"
    summary = "ZmtpConnection.receive from the first byte: signature, version, mechanism, as-server"
    errors = (ZmtpError,)
    max_len = 512  # the greeting and the first command or two

    def seeds(self) -> list[bytes]:
        ready = encode_command(b"READY", encode_properties([("Socket-Type", b"PUSH")]))
        return [bytes((0,)) + make_greeting(b"NULL") + ready, bytes((1,)) + make_greeting(b"PLAIN", True),
                bytes((2,)) + make_greeting(b"CURVE", minor=0), bytes((5,)) + make_greeting(b"NULL")[:11]]

    def run(self, data: bytes) -> None:
        config = data[0] if data else 0
        mechanism = (b"NULL", b"PLAIN", b"CURVE")[config % 3]
        if mechanism == b"CURVE" and not crypto.AVAILABLE:
            mechanism = b"NULL"
        security, _ = security_and_peer(mechanism, bool(config & 4))
        conn = ZmtpConnection(b"PULL", max_message_size=self.max_message_size, security=security)
        for piece in chunks(data[1:], (config >> 3) % 8):
            conn.receive(piece)


@register
class ZapReplyTarget(Target):
    """What a ZAP handler answers, frame by frame."""

    name = "zap-reply"
    summary = "zap.parse_reply on any frames: version, request id, status, user id, metadata"
    errors = (ZmtpError,)

    def seeds(self) -> list[bytes]:
        metadata = encode_properties([("Name", b"value"), ("X-Other", b"")])
        good = [b"", b"1.0", b"1", b"200", b"OK", b"admin", metadata]
        refused = [b"", b"1.0", b"1", b"400", b"No access", b"", b""]
        return [build((), [(0, frame) for frame in good]), build((), [(0, frame) for frame in refused])]

    def run(self, data: bytes) -> None:
        frames = [payload for _, payload in Script(data).ops()]
        reply = parse_reply(frames)
        if reply.admitted != (reply.status == b"200"):
            raise InvariantBroken("a ZAP reply admits without status 200")
        items = reply.metadata.items()
        if decode_properties(encode_properties(items)).items() != items:
            raise InvariantBroken("ZAP metadata does not survive encoding and decoding again")

"""The whole-engine target: any bytes from a TCP peer into real greenmq sockets.

Each input is written by a raw loopback connection into a listening greenmq
socket -- greeting, handshake, frames, all from the input -- after which the
raw peer closes its sending side and reads until greenmq hangs up. What
must hold: greenmq hangs up (no connection stays open once its peer has
finished), no greenlet dies and nothing is logged at ERROR (a bad peer ends
as a protocol error, never as a crash), no message above MAXMSGSIZE is
delivered, no descriptor leaks, and a well-behaved peer connected to the
same socket all along still gets its messages through (checked every
:data:`HEALTH_EVERY` inputs and at the end).
"""

from __future__ import annotations

import io
import logging
import socket as _pysocket

import gevent
from gevent import socket as gsocket

from ..constants import Flag, SocketType
from ..context import Context
from ..error import Again
from ..zmtp import crypto, encode_command, encode_properties, make_greeting
from .peers import CurveClientPeer, fixed_keypair
from .script import chunks
from .target import InvariantBroken, Target, open_fds, register

HEALTH_EVERY = 100
# Descriptors that may come and go during a run (the hub's, a resolver's) before a leak is reported.
FD_TOLERANCE = 16


class _ErrorLog(logging.Handler):
    """Counts what greenmq logs at ERROR: a traceback there is a bug, not a bad peer."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


class _Setup:
    """One listening greenmq socket, its well-behaved peer, and what the raw peer announces."""

    def __init__(self, context: Context, server_type: SocketType, peer_type: SocketType, wire_peer: bytes,
                 curve: tuple[bytes, bytes, bytes, bytes] | None, max_message_size: int):
        self.server_type = server_type
        self.wire_peer = wire_peer
        self.curve = curve
        self.server = context.socket(server_type)
        self.server.linger = 0
        self.server.maxmsgsize = max_message_size
        self.server.rcvhwm = 0
        if server_type == SocketType.SUB:
            self.server.subscribe(b"")
        self.peer = context.socket(peer_type)
        self.peer.linger = 0
        if curve is not None:
            server_public, server_secret, client_public, client_secret = curve
            self.server.curve_server = True
            self.server.curve_secretkey = server_secret
            self.peer.curve_serverkey = server_public
            self.peer.curve_publickey = client_public
            self.peer.curve_secretkey = client_secret
        self.port = self.server.bind_to_random_port("tcp://127.0.0.1")
        self.peer.connect(f"tcp://127.0.0.1:{self.port}")
        self.sent = 0

    def drain(self, max_message_size: int) -> list[list[bytes]]:
        received: list[list[bytes]] = []
        while True:
            try:
                frames = self.server.recv_multipart(Flag.NOBLOCK)
            except Again:
                return received
            if any(len(frame) > max_message_size for frame in frames):
                raise InvariantBroken(f"a frame above MAXMSGSIZE ({max_message_size}) was delivered")
            received.append(frames)

    def check_healthy(self, max_message_size: int, seconds: float) -> None:
        """The well-behaved peer's next message arrives (PUB/SUB: resent until the subscription is known)."""
        self.sent += 1
        tag = b"health-%d" % self.sent
        with gevent.Timeout(seconds, InvariantBroken(f"the well-behaved peer of a {self.server_type.name} "
                                                     "no longer gets through")):
            while True:
                self.peer.send(tag)
                if self.server.poll(100) and any(frames[-1] == tag for frames in self.drain(max_message_size)):
                    return

    def close(self) -> None:
        self.peer.close(linger=0)
        self.server.close(linger=0)


def _greeting_ready(socket_type: bytes) -> bytes:
    return make_greeting(b"NULL") + encode_command(b"READY", encode_properties([("Socket-Type", socket_type)]))


@register
class EngineTarget(Target):
    """Bytes from a raw TCP peer into a greenmq PULL, ROUTER, SUB (NULL) or a CURVE server."""

    name = "engine"
    summary = ("raw loopback TCP peer sends the input to a listening PULL/ROUTER/SUB (NULL) or CURVE PULL; "
               "greenmq must hang up, stay healthy for a well-behaved peer, leak no fd, log no error")
    errors = ()
    interruptible = False
    time_bound = 10.0
    memory_slack = 4 * 1024 * 1024
    max_len = 16384

    def __init__(self) -> None:
        self.hub_errors = io.StringIO()
        hub = gevent.get_hub()
        self._saved_stream = hub.exception_stream
        hub.exception_stream = self.hub_errors
        self.error_log = _ErrorLog()
        logging.getLogger("greenmq").addHandler(self.error_log)
        self.context = Context()
        self.setups = [
            _Setup(self.context, SocketType.PULL, SocketType.PUSH, b"PUSH", None, self.max_message_size),
            _Setup(self.context, SocketType.ROUTER, SocketType.DEALER, b"DEALER", None, self.max_message_size),
            _Setup(self.context, SocketType.SUB, SocketType.PUB, b"PUB", None, self.max_message_size),
        ]
        if crypto.AVAILABLE:
            (server_public, server_secret), (client_public, client_secret) = fixed_keypair("server"), \
                fixed_keypair("client")
            self.curve_public = server_public
            self.setups.append(_Setup(self.context, SocketType.PULL, SocketType.PUSH, b"PUSH",
                                      (server_public, server_secret, client_public, client_secret),
                                      self.max_message_size))
        for setup in self.setups:
            setup.check_healthy(self.max_message_size, self.time_bound)
        self.fds = open_fds()
        self.count = 0

    def seeds(self) -> list[bytes]:
        seeds = []
        for index, setup in enumerate(self.setups):
            if setup.curve is not None:
                peer = CurveClientPeer(self.curve_public, *crypto.keypair())
                seeds.append(bytes((index,)) + make_greeting(b"CURVE") + peer.step(b""))
                continue
            out = _greeting_ready(setup.wire_peer)
            body = [b"", b"hello"] if setup.server_type == SocketType.ROUTER else [b"hello"]
            frames = b"".join((b"\x01" if i < len(body) - 1 else b"\x00") + bytes((len(f),)) + f
                              for i, f in enumerate(body))
            seeds.append(bytes((index,)) + out + frames * 3 + b"\x02" + (5000).to_bytes(8, "big") + b"x" * 5000)
        seeds.append(bytes((0,)) + b"GET / HTTP/1.1\r\n\r\n")
        return seeds

    def run(self, data: bytes) -> None:
        setup = self.setups[data[0] % len(self.setups)] if data else self.setups[0]
        stream = data[1:]
        raw = gsocket.create_connection(("127.0.0.1", setup.port))
        try:
            with gevent.Timeout(self.time_bound, InvariantBroken("greenmq kept a finished peer's connection open")):
                try:
                    for piece in chunks(stream, 4096):
                        raw.sendall(piece)
                    raw.shutdown(_pysocket.SHUT_WR)
                    while raw.recv(65536):
                        pass
                except OSError:
                    pass  # greenmq hung up first (ECONNRESET, EPIPE): the expected end for bad input
        finally:
            raw.close()
        setup.drain(self.max_message_size)
        self._check_no_errors()
        self.count += 1
        if self.count % HEALTH_EVERY == 0:
            self.check_all()

    def _check_no_errors(self) -> None:
        if self.hub_errors.getvalue():
            raise InvariantBroken("a greenlet died:\n" + self.hub_errors.getvalue())
        if self.error_log.records:
            raise InvariantBroken("greenmq logged an error:\n" + "\n".join(self.error_log.records))

    def check_all(self) -> None:
        for setup in self.setups:
            setup.check_healthy(self.max_message_size, self.time_bound)
        # Closed connections release their descriptors once the hub has run their endings.
        gevent.sleep(0)
        if open_fds() > self.fds + FD_TOLERANCE:
            raise InvariantBroken(f"descriptors leak: {self.fds} open at the start, {open_fds()} now")
        self._check_no_errors()

    def close(self) -> None:
        try:
            self.check_all()
        finally:
            for setup in self.setups:
                setup.close()
            self.context.destroy(linger=0)
            logging.getLogger("greenmq").removeHandler(self.error_log)
            gevent.get_hub().exception_stream = self._saved_stream


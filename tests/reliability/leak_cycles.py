"""The leak cycles: the same action many times over, then every count back where it started.

Four kinds of cycle, each a class whose instances are called with the cycle's
number (``leak_support.run_cycles`` does the counting):

- ``connect``: a listener that stays, and per cycle a new socket that connects,
  completes the handshake (NULL or CURVE, tcp or ipc) shown by a message round
  trip, and closes;
- ``hangup``: per cycle a raw TCP peer that connects to a listener and hangs up
  in the middle of its greeting (cut at a different byte each time): the
  listener's side must free all it made for the connection;
- ``socket``: per cycle one socket created and closed -- every socket type,
  bound or connected, with or without ``ZMQ_FD`` read, with or without a
  monitor socket, the cycle number picking the combination;
- ``context``: per cycle one context created and terminated, empty, with a
  socket closed first, destroyed with its sockets open, waiting for a socket
  that another greenlet closes, or after a ``term()`` killed while it waited.

``tests/reliability/test_leaks.py`` runs a few thousand cycles of each; the
full counts run from the command line, for instance::

    python tests/reliability/leak_cycles.py connect --cycles 100000 --transport tcp
    python tests/reliability/leak_cycles.py socket --cycles 10000

which prints the counts and RSS every 10 % and exits with 1 on a leak. The
script imports greenmq from this checkout, not an installed copy.
"""

from __future__ import annotations

import argparse
import itertools
import socket as _stdlib_socket
import struct
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: this checkout's greenmq, and tests/ for the helpers
    _TESTS = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(_TESTS.parent), str(_TESTS)]

import gevent  # noqa: E402
from gevent import socket as gsocket  # noqa: E402

import greenmq as zmq  # noqa: E402
from reliability.leak_support import LeakError, run_cycles  # noqa: E402
from zmtp_support import command, greeting, properties  # noqa: E402

STEP_TIMEOUT = 10  # seconds one cycle may take before it counts as hung

#: The draft types as well as the standard ones: every type greenmq implements.
SOCKET_TYPES = [zmq.PAIR, zmq.PUB, zmq.SUB, zmq.REQ, zmq.REP, zmq.DEALER, zmq.ROUTER, zmq.PULL, zmq.PUSH,
                zmq.XPUB, zmq.XSUB, zmq.STREAM, zmq.SERVER, zmq.CLIENT, zmq.RADIO, zmq.DISH, zmq.GATHER,
                zmq.SCATTER, zmq.PEER, zmq.CHANNEL]

# A NULL greeting and READY as a PUSH would send them; the hang-up cycle sends a prefix of it.
_OPENING = greeting(b"NULL", minor=1) + command(b"READY", properties((b"Socket-Type", b"PUSH")))
# Where the hang-up comes: before anything, inside the signature, after it, at the version,
# inside the mechanism, a byte before the greeting's end, right after it, inside READY.
HANGUP_CUTS = [0, 1, 10, 11, 12, 30, 63, 64, 70, len(_OPENING) - 1]

_EVENT = struct.Struct("=HI")


class ConnectCycles:
    """A ROUTER listener that stays; each cycle a DEALER connects, a round trip shows the
    handshake done on both sides, and the DEALER closes."""

    def __init__(self, transport: str, mechanism: str = "null", directory: str | None = None):
        self.ctx = zmq.Context()
        self.listener = self.ctx.socket(zmq.ROUTER)
        self.listener.linger = 0
        self._client_options: dict[int, object] = {}
        if mechanism == "curve":
            server_public, server_secret = zmq.curve_keypair()
            client_public, client_secret = zmq.curve_keypair()
            self.listener.curve_server = True
            self.listener.curve_secretkey = server_secret
            self._client_options = {zmq.CURVE_SERVERKEY: server_public, zmq.CURVE_PUBLICKEY: client_public,
                                    zmq.CURVE_SECRETKEY: client_secret}
        elif mechanism != "null":
            raise ValueError(f"unknown mechanism {mechanism!r}")
        if transport == "tcp":
            self.listener.bind("tcp://127.0.0.1:*")
        elif transport == "ipc":
            self.listener.bind(f"ipc://{directory or tempfile.gettempdir()}/leak-connect-{id(self)}")
        else:
            raise ValueError(f"unknown transport {transport!r}")
        self.endpoint = self.listener.last_endpoint.decode()

    def __call__(self, number: int) -> None:
        with gevent.Timeout(STEP_TIMEOUT):
            dealer = self.ctx.socket(zmq.DEALER)
            for option, value in self._client_options.items():
                dealer.setsockopt(option, value)
            dealer.connect(self.endpoint)
            dealer.send(b"%d" % number)
            routing_id, body = self.listener.recv_multipart()
            self.listener.send_multipart([routing_id, body])
            assert dealer.recv() == body
            dealer.close()

    def close(self) -> None:
        self.listener.close()
        with gevent.Timeout(STEP_TIMEOUT):
            self.ctx.term()


class HangupCycles:
    """A PULL listener that stays; each cycle a raw TCP peer sends the start of a greeting and
    hangs up, and the cycle waits for the listener's monitor to report the disconnection."""

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.listener = self.ctx.socket(zmq.PULL)
        self.listener.linger = 0
        self.listener.bind("tcp://127.0.0.1:*")
        self.port = int(self.listener.last_endpoint.rsplit(b":", 1)[1])
        self.monitor = self.listener.get_monitor_socket(zmq.EVENT_DISCONNECTED)

    def __call__(self, number: int) -> None:
        cut = HANGUP_CUTS[number % len(HANGUP_CUTS)]
        with gevent.Timeout(STEP_TIMEOUT):
            raw = gsocket.create_connection(("127.0.0.1", self.port))
            try:
                raw.sendall(_OPENING[:cut])
            finally:
                raw.close()
            header, _endpoint = self.monitor.recv_multipart()
            assert _EVENT.unpack(header)[0] == zmq.EVENT_DISCONNECTED

    def close(self) -> None:
        self.listener.close()
        self.monitor.close()
        with gevent.Timeout(STEP_TIMEOUT):
            self.ctx.term()


def port_nobody_listens_on() -> int:
    """A loopback port that was free a moment ago and on which nothing listens (connects are refused)."""
    with _stdlib_socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SocketCycles:
    """Each cycle one socket created and closed; the cycle number picks its type, whether it is
    bound (tcp, a new port) or connected (to a port where nothing listens, so it keeps
    reconnecting), whether ZMQ_FD is read and whether a monitor socket is attached."""

    VARIANTS = list(itertools.product(SOCKET_TYPES, ("bind", "connect"), (False, True), (False, True)))

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.nowhere = f"tcp://127.0.0.1:{port_nobody_listens_on()}"

    def __call__(self, number: int) -> None:
        socket_type, mode, read_fd, monitored = self.VARIANTS[number % len(self.VARIANTS)]
        with gevent.Timeout(STEP_TIMEOUT):
            sock = self.ctx.socket(socket_type)
            monitor = sock.get_monitor_socket() if monitored else None
            if read_fd:
                assert sock.getsockopt(zmq.FD) >= 0
            if mode == "bind":
                sock.bind("tcp://127.0.0.1:*")
            else:
                sock.connect(self.nowhere)
            sock.close()
            if monitor is not None:
                monitor.close()
        gevent.sleep(0)  # as an application does now and then: ZMQ_FD is closed by the hub (design 6.7)

    def close(self) -> None:
        with gevent.Timeout(STEP_TIMEOUT):
            self.ctx.term()


class ContextCycles:
    """Each cycle one context made and ended: terminated empty, terminated after its socket
    closed, destroyed with a connected inproc pair still open, terminated while another greenlet
    closes its socket, or by a term() killed while it waits for an open socket and a second one
    after the socket closed."""

    def __call__(self, number: int) -> None:
        kind = number % 5
        with gevent.Timeout(STEP_TIMEOUT):
            ctx = zmq.Context()
            if kind == 0:
                ctx.term()
            elif kind == 1:
                sock = ctx.socket(zmq.PUSH)
                sock.close()
                ctx.term()
            elif kind == 2:
                pull = ctx.socket(zmq.PULL)
                pull.bind("inproc://leak-context")
                push = ctx.socket(zmq.PUSH)
                push.connect("inproc://leak-context")
                push.send(b"left unread")
                ctx.destroy(linger=0)
            elif kind == 3:
                sock = ctx.socket(zmq.PULL)
                closer = gevent.spawn(sock.close)  # runs once term() below waits
                ctx.term()
                assert closer.dead
            else:
                sock = ctx.socket(zmq.PULL)
                waiting = gevent.spawn(ctx.term)
                gevent.sleep(0)  # it starts, and waits for sock
                waiting.kill()
                sock.close()
                ctx.term()

    def close(self) -> None:
        pass


def make_cycles(kind: str, transport: str = "tcp", mechanism: str = "null", directory: str | None = None):
    """The cycle object of ``kind`` (``connect``, ``hangup``, ``socket``, ``context``)."""
    if kind == "connect":
        return ConnectCycles(transport, mechanism, directory)
    return {"hangup": HangupCycles, "socket": SocketCycles, "context": ContextCycles}[kind]()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["connect", "hangup", "socket", "context"])
    parser.add_argument("--cycles", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--transport", choices=["tcp", "ipc"], default="tcp", help="connect cycles only")
    parser.add_argument("--mechanism", choices=["null", "curve"], default="null", help="connect cycles only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        cycles = make_cycles(args.kind, args.transport, args.mechanism, directory)
        try:
            outcome = run_cycles(cycles, args.cycles, warmup=args.warmup, reports=10)
        finally:
            cycles.close()
    print(outcome.summary())
    try:
        outcome.check()
    except LeakError as error:
        print(f"LEAK: {error}")
        return 1
    print("no leak")
    return 0


if __name__ == "__main__":
    sys.exit(main())

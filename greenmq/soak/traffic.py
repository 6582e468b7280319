"""The soak's peers at work: what each role sends, receives and counts.

One role per peer process (:mod:`~greenmq.soak.peer` starts it): ``rep``
echoes; ``req`` is a lazy-pirate client (a request whose reply does not
come within the timeout is counted, its socket closed, and the request sent
again on a new one); ``pub`` and ``push`` send numbered messages at a steady
rate; ``sub`` and ``pull`` receive them through a
:class:`~greenmq.soak.tracker.Tracker`. Counters go to the peer's
:class:`~greenmq.soak.counters.Counters`; events (``first``, ``gap``,
``timeout``) to ``emit``, which prints them for the coordinator at once.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Callable

import gevent

import greenmq as zmq

from ..bench.workload.common import bind
from .counters import Counters
from .tracker import Tracker, decode, encode

Emit = Callable[[dict], None]
STREAM_HWM = 100_000  # PUB/SUB: far above what a rate of hundreds a second queues in a stall, so no HWM drop
BIND_PATIENCE = 10.0  # seconds a restarted binder tries to get its endpoint back
POLL_STEP = 0.2  # seconds: how often a blocked send or receive looks up to see whether to stop


class Pacer:
    """Keeps a loop to ``rate`` iterations a second on average, sleeping in steps of at least 10 ms."""

    def __init__(self, rate: float):
        self._interval = 1.0 / rate
        self._next = time.monotonic()

    def wait(self) -> None:
        self._next += self._interval
        delay = self._next - time.monotonic()
        if delay >= 0.01:
            gevent.sleep(delay)
        elif delay < -1.0:  # fell far behind (the machine was busy): do not burst to catch up
            self._next = time.monotonic()


class Role:
    """One peer's sockets and loop. ``setup`` binds or connects and returns what ``ready`` announces;
    ``run`` loops until killed or, for senders, until ``quiesce``; ``final`` is the last word."""

    sock: zmq.Socket  # made by setup

    def __init__(self, spec: dict[str, Any], counters: Counters, emit: Emit):
        self.spec = spec
        self.counters = counters
        self.emit = emit
        self.ctx = zmq.Context()
        self.quiet = False
        self.name = f"{spec['name']}#{spec['incarnation']}"
        self.rng = random.Random(f"{spec['seed']} {self.name}")

    def socket(self, kind: int, curve_server_secret: str | None = None) -> zmq.Socket:
        sock = self.ctx.socket(kind)
        sock.linger = 0
        if curve_server_secret is not None:
            sock.curve_server = True
            sock.curve_secretkey = curve_server_secret.encode()
        return sock

    def connect(self, sock: zmq.Socket, link: dict[str, Any]) -> None:
        """Connect to ``link["endpoint"]``, as a CURVE client when the link names the server's key."""
        if link.get("server_key"):
            public, secret = zmq.curve_keypair()
            sock.curve_serverkey = link["server_key"].encode()
            sock.curve_publickey = public
            sock.curve_secretkey = secret
        sock.connect(link["endpoint"])

    def bind(self, sock: zmq.Socket) -> str:
        """Bind ``spec["bind"]``: the endpoint of the first incarnation (any free tcp port), the same one after.

        A port just freed by a killed incarnation can be in use for a moment (a connection of another
        process that the kernel gave it as a local port): try again for a while.
        """
        deadline = time.monotonic() + BIND_PATIENCE
        while True:
            try:
                return bind(sock, self.spec["bind"])
            except zmq.ZMQError as error:
                if error.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                    raise
            gevent.sleep(POLL_STEP)

    def pacer(self) -> Pacer:
        """Wait for the coordinator's go (a file it makes once every first incarnation is up: traffic
        before then would only be lost to peers still starting), then pace at the spec's rate."""
        go = Path(self.spec["go"])
        while not go.exists():
            gevent.sleep(POLL_STEP / 4)
        return Pacer(self.spec["rate"])

    def size(self) -> int:
        return self.rng.randint(0, self.spec["max_size"])

    def setup(self) -> dict[str, Any]:
        raise NotImplementedError

    def run(self) -> None:
        raise NotImplementedError

    def quiesce(self) -> None:
        """Stop sending (the end of the run): the receivers can then catch up with everything sent."""
        self.quiet = True

    def final(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        self.ctx.destroy(linger=0)


class Rep(Role):
    def setup(self) -> dict[str, Any]:
        self.sock = self.socket(zmq.REP, self.spec.get("curve_secret"))
        return {"endpoint": self.bind(self.sock)}

    def run(self) -> None:
        while True:
            request = self.sock.recv()
            self.counters.add("received")
            self.sock.send(request)
            self.counters.add("sent")


class Req(Role):
    """Lazy pirate: one request at a time; on timeout, a new socket and the same request again."""

    def setup(self) -> dict[str, Any]:
        self.sock = self._new_socket()
        return {}

    def _new_socket(self) -> zmq.Socket:
        sock = self.socket(zmq.REQ)
        self.connect(sock, self.spec["links"][0])
        return sock

    def run(self) -> None:
        pacer = self.pacer()
        timeout = self.spec["request_timeout"]
        request_id = 0
        while not self.quiet:
            request = f"{self.name} {request_id} ".encode() + bytes(self.size())
            while True:
                started = time.monotonic()
                self.sock.send(request)
                self.counters.add("sent")
                if self.sock.poll(int(timeout * 1000)):
                    reply = self.sock.recv()
                    self.counters.record_latency(time.monotonic() - started)
                    self.counters.add("received" if reply == request else "corrupt")
                    break
                self.counters.add("timeouts")
                self.emit({"event": "timeout", "from": started, "to": time.monotonic()})
                self.sock.close(linger=0)
                self.sock = self._new_socket()
            request_id += 1
            pacer.wait()


class Pub(Role):
    def setup(self) -> dict[str, Any]:
        self.sock = self.socket(zmq.PUB, self.spec.get("curve_secret"))
        self.sock.sndhwm = STREAM_HWM
        return {"endpoint": self.bind(self.sock)}

    def run(self) -> None:
        pacer = self.pacer()
        seq = 0
        while not self.quiet:
            self.sock.send(encode(self.name, seq, time.monotonic(), self.size()))
            self.counters.add("sent")
            seq += 1
            pacer.wait()


class Push(Role):
    def setup(self) -> dict[str, Any]:
        self.sock = self.socket(zmq.PUSH)
        self.sock.sndtimeo = int(POLL_STEP * 1000)
        self.connect(self.sock, self.spec["links"][0])
        return {}

    def run(self) -> None:
        pacer = self.pacer()
        seq = 0
        while not self.quiet:
            # Stamped when first offered: a message that waits here for a PULL that is down was
            # sent, as far as the accounting is concerned, when the PULL went down.
            message = encode(self.name, seq, time.monotonic(), self.size())
            while not self.quiet:
                try:
                    self.sock.send(message)
                except zmq.Again:
                    continue
                self.counters.add("sent")
                seq += 1
                break
            pacer.wait()


class Receiver(Role):
    """SUB or PULL: every message through the tracker; ``final`` tells the last number from each sender."""

    def __init__(self, spec: dict[str, Any], counters: Counters, emit: Emit):
        super().__init__(spec, counters, emit)
        self.tracker = Tracker(emit, spec.get("drop_after"))

    def run(self) -> None:
        counts = {"new": "received", "duplicate": "duplicated"}
        while True:
            decoded = decode(self.sock.recv())
            if decoded is None:
                self.counters.add("corrupt")
                continue
            verdict = self.tracker.see(*decoded)
            if verdict in counts:
                self.counters.add(counts[verdict])

    def final(self) -> dict[str, Any]:
        return {"last": self.tracker.last()}


class Sub(Receiver):
    def setup(self) -> dict[str, Any]:
        self.sock = self.socket(zmq.SUB)
        self.sock.rcvhwm = STREAM_HWM
        self.sock.subscribe(b"")
        # Each connect takes the socket's security options as they are then, and CURVE's cannot be
        # unset: the plain links first.
        for link in sorted(self.spec["links"], key=lambda link: bool(link.get("server_key"))):
            self.connect(self.sock, link)
        return {}


class Pull(Receiver):
    def setup(self) -> dict[str, Any]:
        self.sock = self.socket(zmq.PULL)
        return {"endpoint": self.bind(self.sock)}


ROLES: dict[str, type[Role]] = {"rep": Rep, "req": Req, "pub": Pub, "sub": Sub, "push": Push, "pull": Pull}

"""The tests' side of draft_peer.py: a draft libzmq in a process of its own, driven by commands.

:func:`draft_libzmq_path` finds the draft libzmq.so (``GREENMQ_DRAFT_LIBZMQ``,
else build_draft_libzmq.py's cache, building it there if need be); the
``draft_libzmq`` and ``draft_peers`` fixtures of conftest.py wrap it and
:class:`DraftPeerGroup`. A :class:`DraftPeer` speaks the peer's line
protocol: :meth:`DraftPeer.call` sends one operation and waits for its
answer, :meth:`DraftPeer.request` sends it and returns a :class:`Pending`
whose answer is read later -- the peer is single-threaded, so a test that
wants a peer blocked in ``recv`` while it does something else uses that.
Reading is cooperative (gevent's subprocess), so greenmq sockets in the
test keep running while the test waits for a peer.
"""

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

import gevent
import pytest
from gevent import subprocess as gsubprocess

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_SCRIPT = os.path.join(HERE, "draft_peer.py")
BUILD_SCRIPT = os.path.join(HERE, "build_draft_libzmq.py")
LIBRARY_VARIABLE = "GREENMQ_DRAFT_LIBZMQ"
CANNOT_BUILD = 3  # build_draft_libzmq.py's exit status for "not on this machine"
BUILD_TIMEOUT = 540  # seconds for a cold build: apt-get update, the source package, cmake (~1 min here)
ANSWER_TIMEOUT = 20  # seconds a test waits for an answer beyond the operation's own timeout


def draft_libzmq_path():
    """The draft libzmq.so to test against; skips the test only when there is none and none can be built.

    ``GREENMQ_DRAFT_LIBZMQ`` names it (CI builds it first); set to a missing
    file, that is a failure. Unset, build_draft_libzmq.py is run with its
    default cache: a finished build there is found at once, else it builds
    one (about a minute; it needs root for apt) -- and only when it says that
    this machine cannot build is the test skipped, with the reason.
    """
    path = os.environ.get(LIBRARY_VARIABLE)
    if path:
        if not os.path.isfile(path):
            pytest.fail(f"{LIBRARY_VARIABLE}={path}: no such file")
        return path
    built = subprocess.run([sys.executable, BUILD_SCRIPT], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT)
    if built.returncode == CANNOT_BUILD:
        pytest.skip(f"no draft libzmq, and this machine cannot build one ({built.stderr.strip()}): "
                    f"set {LIBRARY_VARIABLE} or run tests/interop/build_draft_libzmq.py")
    if built.returncode != 0:
        pytest.fail(f"tests/interop/build_draft_libzmq.py failed (status {built.returncode}):\n{built.stderr}")
    return built.stdout.strip().splitlines()[-1]


class DraftPeerError(AssertionError):
    """The peer process failed, went silent, or answered something unexpected."""


class DraftRefused(Exception):
    """libzmq refused an operation: ``errno`` and its name ``error`` ("EAGAIN", "EHOSTUNREACH" ...)."""

    def __init__(self, answer):
        super().__init__(answer.get("message", answer))
        self.errno = answer["errno"]
        self.error = answer["error"]


class DraftMessage(NamedTuple):
    """One frame a draft peer received: routing_id 0 and group b"" when the frame has none."""

    data: bytes
    routing_id: int
    group: bytes
    more: bool


def _hex(value):
    return (value.encode() if isinstance(value, str) else bytes(value)).hex()


class Pending:
    """An operation sent to a peer whose answer has not been read yet."""

    def __init__(self, peer, number, timeout):
        self._peer = peer
        self._number = number
        self._timeout = timeout

    def answer(self):
        """The answer's fields; :class:`DraftRefused` if libzmq refused the operation."""
        answer = self._peer.answer_to(self._number, self._timeout)
        if not answer["ok"]:
            raise DraftRefused(answer)
        return answer

    def message(self):
        """The answer to a ``recv``, as a :class:`DraftMessage`."""
        return _message(self.answer())


def _message(answer):
    return DraftMessage(bytes.fromhex(answer["data"]), answer["routing_id"], bytes.fromhex(answer["group"]),
                        answer["more"])


class DraftPeer:
    """One running draft_peer.py. Start it with :meth:`DraftPeerGroup.start` (which kills it at the end).

    Sockets are the numbers that :meth:`socket` returns (the script's
    sockets come first, numbered from 0). Timeouts are in ms, as libzmq's.
    """

    def __init__(self, library, script=(), lifetime=120):
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._numbers = itertools.count(1)
        self._answers = {}
        self.proc = gsubprocess.Popen(
            [sys.executable, PEER_SCRIPT, library, "--script", json.dumps(list(script)), "--lifetime",
             str(lifetime)],
            stdin=gsubprocess.PIPE, stdout=gsubprocess.PIPE, stderr=self._stderr)
        self.endpoint = None

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _fail(self, why):
        return DraftPeerError(f"draft peer {self.proc.pid}: {why}\n--- peer stderr ---\n{self.stderr()}")

    def _line(self, timeout, what):
        with gevent.Timeout(timeout, self._fail(f"no {what} within {timeout} s")):
            line = self.proc.stdout.readline()
        if not line:
            with gevent.Timeout(timeout, self._fail("closed its stdout but did not exit")):
                self.proc.wait()
            raise self._fail(f"exited (status {self.proc.returncode}) before {what}")
        return line.decode().rstrip("\n")

    def ready(self, timeout=ANSWER_TIMEOUT):
        """Wait for the script to have run; return the endpoint it bound or connected last (or None)."""
        line = self._line(timeout, "ready line")
        kind, _, rest = line.partition(" ")
        if kind != "ready":
            raise self._fail(f"instead of ready: {line}")
        self.endpoint = None if rest == "-" else rest
        return self.endpoint

    def request(self, op, timeout=10000, **fields):
        """Send one operation (``timeout`` ms is the peer's bound on it); return its :class:`Pending`."""
        number = next(self._numbers)
        self.proc.stdin.write(json.dumps({"id": number, "op": op, "timeout": timeout, **fields}).encode() + b"\n")
        self.proc.stdin.flush()
        return Pending(self, number, timeout / 1000 + ANSWER_TIMEOUT)

    def answer_to(self, number, timeout):
        """The answer to operation ``number`` (answers come in order; earlier ones are kept)."""
        deadline = time.monotonic() + timeout
        while number not in self._answers:
            line = self._line(max(deadline - time.monotonic(), 0.001), f"answer to operation {number}")
            try:
                answer = json.loads(line)
            except ValueError:
                raise self._fail(f"not an answer: {line}") from None
            self._answers[answer["id"]] = answer
        return self._answers.pop(number)

    def call(self, op, timeout=10000, **fields):
        """Send one operation and wait for its answer (a dict); :class:`DraftRefused` if libzmq refused it."""
        return self.request(op, timeout, **fields).answer()

    # -- the operations, by name -------------------------------------------------------------

    def socket(self, socket_type):
        """A new socket of ``socket_type`` (a name such as "CLIENT", or libzmq's number)."""
        return self.call("socket", type=socket_type)["socket"]

    def setsockopt(self, sock, option, value):
        """``value``: an int, or bytes/str (sent as the option's bytes)."""
        if not isinstance(value, int):
            value = {"hex": _hex(value)}
        self.call("setsockopt", socket=sock, option=option, value=value)

    def getsockopt(self, sock, option, kind="int"):
        """``kind``: "int", "str", or "bytes" (returned as bytes)."""
        value = self.call("getsockopt", socket=sock, option=option, kind=kind)["value"]
        return bytes.fromhex(value) if kind == "bytes" else value

    def bind(self, sock, endpoint):
        """Bind; return ZMQ_LAST_ENDPOINT (the port chosen for ``*``)."""
        return self.call("bind", socket=sock, endpoint=endpoint)["endpoint"]

    def connect(self, sock, endpoint):
        return self.call("connect", socket=sock, endpoint=endpoint)["endpoint"]

    def connect_peer(self, sock, endpoint):
        """zmq_connect_peer: the routing id of the new peer."""
        return self.call("connect_peer", socket=sock, endpoint=endpoint)["routing_id"]

    def join(self, sock, group):
        self.call("join", socket=sock, group=_hex(group))

    def leave(self, sock, group):
        self.call("leave", socket=sock, group=_hex(group))

    def send(self, sock, data, routing_id=None, group=None, more=False, timeout=10000):
        fields = {"data": _hex(data), "more": more}
        if routing_id is not None:
            fields["routing_id"] = routing_id
        if group is not None:
            fields["group"] = _hex(group)
        self.call("send", timeout, socket=sock, **fields)

    def recv_later(self, sock, timeout=10000):
        """Start a ``recv`` of up to ``timeout`` ms; its :meth:`Pending.message` is the frame."""
        return self.request("recv", timeout, socket=sock)

    def recv(self, sock, timeout=10000):
        """One frame within ``timeout`` ms (:class:`DraftRefused` with EAGAIN if none came)."""
        return self.recv_later(sock, timeout).message()

    def recv_multipart(self, sock, timeout=10000):
        """The frames of one message (classic socket types), as bytes."""
        frames = [self.recv(sock, timeout)]
        while frames[-1].more:
            frames.append(self.recv(sock, timeout))
        return [frame.data for frame in frames]

    def send_multipart(self, sock, frames, timeout=10000):
        for i, frame in enumerate(frames):
            self.send(sock, frame, more=i < len(frames) - 1, timeout=timeout)

    def poll(self, items, timeout=10000):
        """zmq_poll on ``[(socket, events), ...]``; the revents of each."""
        return self.call("poll", timeout, items=[list(item) for item in items])["revents"]

    def close_socket(self, sock, linger=None):
        self.call("close", socket=sock, linger=linger)

    # -- the process -------------------------------------------------------------------------

    def close(self):
        """Ask the peer to quit; kill it if it does not at once; reap it and release its pipes."""
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(json.dumps({"id": 0, "op": "quit"}).encode() + b"\n")
                self.proc.stdin.flush()
        except OSError:  # already gone: its stdin is a broken pipe
            pass
        try:
            self.proc.wait(timeout=5)
        except gsubprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            self.proc.stdin.close()
            self.proc.stdout.close()
            self._stderr.close()


class DraftPeerGroup:
    """Starts draft peers on one library and closes (or kills) whatever is left of them at the end."""

    def __init__(self, library):
        self.library = library
        self.peers = []

    def start(self, script=(), lifetime=120):
        """A new peer running ``script`` (operations, as dicts); call its :meth:`DraftPeer.ready`."""
        peer = DraftPeer(self.library, script, lifetime)
        self.peers.append(peer)
        return peer

    def close(self):
        for peer in self.peers:
            peer.close()


# -- udp ------------------------------------------------------------------------------------------


def free_udp_port():
    """A udp port on 127.0.0.1 that nothing uses now (a udp DISH needs a number: libzmq has no ``*`` for udp)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def udp_port_bound(port):
    """Whether some process has a udp socket bound to ``port`` (Linux's /proc/net/udp).

    libzmq's ``zmq_bind`` on udp returns before its I/O thread binds the
    port; a datagram sent before that is lost, so the tests wait for this."""
    with open("/proc/net/udp") as table:
        next(table)
        return any(int(line.split()[1].rpartition(":")[2], 16) == port for line in table)


def wait_udp_bound(port, timeout=ANSWER_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not udp_port_bound(port):
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing bound udp port {port} within {timeout} s")
        gevent.sleep(0.005)

"""Plain helpers shared by the tests (fixtures are in conftest.py).

Helpers with one narrower job have their own modules: zmtp_support.py (ZMTP
bytes written from the spec, the engine's split feeding), security_support.py
(the CURVE test keys, PLAIN and CURVE connections), curve_support.py (a
CurveZMQ peer written with PyNaCl), raw_peer_support.py (a hostile peer on a
raw TCP socket), example_support.py (running examples/), interop/libzmq_peer.py
(a libzmq peer process).
"""

import importlib.util
import itertools
import json
import os
import signal
import socket
import struct
import sys
import time
import uuid

import gevent
import gevent.subprocess
import pytest
from greenlet import greenlet as RawGreenlet

import greenmq as zmq

TIMEOUT = 10  # seconds: the bound on one blocking step of a test; a hang shows up as gevent.Timeout
SHORT_TIMEOUT = 5  # seconds: the same, in the tests whose steps must all be quick
PROGRAM_TIMEOUT = 60  # seconds a whole program in a subprocess may take

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the tree under test (its greenmq/)

TRANSPORTS = ["tcp", "ipc", "inproc"]  # the ``transport`` fixture's (conftest.py)
WIRE_TRANSPORTS = ["tcp", "ipc"]  # the ones that speak ZMTP: inproc hands messages over with no handshake

# The implementations the benchmark smoke tests run: greenmq, and pyzmq and zmq.green when pyzmq is installed.
BENCH_IMPLS = ["greenmq"] + [name for name, module in (("pyzmq", "zmq"), ("zmq.green", "zmq"))
                             if importlib.util.find_spec(module) is not None]

_endpoint_numbers = itertools.count()


def _has_ipv6_loopback():
    """Whether this machine can bind ::1 (some containers have no IPv6 at all)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


#: Marks a test that needs the IPv6 loopback address.
needs_ipv6_loopback = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback (::1) on this machine")


def sigint_as_at_a_terminal():
    """``preexec_fn`` for a child that a test stops with SIGINT: a shell without job control (CI
    running the suite in the background) starts its jobs with SIGINT ignored, children inherit
    that, and Python then installs no KeyboardInterrupt handler; restore the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def blocked(greenlet):
    """Let ``greenlet`` run until it waits (two turns of the event loop); true if it started and is waiting.

    gevent's own truth test of a Greenlet is true as soon as it is scheduled;
    greenlet's (started and not finished) is the one that says it ran and is
    now suspended.
    """
    gevent.sleep(0)
    gevent.sleep(0)
    return not greenlet.ready() and RawGreenlet.__bool__(greenlet)


def new_socket(ctx, socket_type, **options):
    """A socket with LINGER 0 (closing it never waits) and ``options`` set as attributes (``ipv6=True``)."""
    s = ctx.socket(socket_type)
    s.linger = 0
    for name, value in options.items():
        setattr(s, name, value)
    return s


def endpoint_for(transport, tmp_path, name=None):
    """A new endpoint to bind for ``transport``: tcp on a free loopback port, ipc a path in ``tmp_path``, inproc
    a name no other test uses. ``name`` (default: a fresh number) tells a test's endpoints apart."""
    if name is None:
        name = "ep%d" % next(_endpoint_numbers)
    return {
        "tcp": "tcp://127.0.0.1:*",
        "ipc": f"ipc://{tmp_path}/{name}",
        "inproc": f"inproc://{name}-{uuid.uuid4().hex}",
    }[transport]


def wait_until(predicate, timeout=TIMEOUT, what="condition"):
    """Yield to the hub until ``predicate()`` (cheap, in-process state) is true; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        gevent.sleep(0.001)


def assert_nothing_arrives(sock, seconds=0.2):
    """No message comes to ``sock`` within ``seconds``; its RCVTIMEO is restored afterwards."""
    saved = sock.rcvtimeo
    sock.rcvtimeo = int(seconds * 1000)
    try:
        with pytest.raises(zmq.Again):
            sock.recv()
    finally:
        sock.rcvtimeo = saved


def raises_errno(errnum, call, *args):
    """Call ``call(*args)`` expecting ZMQError(errnum) within TIMEOUT; return the exception."""
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.ZMQError) as info:
        call(*args)
    assert info.value.errno == errnum, f"errno {info.value.errno} ({info.value}), expected {errnum}"
    return info.value


def drain(sock):
    """Every message ``sock`` has now, without waiting."""
    messages = []
    while True:
        try:
            messages.append(sock.recv_multipart(zmq.NOBLOCK))
        except zmq.Again:
            return messages


def is_generated_id(routing_id):
    """A ROUTER's id for an anonymous peer: 5 bytes, a zero byte then a 32-bit counter (libzmq and greenmq)."""
    return len(routing_id) == 5 and routing_id[0] == 0


def wait_event(monitor, event, count=1):
    """Read a monitor socket until ``event`` has been seen ``count`` times."""
    seen = 0
    while seen < count:
        header, _endpoint = monitor.recv_multipart()
        if struct.unpack("=HI", header)[0] == event:
            seen += 1


def wait_handshakes(sock, count=1, transport=None, timeout=TIMEOUT):
    """Start monitoring ``sock`` (call it before the connections are made); return a waiter that returns once
    ``count`` ZMTP handshakes have completed -- at once if ``transport`` is "inproc", which has none. Each
    monitor read waits at most ``timeout`` seconds (then zmq.Again)."""
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    monitor.rcvtimeo = int(timeout * 1000)

    def wait():
        if transport != "inproc":
            wait_event(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED, count)
    return wait


def run_program(tmp_path, source, timeout=PROGRAM_TIMEOUT):
    """Run ``source`` as a script in a fresh interpreter that imports greenmq from :data:`ROOT`, without blocking
    the hub; it must exit with 0 and print a JSON document as its last line, which is returned."""
    script = tmp_path / "program.py"
    script.write_text(source)
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    done = gevent.subprocess.run(
        [sys.executable, str(script)], stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE,
        env=env, cwd=str(tmp_path), timeout=timeout,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout.decode().strip().splitlines()[-1])

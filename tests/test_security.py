"""PLAIN, CURVE and ZAP end to end, greenmq to greenmq, over tcp and ipc.

ZAP handlers here are small hand-made REP sockets bound at
``inproc://zeromq.zap.01`` (not greenmq.auth), so that every reply frame is
under the test's control. The expected monitor events and ZAP requests were
taken from pyzmq 27 / libzmq 4.3.5 running the same scenarios.

Where libzmq behaves differently, and what these tests assume instead:

- A ZAP status 300 makes libzmq stop the handshake without an ERROR but keep the
  TCP connection open until HANDSHAKE_IVL expires (30 s by default); only then
  does the client reconnect. greenmq closes at once, which these tests expect
  (RFC 27: "temporary failure"; libzmq's own comment says the client "should be
  silently disconnected").

Like libzmq, greenmq reports DISCONNECTED after a failed handshake too, and on
the client HANDSHAKE_FAILED_NO_DETAIL (EPIPE) when the server closes silently;
tests/interop/test_interop_security.py compares those events with libzmq's.
"""

import errno
import os
import struct
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from time import monotonic

import gevent
import pytest
from gevent import socket as gsocket
from gevent.event import Event

import greenmq as zmq
from greenmq.utils import z85
from greenmq.zmtp import encode_command, encode_messages, encode_properties, make_greeting

from security_support import CLIENT_PUBLIC_Z85, CLIENT_SECRET_Z85, SERVER_PUBLIC_Z85, SERVER_SECRET_Z85, ZAP_ENDPOINT
from support import SHORT_TIMEOUT, WIRE_TRANSPORTS, assert_nothing_arrives, wait_until

EFAULT = errno.EFAULT  # libzmq's value for "PLAIN server without a ZAP handler"


over_the_wire = pytest.mark.parametrize("transport", WIRE_TRANSPORTS)


# -- helpers -------------------------------------------------------------------------------


def reply(status=b"200", user_id=b"", metadata=b"", text=b"OK"):
    """A ZAP policy that answers every request with ``status``."""
    return lambda request: [b"1.0", request[1], status, text, user_id, metadata]


def plain_policy(request):
    """Admit admin/secret as user "admin" (with one metadata property), refuse anyone else."""
    if request[5] == b"PLAIN" and request[6:] == [b"admin", b"secret"]:
        return reply(b"200", b"admin", encode_properties([("Hello", b"World")]))(request)
    return reply(b"400", text=b"Invalid credentials")(request)


class ZapHandler:
    """A REP socket at inproc://zeromq.zap.01 answering with ``policy(request)``.

    ``requests`` keeps every request (as the REP socket sees it: version first);
    while ``gate`` is an unset Event, replies wait for it.
    """

    def __init__(self, ctx, policy):
        self.policy = policy
        self.requests = []
        self.gate = None
        self.sock = ctx.socket(zmq.REP)
        self.sock.linger = 0
        self.sock.bind(ZAP_ENDPOINT)
        self.greenlet = gevent.spawn(self._serve)

    def _serve(self):
        while True:
            request = self.sock.recv_multipart()
            self.requests.append(request)
            if self.gate is not None:
                self.gate.wait()
            self.sock.send_multipart(self.policy(request))

    def wait_requests(self, count):
        wait_until(lambda: len(self.requests) >= count, SHORT_TIMEOUT,
                   what=f"{count} ZAP requests (got {len(self.requests)})")

    def close(self):
        self.greenlet.kill()
        if not self.sock.closed:
            self.sock.close(0)


@pytest.fixture
def zap_handler(ctx):
    """Start a :class:`ZapHandler` with a policy; stopped at the end of the test."""
    handlers = []

    def start(policy=None):
        handler = ZapHandler(ctx, policy or reply())
        handlers.append(handler)
        return handler

    yield start
    for handler in handlers:
        handler.close()


class Monitor:
    """A socket's monitor events as (event, value) pairs, collected as they are waited for."""

    def __init__(self, sock):
        self.sock = sock.get_monitor_socket()
        self.seen = []

    def _take(self, flags=0):
        header, _endpoint = self.sock.recv_multipart(flags)
        event, value = struct.unpack("=HI", header)
        self.seen.append((zmq.Event(event), value))

    def values(self, event):
        return [value for seen, value in self.seen if seen == event]

    def wait(self, event, count=1, timeout=SHORT_TIMEOUT):
        """Wait until ``event`` was seen ``count`` times; return its values."""
        timer = gevent.Timeout(timeout)
        timer.start()
        try:
            while len(self.values(event)) < count:
                self._take()
        except gevent.Timeout as error:
            if error is not timer:
                raise
            raise AssertionError(f"no {count} x {event.name} in {timeout} s; saw {self.names()}") from None
        finally:
            timer.close()
        return self.values(event)

    def drain(self):
        """Take the events already queued, without waiting."""
        try:
            while True:
                self._take(zmq.DONTWAIT)
        except zmq.Again:
            pass
        return self.seen

    def names(self):
        return [event.name for event, _ in self.seen]


@pytest.fixture
def binder(tmp_path):
    """``bind(sock, transport="tcp")``: bind on loopback or in the temp directory; returns the endpoint."""
    count = iter(range(1000))

    def bind(sock, transport="tcp"):
        if transport == "tcp":
            sock.bind("tcp://127.0.0.1:*")
        else:
            sock.bind(f"ipc://{tmp_path}/s{next(count)}")
        return sock.last_endpoint.decode()

    return bind


def plain_client(ctx, kind=zmq.PUSH, password=b"secret"):
    sock = ctx.socket(kind)
    sock.plain_username = b"admin"
    sock.plain_password = password
    sock.reconnect_ivl = 20  # so that a client that would retry does so many times during a test
    return sock


def curve_server(ctx, kind=zmq.PULL, secret=SERVER_SECRET_Z85):
    sock = ctx.socket(kind)
    sock.curve_server = 1
    sock.curve_secretkey = secret
    return sock


def curve_client(ctx, kind=zmq.PUSH, server_public=SERVER_PUBLIC_Z85, keys=(CLIENT_PUBLIC_Z85, CLIENT_SECRET_Z85)):
    sock = ctx.socket(kind)
    sock.curve_serverkey = server_public
    sock.curve_publickey, sock.curve_secretkey = keys
    sock.reconnect_ivl = 20
    return sock


def recv_within(sock, timeout=SHORT_TIMEOUT, multipart=False, copy=True):
    """One message, or an AssertionError after ``timeout`` seconds."""
    with gevent.Timeout(timeout, AssertionError(f"nothing received in {timeout} s")):
        return sock.recv_multipart(copy=copy) if multipart else sock.recv(copy=copy)


# -- PLAIN --------------------------------------------------------------------------------


@over_the_wire
def test_plain_admits_the_right_password(ctx, zap_handler, binder, transport):
    handler = zap_handler(plain_policy)
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    client = plain_client(ctx)
    client.connect(binder(server, transport))
    client.send(b"hello")
    frame = recv_within(server, copy=False)
    assert frame.bytes == b"hello"
    assert frame.get("User-Id") == "admin"
    assert frame.get("Hello") == "World"  # metadata from the ZAP reply
    assert frame.get("Socket-Type") == "PUSH"
    assert frame["User-Id"] == "admin"  # pyzmq's frame[name] is frame.get(name)
    assert frame["Socket-Type"] == "PUSH"
    if transport == "tcp":
        assert frame.get("Peer-Address") == "127.0.0.1"
    [request] = handler.requests
    version, _request_id, domain, address, identity, mechanism, *credentials = request
    assert (version, domain, identity, mechanism) == (b"1.0", b"", b"", b"PLAIN")
    assert credentials == [b"admin", b"secret"]
    if transport == "tcp":
        assert address == b"127.0.0.1"


def test_plain_client_sees_no_user_id(ctx, zap_handler, binder):
    zap_handler(plain_policy)
    server = ctx.socket(zmq.ROUTER)
    server.plain_server = 1
    client = plain_client(ctx, zmq.DEALER)
    client.connect(binder(server))
    client.send(b"ping")
    identity, _ = recv_within(server, multipart=True)
    server.send_multipart([identity, b"pong"])
    frame = recv_within(client, copy=False)
    assert frame.get("Socket-Type") == "ROUTER"
    assert frame.get("Peer-Address") == "127.0.0.1"
    with pytest.raises(zmq.ZMQError) as excinfo:
        frame.get("User-Id")
    assert excinfo.value.errno == zmq.EINVAL


@over_the_wire
def test_plain_wrong_password_is_refused_for_good(ctx, zap_handler, binder, transport):
    handler = zap_handler(plain_policy)
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server_events = Monitor(server)
    client = plain_client(ctx, password=b"wrong")
    client_events = Monitor(client)
    client.connect(binder(server, transport))
    client.send(b"must not arrive")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [400]
    client_auth = client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    # An ERROR from the server is final: no reconnection (15 reconnect intervals pass here).
    gevent.sleep(0.3)
    assert len(handler.requests) == 1
    assert handler.requests[0][6:] == [b"admin", b"wrong"]
    server_events.drain()
    assert len(server_events.values(zmq.EVENT_ACCEPTED)) == 1
    assert zmq.EVENT_CONNECT_RETRIED.name not in client_events.names()
    assert_nothing_arrives(server, 0.05)
    # libzmq's client reports the status code of the server's ERROR (400), like the server does.
    assert client_auth == [400]


def test_status_500_sends_an_error_and_is_final(ctx, zap_handler, binder):
    handler = zap_handler(reply(b"500", text=b"Internal error"))
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server_events = Monitor(server)
    client = plain_client(ctx)
    client_events = Monitor(client)
    client.connect(binder(server))
    client.send(b"must not arrive")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [500]
    client_auth = client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    gevent.sleep(0.2)
    assert len(handler.requests) == 1
    assert_nothing_arrives(server, 0.05)
    assert client_auth == [500]


def test_status_300_closes_silently_and_the_client_retries(ctx, zap_handler, binder):
    answers = iter([b"300", b"300"])
    handler = zap_handler(lambda request: reply(next(answers, b"200"))(request))
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server_events = Monitor(server)
    client = plain_client(ctx)
    client_events = Monitor(client)
    client.connect(binder(server))
    client.send(b"third time lucky")
    assert recv_within(server) == b"third time lucky"
    assert len(handler.requests) == 3
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH, count=2) == [300, 300]
    client_events.wait(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    client_events.drain()
    # No ERROR reached the client: it saw neither an AUTH nor a PROTOCOL failure, and connected thrice.
    assert zmq.EVENT_HANDSHAKE_FAILED_AUTH.name not in client_events.names()
    assert zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL.name not in client_events.names()
    assert client_events.names().count(zmq.EVENT_CONNECTED.name) == 3


def test_plain_server_without_zap_handler_closes_and_the_client_retries(ctx, zap_handler, binder):
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server_events = Monitor(server)
    client = plain_client(ctx)
    client.connect(binder(server))
    client.send(b"once a handler is there")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, count=2) == [EFAULT, EFAULT]
    assert_nothing_arrives(server, 0.05)
    handler = zap_handler(plain_policy)
    assert recv_within(server) == b"once a handler is there"
    assert handler.requests


# -- NULL with ZAP ------------------------------------------------------------------------


def test_null_with_zap_domain_asks_zap_and_400_keeps_the_client_out(ctx, zap_handler, binder):
    handler = zap_handler(reply(b"400", text=b"Address denied"))
    server = ctx.socket(zmq.PULL)
    server.zap_domain = b"global"
    server_events = Monitor(server)
    client = ctx.socket(zmq.PUSH)
    client.reconnect_ivl = 20
    client_events = Monitor(client)
    client.connect(binder(server))
    client.send(b"must not arrive")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [400]
    client_auth = client_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    gevent.sleep(0.2)
    [request] = handler.requests
    assert request[2] == b"global"
    assert request[3] == b"127.0.0.1"
    assert request[5:] == [b"NULL"]  # no credential frames
    assert_nothing_arrives(server, 0.05)
    assert client_auth == [400]


def test_null_with_zap_domain_admitted_gets_user_id_and_metadata(ctx, zap_handler, binder):
    metadata = encode_properties([("Role", b"auditor"), ("X-Level", b"3")])
    handler = zap_handler(reply(b"200", b"bob", metadata))
    server = ctx.socket(zmq.PULL)
    server.zap_domain = b"global"
    client = ctx.socket(zmq.PUSH)
    client.connect(binder(server))
    client.send(b"hi")
    frame = recv_within(server, copy=False)
    assert (frame.get("User-Id"), frame.get("Role"), frame.get("X-Level")) == ("bob", "auditor", "3")
    assert frame.get("Peer-Address") == "127.0.0.1"
    assert len(handler.requests) == 1
    with pytest.raises(zmq.ZMQError):
        frame.get("X-Not-There")


def test_null_without_zap_domain_never_asks(ctx, zap_handler, binder):
    handler = zap_handler(reply(b"400"))
    server = ctx.socket(zmq.PULL)
    client = ctx.socket(zmq.PUSH)
    client.connect(binder(server))
    client.send(b"hi")
    frame = recv_within(server, copy=False)
    assert frame.bytes == b"hi"
    assert handler.requests == []
    with pytest.raises(zmq.ZMQError):
        frame.get("User-Id")


def test_zap_admission_sets_user_id_even_when_empty(ctx, zap_handler, binder):
    """libzmq stores the reply's user id whatever it is: after a ZAP 200 with an empty user id,
    ``User-Id`` reads "" (only a connection that never went through ZAP has none)."""
    zap_handler(reply(b"200", b""))
    server = ctx.socket(zmq.PULL)
    server.zap_domain = b"global"
    client = ctx.socket(zmq.PUSH)
    client.connect(binder(server))
    client.send(b"hi")
    frame = recv_within(server, copy=False)
    assert frame.get("User-Id") == ""


# -- nothing before ZAP allows ------------------------------------------------------------


def test_no_message_reaches_the_application_before_zap_allows(ctx, zap_handler, binder):
    handler = zap_handler(plain_policy)
    handler.gate = Event()
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    client = plain_client(ctx)
    client.connect(binder(server))
    for n in range(3):
        client.send(b"message %d" % n)
    handler.wait_requests(1)
    assert server.poll(200) == 0
    assert_nothing_arrives(server, 0.05)
    handler.gate.set()
    assert [recv_within(server) for _ in range(3)] == [b"message 0", b"message 1", b"message 2"]
    assert len(handler.requests) == 1


def _pipelining_null_client(port, messages):
    """A raw NULL PUSH client that sends greeting, READY and ``messages`` in one write."""
    raw = gsocket.create_connection(("127.0.0.1", port))
    out = [make_greeting(b"NULL"), encode_command(b"READY", encode_properties([("Socket-Type", b"PUSH")]))]
    encode_messages(messages, out)
    raw.sendall(b"".join(bytes(chunk) for chunk in out))
    return raw


def test_messages_pipelined_behind_ready_wait_for_zap_to_admit(ctx, zap_handler):
    """A raw NULL client puts messages right behind its READY, before the server's READY.

    They must not reach the application while ZAP is deciding; once it admits the
    client they arrive, in order. (libzmq, checked with pyzmq, fails such a connection
    with ZMTP_UNEXPECTED_COMMAND instead; no libzmq client ever sends this way.)
    """
    handler = zap_handler(reply(b"200"))
    handler.gate = Event()
    server = ctx.socket(zmq.PULL)
    server.zap_domain = b"global"
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = _pipelining_null_client(port, [b"one", [b"two", b"parts"], b"three"])
    try:
        handler.wait_requests(1)
        assert_nothing_arrives(server, 0.2)
        handler.gate.set()
        assert recv_within(server) == b"one"
        server.rcvtimeo = int(SHORT_TIMEOUT * 1000)
        assert server.recv_multipart() == [b"two", b"parts"]
        assert server.recv() == b"three"
    finally:
        raw.close()


def test_messages_pipelined_behind_ready_are_dropped_when_zap_refuses(ctx, zap_handler):
    """The same client refused with 400: ERROR 400, the connection closes, nothing is delivered."""
    handler = zap_handler(reply(b"400"))
    handler.gate = Event()
    server = ctx.socket(zmq.PULL)
    server.zap_domain = b"global"
    server_events = Monitor(server)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = _pipelining_null_client(port, [b"one", [b"two", b"parts"], b"three"])
    try:
        handler.wait_requests(1)
        assert_nothing_arrives(server, 0.2)
        handler.gate.set()
        received = b""
        with gevent.Timeout(SHORT_TIMEOUT):
            while chunk := raw.recv(4096):
                received += chunk
        assert_nothing_arrives(server, 0.05)
        assert encode_command(b"ERROR", b"\x03400") in received
        assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [400]
        server_events.drain()
        assert zmq.EVENT_HANDSHAKE_SUCCEEDED.name not in server_events.names()
    finally:
        raw.close()


def test_slow_zap_handler_beyond_handshake_ivl_drops_the_connection(ctx, zap_handler, binder):
    handler = zap_handler(plain_policy)
    handler.gate = Event()
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server.handshake_ivl = 200
    server_events = Monitor(server)
    client = plain_client(ctx)
    started = monotonic()
    client.connect(binder(server))
    client.send(b"after the handler wakes up")
    server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    assert 0.15 <= monotonic() - started < 3
    assert zmq.EVENT_HANDSHAKE_SUCCEEDED.name not in server_events.names()
    assert_nothing_arrives(server, 0.05)
    # Late answers to dead connections do not confuse the next one.
    handler.gate.set()
    assert recv_within(server) == b"after the handler wakes up"
    assert len(handler.requests) >= 2


@pytest.mark.parametrize("answer, code", [
    (lambda r: [b"2.0", r[1], b"200", b"OK", b"", b""], zmq.PROTOCOL_ERROR_ZAP_BAD_VERSION),
    (lambda r: [b"1.0", r[1] + b"x", b"200", b"OK", b"", b""], zmq.PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID),
    (lambda r: [b"1.0", r[1], b"201", b"OK", b"", b""], zmq.PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE),
    (lambda r: [b"1.0", r[1], b"200", b"OK", b""], zmq.PROTOCOL_ERROR_ZAP_MALFORMED_REPLY),
    (lambda r: [b"1.0", r[1], b"200", b"OK", b"", b"", b""], zmq.PROTOCOL_ERROR_ZAP_MALFORMED_REPLY),
    (lambda r: [b"1.0", r[1], b"200", b"OK", b"", b"\x05ab"], zmq.PROTOCOL_ERROR_ZAP_INVALID_METADATA),
], ids=["version", "request-id", "status-code", "5-frames", "7-frames", "metadata"])
def test_malformed_zap_reply_is_a_protocol_error(ctx, zap_handler, binder, answer, code):
    handler = zap_handler(answer)
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    server_events = Monitor(server)
    client = plain_client(ctx)
    client.connect(binder(server))
    client.send(b"must not arrive")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)[0] == code
    handler.wait_requests(2)  # the server closed without ERROR: the client retries, as with libzmq
    server_events.drain()
    assert zmq.EVENT_HANDSHAKE_SUCCEEDED.name not in server_events.names()
    assert zmq.EVENT_HANDSHAKE_FAILED_AUTH.name not in server_events.names()
    assert_nothing_arrives(server, 0.05)


# -- CURVE --------------------------------------------------------------------------------


@pytest.mark.curve
@over_the_wire
def test_curve_with_the_right_keys(ctx, binder, transport):
    server = curve_server(ctx, zmq.REP)
    client = curve_client(ctx, zmq.REQ)
    client.connect(binder(server, transport))
    for n in range(3):
        client.send_multipart([b"request", b"%d" % n])
        frame = recv_within(server, copy=False)
        assert frame.bytes == b"request" and frame.more
        assert frame.get("Socket-Type") == "REQ"
        with pytest.raises(zmq.ZMQError):
            frame.get("User-Id")  # no ZAP handler, no user id (as libzmq)
        if transport == "tcp":
            assert frame.get("Peer-Address") == "127.0.0.1"
        assert recv_within(server) == b"%d" % n
        server.send(b"reply %d" % n)
        assert recv_within(client) == b"reply %d" % n


@pytest.mark.curve
def test_curve_wrong_server_key_gets_no_data(ctx, binder):
    server = curve_server(ctx)
    server_events = Monitor(server)
    other_public, _ = zmq.curve_keypair()
    client = curve_client(ctx, server_public=other_public)
    client.connect(binder(server))
    client.send(b"must not arrive")
    codes = server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, count=2)  # libzmq's client retries too
    assert set(codes) == {zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC}
    assert zmq.EVENT_HANDSHAKE_SUCCEEDED.name not in server_events.names()
    assert_nothing_arrives(server, 0.05)


@pytest.mark.curve
def test_curve_server_without_zap_admits_any_client(ctx, binder):
    server = curve_server(ctx)
    endpoint = binder(server)
    for n in range(2):
        client = curve_client(ctx, keys=zmq.curve_keypair())
        client.connect(endpoint)
        client.send(b"client %d" % n)
        assert recv_within(server) == b"client %d" % n


@pytest.mark.curve
def test_curve_with_zap_admits_only_allowed_keys(ctx, zap_handler, binder):
    allowed_public, allowed_secret = zmq.curve_keypair()

    def policy(request):
        if request[5] == b"CURVE" and request[6] == z85.decode(allowed_public):
            return reply(b"200", allowed_public)(request)
        return reply(b"400")(request)

    handler = zap_handler(policy)
    server = curve_server(ctx)
    server_events = Monitor(server)
    endpoint = binder(server)
    stranger = curve_client(ctx)
    stranger.connect(endpoint)
    stranger.send(b"stranger")
    assert server_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [400]
    friend = curve_client(ctx, keys=(allowed_public, allowed_secret))
    friend.connect(endpoint)
    friend.send(b"friend")
    frame = recv_within(server, copy=False)
    assert frame.bytes == b"friend"
    assert frame.get("User-Id") == allowed_public.decode()
    assert_nothing_arrives(server, 0.05)
    assert [request[5:] for request in handler.requests] == [[b"CURVE", z85.decode(CLIENT_PUBLIC_Z85)],
                                                             [b"CURVE", z85.decode(allowed_public)]]


def _drain_until(sock, marker, skip=(b"sync",)):
    """Messages received before ``marker`` (each a list of frames), ignoring ``skip`` topics."""
    got = []
    while True:
        msg = recv_within(sock, multipart=True)
        if msg == [marker]:
            return got
        if not msg[0].startswith(skip):
            got.append(msg)


def _sync(pub, subs, topic):
    """Publish ``topic`` until every subscriber got one: their subscriptions so far have reached ``pub``."""
    pending = list(subs)
    with gevent.Timeout(SHORT_TIMEOUT, AssertionError(f"{topic!r} did not reach every subscriber")):
        while pending:
            pub.send(topic)
            gevent.sleep(0.01)
            for sub in list(pending):
                while sub.poll(0):
                    if sub.recv() == topic:
                        pending.remove(sub)
                        break


@pytest.mark.curve
def test_pub_sub_over_curve_encrypts_per_subscriber(ctx, binder):
    """Every subscriber connection has its own session key, so a PUB cannot share encoded bytes."""
    pub = curve_server(ctx, zmq.PUB)
    endpoint = binder(pub)
    subs = {}
    for topic in (b"a", b"b", b""):
        sub = curve_client(ctx, zmq.SUB, keys=zmq.curve_keypair())
        for wanted in (topic, b"sync", b"end"):
            sub.subscribe(wanted)
        sub.connect(endpoint)
        subs[topic] = sub
    _sync(pub, subs.values(), b"sync")
    big = b"a-big" + os.urandom(100_000)
    published = [[b"a1"], [b"b1"], [b"a2", b"multi", b"part"], [b"c1"], [big], [b"b2" * 5000]]
    for msg in published:
        pub.send_multipart(msg)
    pub.send(b"end")
    assert _drain_until(subs[b"a"], b"end") == [[b"a1"], [b"a2", b"multi", b"part"], [big]]
    assert _drain_until(subs[b"b"], b"end") == [[b"b1"], [b"b2" * 5000]]
    assert _drain_until(subs[b""], b"end") == published

    subs[b"a"].unsubscribe(b"a")
    subs[b"a"].subscribe(b"sync2")  # arrives after the CANCEL on the same connection
    _sync(pub, [subs[b"a"]], b"sync2")
    pub.send(b"a3")
    pub.send(b"end")
    assert _drain_until(subs[b"a"], b"end", skip=(b"sync",)) == []
    assert _drain_until(subs[b""], b"end") == [[b"a3"]]


@pytest.mark.curve
def test_xpub_receives_subscriptions_over_curve(ctx, binder):
    xpub = curve_server(ctx, zmq.XPUB)
    sub = curve_client(ctx, zmq.SUB)
    sub.connect(binder(xpub))
    sub.subscribe(b"topic")
    assert recv_within(xpub) == b"\x01topic"
    xpub.send(b"topic data")
    assert recv_within(sub) == b"topic data"
    sub.unsubscribe(b"topic")
    assert recv_within(xpub) == b"\x00topic"


@pytest.mark.curve
@over_the_wire
def test_dealer_router_multipart_over_curve(ctx, binder, transport):
    router = curve_server(ctx, zmq.ROUTER)
    dealer = curve_client(ctx, zmq.DEALER)
    dealer.routing_id = b"dealer-1"
    dealer.connect(binder(router, transport))
    request = [b"", b"part1", b"x" * 70_000, b"", b"last"]
    dealer.send_multipart(request)
    assert recv_within(router, multipart=True) == [b"dealer-1"] + request
    answer = [b"reply", b"y" * 10_000, b""]
    router.send_multipart([b"dealer-1"] + answer)
    assert recv_within(dealer, multipart=True) == answer


@pytest.mark.curve
def test_ten_megabytes_over_curve(ctx, binder):
    server = curve_server(ctx)
    client = curve_client(ctx)
    client.connect(binder(server))
    payload = os.urandom(10 << 20)
    client.send(payload, copy=False)
    client.send(b"after")
    assert recv_within(server, timeout=20) == payload
    assert recv_within(server) == b"after"


class Relay:
    """A TCP relay between a client and a server that keeps what passed each way."""

    def __init__(self, server_port):
        self.listener = gsocket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.upstream = bytearray()  # client -> server
        self.downstream = bytearray()  # server -> client
        self._greenlets = [gevent.spawn(self._serve, server_port)]

    def _serve(self, server_port):
        client, _ = self.listener.accept()
        server = gsocket.create_connection(("127.0.0.1", server_port))
        self._greenlets += [gevent.spawn(self._pump, client, server, self.upstream),
                            gevent.spawn(self._pump, server, client, self.downstream)]

    @staticmethod
    def _pump(source, target, record):
        while True:
            data = source.recv(65536)
            if not data:
                target.close()
                return
            record.extend(data)
            target.sendall(data)

    def close(self):
        gevent.killall(self._greenlets)
        self.listener.close()


@pytest.mark.curve
def test_heartbeats_keep_a_curve_connection_alive(ctx):
    """PING and PONG travel inside MESSAGE boxes, both ways: a clear-text one would end the connection."""
    server = curve_server(ctx)
    client = curve_client(ctx)
    for sock in (server, client):
        sock.heartbeat_ivl = 30
        sock.heartbeat_timeout = 150
    server_events = Monitor(server)
    client_events = Monitor(client)
    relay = Relay(server.bind_to_random_port("tcp://127.0.0.1"))
    try:
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        client_events.wait(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        server_events.wait(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        # No message is sent yet: every MESSAGE box on the wire now is a PING or a PONG. Ten
        # each way take longer than HEARTBEAT_TIMEOUT, so a side whose PINGs went unanswered
        # (a PONG it could not open) would have disconnected meanwhile.
        boxes_now = relay.upstream.count(b"\x07MESSAGE"), relay.downstream.count(b"\x07MESSAGE")
        wait_until(lambda: relay.upstream.count(b"\x07MESSAGE") >= boxes_now[0] + 10
                   and relay.downstream.count(b"\x07MESSAGE") >= boxes_now[1] + 10,
                   SHORT_TIMEOUT, what="ten heartbeat boxes each way")
        assert b"\x04PING" not in relay.upstream + relay.downstream
        assert b"\x04PONG" not in relay.upstream + relay.downstream
        for events in (server_events, client_events):
            events.drain()
            assert zmq.EVENT_DISCONNECTED.name not in events.names()
        client.send(b"still here")
        assert recv_within(server) == b"still here"
    finally:
        relay.close()


@pytest.mark.curve
def test_curve_client_reconnects_after_the_server_restarts(ctx, binder):
    server = curve_server(ctx)
    endpoint = binder(server)
    client = curve_client(ctx)
    client_events = Monitor(client)
    client.connect(endpoint)
    # Set after connect(): this connection (and its reconnections) keep the right key.
    client.curve_serverkey = zmq.curve_keypair()[0]
    client.send(b"one")
    assert recv_within(server) == b"one"
    server.close(0)
    client_events.wait(zmq.EVENT_DISCONNECTED)
    restarted = curve_server(ctx)
    with gevent.Timeout(SHORT_TIMEOUT):
        while True:
            try:
                restarted.bind(endpoint)
                break
            except zmq.ZMQError as error:
                if error.errno != zmq.EADDRINUSE:
                    raise
                gevent.sleep(0.02)
    client.send(b"two")
    assert recv_within(restarted) == b"two"
    assert client_events.wait(zmq.EVENT_HANDSHAKE_SUCCEEDED, count=2) == [0, 0]


# -- configuration snapshots and inproc ----------------------------------------------------


def test_options_changed_after_connect_apply_to_later_connects_only(ctx, zap_handler, binder):
    handler = zap_handler(plain_policy)
    first = ctx.socket(zmq.PULL)
    first.plain_server = 1
    second = ctx.socket(zmq.PULL)
    second.plain_server = 1
    second_events = Monitor(second)
    client = plain_client(ctx)
    client.connect(binder(first))
    client.plain_password = b"wrong"  # before the first connection's handshake has even started
    client.connect(binder(second))
    assert second_events.wait(zmq.EVENT_HANDSHAKE_FAILED_AUTH) == [400]
    handler.wait_requests(2)
    assert sorted(request[6:] for request in handler.requests) == [[b"admin", b"secret"], [b"admin", b"wrong"]]
    client.send(b"through the first connection")
    assert recv_within(first) == b"through the first connection"


def test_server_options_changed_after_bind_apply_to_later_binds_only(ctx, zap_handler, binder):
    handler = zap_handler(plain_policy)
    server = ctx.socket(zmq.PULL)
    server.plain_server = 1
    plain_endpoint = binder(server)
    server.plain_server = 0
    null_endpoint = binder(server)
    plain = plain_client(ctx)
    plain.connect(plain_endpoint)
    plain.send(b"plain")
    assert recv_within(server) == b"plain"
    assert len(handler.requests) == 1
    null = ctx.socket(zmq.PUSH)
    null.connect(null_endpoint)
    null.send(b"null")
    assert recv_within(server) == b"null"
    assert len(handler.requests) == 1


PYZMQ_INPROC = textwrap.dedent("""
    import json, zmq
    ctx = zmq.Context()
    zap = ctx.socket(zmq.REP)
    zap.bind("inproc://zeromq.zap.01")
    public, secret = zmq.curve_keypair()
    results = {}
    for name, configure in (("curve", lambda s: (setattr(s, "curve_server", 1), setattr(s, "curve_secretkey", secret))),
                            ("plain", lambda s: setattr(s, "plain_server", 1))):
        server = ctx.socket(zmq.PAIR)
        configure(server)
        server.zap_domain = b"global"
        server.bind("inproc://" + name)
        client = ctx.socket(zmq.PAIR)
        client.connect("inproc://" + name)
        client.send(b"ping")
        server.rcvtimeo = client.rcvtimeo = 2000
        got = server.recv()
        server.send(b"pong")
        results[name] = [got.decode(), client.recv().decode()]
        server.close(0)
        client.close(0)
    results["zap_asked"] = zap.poll(100) != 0
    zap.close(0)
    ctx.term()
    print(json.dumps(results))
""")


@pytest.mark.curve
def test_inproc_ignores_security(ctx, zap_handler):
    """libzmq's inproc has no handshake, so neither mechanism nor ZAP applies; checked against pyzmq."""
    handler = zap_handler(reply(b"400"))
    results = {}
    for name in ("curve", "plain"):
        server = ctx.socket(zmq.PAIR)
        if name == "curve":
            server.curve_server = 1
            server.curve_secretkey = SERVER_SECRET_Z85
        else:
            server.plain_server = 1
        server.zap_domain = b"global"
        server.bind(f"inproc://{name}")
        client = ctx.socket(zmq.PAIR)  # NULL
        client.connect(f"inproc://{name}")
        client.send(b"ping")
        got = recv_within(server)
        server.send(b"pong")
        results[name] = [got.decode(), recv_within(client).decode()]
    results["zap_asked"] = bool(handler.requests)
    assert results == {"curve": ["ping", "pong"], "plain": ["ping", "pong"], "zap_asked": False}
    if find_spec("zmq") is not None:
        done = subprocess.run([sys.executable, "-c", PYZMQ_INPROC], capture_output=True, text=True, timeout=60,
                              check=True)
        assert done.stdout.strip() == '{"curve": ["ping", "pong"], "plain": ["ping", "pong"], "zap_asked": false}'

"""ZMTP 2.0 and 1.0 peers over real loopback TCP, against greenmq sockets of each type they had.

The old peer is a raw gevent socket that speaks byte for byte as rfc15-zmtp-2.0.md and
rfc13-zmtp-1.0.md give it: it sends its whole greeting at once (a 2.0 peer: signature with
zero padding, revision 01, socket type, identity frame; a 1.0 peer: its identity frame) and
reads greenmq's as libzmq sends it to such a peer (signature, revision 3, socket type and
identity frame for 2.0; the signature read as an identity frame header, then its body, for
1.0). Each pattern is tried with greenmq binding and the raw peer connecting, and with greenmq
connecting to a raw peer that listens.
"""

import struct
from contextlib import contextmanager

import gevent
import pytest
from gevent import socket

import greenmq as zmq

from raw_peer_support import read_until_eof, recv_exactly
from support import TIMEOUT, assert_nothing_arrives, drain, is_generated_id, new_socket, wait_event

# The socket-type byte of a 2.0 greeting (rfc15; XPUB and XSUB as libzmq sends them).
TYPE_NUMBERS = {zmq.PAIR: 0, zmq.PUB: 1, zmq.SUB: 2, zmq.REQ: 3, zmq.REP: 4, zmq.DEALER: 5, zmq.ROUTER: 6,
                zmq.PULL: 7, zmq.PUSH: 8, zmq.XPUB: 9, zmq.XSUB: 10}

REVISIONS = ["zmtp2.0", "zmtp1.0"]
DIRECTIONS = ["greenmq-binds", "greenmq-connects"]


def frame_20(body, more=False):
    """rfc15: flags (MORE 1, LONG 2), a 1- or 8-octet size, the body."""
    flags = 1 if more else 0
    if len(body) <= 255:
        return bytes((flags, len(body))) + body
    return bytes((flags | 2,)) + len(body).to_bytes(8, "big") + body


def frame_10(body, more=False):
    """rfc13: the length (counting the flags octet: 1 octet up to 254, else FF + 8 octets), flags, body."""
    length = len(body) + 1
    flags = b"\x01" if more else b"\x00"
    if length < 255:
        return bytes((length,)) + flags + body
    return b"\xff" + length.to_bytes(8, "big") + flags + body


class OldPeer:
    """A ZMTP 2.0 or 1.0 peer of type ``socket_type`` on the connected raw socket ``raw``."""

    def __init__(self, raw, revision, socket_type, identity=b""):
        self.raw = raw
        self.revision = revision
        self.socket_type = socket_type
        self.identity = identity
        self.frame = frame_20 if revision == "zmtp2.0" else frame_10
        self.greenmq_identity = None

    def greet(self, greenmq_type):
        """Send our greeting and read greenmq's, checking every byte of it but its identity."""
        raw = self.raw
        if self.revision == "zmtp2.0":
            raw.sendall(b"\xff" + bytes(8) + b"\x7f" + b"\x01" + bytes((TYPE_NUMBERS[self.socket_type],))
                        + frame_20(self.identity))
            greeting = recv_exactly(raw, 12)
            assert greeting[0] == 0xFF and greeting[9] == 0x7F, greeting
            assert greeting[10] == 3  # libzmq's revision byte (rfc37 "Detecting ZMTP 1.0 and 2.0 Peers")
            assert greeting[11] == TYPE_NUMBERS[greenmq_type]
            more, self.greenmq_identity = self._read_frame()
            assert not more
        else:
            raw.sendall(frame_10(self.identity))
            header = recv_exactly(raw, 10)  # the signature, read as the header of an identity frame
            assert header[0] == 0xFF and header[9] == 0x7F, header  # (flags: not validated, rfc13)
            self.greenmq_identity = recv_exactly(raw, int.from_bytes(header[1:9], "big") - 1)
        return self

    def send(self, *frames):
        self.raw.sendall(b"".join(self.frame(body, i < len(frames) - 1) for i, body in enumerate(frames)))

    def recv(self):
        """One whole message from greenmq, as a list of frames."""
        frames = []
        more = True
        while more:
            more, body = self._read_frame()
            frames.append(body)
        return frames

    def _read_frame(self):
        raw = self.raw
        if self.revision == "zmtp2.0":
            flags = recv_exactly(raw, 1)[0]
            assert flags & ~0x03 == 0, f"flags {flags:#x}: no commands for a 2.0 peer"
            size = int.from_bytes(recv_exactly(raw, 8), "big") if flags & 2 else recv_exactly(raw, 1)[0]
            if flags & 2:
                assert size > 255  # greenmq uses the short form whenever it can
        else:
            first = recv_exactly(raw, 1)[0]
            length = int.from_bytes(recv_exactly(raw, 8), "big") if first == 0xFF else first
            if first == 0xFF:
                assert length >= 255  # the short form whenever it fits
            flags = recv_exactly(raw, 1)[0]
            size = length - 1
        return bool(flags & 1), recv_exactly(raw, size)


@contextmanager
def old_peer_of(ctx, greenmq_type, peer_type, revision, direction, identity=b"", **options):
    """A greenmq socket of ``greenmq_type`` (``options`` set before bind/connect) and an OldPeer of
    ``peer_type`` connected to it, greetings exchanged; both closed afterwards."""
    sock = new_socket(ctx, greenmq_type, **options)
    raw = listener = None
    try:
        with gevent.Timeout(TIMEOUT):
            if direction == "greenmq-binds":
                port = sock.bind_to_random_port("tcp://127.0.0.1")
                raw = socket.create_connection(("127.0.0.1", port))
            else:
                listener = socket.socket()
                listener.bind(("127.0.0.1", 0))
                listener.listen(1)
                sock.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
                raw, _ = listener.accept()
        peer = OldPeer(raw, revision, peer_type, identity)
        yield sock, peer.greet(greenmq_type)
    finally:
        sock.close()
        for s in (raw, listener):
            if s is not None:
                s.close()


def recv(sock):
    with gevent.Timeout(TIMEOUT):
        return sock.recv_multipart()


def peer_recv(peer):
    with gevent.Timeout(TIMEOUT):
        return peer.recv()


LONG = bytes(range(256)) * 2  # 512 bytes: the 2.0 LONG flag, the 1.0 FF + 8-octet length
MESSAGES = [[b"one"], [b"multi", b"", b"part"], [LONG], [b"x" * 254], [b"head", LONG, b"tail"]]

each_revision = pytest.mark.parametrize("revision", REVISIONS)


# -- pipeline and exclusive pair -------------------------------------------------


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_old_push_to_greenmq_pull(ctx, revision, direction):
    with old_peer_of(ctx, zmq.PULL, zmq.PUSH, revision, direction) as (pull, peer):
        assert peer.greenmq_identity == b""
        for msg in MESSAGES:
            peer.send(*msg)
        assert [recv(pull) for _ in MESSAGES] == MESSAGES


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_greenmq_push_to_old_pull(ctx, revision, direction):
    with old_peer_of(ctx, zmq.PUSH, zmq.PULL, revision, direction) as (push, peer):
        for msg in MESSAGES:
            push.send_multipart(msg)
        assert [peer_recv(peer) for _ in MESSAGES] == MESSAGES


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_pair_both_ways(ctx, revision, direction):
    with old_peer_of(ctx, zmq.PAIR, zmq.PAIR, revision, direction) as (pair, peer):
        peer.send(b"ping", LONG)
        assert recv(pair) == [b"ping", LONG]
        pair.send_multipart([b"pong", LONG])
        assert peer_recv(peer) == [b"pong", LONG]


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_identity_sent_to_old_peer(ctx, revision, direction):
    # libzmq sends its routing id in the identity frame whatever the socket type.
    with old_peer_of(ctx, zmq.DEALER, zmq.ROUTER, revision, direction, routing_id=b"green") as (dealer, peer):
        assert peer.greenmq_identity == b"green"
        dealer.send_multipart([b"", b"request"])
        assert peer_recv(peer) == [b"", b"request"]


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("greenmq_type, peer_type", [(zmq.DEALER, zmq.ROUTER), (zmq.ROUTER, zmq.DEALER)])
def test_hello_msg_is_the_first_message_to_an_old_peer(ctx, revision, direction, greenmq_type, peer_type):
    # HELLO_MSG is a message in the pipe in libzmq (its session sends it), not a ZMTP 3 feature.
    with old_peer_of(ctx, greenmq_type, peer_type, revision, direction, identity=b"old",
                     hello_msg=b"hi there") as (sock, peer):
        assert peer_recv(peer) == [b"hi there"]
        if greenmq_type == zmq.ROUTER:
            sock.send_multipart([b"old", b"after"])
        else:
            sock.send(b"after")
        assert peer_recv(peer) == [b"after"]


# -- request-reply ----------------------------------------------------------------


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_old_req_to_greenmq_rep(ctx, revision, direction):
    with old_peer_of(ctx, zmq.REP, zmq.REQ, revision, direction) as (rep, peer):
        for i in range(3):
            peer.send(b"", b"question %d" % i)  # rfc13 "addressed content": the delimiter first
            assert recv(rep) == [b"question %d" % i]
            rep.send(b"answer %d" % i)
            assert peer_recv(peer) == [b"", b"answer %d" % i]


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_greenmq_req_to_old_rep(ctx, revision, direction):
    with old_peer_of(ctx, zmq.REQ, zmq.REP, revision, direction) as (req, peer):
        req.send(b"question")
        assert peer_recv(peer) == [b"", b"question"]
        peer.send(b"", b"answer", LONG)
        assert recv(req) == [b"answer", LONG]


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_router_takes_the_identity_frame_as_routing_id(ctx, revision, direction):
    with old_peer_of(ctx, zmq.ROUTER, zmq.DEALER, revision, direction, identity=b"old-dealer") as (router, peer):
        peer.send(b"", b"hello")
        assert recv(router) == [b"old-dealer", b"", b"hello"]
        router.send_multipart([b"old-dealer", b"", b"welcome"])
        assert peer_recv(peer) == [b"", b"welcome"]


@each_revision
def test_router_generates_routing_id_for_anonymous_old_peer(ctx, revision):
    with old_peer_of(ctx, zmq.ROUTER, zmq.REQ, revision, "greenmq-binds") as (router, peer):
        peer.send(b"", b"anyone?")
        routing_id, empty, body = recv(router)
        assert is_generated_id(routing_id) and empty == b"" and body == b"anyone?"
        router.send_multipart([routing_id, b"", b"you"])
        assert peer_recv(peer) == [b"", b"you"]


@each_revision
def test_old_and_3x_peers_on_one_router(ctx, revision):
    with old_peer_of(ctx, zmq.ROUTER, zmq.DEALER, revision, "greenmq-binds", identity=b"old") as (router, peer):
        dealer = new_socket(ctx, zmq.DEALER, routing_id=b"new")
        try:
            dealer.connect(router.last_endpoint)
            dealer.send(b"from 3.1")
            peer.send(b"from the past")
            assert sorted([recv(router), recv(router)]) == [[b"new", b"from 3.1"], [b"old", b"from the past"]]
            router.send_multipart([b"old", b"to the past"])
            router.send_multipart([b"new", b"to 3.1"])
            assert peer_recv(peer) == [b"to the past"]
            assert recv(dealer) == [b"to 3.1"]
        finally:
            dealer.close()


# -- publish-subscribe -----------------------------------------------------------------


def publish_until_received(pub, peer, messages):
    """Publish ``messages`` over and over until the old subscriber gets one (its subscription has
    arrived), then an end marker; return everything it received up to that marker."""
    got = []
    with gevent.Timeout(TIMEOUT):
        reader = gevent.spawn(peer.recv)
        while not reader.ready():
            for msg in messages:
                pub.send_multipart(msg)
            gevent.sleep(0.005)
        got.append(reader.get())
        pub.send_multipart([b"A-end"])
        while got[-1] != [b"A-end"]:
            got.append(peer.recv())
    return got


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("publisher", [zmq.PUB, zmq.XPUB])
def test_old_subscriber_at_greenmq_publisher(ctx, revision, direction, publisher):
    with old_peer_of(ctx, publisher, zmq.SUB, revision, direction) as (pub, peer):
        if revision == "zmtp2.0":
            peer.send(b"\x01A")  # rfc15: a subscription is a message, %x01 + the topic
            expected = {b"A-hit"}
            if publisher == zmq.XPUB:
                assert recv(pub) == [b"\x01A"]
        else:
            # A 1.0 subscriber sends no subscriptions: libzmq's publisher sends it everything.
            expected = {b"A-hit", b"B-all"}
            if publisher == zmq.XPUB:
                assert recv(pub) == [b"\x01"]
        got = publish_until_received(pub, peer, [[b"B-all"], [b"A-hit"], [b"A-long", LONG]])
        firsts = {msg[0] for msg in got}
        assert firsts <= expected | {b"A-long", b"A-end"}
        assert expected <= firsts
        assert [b"A-long", LONG] in got


def test_old_subscriber_cancels(ctx):
    # (A ZMTP 1.0 subscriber sends no subscriptions -- rfc13: "A subscriber SHALL NOT send any content".)
    with old_peer_of(ctx, zmq.XPUB, zmq.SUB, "zmtp2.0", "greenmq-binds") as (xpub, peer):
        peer.send(b"\x01topic")
        assert recv(xpub) == [b"\x01topic"]
        peer.send(b"\x00topic")  # rfc15: %x00 + the topic to unsubscribe
        assert recv(xpub) == [b"\x00topic"]


@each_revision
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("subscriber", [zmq.SUB, zmq.XSUB])
def test_greenmq_subscriber_at_old_publisher(ctx, revision, direction, subscriber):
    with old_peer_of(ctx, subscriber, zmq.PUB, revision, direction) as (sub, peer):
        if subscriber == zmq.SUB:
            sub.subscribe(b"A")
        else:
            sub.send(b"\x01A")
        # The subscription goes to the old publisher as a message (libzmq's v1/v2 encoders).
        assert peer_recv(peer) == [b"\x01A"]
        for body in (b"A1", b"B1", b"A2"):
            peer.send(body)
        peer.send(b"A-multi", LONG)
        expected = [[b"A1"], [b"A2"], [b"A-multi", LONG]] if subscriber == zmq.SUB else None
        if expected is None:  # an XSUB filters nothing itself: the publisher was to
            expected = [[b"A1"], [b"B1"], [b"A2"], [b"A-multi", LONG]]
        assert [recv(sub) for _ in expected] == expected
        if subscriber == zmq.SUB:
            sub.unsubscribe(b"A")
            assert peer_recv(peer) == [b"\x00A"]


# -- security: old peers are refused while ZAP is on -------------------------------------


REFUSING = {
    "null-with-zap-domain": {"zap_domain": b"global"},
    "plain-server": {"plain_server": True},
    "curve-server": pytest.param({"curve_server": True, "curve_secretkey": b"s" * 32}, marks=pytest.mark.curve),
}


@each_revision
@pytest.mark.parametrize("options", REFUSING.values(), ids=REFUSING)
def test_old_peer_refused_while_zap_is_on(ctx, revision, options, hub_errors):
    pull = new_socket(ctx, zmq.PULL, **options)
    monitor = pull.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_DISCONNECTED)
    monitor.rcvtimeo = TIMEOUT * 1000
    raw = None
    try:
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        with gevent.Timeout(TIMEOUT):
            raw = socket.create_connection(("127.0.0.1", port))
        if revision == "zmtp2.0":
            raw.sendall(b"\xff" + bytes(8) + b"\x7f\x01\x08" + frame_20(b""))
        else:
            raw.sendall(frame_10(b""))
        sent = read_until_eof(raw)
        # greenmq got no further than its signature (and its revision, for a versioned peer).
        assert sent[:1] == b"\xff" and sent[9:10] == b"\x7f" and len(sent) <= 11
        wait_event(monitor, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    finally:
        if raw is not None:
            raw.close()
        monitor.close()
        pull.close()
    assert hub_errors.getvalue() == ""


@each_revision
def test_zap_domain_socket_still_serves_3x_peers(ctx, revision):
    pull = new_socket(ctx, zmq.PULL, zap_domain=b"global")
    push = new_socket(ctx, zmq.PUSH)
    try:
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        with gevent.Timeout(TIMEOUT):
            raw = socket.create_connection(("127.0.0.1", port))
        raw.sendall(b"\xff" + bytes(8) + b"\x7f\x01\x08\x00\x00" if revision == "zmtp2.0" else frame_10(b""))
        read_until_eof(raw)
        raw.close()
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"3.1 still welcome")
        assert recv(pull) == [b"3.1 still welcome"]
    finally:
        push.close()
        pull.close()


# -- what libzmq does not do for old peers --------------------------------------------------


@each_revision
def test_no_heartbeats_and_no_handshake_event_for_old_peers(ctx, revision):
    options = {"heartbeat_ivl": 20, "heartbeat_timeout": 60}
    with old_peer_of(ctx, zmq.PULL, zmq.PUSH, revision, "greenmq-binds", **options) as (pull, peer):
        monitor = pull.get_monitor_socket()
        try:
            peer.send(b"first")
            assert recv(pull) == [b"first"]
            # libzmq's heartbeat timers start with a security mechanism, which old peers lack:
            # no PING comes, and silence is not a timeout.
            gevent.sleep(0.3)
            peer.send(b"second")
            assert recv(pull) == [b"second"]
            with pytest.raises(socket.timeout):
                peer.raw.settimeout(0.05)
                peer.raw.recv(1)
            events = [struct.unpack("=HI", frames[0])[0] for frames in drain(monitor)]
            assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in events
            assert zmq.EVENT_DISCONNECTED not in events
        finally:
            monitor.close()


# -- ZMTP 3.x peers as before -------------------------------------------------------------


def test_3x_peer_with_libzmqs_staged_greeting(ctx):
    """A 3.x raw peer that waits, as libzmq does, for each stage of ours before sending its next."""
    pull = new_socket(ctx, zmq.PULL)
    try:
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        with gevent.Timeout(TIMEOUT):
            raw = socket.create_connection(("127.0.0.1", port))
        try:
            greeting = b"\xff" + (1).to_bytes(8, "big") + b"\x7f" + b"\x03\x01" + b"NULL".ljust(20, b"\x00") + bytes(32)
            raw.sendall(greeting[:10])
            assert recv_exactly(raw, 10)[9] == 0x7F
            raw.sendall(greeting[10:11])
            assert recv_exactly(raw, 1) == b"\x03"
            raw.sendall(greeting[11:])
            assert recv_exactly(raw, 53)[1:5] == b"NULL"
            ready = b"\x05READY" + b"\x0bSocket-Type" + (4).to_bytes(4, "big") + b"PUSH"
            raw.sendall(bytes((4, len(ready))) + ready + b"\x00\x05hello")
            assert recv(pull) == [b"hello"]
            assert recv_exactly(raw, 2)[0] == 0x04  # greenmq's READY
        finally:
            raw.close()
        assert_nothing_arrives(pull, 0.05)
    finally:
        pull.close()

"""libzmq's draft options ONLY_FIRST_SUBSCRIBE, XPUB_MANUAL_LAST_VALUE, RECONNECT_STOP and
ZAP_ENFORCE_DOMAIN: their checks as libzmq makes them, and their effects greenmq to greenmq over
each transport, and on the wire against raw peers. (tests/test_draft_options.py has the others.)"""

import errno
import socket
import struct
import time

import gevent
import pytest
from gevent import socket as gsocket

import greenmq as zmq

from raw_peer_support import connect_raw, null_handshake, recv_exactly
from support import (TIMEOUT, TRANSPORTS, WIRE_TRANSPORTS, assert_nothing_arrives, endpoint_for, new_socket,
                     raises_errno, wait_until)
from zmtp_support import frame

# -- checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("option, types", [
    (zmq.ONLY_FIRST_SUBSCRIBE, (zmq.PUB, zmq.XPUB, zmq.XSUB)),
    (zmq.XPUB_MANUAL_LAST_VALUE, (zmq.XPUB,)),
])
def test_pubsub_flags_as_libzmq_checks_them(ctx, option, types):
    for socket_type in (zmq.PUB, zmq.XPUB, zmq.SUB, zmq.XSUB, zmq.DEALER):
        sock = new_socket(ctx, socket_type)
        if socket_type in types:
            sock.setsockopt(option, 1)
            sock.setsockopt(option, 7)  # any value >= 0, non-zero meaning on
            sock.setsockopt(option, 0)
            raises_errno(zmq.EINVAL, sock.setsockopt, option, -1)
        else:
            raises_errno(zmq.EINVAL, sock.setsockopt, option, 1)
        raises_errno(zmq.EINVAL, sock.getsockopt, option)  # write-only, as in libzmq


def test_reconnect_stop_keeps_any_int(ctx):
    sock = new_socket(ctx, zmq.DEALER)
    assert sock.getsockopt(zmq.RECONNECT_STOP) == 0
    bits = zmq.RECONNECT_STOP_CONN_REFUSED | zmq.RECONNECT_STOP_HANDSHAKE_FAILED | zmq.RECONNECT_STOP_AFTER_DISCONNECT
    assert bits == 7
    sock.reconnect_stop = bits
    assert sock.reconnect_stop == bits
    sock.setsockopt(zmq.RECONNECT_STOP, -7)  # libzmq stores whatever int it is given
    assert sock.getsockopt(zmq.RECONNECT_STOP) == -7


def test_zap_enforce_domain_is_a_relaxed_boolean(ctx):
    sock = new_socket(ctx, zmq.ROUTER)
    assert sock.zap_enforce_domain == 0
    for value, stored in ((5, 1), (0, 0), (-3, 1), (1, 1)):
        sock.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, value)
        assert sock.getsockopt(zmq.ZAP_ENFORCE_DOMAIN) == stored


# -- ONLY_FIRST_SUBSCRIBE ---------------------------------------------------------------

def _xpub_xsub(ctx, tmp_path, transport, xpub_first, xsub_first):
    xpub = new_socket(ctx, zmq.XPUB, only_first_subscribe=int(xpub_first))
    xsub = new_socket(ctx, zmq.XSUB, only_first_subscribe=int(xsub_first))
    xpub.bind(endpoint_for(transport, tmp_path))
    xsub.connect(xpub.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        xsub.send(b"\x01ready")
        assert xpub.recv() == b"\x01ready"
    return xpub, xsub


def _subscribed(xpub, xsub, topics):
    """Which of ``topics`` reach ``xsub`` (each sent once, behind a closing probe)."""
    for topic in topics:
        xpub.send(topic)
    xpub.send(b"ready")
    got = []
    with gevent.Timeout(TIMEOUT):
        while True:
            msg = xsub.recv()
            if msg == b"ready":
                return got
            got.append(msg)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_only_first_subscribe_makes_the_rest_of_a_data_message_data(ctx, tmp_path, transport):
    xpub, xsub = _xpub_xsub(ctx, tmp_path, transport, True, True)
    xsub.send_multipart([b"ABC", b"\x01X", b"\x00ready"])
    with gevent.Timeout(TIMEOUT):
        assert xpub.recv_multipart() == [b"ABC", b"\x01X", b"\x00ready"]
    assert xsub.topics_count == 1  # only "ready": nothing was counted from the data message
    assert _subscribed(xpub, xsub, [b"X"]) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_without_only_first_subscribe_every_part_counts(ctx, tmp_path, transport):
    # libzmq 4.3 reads each part: the notice of X ends the message the XPUB hands out.
    xpub, xsub = _xpub_xsub(ctx, tmp_path, transport, False, False)
    xsub.send_multipart([b"ABC", b"\x01X", b"tail"])
    with gevent.Timeout(TIMEOUT):
        assert xpub.recv_multipart() == [b"ABC", b"\x01X"]
        assert xpub.recv_multipart() == [b"tail"]
    assert xsub.topics_count == 2
    assert _subscribed(xpub, xsub, [b"X"]) == [b"X"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_only_first_subscribe_still_reads_a_subscription_message_part_by_part(ctx, tmp_path, transport):
    # libzmq's code: a first part that subscribes keeps the later parts read as subscriptions.
    xpub, xsub = _xpub_xsub(ctx, tmp_path, transport, True, True)
    xsub.send_multipart([b"\x01X", b"\x01Y"])
    with gevent.Timeout(TIMEOUT):
        assert xpub.recv() == b"\x01X"
        assert xpub.recv() == b"\x01Y"
    assert _subscribed(xpub, xsub, [b"X", b"Y", b"Z"]) == [b"X", b"Y"]


@pytest.mark.parametrize("xsub_first", [True, False])
def test_only_first_subscribe_on_one_side_only(ctx, tmp_path, xsub_first):
    # The XSUB's option decides what it counts and resends; the XPUB's what it applies.
    xpub, xsub = _xpub_xsub(ctx, tmp_path, "tcp", not xsub_first, xsub_first)
    xsub.send_multipart([b"data", b"\x01X"])
    with gevent.Timeout(TIMEOUT):
        got = xpub.recv_multipart()
    if xsub_first:  # the XPUB reads it part by part
        assert got == [b"data", b"\x01X"] and xsub.topics_count == 1
        assert _subscribed(xpub, xsub, [b"X"]) == [b"X"]
    else:
        assert got == [b"data", b"\x01X"] and xsub.topics_count == 2
        assert _subscribed(xpub, xsub, [b"X"]) == []


def test_only_first_subscribe_on_the_wire_from_a_raw_subscriber(ctx):
    xpub = new_socket(ctx, zmq.XPUB, only_first_subscribe=1)
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    try:
        null_handshake(raw, b"XSUB")
        raw.sendall(frame(b"data", 1) + frame(b"\x01X") + frame(b"\x01Y", 1) + frame(b"\x01Z"))
        with gevent.Timeout(TIMEOUT):
            assert xpub.recv_multipart() == [b"data", b"\x01X"]
            assert xpub.recv() == b"\x01Y"
            assert xpub.recv() == b"\x01Z"
        xpub.send(b"X")  # not subscribed: the raw peer gets only Y and Z
        xpub.send(b"Y")
        xpub.send(b"Z")
        assert recv_exactly(raw, 6) == frame(b"Y") + frame(b"Z")
    finally:
        raw.close()


def test_xsub_sends_a_multipart_message_as_data_frames(ctx):
    # A subscription part travels as libzmq sends it: a 0x01 data frame inside the message.
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    with gevent.Timeout(TIMEOUT):
        raw, _ = listener.accept()
    try:
        null_handshake(raw, b"XPUB")
        xsub.send_multipart([b"\x01X", b"data"])
        assert recv_exactly(raw, 10) == frame(b"\x01X", 1) + frame(b"data")
    finally:
        raw.close()
        listener.close()


# -- XPUB_MANUAL_LAST_VALUE ----------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_manual_last_value_sends_the_cached_value_to_the_new_subscriber_only(ctx, tmp_path, transport):
    xpub = new_socket(ctx, zmq.XPUB, xpub_manual_last_value=1)
    xpub.bind(endpoint_for(transport, tmp_path))
    cache = {}

    def serve_subscription():
        notice = xpub.recv()
        topic = notice[1:]
        xpub.subscribe(topic)  # for the peer whose notice this was
        if topic in cache:
            xpub.send(cache[topic])

    first = new_socket(ctx, zmq.SUB)
    first.connect(xpub.last_endpoint)
    first.subscribe(b"t")
    with gevent.Timeout(TIMEOUT):
        serve_subscription()
    cache[b"t"] = b"t 1"
    xpub.send(cache[b"t"])
    with gevent.Timeout(TIMEOUT):
        assert first.recv() == b"t 1"
    second = new_socket(ctx, zmq.SUB)
    second.connect(xpub.last_endpoint)
    second.subscribe(b"t")
    with gevent.Timeout(TIMEOUT):
        serve_subscription()  # the cached value again, for the new subscriber only
        assert second.recv() == b"t 1"
    xpub.send(b"t 2")  # then to everyone again
    with gevent.Timeout(TIMEOUT):
        assert first.recv() == b"t 2"
        assert second.recv() == b"t 2"


def test_plain_manual_sends_the_cached_value_to_everyone(ctx):
    # The contrast: XPUB_MANUAL alone duplicates the cached value for old subscribers.
    xpub = new_socket(ctx, zmq.XPUB, xpub_manual=1)
    xpub.bind("inproc://manual")
    subs = []
    for _ in range(2):
        sub = new_socket(ctx, zmq.SUB)
        sub.connect("inproc://manual")
        sub.subscribe(b"t")
        subs.append(sub)
        with gevent.Timeout(TIMEOUT):
            xpub.subscribe(xpub.recv()[1:])
        xpub.send(b"t cached")
    with gevent.Timeout(TIMEOUT):
        assert [subs[0].recv(), subs[0].recv(), subs[1].recv()] == [b"t cached"] * 3


# -- RECONNECT_STOP ----------------------------------------------------------------------

class Events:
    """A socket's monitor events as (event, value), read as the test waits for them."""

    def __init__(self, sock):
        self.sock = sock.get_monitor_socket()
        self.seen = []

    def wait(self, event):
        with gevent.Timeout(TIMEOUT):
            while event not in [seen for seen, _ in self.seen]:
                header, _endpoint = self.sock.recv_multipart()
                self.seen.append(struct.unpack("=HI", header))

    def quiet_for(self, seconds):
        """The events of the next ``seconds``."""
        later = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000) + 1):
                return later
            header, _endpoint = self.sock.recv_multipart()
            later.append(struct.unpack("=HI", header)[0])


def _refused_tcp_endpoint():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: a connect is refused
    return "tcp://127.0.0.1:%d" % port


def test_reconnect_stop_conn_refused_ends_the_endpoint(ctx):
    dealer = new_socket(ctx, zmq.DEALER, reconnect_ivl=10, reconnect_stop=zmq.RECONNECT_STOP_CONN_REFUSED)
    events = Events(dealer)
    addr = _refused_tcp_endpoint()
    dealer.connect(addr)
    events.wait(zmq.EVENT_CLOSED)
    assert [event for event, _ in events.seen] == [zmq.EVENT_CONNECT_DELAYED, zmq.EVENT_CLOSED]
    assert events.quiet_for(0.2) == []  # no retry
    raises_errno(errno.ENOENT, dealer.disconnect, addr)  # as libzmq: the endpoint is gone


def test_without_reconnect_stop_a_refused_connect_is_retried(ctx):
    dealer = new_socket(ctx, zmq.DEALER, reconnect_ivl=10,
                        reconnect_stop=zmq.RECONNECT_STOP_HANDSHAKE_FAILED | zmq.RECONNECT_STOP_AFTER_DISCONNECT)
    events = Events(dealer)
    addr = _refused_tcp_endpoint()
    dealer.connect(addr)
    events.wait(zmq.EVENT_CONNECT_RETRIED)
    dealer.disconnect(addr)


def _silent_listener():
    """A tcp listener that accepts and hangs up at once; returns it and its accept counter."""
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def serve():
        while True:
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.close()
    return listener, accepted, gevent.spawn(serve)


@pytest.mark.parametrize("stop", [True, False])
def test_reconnect_stop_handshake_failed(ctx, stop):
    listener, accepted, server = _silent_listener()
    try:
        bits = zmq.RECONNECT_STOP_HANDSHAKE_FAILED if stop else zmq.RECONNECT_STOP_CONN_REFUSED
        dealer = new_socket(ctx, zmq.DEALER, reconnect_ivl=10, reconnect_stop=bits)
        events = Events(dealer)
        dealer.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
        events.wait(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        if stop:
            later = events.quiet_for(0.3)
            assert zmq.EVENT_CONNECT_RETRIED not in later
            assert len(accepted) == 1
        else:
            wait_until(lambda: len(accepted) >= 3, what="reconnections")
    finally:
        server.kill()
        listener.close()


@pytest.mark.parametrize("stop", [True, False])
def test_reconnect_stop_after_disconnect_on_ipc(ctx, tmp_path, stop):
    # A path with a socket that does not listen: each connect is refused (ECONNREFUSED).
    path = str(tmp_path / "refusing")
    deaf = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deaf.bind(path)
    try:
        bits = zmq.RECONNECT_STOP_AFTER_DISCONNECT if stop else 0
        # A linger long enough to see the retries, short enough for the context to end after.
        dealer = new_socket(ctx, zmq.DEALER, reconnect_ivl=10, linger=1000, reconnect_stop=bits)
        events = Events(dealer)
        dealer.connect("ipc://" + path)
        events.wait(zmq.EVENT_CONNECT_RETRIED)  # refused, and retried while connected
        dealer.send(b"queued")  # so that disconnect lingers, connecting meanwhile
        dealer.disconnect("ipc://" + path)
        if stop:
            events.wait(zmq.EVENT_CLOSED)
            assert zmq.EVENT_CONNECT_RETRIED not in events.quiet_for(0.2)
        else:
            assert zmq.EVENT_CONNECT_RETRIED in events.quiet_for(0.3)
    finally:
        deaf.close()


# -- ZAP_ENFORCE_DOMAIN ------------------------------------------------------------------

class ZapHandler:
    """A ZAP handler (RFC 27) at inproc://zeromq.zap.01 answering ``status`` and counting requests."""

    def __init__(self, ctx, status=b"200"):
        self.sock = new_socket(ctx, zmq.REP)
        self.sock.bind("inproc://zeromq.zap.01")
        self.requests = []
        self.greenlet = gevent.spawn(self._serve, status)

    def _serve(self, status):
        while True:
            request = self.sock.recv_multipart()
            self.requests.append(request)
            self.sock.send_multipart([b"1.0", request[1], status, b"", b"", b""])

    def close(self):
        self.greenlet.kill()
        self.sock.close(0)


def _admitted(server, client):
    """Whether a message from ``client`` reaches ``server`` (which monitors its handshake)."""
    events = Events(server)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect("tcp://127.0.0.1:%d" % port)
    with gevent.Timeout(TIMEOUT):
        while True:
            header, _endpoint = events.sock.recv_multipart()
            event, value = struct.unpack("=HI", header)
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                client.send(b"hello")
                assert server.recv() == b"hello"
                return True
            if event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                assert value == errno.EFAULT  # libzmq's value when ZAP must answer and cannot
                return False


@pytest.mark.parametrize("enforce", [1, 0])
def test_null_with_a_domain_and_no_handler(ctx, enforce):
    server = new_socket(ctx, zmq.PULL, zap_domain=b"global", zap_enforce_domain=enforce)
    client = new_socket(ctx, zmq.PUSH, linger=0)
    assert _admitted(server, client) is (not enforce)


def test_null_with_a_domain_and_a_handler_is_asked_either_way(ctx):
    handler = ZapHandler(ctx)
    try:
        server = new_socket(ctx, zmq.PULL, zap_domain=b"global", zap_enforce_domain=1)
        client = new_socket(ctx, zmq.PUSH, linger=0)
        assert _admitted(server, client) is True
        assert [request[2] for request in handler.requests] == [b"global"]
    finally:
        handler.close()


def test_plain_enforcing_without_a_domain_fails(ctx):
    handler = ZapHandler(ctx)
    try:
        server = new_socket(ctx, zmq.PULL, plain_server=1, zap_enforce_domain=1)
        client = new_socket(ctx, zmq.PUSH, plain_username=b"u", plain_password=b"p", linger=0)
        assert _admitted(server, client) is False  # libzmq asserts; greenmq fails the handshake
        assert handler.requests == []
    finally:
        handler.close()


@pytest.mark.curve
@pytest.mark.parametrize("domain, handler_status, admitted, asked", [
    (b"", b"400", True, False),  # enforcing: no domain, no question -- the handler would refuse
    (b"dom", None, False, False),  # a domain and no handler: fails
    (b"dom", b"200", True, True),
])
def test_curve_enforcing(ctx, domain, handler_status, admitted, asked):
    keys = zmq.curve_keypair()
    server_public, server_secret = zmq.curve_keypair()
    handler = ZapHandler(ctx, handler_status) if handler_status is not None else None
    try:
        server = new_socket(ctx, zmq.PULL, curve_server=1, curve_secretkey=server_secret, zap_enforce_domain=1)
        if domain:
            server.zap_domain = domain
        client = new_socket(ctx, zmq.PUSH, curve_serverkey=server_public, curve_publickey=keys[0],
                            curve_secretkey=keys[1], linger=0)
        assert _admitted(server, client) is admitted
        if handler is not None:
            assert bool(handler.requests) is asked
    finally:
        if handler is not None:
            handler.close()


# -- an XSUB subscribing while its publisher is away ----------------------------------------

@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_xsub_subscription_made_while_away_is_sent_once(ctx, tmp_path, transport):
    endpoint = endpoint_for(transport, tmp_path)
    first = new_socket(ctx, zmq.XPUB, xpub_verboser=1)
    first.bind(endpoint)
    bound = first.last_endpoint
    xsub = new_socket(ctx, zmq.XSUB, reconnect_ivl=10)
    events = Events(xsub)
    xsub.connect(bound)
    xsub.send(b"\x01before")
    with gevent.Timeout(TIMEOUT):
        assert first.recv() == b"\x01before"
    first.close(0)
    events.wait(zmq.EVENT_DISCONNECTED)
    xsub.send(b"\x01while away")
    second = new_socket(ctx, zmq.XPUB, xpub_verboser=1)  # verbose: a repeat would show
    second.bind(bound)
    with gevent.Timeout(TIMEOUT):
        assert sorted([second.recv(), second.recv()]) == [b"\x01before", b"\x01while away"]
    assert_nothing_arrives(second, 0.3)


# -- HELLO_MSG and DISCONNECT_MSG over inproc --------------------------------------------------

@pytest.mark.parametrize("bind_first", [True, False])
@pytest.mark.parametrize("binder_type, connector_type", [(zmq.ROUTER, zmq.DEALER), (zmq.DEALER, zmq.ROUTER),
                                                         (zmq.SERVER, zmq.CLIENT), (zmq.PEER, zmq.PEER)])
def test_inproc_binder_hello_reaches_the_connector_first(ctx, bind_first, binder_type, connector_type):
    binder = new_socket(ctx, binder_type, hello_msg=b"hello from the binder")
    connector = new_socket(ctx, connector_type, hello_msg=b"not sent over inproc")
    if bind_first:
        binder.bind("inproc://hello")
    connector.connect("inproc://hello")
    if not bind_first:
        binder.bind("inproc://hello")
    with gevent.Timeout(TIMEOUT):
        got = connector.recv_multipart()
    assert got[-1] == b"hello from the binder"
    # As libzmq's inproc: the connector's own HELLO_MSG is not sent.
    assert_nothing_arrives(binder)


@pytest.mark.parametrize("leave", ["disconnect", "close"])
def test_inproc_connector_leaving_gives_the_binder_its_disconnect_msg(ctx, leave):
    router = new_socket(ctx, zmq.ROUTER, disconnect_msg=b"gone")
    router.bind("inproc://bye")
    dealer = new_socket(ctx, zmq.DEALER, routing_id=b"d", disconnect_msg=b"not for a connector")
    dealer.connect("inproc://bye")
    dealer.send(b"first")
    with gevent.Timeout(TIMEOUT):
        assert router.recv_multipart() == [b"d", b"first"]
        if leave == "disconnect":
            dealer.disconnect("inproc://bye")
        else:
            dealer.close()
        assert router.recv_multipart() == [b"d", b"gone"]


def test_inproc_binder_leaving_gives_the_connector_nothing(ctx):
    router = new_socket(ctx, zmq.ROUTER, disconnect_msg=b"gone", hiccup_msg=b"hiccup")
    router.bind("inproc://left")
    dealer = new_socket(ctx, zmq.DEALER, routing_id=b"d", hiccup_msg=b"hiccup")
    dealer.connect("inproc://left")
    dealer.send(b"first")
    with gevent.Timeout(TIMEOUT):
        assert router.recv_multipart() == [b"d", b"first"]
    router.close()
    assert_nothing_arrives(dealer)

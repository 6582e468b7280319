"""libzmq's draft socket options: ROUTER_NOTIFY, HELLO_MSG, DISCONNECT_MSG, HICCUP_MSG, IN_BATCH_SIZE and
OUT_BATCH_SIZE -- their checks as libzmq makes them, and their effects over tcp and ipc (greenmq to
greenmq, and byte by byte against raw peers)."""

import gevent
import pytest
from gevent import socket as gsocket

import greenmq as zmq

from raw_peer_support import connect_raw, null_handshake as handshake, recv_exactly
from support import TIMEOUT, WIRE_TRANSPORTS, endpoint_for, new_socket, raises_errno
from zmtp_support import frame

# -- checks ----------------------------------------------------------------------------


def test_router_notify_values(ctx):
    router = new_socket(ctx, zmq.ROUTER)
    assert router.router_notify == 0
    for value in (zmq.NOTIFY_CONNECT, zmq.NOTIFY_DISCONNECT, zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT, 0):
        router.router_notify = value
        assert router.getsockopt(zmq.ROUTER_NOTIFY) == value
    raises_errno(zmq.EINVAL, router.setsockopt, zmq.ROUTER_NOTIFY, 4)
    raises_errno(zmq.EINVAL, router.setsockopt, zmq.ROUTER_NOTIFY, -1)


@pytest.mark.parametrize("socket_type", [zmq.DEALER, zmq.SERVER, zmq.STREAM])
def test_router_notify_is_for_routers_only(ctx, socket_type):
    sock = new_socket(ctx, socket_type)
    raises_errno(zmq.EINVAL, sock.setsockopt, zmq.ROUTER_NOTIFY, 1)
    assert sock.getsockopt(zmq.ROUTER_NOTIFY) == 0  # readable on every type, as libzmq's options


@pytest.mark.parametrize("option", [zmq.HELLO_MSG, zmq.DISCONNECT_MSG, zmq.HICCUP_MSG])
def test_message_options_are_write_only_bytes(ctx, option):
    sock = new_socket(ctx, zmq.DEALER)
    sock.setsockopt(option, b"message")
    sock.setsockopt(option, b"")  # none again
    raises_errno(zmq.EINVAL, sock.getsockopt, option)
    with pytest.raises(TypeError):
        sock.setsockopt(option, 1)
    with pytest.raises(TypeError):
        sock.setsockopt(option, "str")


@pytest.mark.parametrize("option", [zmq.IN_BATCH_SIZE, zmq.OUT_BATCH_SIZE])
def test_batch_sizes_are_checked_and_kept(ctx, option):
    sock = new_socket(ctx, zmq.PUSH)
    assert sock.getsockopt(option) == 8192
    sock.setsockopt(option, 1)
    assert sock.getsockopt(option) == 1
    raises_errno(zmq.EINVAL, sock.setsockopt, option, 0)
    raises_errno(zmq.EINVAL, sock.setsockopt, option, -5)


# -- ROUTER_NOTIFY ---------------------------------------------------------------------

@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
@pytest.mark.parametrize("router_binds", [True, False])
def test_router_notify_connect_and_disconnect(ctx, tmp_path, transport, router_binds):
    router = new_socket(ctx, zmq.ROUTER, router_notify=zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT)
    dealer = new_socket(ctx, zmq.DEALER, routing_id=b"dealer")
    bound, connecting = (router, dealer) if router_binds else (dealer, router)
    bound.bind(endpoint_for(transport, tmp_path))
    connecting.connect(bound.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert router.recv_multipart() == [b"dealer", b""]
        dealer.send(b"hello")
        assert router.recv_multipart() == [b"dealer", b"hello"]
        dealer.close()
        assert router.recv_multipart() == [b"dealer", b""]


@pytest.mark.parametrize("bits", [zmq.NOTIFY_CONNECT, zmq.NOTIFY_DISCONNECT, 0])
def test_router_notify_bits_each(ctx, bits):
    router = new_socket(ctx, zmq.ROUTER, router_notify=bits)
    router.bind("tcp://127.0.0.1:*")
    dealer = new_socket(ctx, zmq.DEALER, routing_id=b"d")
    dealer.connect(router.last_endpoint)
    dealer.send(b"first")
    with gevent.Timeout(TIMEOUT):
        received = [router.recv_multipart()]
        dealer.close()
        dealer = new_socket(ctx, zmq.DEALER, routing_id=b"e")  # a fence: its message comes after the notice
        dealer.connect(router.last_endpoint)
        dealer.send(b"fence")
        while received[-1] != [b"e", b"fence"]:
            received.append(router.recv_multipart())
    expected = [[b"d", b""]] * bool(bits & zmq.NOTIFY_CONNECT) + [[b"d", b"first"]]
    expected += [[b"d", b""]] * bool(bits & zmq.NOTIFY_DISCONNECT)
    expected += [[b"e", b""]] * bool(bits & zmq.NOTIFY_CONNECT) + [[b"e", b"fence"]]
    assert received == expected


def test_router_notify_for_an_anonymous_raw_peer(ctx):
    router = new_socket(ctx, zmq.ROUTER, router_notify=zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"DEALER")
    with gevent.Timeout(TIMEOUT):
        routing_id, body = router.recv_multipart()
        assert body == b"" and len(routing_id) == 5 and routing_id[0] == 0
        raw.close()
        assert router.recv_multipart() == [routing_id, b""]


# -- HELLO_MSG, DISCONNECT_MSG, HICCUP_MSG ---------------------------------------------------

@pytest.fixture
def listener():
    sock = gsocket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock
    sock.close()


def accept(listener):
    with gevent.Timeout(TIMEOUT):
        return listener.accept()[0]


@pytest.mark.parametrize("socket_type", [zmq.CLIENT, zmq.DEALER])
def test_hello_goes_first_on_every_connection(ctx, listener, socket_type):
    sock = new_socket(ctx, socket_type, hello_msg=b"hello there", reconnect_ivl=10)
    sock.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    sock.send(b"queued")  # before any connection: the hello still goes ahead of it
    peer_type = b"SERVER" if socket_type == zmq.CLIENT else b"ROUTER"
    raw = accept(listener)
    handshake(raw, peer_type)
    assert recv_exactly(raw, 2 * 2 + len(b"hello there") + len(b"queued")) == frame(b"hello there") + frame(b"queued")
    raw.close()
    raw = accept(listener)  # the reconnection says hello again
    handshake(raw, peer_type)
    assert recv_exactly(raw, 2 + len(b"hello there")) == frame(b"hello there")
    raw.close()


def test_hello_from_a_bound_server(ctx):
    server = new_socket(ctx, zmq.SERVER, hello_msg=b"welcome")
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"CLIENT")
    assert recv_exactly(raw, 9) == frame(b"welcome")
    raw.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_hello_between_greenmq_sockets(ctx, tmp_path, transport):
    server = new_socket(ctx, zmq.SERVER, hello_msg=b"from server")
    server.bind(endpoint_for(transport, tmp_path))
    client = new_socket(ctx, zmq.CLIENT, hello_msg=b"from client")
    client.connect(server.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert server.recv() == b"from client"
        assert client.recv() == b"from server"


def test_types_without_hello_send_none(ctx, listener):
    push = new_socket(ctx, zmq.PUSH, hello_msg=b"hello")  # accepted, but not a type that sends it
    push.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    push.send(b"data")
    raw = accept(listener)
    handshake(raw, b"PULL")
    assert recv_exactly(raw, 6) == frame(b"data")
    raw.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_disconnect_msg_comes_from_the_peer_that_left(ctx, tmp_path, transport):
    server = new_socket(ctx, zmq.SERVER, disconnect_msg=b"gone")
    server.bind(endpoint_for(transport, tmp_path))
    client = new_socket(ctx, zmq.CLIENT)
    client.connect(server.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        client.send(b"hi")
        hello = server.recv(copy=False)
        client.close()
        gone = server.recv(copy=False)
    assert gone.bytes == b"gone" and gone.routing_id == hello.routing_id


def test_disconnect_msg_to_a_router(ctx):
    router = new_socket(ctx, zmq.ROUTER, disconnect_msg=b"bye")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"DEALER")
    raw.sendall(frame(b"data"))
    with gevent.Timeout(TIMEOUT):
        routing_id, body = router.recv_multipart()
        assert body == b"data"
        raw.close()
        assert router.recv_multipart() == [routing_id, b"bye"]


@pytest.mark.parametrize("socket_type", [zmq.CLIENT, zmq.DEALER])
def test_hiccup_msg_when_a_connection_breaks(ctx, listener, socket_type):
    sock = new_socket(ctx, socket_type, hiccup_msg=b"hiccup", reconnect_ivl=10)
    sock.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    raw = accept(listener)
    handshake(raw, b"SERVER" if socket_type == zmq.CLIENT else b"ROUTER")
    raw.sendall(frame(b"before"))
    with gevent.Timeout(TIMEOUT):
        assert sock.recv() == b"before"
        raw.close()
        assert sock.recv() == b"hiccup"


def test_no_hiccup_for_a_connection_that_never_completed_its_handshake(ctx, listener):
    client = new_socket(ctx, zmq.CLIENT, hiccup_msg=b"hiccup", reconnect_ivl=10)
    client.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    accept(listener).close()  # no handshake
    raw = accept(listener)  # the reconnection
    handshake(raw, b"SERVER")
    raw.sendall(frame(b"first"))
    with gevent.Timeout(TIMEOUT):
        assert client.recv() == b"first"
    raw.close()


def test_accepted_connections_give_no_hiccup(ctx):
    server = new_socket(ctx, zmq.SERVER, hiccup_msg=b"hiccup", disconnect_msg=b"")
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"CLIENT")
    raw.sendall(frame(b"one"))
    raw.close()
    with gevent.Timeout(TIMEOUT):
        assert server.recv() == b"one"
    assert not server.poll(100)


# -- TOPICS_COUNT -------------------------------------------------------------------------

def test_topics_count_of_subscribers_and_publishers(ctx):
    xpub = new_socket(ctx, zmq.XPUB, xpub_verbose=1)
    xpub.bind("inproc://topics")
    subs = [new_socket(ctx, zmq.SUB), new_socket(ctx, zmq.XSUB)]
    for sub in subs:
        sub.connect("inproc://topics")
    subs[0].subscribe(b"a")
    subs[0].subscribe(b"a")
    subs[0].subscribe(b"b")
    subs[1].send(b"\x01a")
    subs[1].send(b"\x01c")
    with gevent.Timeout(TIMEOUT):
        notices = [xpub.recv() for _ in range(5)]  # verbose: every subscribe is passed on
    assert sorted(notices) == [b"\x01a", b"\x01a", b"\x01a", b"\x01b", b"\x01c"]
    assert xpub.topics_count == 3  # a, b, c
    assert (subs[0].topics_count, subs[1].topics_count) == (2, 2)
    subs[0].unsubscribe(b"b")
    assert subs[0].getsockopt(zmq.TOPICS_COUNT) == 2 - 1
    with gevent.Timeout(TIMEOUT):
        assert xpub.recv() == b"\x00b"
    assert xpub.topics_count == 2


@pytest.mark.parametrize("socket_type", [zmq.PUSH, zmq.ROUTER, zmq.DISH])
def test_topics_count_is_einval_on_other_types(ctx, socket_type):
    sock = new_socket(ctx, socket_type)
    raises_errno(zmq.EINVAL, sock.getsockopt, zmq.TOPICS_COUNT)


def test_topics_count_is_read_only(ctx):
    sub = new_socket(ctx, zmq.SUB)
    raises_errno(zmq.EINVAL, sub.setsockopt, zmq.TOPICS_COUNT, 1)

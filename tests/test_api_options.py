"""Socket options through the public API: defaults, attribute access, string helpers,
context-level defaults, EVENTS and RCVMORE. Expectations checked against pyzmq 27."""

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, wait_until


SOCKET_TYPES = [zmq.PUSH, zmq.PULL, zmq.PAIR]

# Defaults as libzmq 4.3 reports them for PUSH, PULL and PAIR alike.
DEFAULTS = {
    "SNDHWM": 1000,
    "RCVHWM": 1000,
    "LINGER": -1,
    "RCVTIMEO": -1,
    "SNDTIMEO": -1,
    "RECONNECT_IVL": 100,
    "RECONNECT_IVL_MAX": 0,
    "LAST_ENDPOINT": b"",
    "EVENTS": 0,
    "RCVMORE": 0,
    "IMMEDIATE": 0,
    "IPV6": 0,
    "IPV4ONLY": 1,
    "BACKLOG": 100,
    "MAXMSGSIZE": -1,
    "ROUTING_ID": b"",
    "AFFINITY": 0,
    "SNDBUF": -1,
    "RCVBUF": -1,
    "HANDSHAKE_IVL": 30000,
    "TCP_KEEPALIVE": -1,
    "CONNECT_TIMEOUT": 0,
    "HEARTBEAT_IVL": 0,
    "MECHANISM": 0,
    "RATE": 100,
    "TOS": 0,
    "THREAD_SAFE": 0,
}


def pair_over_inproc(ctx, name, first=zmq.PUSH, second=zmq.PULL):
    a = ctx.socket(first)
    b = ctx.socket(second)
    a.linger = b.linger = 0
    b.bind(f"inproc://{name}")
    a.connect(f"inproc://{name}")
    return a, b


# -- defaults ------------------------------------------------------------------------------


@pytest.mark.parametrize("socket_type", SOCKET_TYPES, ids=lambda t: zmq.SocketType(t).name)
@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_default(ctx, socket_type, name):
    s = ctx.socket(socket_type)
    try:
        value = s.getsockopt(getattr(zmq, name))
        assert value == DEFAULTS[name]
        assert type(value) is type(DEFAULTS[name]) or isinstance(value, int)
        assert getattr(s, name.lower()) == DEFAULTS[name]
    finally:
        s.close()


@pytest.mark.parametrize("socket_type", SOCKET_TYPES, ids=lambda t: zmq.SocketType(t).name)
def test_type(ctx, socket_type):
    s = ctx.socket(socket_type)
    try:
        assert s.getsockopt(zmq.TYPE) == socket_type
        assert s.type == socket_type
        assert s.socket_type == socket_type
        assert isinstance(s.type, zmq.SocketType)
        assert s.type.name == zmq.SocketType(socket_type).name
    finally:
        s.close()


def test_hwm_attribute_default(sock):
    assert sock.hwm == 1000


def test_last_endpoint_is_bytes(ctx, sock, tmp_path):
    assert sock.last_endpoint == b""
    sock.bind("tcp://127.0.0.1:*")
    assert isinstance(sock.last_endpoint, bytes)
    assert sock.last_endpoint.startswith(b"tcp://127.0.0.1:")
    sock.bind("inproc://options-last-endpoint")
    assert sock.last_endpoint == b"inproc://options-last-endpoint"
    sock.bind(f"ipc://{tmp_path}/s")
    assert sock.last_endpoint == f"ipc://{tmp_path}/s".encode()
    sock.connect("tcp://127.0.0.1:1")
    assert sock.last_endpoint == b"tcp://127.0.0.1:1"
    assert sock.getsockopt_string(zmq.LAST_ENDPOINT) == "tcp://127.0.0.1:1"


# -- attribute access -------------------------------------------------------------------------


def test_attribute_set_and_get(sock):
    sock.linger = 0
    assert sock.getsockopt(zmq.LINGER) == 0
    sock.linger = 250
    assert sock.linger == 250
    sock.rcvtimeo = 10
    sock.sndtimeo = 20
    assert (sock.getsockopt(zmq.RCVTIMEO), sock.getsockopt(zmq.SNDTIMEO)) == (10, 20)
    sock.reconnect_ivl = -1
    assert sock.reconnect_ivl == -1
    sock.immediate = True
    assert sock.immediate == 1


def test_set_get_aliases(sock):
    sock.set(zmq.LINGER, 3)
    assert sock.get(zmq.LINGER) == 3
    sock.setsockopt(zmq.SocketOption.LINGER, 4)
    assert sock.getsockopt(zmq.SocketOption.LINGER) == 4


def test_hwm_attribute_sets_both(sock):
    sock.hwm = 5
    assert (sock.sndhwm, sock.rcvhwm, sock.hwm) == (5, 5, 5)
    sock.sndhwm = 7
    assert sock.hwm == 7  # hwm reads SNDHWM
    sock.rcvhwm = 9
    assert sock.hwm == 7
    assert sock.get_hwm() == 7
    sock.set_hwm(11)
    assert (sock.sndhwm, sock.rcvhwm) == (11, 11)


def test_routing_id_and_identity_alias(sock):
    sock.routing_id = b"abc"
    assert sock.getsockopt(zmq.ROUTING_ID) == b"abc"
    assert sock.identity == b"abc"
    sock.identity = b"xyz"
    assert sock.getsockopt(zmq.IDENTITY) == b"xyz"
    assert zmq.IDENTITY == zmq.ROUTING_ID


def test_ipv6_and_ipv4only_are_linked(sock):
    sock.ipv6 = 1
    assert sock.ipv4only == 0
    sock.ipv4only = 1
    assert sock.ipv6 == 0
    sock.ipv6 = True
    assert sock.getsockopt(zmq.IPV6) == 1


def test_failed_set_leaves_value(sock):
    sock.linger = 5
    with pytest.raises(zmq.ZMQError):
        sock.linger = -5
    with pytest.raises(TypeError):
        sock.linger = "5"
    assert sock.linger == 5


# -- string helpers -----------------------------------------------------------------------------


def test_setsockopt_string_and_getsockopt_string(sock):
    sock.setsockopt_string(zmq.ROUTING_ID, "héllo")
    assert sock.routing_id == "héllo".encode()
    assert sock.getsockopt_string(zmq.ROUTING_ID) == "héllo"


def test_string_helpers_with_encoding(sock):
    sock.setsockopt_string(zmq.ROUTING_ID, "é", encoding="latin-1")
    assert sock.routing_id == b"\xe9"
    assert sock.get_string(zmq.ROUTING_ID, "latin-1") == "é"
    sock.set_string(zmq.ROUTING_ID, "xyz")
    assert sock.get_string(zmq.ROUTING_ID) == "xyz"


# -- context-level defaults ---------------------------------------------------------------------


def test_context_linger_applies_to_new_sockets(ctx):
    ctx.linger = 0
    assert ctx.linger == 0
    assert ctx.getsockopt(zmq.LINGER) == 0
    s = ctx.socket(zmq.PUSH)
    try:
        assert s.linger == 0
    finally:
        s.close()


def test_context_sockopt_only_affects_later_sockets(ctx):
    before = ctx.socket(zmq.PULL)
    ctx.setsockopt(zmq.RCVHWM, 3)
    ctx.sndhwm = 17
    after = ctx.socket(zmq.PULL)
    try:
        assert (after.rcvhwm, after.sndhwm) == (3, 17)
        assert (before.rcvhwm, before.sndhwm) == (1000, 1000)
        assert ctx.sockopts == {zmq.RCVHWM: 3, zmq.SNDHWM: 17}
    finally:
        before.close(0)
        after.close(0)


def test_context_sockopt_explicit_socket_value_wins(ctx):
    ctx.linger = 0
    s = ctx.socket(zmq.PUSH)
    try:
        s.linger = 100
        assert s.linger == 100
        assert ctx.linger == 0
    finally:
        s.close(0)


def test_context_sockopt_not_applicable_is_skipped(ctx):
    ctx.subscribe = b""  # only SUB sockets take it
    ctx.linger = 0
    s = ctx.socket(zmq.PULL)
    try:
        assert s.linger == 0
    finally:
        s.close()


def test_context_sockopt_of_wrong_type_raises_at_socket_creation(ctx):
    # pyzmq skips only ZMQErrors from context defaults; a TypeError surfaces.
    ctx.linger = "x"
    with pytest.raises(TypeError) as info:
        ctx.socket(zmq.PULL)
    assert str(info.value) == "unicode not allowed, use setsockopt_string"


def test_context_sockopt_delete(ctx):
    ctx.linger = 0
    del ctx.linger
    assert zmq.LINGER not in ctx.sockopts
    with pytest.raises(AttributeError):
        ctx.linger  # noqa: B018
    s = ctx.socket(zmq.PUSH)
    try:
        assert s.linger == -1
    finally:
        s.close(0)


def test_context_options(ctx):
    assert ctx.io_threads == 1
    assert ctx.get(zmq.IO_THREADS) == 1
    assert ctx.max_sockets == 1023
    assert ctx.get(zmq.MAX_SOCKETS) == 1023


# -- EVENTS --------------------------------------------------------------------------------------


def test_events_push(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    try:
        assert push.events == 0  # no peer: cannot send
        push.connect("inproc://events-push")  # pending connect already has a pipe
        assert push.events == zmq.POLLOUT
        assert push.getsockopt(zmq.EVENTS) & zmq.POLLIN == 0
    finally:
        push.close()


def test_events_push_full(ctx):
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    push.linger = pull.linger = 0
    push.sndhwm = pull.rcvhwm = 1  # an inproc pipe holds SNDHWM + RCVHWM messages
    try:
        pull.bind("inproc://events-full")
        push.connect("inproc://events-full")
        sent = 0
        with gevent.Timeout(TIMEOUT):
            while push.events & zmq.POLLOUT:
                push.send(b"x", zmq.NOBLOCK)
                sent += 1
        assert sent == 2
        assert push.events == 0
        with pytest.raises(zmq.Again):
            push.send(b"x", zmq.NOBLOCK)
        with gevent.Timeout(TIMEOUT):
            assert pull.recv_multipart() == [b"x"]
            assert pull.recv_multipart() == [b"x"]
        assert push.events == zmq.POLLOUT
    finally:
        push.close()
        pull.close()


def test_events_pull_and_rcvmore(ctx):
    push, pull = pair_over_inproc(ctx, "events-pull")
    try:
        assert pull.events == 0
        assert pull.rcvmore == 0
        push.send_multipart([b"a", b"b", b"c"])
        wait_until(lambda: pull.events, what="pull.events")
        assert pull.events == zmq.POLLIN
        assert pull.recv() == b"a"
        assert pull.getsockopt(zmq.RCVMORE) == 1
        assert pull.events == zmq.POLLIN  # the rest of the message is readable
        assert pull.recv() == b"b"
        assert pull.rcvmore == 1
        assert pull.recv() == b"c"
        assert pull.rcvmore == 0
        assert pull.events == 0
    finally:
        push.close()
        pull.close()


def test_events_pair_both_ways(ctx):
    a, b = pair_over_inproc(ctx, "events-pair", zmq.PAIR, zmq.PAIR)
    try:
        assert a.events == zmq.POLLOUT
        assert b.events == zmq.POLLOUT
        a.send(b"hi")
        wait_until(lambda: b.events & zmq.POLLIN, what="POLLIN in b.events")
        assert b.events == zmq.POLLIN | zmq.POLLOUT
    finally:
        a.close()
        b.close()


def test_poll_constants():
    assert zmq.POLLIN == 1
    assert zmq.POLLOUT == 2
    assert zmq.POLLERR == 4


# -- RCVMORE with the other receive calls ----------------------------------------------------------


def test_rcvmore_with_frames(ctx):
    push, pull = pair_over_inproc(ctx, "rcvmore-frames")
    try:
        push.send_multipart([b"a", b"b"])
        with gevent.Timeout(TIMEOUT):
            frame = pull.recv(copy=False)
        assert (frame.bytes, frame.more) == (b"a", True)
        assert pull.rcvmore == 1
        last = pull.recv(copy=False)
        assert (last.bytes, last.more) == (b"b", False)
        assert pull.rcvmore == 0
    finally:
        push.close()
        pull.close()


def test_recv_multipart_after_partial_recv_returns_rest(ctx):
    push, pull = pair_over_inproc(ctx, "rcvmore-rest")
    try:
        push.send_multipart([b"a", b"b", b"c"])
        push.send(b"next")
        with gevent.Timeout(TIMEOUT):
            assert pull.recv() == b"a"
            assert pull.recv_multipart() == [b"b", b"c"]
            assert pull.rcvmore == 0
            assert pull.recv_multipart() == [b"next"]
    finally:
        push.close()
        pull.close()


def test_sndmore_frames_make_one_message(ctx):
    push, pull = pair_over_inproc(ctx, "sndmore")
    try:
        push.send(b"1", zmq.SNDMORE)
        push.send(b"2", zmq.SNDMORE)
        with gevent.Timeout(TIMEOUT):
            assert pull.poll(50) == 0  # nothing until the last frame
            push.send(b"3")
            assert pull.recv_multipart() == [b"1", b"2", b"3"]
    finally:
        push.close()
        pull.close()

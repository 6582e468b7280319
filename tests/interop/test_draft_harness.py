"""The draft libzmq harness itself: draft_peer.py processes talking to each other, and to greenmq's classic types.

Two draft libzmq processes exchanging CLIENT/SERVER and RADIO/DISH messages
(over tcp, and over udp on 127.0.0.1) show that the harness drives the
draft API as libzmq means it -- routing ids, groups, join/leave, refusals
with their errno -- independently of greenmq's own draft types. The
classic exchanges with greenmq (PUSH/PULL, DEALER/ROUTER, each side
binding in turn) show that a draft build speaks to greenmq as any libzmq
does, and that the harness works with greenmq's sockets in the test process.
"""

import gevent
import pytest

import greenmq as zmq

from .draft_support import DraftRefused, free_udp_port, wait_udp_bound
from .libzmq_peer import greenmq_socket

pytestmark = pytest.mark.draft_interop

TCP = "tcp://127.0.0.1:*"
STEP = 30  # seconds, the bound on each test's exchange


def _pair(draft_peers, binder_type, connecter_type, endpoint=TCP):
    """Two peers, each with one socket (number 0): the first binds ``endpoint``, the second connects to it."""
    binder = draft_peers.start([{"op": "socket", "type": binder_type},
                                {"op": "bind", "socket": 0, "endpoint": endpoint}])
    bound = binder.ready()
    connecter = draft_peers.start([{"op": "socket", "type": connecter_type},
                                   {"op": "connect", "socket": 0, "endpoint": bound}])
    connecter.ready()
    return binder, connecter


def _refused(call, *args, **kwargs):
    with pytest.raises(DraftRefused) as info:
        call(*args, **kwargs)
    return info.value.error


# -- two draft libzmq processes ------------------------------------------------------------------


@pytest.mark.parametrize("server_binds", [True, False], ids=["server-binds", "client-binds"])
def test_client_server_routing_ids(draft_peers, server_binds):
    """SERVER sees each CLIENT's frames with a routing id of its own, and replies reach the one addressed."""
    with gevent.Timeout(STEP):
        if server_binds:
            server, client = _pair(draft_peers, "SERVER", "CLIENT")
            other = draft_peers.start([{"op": "socket", "type": "CLIENT"},
                                       {"op": "connect", "socket": 0, "endpoint": server.endpoint}])
            other.ready()
        else:
            client, server = _pair(draft_peers, "CLIENT", "SERVER")
            other = None
        known = set()

        client.send(0, b"request from client")
        first = server.recv(0)
        assert first.data == b"request from client"
        assert first.routing_id != 0
        assert (first.group, first.more) == (b"", False)
        known.add(first.routing_id)

        if other is not None:
            other.send(0, b"request from other")
            second = server.recv(0)
            assert second.data == b"request from other"
            assert second.routing_id not in (0, first.routing_id)
            known.add(second.routing_id)
            server.send(0, b"reply to other", routing_id=second.routing_id)
            assert other.recv(0).data == b"reply to other"

        server.send(0, b"reply to client", routing_id=first.routing_id)
        reply = client.recv(0)
        assert (reply.data, reply.routing_id, reply.group) == (b"reply to client", 0, b"")

        # libzmq's refusals come back with their errno names.
        assert _refused(server.send, 0, b"nobody", routing_id=max(known) + 1) == "EHOSTUNREACH"
        assert _refused(server.send, 0, b"no routing id") == "EHOSTUNREACH"
        assert _refused(client.send, 0, b"part", more=True) == "EINVAL"
        assert _refused(client.recv, 0, timeout=50) == "EAGAIN"


def _until_joined(radio, dish, group, probe=b"probe"):
    """Send ``probe`` to ``group`` until the DISH receives one: then the RADIO knows of its JOIN.

    A RADIO drops what no peer has joined, and a JOIN travels on its own
    (a bound libzmq DISH sends it only when it next receives or polls):
    there is no other signal that it has arrived."""
    for _ in range(500):
        radio.send(0, probe, group=group)
        try:
            got = dish.recv(0, timeout=20)
        except DraftRefused as refused:
            assert refused.error == "EAGAIN"
            continue
        assert (got.data, got.group) == (probe, group)
        return
    raise AssertionError(f"the DISH never received a probe sent to {group!r}")


def _next_real(dish, probe=b"probe"):
    """The next frame that is not a probe left over from :func:`_until_joined`."""
    while True:
        got = dish.recv(0)
        if got.data != probe:
            return got


@pytest.mark.parametrize("dish_binds", [True, False], ids=["dish-binds", "radio-binds"])
def test_radio_dish_tcp_groups(draft_peers, dish_binds):
    """Over tcp a DISH gets the frames of the groups it joined, each with its group; join/leave change that."""
    with gevent.Timeout(STEP):
        if dish_binds:
            dish, radio = _pair(draft_peers, "DISH", "RADIO")
        else:
            radio, dish = _pair(draft_peers, "RADIO", "DISH")
        dish.join(0, "weather")
        _until_joined(radio, dish, b"weather")

        radio.send(0, b"sunny", group="weather")
        radio.send(0, b"goal", group="sports")
        radio.send(0, b"rainy", group="weather")
        got = _next_real(dish)
        assert (got.data, got.group, got.routing_id, got.more) == (b"sunny", b"weather", 0, False)
        assert dish.recv(0) == (b"rainy", 0, b"weather", False)

        dish.leave(0, "weather")
        dish.join(0, "sports")
        _until_joined(radio, dish, b"sports", probe=b"sports probe")
        radio.send(0, b"cloudy", group="weather")
        radio.send(0, b"match", group="sports")
        got = _next_real(dish, probe=b"sports probe")
        assert (got.data, got.group) == (b"match", b"sports")
        assert _refused(dish.recv, 0, timeout=50) == "EAGAIN"

        # libzmq's group rules: leaving a group not joined, joining twice.
        assert _refused(dish.leave, 0, "weather") == "EINVAL"
        assert _refused(dish.join, 0, "sports") == "EINVAL"


def test_radio_dish_udp_loopback(draft_peers):
    """Over udp (unicast on 127.0.0.1) the DISH binds, the RADIO connects, and the DISH keeps its groups only."""
    port = free_udp_port()
    with gevent.Timeout(STEP):
        dish = draft_peers.start([{"op": "socket", "type": "DISH"},
                                  {"op": "join", "socket": 0, "group": b"weather".hex()},
                                  {"op": "bind", "socket": 0, "endpoint": f"udp://127.0.0.1:{port}"}])
        dish.ready()
        wait_udp_bound(port)  # zmq_bind returned before libzmq's I/O thread bound the port
        radio = draft_peers.start([{"op": "socket", "type": "RADIO"},
                                   {"op": "connect", "socket": 0, "endpoint": f"udp://127.0.0.1:{port}"}])
        radio.ready()

        radio.send(0, b"sunny", group="weather")
        radio.send(0, b"goal", group="sports")
        radio.send(0, b"rainy", group="weather")
        assert dish.recv(0) == (b"sunny", 0, b"weather", False)
        assert dish.recv(0) == (b"rainy", 0, b"weather", False)
        assert _refused(dish.recv, 0, timeout=100) == "EAGAIN"

        # udp takes no other pairing: a RADIO cannot bind it.
        other = draft_peers.start([{"op": "socket", "type": "RADIO"}])
        other.ready()
        assert _refused(other.bind, 0, f"udp://127.0.0.1:{free_udp_port()}") == "ENOCOMPATPROTO"


def test_recv_later_overlaps_with_other_peers(draft_peers):
    """A peer blocked in recv (:meth:`DraftPeer.recv_later`) gets what another peer sends meanwhile; poll sees it."""
    with gevent.Timeout(STEP):
        server, client = _pair(draft_peers, "SERVER", "CLIENT")
        pending = server.recv_later(0, timeout=10000)
        client.send(0, b"while you wait")
        got = pending.message()
        assert got.data == b"while you wait"
        server.send(0, b"polled", routing_id=got.routing_id)
        assert client.poll([(0, 1)]) == [1]  # ZMQ_POLLIN on a thread-safe socket
        assert client.recv(0).data == b"polled"


# -- a draft libzmq and greenmq's classic types ------------------------------------------------------


MESSAGES = [[b"one"], [b"two", b"", b"parts"], [b"x" * 70000]]  # a frame past 255 bytes: the long size form


def test_greenmq_push_to_draft_pull(ctx, draft_peers):
    """greenmq binds a PUSH, a draft libzmq PULL connects: every message arrives whole and in order."""
    push = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(STEP):
        push.bind(TCP)
        pull = draft_peers.start([{"op": "socket", "type": "PULL"},
                                  {"op": "connect", "socket": 0, "endpoint": push.last_endpoint.decode()}])
        pull.ready()
        for message in MESSAGES:
            push.send_multipart(message)
        assert [pull.recv_multipart(0) for _ in MESSAGES] == MESSAGES
    push.close()


def test_draft_push_to_greenmq_pull(ctx, draft_peers):
    """A draft libzmq PUSH binds, greenmq connects a PULL: every message arrives whole and in order."""
    pull = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(STEP):
        push = draft_peers.start([{"op": "socket", "type": "PUSH"}, {"op": "bind", "socket": 0, "endpoint": TCP}])
        pull.connect(push.ready())
        for message in MESSAGES:
            push.send_multipart(0, message)
        assert [pull.recv_multipart() for _ in MESSAGES] == MESSAGES
    pull.close()


def test_greenmq_dealer_to_draft_router(ctx, draft_peers):
    """A greenmq DEALER with a routing id talks to a bound draft libzmq ROUTER, which replies through that id."""
    dealer = greenmq_socket(ctx, zmq.DEALER)
    dealer.routing_id = b"green"
    with gevent.Timeout(STEP):
        router = draft_peers.start([{"op": "socket", "type": "ROUTER"},
                                    {"op": "bind", "socket": 0, "endpoint": TCP}])
        dealer.connect(router.ready())
        dealer.send_multipart([b"hello", b"router"])
        assert router.recv_multipart(0) == [b"green", b"hello", b"router"]
        router.send_multipart(0, [b"green", b"hello", b"dealer"])
        assert dealer.recv_multipart() == [b"hello", b"dealer"]
    dealer.close()


def test_draft_dealer_to_greenmq_router(ctx, draft_peers):
    """A draft libzmq DEALER with a routing id talks to a bound greenmq ROUTER, which replies through that id."""
    router = greenmq_socket(ctx, zmq.ROUTER)
    with gevent.Timeout(STEP):
        router.bind(TCP)
        dealer = draft_peers.start([{"op": "socket", "type": "DEALER"},
                                    {"op": "setsockopt", "socket": 0, "option": "ROUTING_ID", "value": "draft"},
                                    {"op": "connect", "socket": 0, "endpoint": router.last_endpoint.decode()}])
        dealer.ready()
        dealer.send_multipart(0, [b"hello", b"router"])
        assert router.recv_multipart() == [b"draft", b"hello", b"router"]
        router.send_multipart([b"draft", b"hello", b"dealer"])
        assert dealer.recv_multipart(0) == [b"hello", b"dealer"]
    router.close()

"""RADIO/DISH over udp between greenmq and a libzmq built with drafts, each way, unicast on 127.0.0.1.

The libzmq side runs in a draft_peer.py process. Loopback udp neither loses
nor reorders a handful of datagrams, so what must not arrive is shown by a
marker, sent last, arriving right after what must.
"""

import gevent
import pytest

import greenmq as zmq

from .draft_support import free_udp_port, wait_udp_bound
from .libzmq_peer import greenmq_socket

pytestmark = pytest.mark.draft_interop

STEP = 30  # seconds, the bound on each test's exchange
MARKER = b"marker"


def test_greenmq_radio_to_libzmq_dish(ctx, draft_peers):
    """libzmq's DISH gets the groups it joined, in order; the groups greenmq must not send over udp (128 octets
    or more: libzmq would abort) and datagrams over 8192 octets never reach it, and it lives on."""
    port = free_udp_port()
    with gevent.Timeout(STEP):
        dish = draft_peers.start([{"op": "socket", "type": "DISH"},
                                  {"op": "join", "socket": 0, "group": b"weather".hex()},
                                  {"op": "join", "socket": 0, "group": MARKER.hex()},
                                  {"op": "bind", "socket": 0, "endpoint": f"udp://127.0.0.1:{port}"}])
        dish.ready()
        wait_udp_bound(port)  # libzmq binds in its I/O thread, after zmq_bind returned
        radio = greenmq_socket(ctx, zmq.RADIO)
        radio.connect(f"udp://127.0.0.1:{port}")

        radio.send(b"sunny", group=b"weather")
        radio.send(b"goal", group=b"sports")
        radio.send(b"signed", group=b"w" * 128)
        radio.send(b"y" * 8192, group=b"weather")
        radio.send(b"rainy", group=b"weather")
        radio.send(b"z" * (8192 - 1 - len(b"weather")), group=b"weather")
        radio.send(b"", group=MARKER)
        assert dish.recv(0) == (b"sunny", 0, b"weather", False)
        assert dish.recv(0) == (b"rainy", 0, b"weather", False)
        assert dish.recv(0) == (b"z" * (8192 - 1 - len(b"weather")), 0, b"weather", False)
        assert dish.recv(0) == (b"", 0, MARKER, False)

        dish.leave(0, b"weather")
        dish.join(0, b"sports")
        radio.send(b"cloudy", group=b"weather")
        radio.send(b"offside", group=b"sports")
        radio.send(b"", group=MARKER)
        assert dish.recv(0) == (b"offside", 0, b"sports", False)
        assert dish.recv(0) == (b"", 0, MARKER, False)


@pytest.mark.parametrize("bind", ["udp://127.0.0.1:*", "udp://*:*"], ids=["explicit", "wildcard"])
def test_libzmq_radio_to_greenmq_dish(ctx, draft_peers, bind):
    """greenmq's DISH gets from libzmq's RADIO the groups it joined, in order, with their group."""
    dish = greenmq_socket(ctx, zmq.DISH)
    dish.bind(bind)
    port = int(dish.last_endpoint.decode().rpartition(":")[2])
    dish.join(b"weather")
    dish.join(MARKER)
    with gevent.Timeout(STEP):
        radio = draft_peers.start([{"op": "socket", "type": "RADIO"},
                                   {"op": "connect", "socket": 0, "endpoint": f"udp://127.0.0.1:{port}"}])
        radio.ready()
        full = b"z" * (8192 - 1 - len(b"weather"))
        for body, group in ((b"sunny", b"weather"), (b"goal", b"sports"), (b"rainy", b"weather"),
                            (full, b"weather"), (b"", MARKER)):
            radio.send(0, body, group=group)
        got = []
        while not got or got[-1][0] != MARKER:
            frame = dish.recv(copy=False)
            got.append((frame.group.encode(), frame.bytes))
    assert got == [(b"weather", b"sunny"), (b"weather", b"rainy"), (b"weather", full), (MARKER, b"")]

"""The draft monitor version 2 (libzmq's ``zmq_socket_monitor_versioned`` and
``zmq_socket_monitor_pipes_stats``, which pyzmq does not wrap): its frames, its checks, and the
PIPES_STATS event."""

import struct

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, new_socket, raises_errno, wait_until

U64 = struct.Struct("=Q")


def v2_events(monitor):
    """Read version 2 events as (event, values, local, remote) until the reader's timeout."""

    def next_event():
        frames = monitor.recv_multipart()
        event, count = U64.unpack(frames[0])[0], U64.unpack(frames[1])[0]
        assert len(frames) == 4 + count
        values = [U64.unpack(frame)[0] for frame in frames[2:2 + count]]
        return event, values, frames[-2], frames[-1]
    return next_event


def start(ctx, sock, name, events=zmq.EVENT_ALL_V2, socket_type=zmq.PAIR):
    sock.monitor_versioned("inproc://" + name, events, 2, socket_type)
    reader = new_socket(ctx, zmq.SUB if socket_type == zmq.PUB else zmq.PAIR)
    reader.connect("inproc://" + name)
    return reader


def until(next_event, wanted):
    with gevent.Timeout(TIMEOUT):
        while True:
            got = next_event()
            if got[0] == wanted:
                return got


def test_version_2_frames_for_a_bind_and_a_connect(ctx):
    server = new_socket(ctx, zmq.PULL)
    client = new_socket(ctx, zmq.PUSH)
    server_events = v2_events(start(ctx, server, "v2-server"))
    client_events = v2_events(start(ctx, client, "v2-client"))
    server.bind("tcp://127.0.0.1:*")
    endpoint = server.last_endpoint
    event, values, local, remote = until(server_events, zmq.EVENT_LISTENING)
    assert (len(values), local, remote) == (1, endpoint, b"")  # a bind is the local endpoint
    client.connect(endpoint)
    _, _, local, remote = until(client_events, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert (local, remote) == (b"", endpoint)  # a connect the remote one
    _, values, local, _ = until(server_events, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert (values, local) == ([0], endpoint)
    client.monitor_versioned(None)
    event, values, local, remote = until(client_events, zmq.EVENT_MONITOR_STOPPED)
    assert (values, local, remote) == ([0], b"", b"")


def test_pipes_stats_count_what_is_queued_each_way(ctx):
    router = new_socket(ctx, zmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    dealer = new_socket(ctx, zmq.DEALER, routing_id=b"d")
    events = v2_events(start(ctx, router, "v2-stats"))
    dealer.connect(router.last_endpoint)
    for number in range(3):
        dealer.send(b"unread %d" % number)
    # Unread, the three wait in the ROUTER's pipe from the DEALER: nothing goes the other way.
    wait_until(lambda: _queued(router, events) == [0, 3], what="three queued messages")
    _, values, local, remote = _stats(router, events)
    assert (values, local, remote) == ([0, 3], router.last_endpoint, b"")
    assert router.recv_multipart() == [b"d", b"unread 0"]
    assert _stats(router, events)[1] == [0, 2]


def _queued(sock, events):
    """The values of a PIPES_STATS event now; None while the socket has no peer (EAGAIN)."""
    try:
        return _stats(sock, events)[1]
    except zmq.Again:
        return None


def _stats(sock, events):
    sock.monitor_pipes_stats()
    return until(events, zmq.EVENT_PIPES_STATS)


def test_pipes_stats_over_inproc(ctx):
    push = new_socket(ctx, zmq.PUSH)
    push.bind("inproc://stats")
    pull = new_socket(ctx, zmq.PULL)
    pull.connect("inproc://stats")
    events = v2_events(start(ctx, push, "v2-inproc"))
    push.send(b"one")
    push.send(b"two")
    push.monitor_pipes_stats()
    event, values, local, remote = until(events, zmq.EVENT_PIPES_STATS)
    assert (values, local, remote) == ([2, 0], b"inproc://stats", b"")


def test_pipes_stats_needs_the_event_and_a_peer(ctx):
    sock = new_socket(ctx, zmq.DEALER)
    raises_errno(zmq.EINVAL, sock.monitor_pipes_stats)  # no monitor
    start(ctx, sock, "v2-no-stats", zmq.EVENT_ALL_V1)
    raises_errno(zmq.EINVAL, sock.monitor_pipes_stats)  # a monitor without PIPES_STATS
    start(ctx, sock, "v2-stats-no-peer")
    raises_errno(zmq.EAGAIN, sock.monitor_pipes_stats)


def test_monitor_versioned_checks_as_libzmq(ctx):
    sock = new_socket(ctx, zmq.DEALER)
    raises_errno(zmq.EINVAL, sock.monitor_versioned, "inproc://v1-wide", zmq.EVENT_ALL_V2, 1)
    raises_errno(zmq.EINVAL, sock.monitor_versioned, "inproc://v3", zmq.EVENT_ALL_V1, 3)
    raises_errno(zmq.EINVAL, sock.monitor_versioned, "inproc://dealer", zmq.EVENT_ALL_V2, 2, zmq.DEALER)
    raises_errno(zmq.EPROTONOSUPPORT, sock.monitor_versioned, "tcp://127.0.0.1:5555", zmq.EVENT_ALL_V2, 2)
    raises_errno(zmq.EINVAL, sock.monitor, "inproc://v1-minus-one", -1)  # libzmq: only 16 bits in version 1


@pytest.mark.parametrize("version", [1, 2])
def test_a_pub_monitor_publishes_each_event_under_its_number(ctx, version):
    sock = new_socket(ctx, zmq.PULL)
    sock.monitor_versioned("inproc://v2-pub-%d" % version, zmq.EVENT_ALL_V1, version, zmq.PUB)
    sub = new_socket(ctx, zmq.SUB)
    sub.connect("inproc://v2-pub-%d" % version)
    topic = U64.pack(zmq.EVENT_LISTENING) if version == 2 else struct.pack("=H", zmq.EVENT_LISTENING)
    sub.subscribe(topic)
    sock.bind("tcp://127.0.0.1:*")
    sock.unbind(sock.last_endpoint)  # CLOSED, which the SUB does not want
    sock.bind("tcp://127.0.0.1:*")
    with gevent.Timeout(TIMEOUT):
        frames = sub.recv_multipart()
        assert frames[0].startswith(topic)
        frames = sub.recv_multipart()
        assert frames[0].startswith(topic)

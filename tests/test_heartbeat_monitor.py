"""Heartbeats (ZMTP PING/PONG) and socket monitor events."""

import struct
from time import monotonic

import gevent
from gevent import socket as gsocket

import greenmq as zmq
from greenmq.zmtp import Pong, ZmtpConnection
from greenmq.utils.monitor import recv_monitor_message
from support import TIMEOUT, new_socket


def _events(monitor, until, timeout=5):
    """Collect (event, value, endpoint) tuples from a monitor socket until ``until`` is seen."""
    seen = []
    with gevent.Timeout(timeout):
        while True:
            header, endpoint = monitor.recv_multipart()
            event, value = struct.unpack("=HI", header)
            seen.append((event, value, endpoint.decode()))
            if event == until:
                return seen


def _silent_peer(port):
    """A raw peer that completes the NULL handshake as PUSH and then never answers a PING."""
    raw = gsocket.create_connection(("127.0.0.1", port))
    conn = ZmtpConnection(b"PUSH")
    raw.sendall(conn.data_to_send())
    while conn.state != "READY":
        conn.receive(raw.recv(4096))
        raw.sendall(conn.data_to_send())
    return raw, conn


def test_unanswered_heartbeat_closes_the_connection(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.heartbeat_ivl = 50
    pull.heartbeat_timeout = 150
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    raw, conn = _silent_peer(port)
    pings = 0
    with gevent.Timeout(5):
        while True:
            data = raw.recv(4096)
            if not data:
                break
            conn.receive(data)
            # PINGs arrive as commands; our protocol object queues PONGs we never send.
            pings += conn.has_output
            conn.data_to_send()
            assert Pong() not in conn.take_events()  # we never ping, so nothing answers us
    assert pings >= 1
    raw.close()


def test_answered_heartbeats_keep_the_connection(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.heartbeat_ivl = 30
    pull.heartbeat_timeout = 100
    monitor = pull.get_monitor_socket()
    endpoint = f"tcp://127.0.0.1:{pull.bind_to_random_port('tcp://127.0.0.1')}"
    push = ctx.socket(zmq.PUSH)
    push.connect(endpoint)
    seen = _events(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert seen[0][0] == zmq.EVENT_LISTENING
    assert zmq.EVENT_ACCEPTED in [event for event, _, _ in seen]
    # Ten heartbeat intervals with no application traffic: still connected.
    gevent.sleep(0.3)
    push.send(b"still here")
    pull.rcvtimeo = 2000
    assert pull.recv() == b"still here"
    monitor.rcvtimeo = 0
    later = []
    try:
        while True:
            later.append(struct.unpack("=HI", monitor.recv_multipart()[0])[0])
    except zmq.Again:
        pass
    assert zmq.EVENT_DISCONNECTED not in later


def test_peer_ttl_closes_a_silent_connection(ctx):
    """A PING with a TTL asks us to drop the connection if the peer then stays silent."""
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    raw, conn = _silent_peer(port)
    conn.ping(ttl_deciseconds=2)
    raw.sendall(conn.data_to_send())
    started = monotonic()
    with gevent.Timeout(5):
        while raw.recv(4096):
            pass
    elapsed = monotonic() - started
    assert 0.15 <= elapsed < 3
    raw.close()


def test_missed_heartbeat_ends_the_connection_and_the_connect_side_reconnects(ctx):
    """A server that completes the handshake and then never answers a PING: the connecting
    socket drops the connection after HEARTBEAT_TIMEOUT and connects again, as libzmq does."""
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.heartbeat_ivl = 30
    push.heartbeat_timeout = 100
    push.reconnect_ivl = 20
    push.connect(f"tcp://127.0.0.1:{port}")
    connections = []
    try:
        with gevent.Timeout(5):
            for _ in range(2):
                raw, _ = listener.accept()
                connections.append(raw)
                conn = ZmtpConnection(b"PULL")
                raw.sendall(conn.data_to_send())
                while conn.state != "READY":
                    conn.receive(raw.recv(4096))
                    raw.sendall(conn.data_to_send())
                while raw.recv(4096):  # PINGs we never answer, until the socket gives up on us
                    pass
    finally:
        for raw in connections:
            raw.close()
        listener.close()
        push.close()
    assert len(connections) == 2


def test_monitor_reports_connect_and_disconnect(ctx):
    pull = ctx.socket(zmq.PULL)
    endpoint = f"tcp://127.0.0.1:{pull.bind_to_random_port('tcp://127.0.0.1')}"
    push = ctx.socket(zmq.PUSH)
    monitor = push.get_monitor_socket()
    push.connect(endpoint)
    seen = _events(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert zmq.EVENT_CONNECTED in [e for e, _, _ in seen]
    assert all(ep == endpoint for _, _, ep in seen)
    pull.close(linger=0)
    seen = _events(monitor, zmq.EVENT_DISCONNECTED)
    assert seen[-1] == (zmq.EVENT_DISCONNECTED, 0, endpoint)
    push.disable_monitor()
    stopped = _events(monitor, zmq.EVENT_MONITOR_STOPPED)
    assert stopped[-1][0] == zmq.EVENT_MONITOR_STOPPED


def test_get_monitor_socket_returns_the_open_monitor_socket_again(ctx):
    """pyzmq keeps one monitor socket per socket: a second call while it is open returns it; once
    disabled and closed, a new call makes a new one, which gets the new events."""
    pull = new_socket(ctx, zmq.PULL)
    first = pull.get_monitor_socket()
    assert pull.get_monitor_socket() is first
    pull.disable_monitor()
    with gevent.Timeout(TIMEOUT):
        assert recv_monitor_message(first)["event"] == zmq.EVENT_MONITOR_STOPPED
    first.close(linger=0)
    second = pull.get_monitor_socket()
    assert second is not first
    pull.bind("tcp://127.0.0.1:*")
    with gevent.Timeout(TIMEOUT):
        assert recv_monitor_message(second)["event"] == zmq.EVENT_LISTENING
    pull.disable_monitor()
    second.close(linger=0)
    pull.close()

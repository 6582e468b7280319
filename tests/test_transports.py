"""Transports through the public API: tcp (IPv4, wildcard, host names, IPv6), ipc (paths,
abstract names, ``ipc://*``) and inproc (either order, unbind, disconnect); connecting
before binding, IMMEDIATE, reconnection, PAIR's single peer, linger on close; and a
monkey-patched program using threads. Expectations checked against pyzmq 27.
"""

import errno
import os
import socket
import sys
import textwrap
import uuid

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, WIRE_TRANSPORTS, endpoint_for, new_socket, run_program


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


requires_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


def free_tcp_port():
    """A loopback port nobody listens on right now (for connect-before-bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bind_when_free(sock, endpoint):
    """Bind an endpoint another socket just released (libzmq releases it asynchronously too)."""
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                return sock.bind(endpoint)
            except zmq.ZMQError as error:
                if error.errno != zmq.EADDRINUSE:
                    raise
                gevent.sleep(0.01)


def roundtrip(a, b, payload=b"hello"):
    """a -> b, and b -> a if both are PAIRs."""
    with gevent.Timeout(TIMEOUT):
        a.send(payload)
        assert b.recv() == payload
        if a.type == zmq.PAIR:
            b.send_multipart([payload, b"back"])
            assert a.recv_multipart() == [payload, b"back"]


# -- tcp ------------------------------------------------------------------------------------


def test_tcp_ipv4_literal(ctx):
    a = new_socket(ctx, zmq.PAIR)
    b = new_socket(ctx, zmq.PAIR)
    a.bind("tcp://127.0.0.1:*")
    endpoint = a.last_endpoint.decode()
    assert endpoint.startswith("tcp://127.0.0.1:")
    assert int(endpoint.rsplit(":", 1)[1]) > 0
    b.connect(endpoint)
    roundtrip(b, a)
    a.close()
    b.close()


def test_tcp_wildcard_host_connect_via_loopback(ctx):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    port = pull.bind_to_random_port("tcp://*")
    assert pull.last_endpoint == f"tcp://0.0.0.0:{port}".encode()
    push.connect(f"tcp://127.0.0.1:{port}")
    roundtrip(push, pull)
    push.close()
    pull.close()


def test_tcp_wildcard_host_and_port(ctx):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind("tcp://*:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://0.0.0.0:")
    push.connect(endpoint.replace("0.0.0.0", "127.0.0.1"))
    roundtrip(push, pull)
    push.close()
    pull.close()


def test_tcp_explicit_port(ctx):
    port = free_tcp_port()
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind(f"tcp://*:{port}")
    assert pull.last_endpoint == f"tcp://0.0.0.0:{port}".encode()
    push.connect(f"tcp://127.0.0.1:{port}")
    roundtrip(push, pull)
    push.close()
    pull.close()


def test_tcp_port_zero_is_ephemeral(ctx):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("tcp://127.0.0.1:0")
    assert not pull.last_endpoint.endswith(b":0")
    pull.close()


def test_tcp_localhost_host_name(ctx):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind("tcp://localhost:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://127.0.0.1:")  # LAST_ENDPOINT is the resolved address
    port = endpoint.rsplit(":", 1)[1]
    push.connect(f"tcp://localhost:{port}")
    roundtrip(push, pull)
    push.close()
    pull.close()


def test_tcp_unbind_by_host_name(ctx):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("tcp://localhost:*")
    port = pull.last_endpoint.decode().rsplit(":", 1)[1]
    pull.unbind(f"tcp://localhost:{port}")  # libzmq resolves the name to find the endpoint
    with pytest.raises(zmq.ZMQError) as info:
        pull.unbind(f"tcp://127.0.0.1:{port}")
    assert info.value.errno == errno.ENOENT
    pull.close()


def test_tcp_unbind_wildcard_by_resolved_form(ctx):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("tcp://*:*")
    endpoint = pull.last_endpoint.decode()
    pull.unbind(endpoint)  # tcp://0.0.0.0:port
    pull.close()


def test_tcp_unbind_drops_connections_and_frees_port(ctx):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.last_endpoint.decode()
    push.connect(endpoint)
    roundtrip(push, pull)
    pull.unbind(endpoint)
    other = new_socket(ctx, zmq.PULL)
    bind_when_free(other, endpoint)
    with gevent.Timeout(TIMEOUT):
        # push reconnects to the new binder
        while not other.poll(50):
            push.send(b"ping", zmq.NOBLOCK)
    assert other.recv() == b"ping"
    assert pull.poll(0) == 0
    for s in (push, pull, other):
        s.close()


@requires_ipv6
def test_tcp_ipv6_loopback(ctx):
    pull = new_socket(ctx, zmq.PULL, ipv6=True)
    push = new_socket(ctx, zmq.PUSH, ipv6=True)
    pull.bind("tcp://[::1]:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::1]:")
    push.connect(endpoint)
    roundtrip(push, pull)
    push.close()
    pull.close()


@requires_ipv6
def test_tcp_ipv6_wildcard_is_dual_stack(ctx):
    pull = new_socket(ctx, zmq.PULL, ipv6=True)
    pull.bind("tcp://*:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::]:")
    port = endpoint.rsplit(":", 1)[1]
    v6 = new_socket(ctx, zmq.PUSH, ipv6=True)
    v4 = new_socket(ctx, zmq.PUSH)
    v6.connect(f"tcp://[::1]:{port}")
    v4.connect(f"tcp://127.0.0.1:{port}")
    roundtrip(v6, pull, b"over v6")
    roundtrip(v4, pull, b"over v4")
    for s in (v6, v4, pull):
        s.close()


def test_bind_to_random_port(ctx):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    assert isinstance(port, int)
    assert pull.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    push.connect(f"tcp://127.0.0.1:{port}")
    roundtrip(push, pull)
    push.close()
    pull.close()


def test_bind_to_random_port_in_range(ctx):
    pull = new_socket(ctx, zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1", min_port=40000, max_port=40100, max_tries=100)
    assert 40000 <= port < 40100
    assert pull.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    pull.close()


def test_bind_to_random_port_gives_up(ctx):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    taken = holder.getsockname()[1]
    pull = new_socket(ctx, zmq.PULL)
    try:
        with pytest.raises(zmq.ZMQBindError):
            pull.bind_to_random_port("tcp://127.0.0.1", min_port=taken, max_port=taken + 1, max_tries=3)
    finally:
        holder.close()
        pull.close()


# -- ipc ---------------------------------------------------------------------------------------


def test_ipc_path(ctx, tmp_path):
    path = tmp_path / "sock"
    a = new_socket(ctx, zmq.PAIR)
    b = new_socket(ctx, zmq.PAIR)
    a.bind(f"ipc://{path}")
    assert a.last_endpoint == f"ipc://{path}".encode()
    assert path.exists()
    b.connect(f"ipc://{path}")
    roundtrip(b, a)
    a.close()
    b.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract socket names are Linux-only")
def test_ipc_abstract_name(ctx):
    name = f"ipc://@greenmq-test-{uuid.uuid4().hex}"
    a = new_socket(ctx, zmq.PAIR)
    b = new_socket(ctx, zmq.PAIR)
    a.bind(name)
    assert a.last_endpoint == name.encode()
    b.connect(name)
    roundtrip(b, a)
    a.unbind(name)
    c = new_socket(ctx, zmq.PAIR)
    bind_when_free(c, name)  # the name is free again
    for s in (a, b, c):
        s.close()


def test_ipc_wildcard(ctx):
    """``ipc://*`` binds a fresh path; LAST_ENDPOINT names it (libzmq gives a path relative to
    the temp directory there, which cannot be connected to; greenmq gives the full path)."""
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind("ipc://*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("ipc://")
    assert endpoint != "ipc://*"
    push.connect(endpoint)
    roundtrip(push, pull)
    other = new_socket(ctx, zmq.PULL)
    other.bind("ipc://*")
    assert other.last_endpoint.decode() != endpoint
    for s in (push, pull, other):
        s.close()


# -- inproc ------------------------------------------------------------------------------------


@pytest.mark.parametrize("socket_types", [(zmq.PUSH, zmq.PULL), (zmq.PAIR, zmq.PAIR)], ids=["push-pull", "pair"])
def test_inproc_bind_then_connect(ctx, socket_types):
    sender = new_socket(ctx, socket_types[0])
    receiver = new_socket(ctx, socket_types[1])
    receiver.bind("inproc://bind-first")
    sender.connect("inproc://bind-first")
    roundtrip(sender, receiver)
    sender.close()
    receiver.close()


@pytest.mark.parametrize("socket_types", [(zmq.PUSH, zmq.PULL), (zmq.PAIR, zmq.PAIR)], ids=["push-pull", "pair"])
def test_inproc_connect_then_bind_delivers_earlier_messages(ctx, socket_types):
    sender = new_socket(ctx, socket_types[0])
    receiver = new_socket(ctx, socket_types[1])
    sender.connect("inproc://connect-first")
    for i in range(5):
        sender.send(b"early %d" % i)  # queued on the pending connection
    receiver.bind("inproc://connect-first")
    with gevent.Timeout(TIMEOUT):
        assert [receiver.recv() for _ in range(5)] == [b"early %d" % i for i in range(5)]
    roundtrip(sender, receiver, b"later")
    sender.close()
    receiver.close()


def test_inproc_unbind_frees_the_name_for_new_connections(ctx):
    first = new_socket(ctx, zmq.PULL)
    first.bind("inproc://unbind-name")
    first.unbind("inproc://unbind-name")
    second = new_socket(ctx, zmq.PULL)
    second.bind("inproc://unbind-name")
    push = new_socket(ctx, zmq.PUSH)
    push.connect("inproc://unbind-name")
    roundtrip(push, second)
    assert first.poll(0) == 0
    for s in (first, second, push):
        s.close()


def test_inproc_unbind_keeps_existing_connections(ctx):
    """libzmq's unbind of inproc only removes the name: established pipes stay."""
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind("inproc://unbind-keeps")
    push.connect("inproc://unbind-keeps")
    roundtrip(push, pull, b"before")
    pull.unbind("inproc://unbind-keeps")
    with gevent.Timeout(TIMEOUT):
        push.send(b"after", zmq.NOBLOCK)
        assert pull.recv() == b"after"
    push.close()
    pull.close()


def test_inproc_disconnect(ctx):
    a = new_socket(ctx, zmq.PULL)
    b = new_socket(ctx, zmq.PULL)
    a.bind("inproc://disconnect-a")
    b.bind("inproc://disconnect-b")
    push = new_socket(ctx, zmq.PUSH)
    push.connect("inproc://disconnect-a")
    push.connect("inproc://disconnect-b")
    for i in range(4):
        push.send(b"%d" % i)
    with gevent.Timeout(TIMEOUT):
        assert [a.recv(), a.recv()] == [b"0", b"2"]
        assert [b.recv(), b.recv()] == [b"1", b"3"]
        push.disconnect("inproc://disconnect-a")
        for i in range(4):
            push.send(b"x%d" % i)
        assert [b.recv() for _ in range(4)] == [b"x0", b"x1", b"x2", b"x3"]
        assert a.poll(50) == 0
    with pytest.raises(zmq.ZMQError) as info:
        push.disconnect("inproc://disconnect-a")
    assert info.value.errno == errno.ENOENT
    for s in (a, b, push):
        s.close()


def test_inproc_disconnect_pending_connect(ctx):
    push = new_socket(ctx, zmq.PUSH)
    push.connect("inproc://pending-disconnect")
    assert push.events == zmq.POLLOUT
    push.disconnect("inproc://pending-disconnect")
    assert push.events == 0
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("inproc://pending-disconnect")
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        push.send(b"x", zmq.NOBLOCK)
    push.close()
    pull.close()


# -- connecting before the peer exists ---------------------------------------------------------------


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_connect_before_bind_queues_and_delivers(ctx, tmp_path, transport):
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}" if transport == "tcp" else f"ipc://{tmp_path}/late"
    push = new_socket(ctx, zmq.PUSH)
    push.connect(endpoint)
    for i in range(10):
        push.send(b"queued %d" % i, zmq.NOBLOCK)  # the connect's pipe takes them at once
    gevent.sleep(0.05)  # a failed connection attempt or two
    pull = new_socket(ctx, zmq.PULL)
    pull.bind(endpoint)
    with gevent.Timeout(TIMEOUT):
        assert [pull.recv() for _ in range(10)] == [b"queued %d" % i for i in range(10)]
    push.close()
    pull.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_immediate_does_not_queue_to_absent_peer(ctx, tmp_path, transport):
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}" if transport == "tcp" else f"ipc://{tmp_path}/imm"
    push = new_socket(ctx, zmq.PUSH, immediate=1)
    push.connect(endpoint)
    assert push.events == 0
    with gevent.Timeout(TIMEOUT):
        with pytest.raises(zmq.Again):
            push.send(b"x", zmq.NOBLOCK)
        push.sndtimeo = 50
        with pytest.raises(zmq.Again):
            push.send(b"x")
    pull = new_socket(ctx, zmq.PULL)
    pull.bind(endpoint)
    with gevent.Timeout(TIMEOUT):
        assert push.poll(TIMEOUT * 1000, zmq.POLLOUT) == zmq.POLLOUT
        push.send(b"now")
        assert pull.recv() == b"now"
        assert pull.poll(50) == 0  # the refused sends were never queued
    push.close()
    pull.close()


def test_immediate_only_uses_connected_peers(ctx, tmp_path):
    push = new_socket(ctx, zmq.PUSH, immediate=1)
    live = new_socket(ctx, zmq.PULL)
    live.bind(f"ipc://{tmp_path}/live")
    push.connect(f"ipc://{tmp_path}/absent")
    push.connect(f"ipc://{tmp_path}/live")
    with gevent.Timeout(TIMEOUT):
        assert push.poll(TIMEOUT * 1000, zmq.POLLOUT)
        for i in range(5):
            push.send(b"%d" % i)
        assert [live.recv() for _ in range(5)] == [b"%d" % i for i in range(5)]
    push.close()
    live.close()


# -- reconnection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_reconnects_after_binder_is_replaced(ctx, tmp_path, transport):
    first = new_socket(ctx, zmq.PULL)
    first.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/reconnect")
    endpoint = first.last_endpoint.decode()
    push = new_socket(ctx, zmq.PUSH)
    push.connect(endpoint)
    roundtrip(push, first, b"to first")
    first.close()
    second = new_socket(ctx, zmq.PULL)
    bind_when_free(second, endpoint)
    with gevent.Timeout(TIMEOUT):
        # Messages written into the dying connection may be lost; keep sending until one arrives.
        sent = 0
        while not second.poll(20):
            push.send(b"ping %d" % sent, zmq.NOBLOCK)
            sent += 1
        first_seen = second.recv()
        assert first_seen.startswith(b"ping ")
        push.send(b"after reconnect")
        rest = [second.recv() for _ in range(sent - int(first_seen.split()[1]))]
    assert rest[-1] == b"after reconnect"
    push.close()
    second.close()


def test_reconnect_ivl_minus_one_does_not_reconnect(ctx, tmp_path):
    endpoint = f"ipc://{tmp_path}/no-reconnect"
    first = new_socket(ctx, zmq.PULL)
    first.bind(endpoint)
    push = new_socket(ctx, zmq.PUSH, reconnect_ivl=-1)
    push.connect(endpoint)
    roundtrip(push, first)
    first.close()
    second = new_socket(ctx, zmq.PULL)
    bind_when_free(second, endpoint)
    with gevent.Timeout(TIMEOUT):
        for _ in range(10):
            try:
                push.send(b"lost", zmq.NOBLOCK)
            except zmq.Again:
                pass
            gevent.sleep(0.02)
        assert second.poll(300) == 0
    push.close()
    second.close()


# -- PAIR --------------------------------------------------------------------------------------------


def test_pair_refuses_a_second_peer(ctx, tmp_path, transport):
    a = new_socket(ctx, zmq.PAIR)
    a.bind(endpoint_for(transport, tmp_path, "pair"))
    endpoint = a.last_endpoint.decode()
    b = new_socket(ctx, zmq.PAIR)
    b.connect(endpoint)
    roundtrip(b, a, b"from b")
    c = new_socket(ctx, zmq.PAIR)
    c.connect(endpoint)
    with gevent.Timeout(TIMEOUT):
        try:
            c.send(b"from c", zmq.NOBLOCK)
        except zmq.Again:
            pass
        assert a.poll(300) == 0  # c's message never reaches a
        a.send(b"to my peer")
        assert b.recv() == b"to my peer"
        assert c.poll(100) == 0
    for s in (a, b, c):
        s.close()


# -- closing with messages in flight ----------------------------------------------------------------------


def test_messages_sent_just_before_close_are_all_received(ctx, tmp_path, transport):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind(endpoint_for(transport, tmp_path, "before-close"))
    push = ctx.socket(zmq.PUSH)
    push.linger = 5000
    push.connect(pull.last_endpoint.decode())
    count = 2000
    with gevent.Timeout(TIMEOUT):
        for i in range(count):
            push.send_multipart([b"%d" % i, b"x" * (i % 100)])
        push.close()
        got = [pull.recv_multipart() for _ in range(count)]
    assert got == [[b"%d" % i, b"x" * (i % 100)] for i in range(count)]
    pull.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_large_messages(ctx, tmp_path, transport):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind(endpoint_for(transport, tmp_path, "large"))
    push = new_socket(ctx, zmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    big = os.urandom(3 * 1024 * 1024)
    with gevent.Timeout(TIMEOUT):
        push.send_multipart([b"", big, b"tail"])
        assert pull.recv_multipart() == [b"", big, b"tail"]
    push.close()
    pull.close()


# -- a monkey-patched program with threads -------------------------------------------------------------------

MONKEY_PATCHED_PROGRAM = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()

    import json
    import queue
    import threading
    import time

    import greenmq as zmq

    ctx = zmq.Context()
    result = {}

    # inproc: worker threads PUSH to one collector PULL.
    sink = ctx.socket(zmq.PULL)
    sink.bind("inproc://sink")

    def worker(n):
        s = ctx.socket(zmq.PUSH)
        s.connect("inproc://sink")
        for i in range(200):
            s.send_string(f"{n}:{i}")
            if i % 50 == 0:
                time.sleep(0.001)
        s.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    got = [sink.recv_string() for _ in range(800)]
    for t in threads:
        t.join()
    result["inproc"] = sorted(got) == sorted(f"{n}:{i}" for n in range(4) for i in range(200))
    result["inproc_per_worker_order"] = all(
        [m for m in got if m.startswith(f"{n}:")] == [f"{n}:{i}" for i in range(200)] for n in range(4))

    # tcp: an echo server thread over PAIR; the main thread is the client.
    server = ctx.socket(zmq.PAIR)
    server.bind("tcp://127.0.0.1:*")
    endpoint = server.last_endpoint.decode()

    def echo():
        for _ in range(100):
            server.send(server.recv().upper())

    t = threading.Thread(target=echo)
    t.start()
    client = ctx.socket(zmq.PAIR)
    client.connect(endpoint)
    replies = []
    for i in range(100):
        client.send(b"ping%d" % i)
        replies.append(client.recv())
    t.join()
    result["tcp"] = replies == [b"PING%d" % i for i in range(100)]

    # A thread blocked in recv does not block the others; RCVTIMEO still works.
    lonely = ctx.socket(zmq.PULL)
    lonely.rcvtimeo = 200
    outcome = queue.Queue()

    def waiter():
        start = time.monotonic()
        try:
            lonely.recv()
            outcome.put("received?")
        except zmq.Again:
            outcome.put(round(time.monotonic() - start, 1))

    ticks = []
    w = threading.Thread(target=waiter)
    w.start()
    while w.is_alive():
        ticks.append(1)
        time.sleep(0.01)
    result["rcvtimeo"] = outcome.get()
    result["main_ran_meanwhile"] = len(ticks) >= 5

    for s in (sink, server, client, lonely):
        s.close(linger=0)
    ctx.term()
    result["term"] = ctx.closed
    print(json.dumps(result))
""")


def test_monkey_patched_program_with_threads(tmp_path):
    result = run_program(tmp_path, MONKEY_PATCHED_PROGRAM)
    assert result == {
        "inproc": True,
        "inproc_per_worker_order": True,
        "tcp": True,
        "rcvtimeo": 0.2,
        "main_ran_meanwhile": True,
        "term": True,
    }

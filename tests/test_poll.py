"""Polling: Poller, select and zmq_poll over greenmq sockets and native fds.

Expectations checked against pyzmq 27 (libzmq 4.3.5) in separate scratch
processes: return types, the Poller's bookkeeping, timeouts in milliseconds
(select: seconds), errors for bad items, fds reported as ints, POLLERR for a
hang-up or a closed fd (requested or not), POLLPRI for urgent data. One
deliberate difference: pyzmq polls fd 0 in place of a closed socket (its NULL
handle); greenmq raises ZMQError(ENOTSOCK), as libzmq's zmq_poll does for an
invalid socket.
"""

import os
import socket as pysocket
import struct
import textwrap
import threading
import time

import gevent
import pytest
from gevent import socket as gsocket

import greenmq as zmq
import greenmq.poll as greenmq_poll

from support import TIMEOUT, WIRE_TRANSPORTS, blocked, run_program


def pair(ctx, endpoint):
    """Two connected PAIR sockets (the connection is up when this returns)."""
    bound = ctx.socket(zmq.PAIR)
    connected = ctx.socket(zmq.PAIR)
    bound.linger = connected.linger = 0
    bound.bind(endpoint)
    connected.connect(bound.last_endpoint.decode())
    with gevent.Timeout(TIMEOUT):
        connected.send(b"sync")
        assert bound.recv() == b"sync"
    return bound, connected


class LoopCounter:
    """Counts iterations of the gevent loop (a prepare watcher runs once per iteration)."""

    def __init__(self):
        self.count = 0
        self._watcher = gevent.get_hub().loop.prepare()
        self._watcher.start(self._tick)

    def _tick(self):
        self.count += 1

    def during(self, seconds):
        """Loop iterations while the calling greenlet sleeps ``seconds``."""
        self.count = 0
        gevent.sleep(seconds)
        return self.count

    def close(self):
        self._watcher.stop()
        self._watcher.close()


@pytest.fixture
def loop_counter():
    counter = LoopCounter()
    yield counter
    counter.close()


@pytest.fixture
def pipe():
    r, w = os.pipe()
    fds = {"r": r, "w": w}
    yield fds
    for fd in fds.values():
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


# -- the Poller's bookkeeping ----------------------------------------------------------------------


def test_register_modify_unregister_like_pyzmq(ctx):
    a, b, c = (ctx.socket(zmq.PAIR) for _ in range(3))
    poller = zmq.Poller()
    assert poller.sockets == []
    poller.register(a)
    poller.register(b, zmq.POLLIN)
    poller.register(c, zmq.POLLOUT)
    assert poller.sockets == [(a, zmq.POLLIN | zmq.POLLOUT), (b, zmq.POLLIN), (c, zmq.POLLOUT)]
    assert a in poller and b in poller
    poller.register(a, zmq.POLLIN)  # re-registering changes the flags in place
    assert poller.sockets[0] == (a, zmq.POLLIN)
    poller.register(a, 0)  # flags 0 unregisters
    assert a not in poller
    assert poller.sockets == [(b, zmq.POLLIN), (c, zmq.POLLOUT)]
    poller.unregister(b)  # later entries move up
    assert poller.sockets == [(c, zmq.POLLOUT)]
    assert poller._map == {c: 0}
    poller.register(b, 0)  # flags 0 for an unknown socket: nothing happens
    assert b not in poller
    with pytest.raises(KeyError):
        poller.unregister(b)
    poller.modify(b, zmq.POLLIN)  # modify registers an unknown socket, as in pyzmq
    assert poller.sockets == [(c, zmq.POLLOUT), (b, zmq.POLLIN)]
    for s in (a, b, c):
        s.close()


def test_poll_with_nothing_registered_returns_at_once():
    with gevent.Timeout(TIMEOUT):
        assert zmq.Poller().poll() == []
        assert zmq.zmq_poll([], -1) == []
        assert zmq.select([], [], []) == ([], [], [])


def test_poll_returns_list_of_socket_and_int_mask_in_registration_order(ctx):
    bound, connected = pair(ctx, "inproc://order")
    poller = zmq.Poller()
    poller.register(connected, zmq.POLLIN | zmq.POLLOUT)
    poller.register(bound, zmq.POLLIN | zmq.POLLOUT)
    with gevent.Timeout(TIMEOUT):
        result = poller.poll(0)
        assert result == [(connected, zmq.POLLOUT), (bound, zmq.POLLOUT)]
        connected.send(b"x")
        result = poller.poll(0)
    assert isinstance(result, list)
    assert all(isinstance(item, tuple) for item in result)
    assert result == [(connected, zmq.POLLOUT), (bound, zmq.POLLIN | zmq.POLLOUT)]
    assert type(result[1][1]) is int
    assert dict(result)[bound] == 3


def test_events_not_registered_are_not_reported(ctx):
    bound, connected = pair(ctx, "inproc://masked")
    connected.send(b"x")
    poller = zmq.Poller()
    poller.register(bound, zmq.POLLOUT)
    with gevent.Timeout(TIMEOUT):
        assert poller.poll(0) == [(bound, zmq.POLLOUT)]
        poller.modify(bound, zmq.POLLIN)
        assert poller.poll(0) == [(bound, zmq.POLLIN)]
        poller.modify(bound, zmq.POLLERR)  # no effect for sockets (as in libzmq): never ready
        assert poller.poll(20) == []


def test_socket_without_peer_is_not_ready(ctx):
    poller = zmq.Poller()
    for kind in (zmq.PAIR, zmq.PUSH, zmq.PULL):
        poller.register(ctx.socket(kind), zmq.POLLIN | zmq.POLLOUT)
    with gevent.Timeout(TIMEOUT):
        assert poller.poll(0) == []
    for sock, _ in poller.sockets:
        sock.close()


# -- timeouts --------------------------------------------------------------------------------------


def test_timeout_is_in_milliseconds(ctx):
    pull = ctx.socket(zmq.PULL)
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    with gevent.Timeout(TIMEOUT):
        start = time.monotonic()
        assert poller.poll(150) == []
        elapsed = time.monotonic() - start
    assert 0.14 <= elapsed < 2.0
    pull.close()


def test_float_timeout_is_truncated_like_pyzmq(ctx):
    pull = ctx.socket(zmq.PULL)
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    with gevent.Timeout(TIMEOUT):
        start = time.monotonic()
        assert poller.poll(0.9) == []  # int(0.9) == 0 ms
        assert time.monotonic() - start < 0.05
    pull.close()


def test_bad_timeout_type_is_typeerror(ctx):
    poller = zmq.Poller()
    with pytest.raises(TypeError):
        poller.poll("soon")


@pytest.mark.parametrize("timeout", [None, -1, -1000])
def test_none_or_negative_timeout_waits_for_a_message(ctx, endpoint, timeout):
    bound, connected = pair(ctx, endpoint)
    poller = zmq.Poller()
    poller.register(bound, zmq.POLLIN)
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(poller.poll, timeout)
        assert blocked(g)
        connected.send_multipart([b"a", b"b"])
        assert g.get() == [(bound, zmq.POLLIN)]
        assert bound.recv_multipart() == [b"a", b"b"]


def test_pollout_wakes_when_a_full_pipe_drains(ctx):
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    push.linger = pull.linger = 0
    push.sndhwm = pull.rcvhwm = 2
    pull.bind("inproc://drain")
    push.connect("inproc://drain")
    sent = 0
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                push.send(b"%d" % sent, zmq.NOBLOCK)
            except zmq.Again:
                break
            sent += 1
        poller = zmq.Poller()
        poller.register(push, zmq.POLLOUT)
        assert poller.poll(0) == []
        g = gevent.spawn(poller.poll)
        assert blocked(g)
        received = [pull.recv() for _ in range(sent)]
        assert g.get() == [(push, zmq.POLLOUT)]
    assert received == [b"%d" % i for i in range(sent)]


# -- closed sockets and termination --------------------------------------------------------------


def test_register_closed_socket_is_allowed_but_poll_raises_enotsock(ctx):
    sock = ctx.socket(zmq.PAIR)
    sock.close()
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    assert sock in poller
    with pytest.raises(zmq.ZMQError) as info:
        poller.poll(0)
    assert info.value.errno == zmq.ENOTSOCK
    with pytest.raises(zmq.ZMQError) as info:
        zmq.select([sock], [], [], 0)
    assert info.value.errno == zmq.ENOTSOCK


def test_socket_closed_while_polled_raises_enotsock(ctx):
    sock = ctx.socket(zmq.PULL)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(poller.poll)
        assert blocked(g)
        sock.close()
        with pytest.raises(zmq.ZMQError) as info:
            g.get()
    assert info.value.errno == zmq.ENOTSOCK


def test_context_terminated_while_polling_raises_context_terminated():
    context = zmq.Context()
    sock = context.socket(zmq.PULL)
    outcome = []

    def waiter():
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLOUT)  # PULL is never writable: only termination wakes it
        try:
            poller.poll()
        except zmq.ContextTerminated as error:
            outcome.append(error)
        finally:
            sock.close()

    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(waiter)
        assert blocked(g)
        context.term()
        g.join()
    assert len(outcome) == 1 and outcome[0].errno == zmq.ETERM


def test_poll_after_shutdown_raises_context_terminated():
    context = zmq.Context()
    sock = context.socket(zmq.PAIR)
    context.shutdown()
    with pytest.raises(zmq.ContextTerminated):
        zmq.zmq_poll([(sock, zmq.POLLIN)], 0)
    sock.close()
    with gevent.Timeout(TIMEOUT):
        context.term()


# -- bad items -------------------------------------------------------------------------------------


def test_item_that_is_neither_socket_nor_fd_is_typeerror():
    poller = zmq.Poller()
    poller.register("foo", zmq.POLLIN)  # registering checks nothing, as in pyzmq
    with pytest.raises(TypeError, match="Socket must be a 0MQ socket, an integer fd or have a fileno"):
        poller.poll(0)


def test_fileno_that_is_not_an_int_is_valueerror():
    class Bad:
        def fileno(self):
            return "x"

    poller = zmq.Poller()
    poller.register(Bad(), zmq.POLLIN)
    with pytest.raises(ValueError, match="fileno\\(\\) must return a valid integer fd"):
        poller.poll(0)


# -- native file descriptors ---------------------------------------------------------------------


def test_fd_readable_and_writable(pipe):
    poller = zmq.Poller()
    poller.register(pipe["r"], zmq.POLLIN)
    poller.register(pipe["w"], zmq.POLLOUT)
    with gevent.Timeout(TIMEOUT):
        assert poller.poll(0) == [(pipe["w"], zmq.POLLOUT)]
        os.write(pipe["w"], b"x")
        assert poller.poll(0) == [(pipe["r"], zmq.POLLIN), (pipe["w"], zmq.POLLOUT)]


def test_object_with_fileno_is_returned_as_its_fd_like_pyzmq(pipe):
    reader = os.fdopen(pipe["r"], "rb", buffering=0)
    pipe["r"] = None
    try:
        poller = zmq.Poller()
        poller.register(reader, zmq.POLLIN)
        os.write(pipe["w"], b"x")
        with gevent.Timeout(TIMEOUT):
            assert poller.poll(0) == [(reader.fileno(), zmq.POLLIN)]
            assert zmq.select([reader], [], [], 0) == ([reader.fileno()], [], [])
    finally:
        reader.close()


def test_hangup_is_pollerr_even_when_not_requested(pipe):
    poller = zmq.Poller()
    poller.register(pipe["r"], zmq.POLLIN)
    os.write(pipe["w"], b"x")
    os.close(pipe["w"])
    pipe["w"] = None
    with gevent.Timeout(TIMEOUT):
        assert poller.poll(0) == [(pipe["r"], zmq.POLLIN | zmq.POLLERR)]
        os.read(pipe["r"], 1)
        assert poller.poll(0) == [(pipe["r"], zmq.POLLERR)]
        poller.modify(pipe["r"], zmq.POLLOUT)
        assert poller.poll(0) == [(pipe["r"], zmq.POLLERR)]


def test_closed_fd_is_pollerr(pipe):
    fd = pipe["r"]
    os.close(fd)
    pipe["r"] = None
    with gevent.Timeout(TIMEOUT):
        assert zmq.zmq_poll([(fd, zmq.POLLIN)], 0) == [(fd, zmq.POLLERR)]


def test_negative_fd_is_ignored_like_poll(ctx):
    with gevent.Timeout(TIMEOUT):
        start = time.monotonic()
        assert zmq.zmq_poll([(-1, zmq.POLLIN)], 50) == []
        assert time.monotonic() - start >= 0.045


def test_waiting_poll_wakes_on_fd_or_socket_whichever_comes_first(ctx, endpoint):
    bound, connected = pair(ctx, endpoint)
    left, right = gsocket.socketpair()
    try:
        poller = zmq.Poller()
        poller.register(bound, zmq.POLLIN)
        poller.register(left, zmq.POLLIN)
        with gevent.Timeout(TIMEOUT):
            g = gevent.spawn(poller.poll)
            assert blocked(g)
            right.sendall(b"fd first")
            assert g.get() == [(left.fileno(), zmq.POLLIN)]
            assert left.recv(100) == b"fd first"
            g = gevent.spawn(poller.poll, -1)
            assert blocked(g)
            connected.send(b"socket next")
            assert g.get() == [(bound, zmq.POLLIN)]
    finally:
        left.close()
        right.close()


def test_pollerr_alone_waits_for_an_error_not_for_data(pipe):
    """An fd polled for POLLERR only: data does not end the poll, a hang-up does (helper thread)."""
    poller = zmq.Poller()
    poller.register(pipe["r"], zmq.POLLERR)
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(poller.poll)
        assert blocked(g)
        os.write(pipe["w"], b"data")
        assert poller.poll(50) == []  # readable, but no error
        assert not g.ready()
        os.close(pipe["w"])
        pipe["w"] = None
        assert g.get() == [(pipe["r"], zmq.POLLERR)]
        assert zmq.select([], [], [pipe["r"]], None) == ([], [], [pipe["r"]])


def test_pollpri_reports_urgent_data():
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = gsocket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    try:
        poller = zmq.Poller()
        poller.register(server, zmq.POLLPRI)
        with gevent.Timeout(TIMEOUT):
            assert poller.poll(0) == []
            g = gevent.spawn(poller.poll)
            assert blocked(g)
            client.send(b"!", pysocket.MSG_OOB)
            assert g.get() == [(server.fileno(), zmq.POLLPRI)]
            poller.modify(server, zmq.POLLIN | zmq.POLLPRI)
            assert poller.poll(0) == [(server.fileno(), zmq.POLLPRI)]
    finally:
        for s in (client, server, listener):
            s.close()


def test_pollpri_taken_by_someone_else_keeps_waiting_for_the_next():
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = gsocket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    try:
        with gevent.Timeout(TIMEOUT):
            g = gevent.spawn(zmq.zmq_poll, [(server, zmq.POLLPRI)], -1)
            assert blocked(g)
            client.send(b"1", pysocket.MSG_OOB)
            # Block the hub (not the helper thread) so the helper sees the urgent byte and
            # finishes, then consume the byte before the poller gets to look.
            time.sleep(0.1)
            server.recv(1, pysocket.MSG_OOB)
            gevent.sleep(0.05)  # the poller wakes, finds nothing, and must watch again
            assert not g.ready()
            client.send(b"2", pysocket.MSG_OOB)
            assert g.get() == [(server.fileno(), zmq.POLLPRI)]
    finally:
        for s in (client, server, listener):
            s.close()


def test_killed_poll_stops_its_helper_thread(pipe, monkeypatch):
    helpers = []

    class RecordingThreadPoll(greenmq_poll._ThreadPoll):
        def __init__(self, *args):
            super().__init__(*args)
            helpers.append(self)

    monkeypatch.setattr(greenmq_poll, "_ThreadPoll", RecordingThreadPoll)
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.zmq_poll, [(pipe["r"], zmq.POLLERR)], -1)
        assert blocked(g)
        assert len(helpers) == 1 and not helpers[0].finished
        g.kill()
        while not helpers[0].finished:
            gevent.sleep(0.01)  # the OS thread ends on its own once its pipe is closed
    assert len(helpers) == 1


# -- select and zmq_poll ---------------------------------------------------------------------------


def test_select_returns_three_lists(ctx):
    bound, connected = pair(ctx, "inproc://select")
    connected.send(b"x")
    with gevent.Timeout(TIMEOUT):
        readable, writable, errors = zmq.select([bound, connected], [bound], [bound], 0)
        assert (readable, writable, errors) == ([bound], [bound], [])
        assert zmq.select((connected,), (), (), 0) == ([], [], [])


def test_select_timeout_is_in_seconds(ctx):
    pull = ctx.socket(zmq.PULL)
    with gevent.Timeout(TIMEOUT):
        start = time.monotonic()
        assert zmq.select([pull], [], [], 0.15) == ([], [], [])
        assert 0.14 <= time.monotonic() - start < 2.0
    pull.close()


def test_zmq_poll_function(ctx):
    bound, connected = pair(ctx, "inproc://zmq_poll")
    connected.send(b"x")
    with gevent.Timeout(TIMEOUT):
        assert zmq.zmq_poll([(bound, zmq.POLLIN)]) == [(bound, zmq.POLLIN)]
        assert zmq.zmq_poll([(connected, zmq.POLLIN)], 0) == []


# -- several greenlets, threads ---------------------------------------------------------------------


def test_several_greenlets_polling_one_socket_all_see_the_message(ctx, endpoint):
    bound, connected = pair(ctx, endpoint)

    def poll_once():
        poller = zmq.Poller()
        poller.register(bound, zmq.POLLIN)
        return poller.poll()

    with gevent.Timeout(TIMEOUT):
        waiters = [gevent.spawn(poll_once) for _ in range(5)]
        assert all(blocked(g) for g in waiters)
        connected.send(b"x")
        gevent.joinall(waiters, raise_error=True)
    assert [g.value for g in waiters] == [[(bound, zmq.POLLIN)]] * 5


def test_greenlets_polling_and_receiving_share_messages_without_losing_a_wakeup(ctx, endpoint, loop_counter):
    bound, connected = pair(ctx, endpoint)
    received = []

    def consumer(name):
        poller = zmq.Poller()
        poller.register(bound, zmq.POLLIN)
        while True:
            poller.poll()
            try:
                received.append((name, bound.recv(zmq.NOBLOCK)))
            except zmq.Again:
                continue  # another consumer took it

    consumers = [gevent.spawn(consumer, n) for n in range(3)]
    try:
        with gevent.Timeout(TIMEOUT):
            assert all(blocked(g) for g in consumers)
            for i in range(200):
                connected.send(b"%d" % i)
                if i % 7 == 0:
                    gevent.sleep(0)
            while len(received) < 200:
                gevent.sleep(0.01)
            # Idle again: nobody spins on a stale wake-up.
            assert loop_counter.during(0.2) < 10
    finally:
        gevent.killall(consumers)
    assert sorted(int(msg) for _, msg in received) == list(range(200))


def test_poll_in_another_thread_waits_for_inproc_message(ctx):
    """The only thing a thread's hub waits for is another thread: no LoopExit, a wake-up."""
    ready = threading.Event()
    outcome = []

    def worker():
        pull = ctx.socket(zmq.PULL)
        pull.bind("inproc://threads")
        ready.set()
        try:
            poller = zmq.Poller()
            poller.register(pull, zmq.POLLIN)
            outcome.append(poller.poll())
            outcome.append(pull.recv())
        except BaseException as error:  # reported to the test
            outcome.append(error)
        finally:
            pull.close()

    thread = threading.Thread(target=worker)
    thread.start()
    push = ctx.socket(zmq.PUSH)
    try:
        assert ready.wait(TIMEOUT)
        push.connect("inproc://threads")
        with gevent.Timeout(TIMEOUT):
            push.send(b"across")
    finally:
        thread.join(TIMEOUT)
        push.close()
    assert not thread.is_alive()
    assert len(outcome) == 2, outcome
    assert outcome[0][0][1] == zmq.POLLIN
    assert outcome[1] == b"across"


# -- no CPU when idle ------------------------------------------------------------------------------


def test_idle_poll_forever_uses_no_cpu(ctx, endpoint, loop_counter):
    bound, connected = pair(ctx, endpoint)
    left, right = gsocket.socketpair()
    try:
        poller = zmq.Poller()
        poller.register(bound, zmq.POLLIN)
        poller.register(connected, zmq.POLLIN)
        poller.register(left, zmq.POLLIN)
        with gevent.Timeout(TIMEOUT):
            g = gevent.spawn(poller.poll, -1)
            assert blocked(g)
            cpu = time.process_time()
            iterations = loop_counter.during(0.3)
            cpu = time.process_time() - cpu
            assert not g.ready()
            # One or two iterations for the sleep's own timer; a periodic wake-up or a
            # busy loop would show hundreds.
            assert iterations <= 3
            assert cpu < 0.05
            connected.send(b"done")
            assert g.get() == [(bound, zmq.POLLIN)]
    finally:
        left.close()
        right.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_no_busy_loop_after_peer_disconnects(ctx, ipc_endpoint, loop_counter, transport):
    bound = ctx.socket(zmq.PAIR)
    bound.linger = 0
    bound.bind("tcp://127.0.0.1:*" if transport == "tcp" else ipc_endpoint)
    monitor = bound.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    peer = ctx.socket(zmq.PAIR)
    peer.connect(bound.last_endpoint.decode())
    poller = zmq.Poller()
    poller.register(bound, zmq.POLLIN | zmq.POLLOUT)
    with gevent.Timeout(TIMEOUT):
        peer.send(b"hello")
        assert bound.recv() == b"hello"
        assert poller.poll(0) == [(bound, zmq.POLLOUT)]
        peer.close(linger=0)
        event, _ = struct.unpack("=HI", monitor.recv_multipart()[0])
        assert event == zmq.EVENT_DISCONNECTED
        assert poller.poll(0) == []  # no peer: not writable any more
        g = gevent.spawn(poller.poll, -1)
        assert blocked(g)
        cpu = time.process_time()
        iterations = loop_counter.during(0.3)
        cpu = time.process_time() - cpu
        assert not g.ready()
        assert iterations <= 3
        assert cpu < 0.05
        g.kill()
    bound.disable_monitor()
    monitor.close()


# -- a monkey-patched program ----------------------------------------------------------------------

MONKEY_PATCHED_PROGRAM = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()

    import json
    import socket
    import threading
    import time

    import gevent
    import greenmq as zmq

    result = {}
    ctx = zmq.Context()
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.bind("inproc://patched")
    b.connect("inproc://patched")
    left, right = socket.socketpair()
    err_left, err_right = socket.socketpair()
    poller = zmq.Poller()
    poller.register(a, zmq.POLLIN)
    poller.register(left, zmq.POLLIN)
    poller.register(err_left, zmq.POLLERR)

    g = gevent.spawn(poller.poll)
    gevent.sleep(0.05)
    right.sendall(b"x")
    result["fd"] = g.get(timeout=5) == [(left.fileno(), zmq.POLLIN)]
    left.recv(1)

    g = gevent.spawn(poller.poll, -1)
    gevent.sleep(0.05)
    err_right.shutdown(socket.SHUT_RDWR)  # a hang-up: POLLERR (through the helper thread)
    result["pollerr"] = g.get(timeout=5) == [(err_left.fileno(), zmq.POLLERR)]
    poller.unregister(err_left)

    # A (real, patched-away) thread polls a socket that the main thread feeds.
    got = []
    def thread_poll():
        p = zmq.Poller()
        p.register(a, zmq.POLLIN)
        got.append(p.poll(5000))
    t = threading.Thread(target=thread_poll)
    t.start()
    time.sleep(0.05)
    b.send(b"y")
    t.join()
    result["thread"] = got == [[(a, zmq.POLLIN)]]
    result["select"] = zmq.select([a], [], [], 1) == ([a], [], [])
    for s in (a, b):
        s.close(linger=0)
    for s in (left, right, err_left, err_right):
        s.close()
    ctx.term()
    print(json.dumps(result))
""")


def test_monkey_patched_program(tmp_path):
    result = run_program(tmp_path, MONKEY_PATCHED_PROGRAM)
    assert result == {"fd": True, "pollerr": True, "thread": True, "select": True}


# -- REQ and REP report only what their state allows (libzmq 4.3.5, checked with pyzmq) ----------------


def test_req_rep_events_follow_their_state(ctx, endpoint):
    """REQ is writable only when it may send a request, readable only while a reply is due; REP is
    readable only when it may take a request, writable only while it owes a reply. Neither is writable
    while a multipart message it is reading has frames left (libzmq's state flips at the last frame)."""
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    rep.linger = req.linger = 0
    rep.bind(endpoint)
    req.connect(rep.last_endpoint.decode())
    with gevent.Timeout(TIMEOUT):
        assert req.poll(None, zmq.POLLOUT) == zmq.POLLOUT
        assert rep.events == 0
        req.send_multipart([b"a", b"b"])
        assert req.events == 0  # waiting for its reply: neither
        assert rep.poll(None, zmq.POLLIN) == zmq.POLLIN
        assert rep.events == zmq.POLLIN
        assert rep.recv() == b"a"
        assert rep.events == zmq.POLLIN  # one frame left: not yet its turn to reply
        assert zmq.zmq_poll([(rep, zmq.POLLIN | zmq.POLLOUT)], 0) == [(rep, zmq.POLLIN)]
        with pytest.raises(zmq.ZMQError) as info:
            rep.send(b"too early", zmq.DONTWAIT)
        assert info.value.errno == zmq.EFSM
        assert rep.recv() == b"b"
        assert rep.events == zmq.POLLOUT
        rep.send_multipart([b"x", b"y"])
        assert rep.events == 0
        assert req.poll(None, zmq.POLLIN) == zmq.POLLIN
        assert req.events == zmq.POLLIN
        assert req.recv() == b"x"
        assert req.events == zmq.POLLIN  # the rest of the reply first
        with pytest.raises(zmq.ZMQError) as info:
            req.send(b"too early", zmq.DONTWAIT)
        assert info.value.errno == zmq.EFSM
        with pytest.raises(zmq.ZMQError) as info:
            req.send(b"too early", zmq.SNDMORE | zmq.DONTWAIT)
        assert info.value.errno == zmq.EFSM
        assert req.recv() == b"y"
        assert req.events == zmq.POLLOUT
        req.send(b"next")
        assert rep.recv() == b"next"


def test_relaxed_req_may_send_before_the_whole_reply_is_read(ctx):
    """REQ_RELAXED: a new request mid-reply is allowed, and the rest of the old reply is dropped (libzmq)."""
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    rep.linger = req.linger = 0
    rep.bind("inproc://relaxed-mid-reply")
    req.connect("inproc://relaxed-mid-reply")
    req.req_relaxed = 1
    with gevent.Timeout(TIMEOUT):
        req.send(b"q")
        assert rep.recv() == b"q"
        rep.send_multipart([b"x", b"y"])
        assert req.recv() == b"x"
        assert req.events & zmq.POLLOUT
        req.send(b"q2")
        assert rep.recv() == b"q2"
        rep.send(b"answer")
        assert req.recv() == b"answer"

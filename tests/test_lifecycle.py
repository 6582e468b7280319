"""Context and socket lifetimes: term, destroy, context managers, LINGER, the shared instance.

Expectations checked against pyzmq 27 (libzmq 4.3.5).
"""

import errno
import logging
import time
import warnings

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, blocked



@pytest.fixture
def context():
    """A context the test terminates itself (destroyed with linger 0 if it did not)."""
    c = zmq.Context()
    yield c
    with gevent.Timeout(TIMEOUT):
        c.destroy(linger=0)


# -- term ----------------------------------------------------------------------------------


def test_term_interrupts_blocked_recv_and_returns_once_closed(context):
    pull = context.socket(zmq.PULL)
    outcome = []

    def worker():
        try:
            pull.recv()
        except zmq.ContextTerminated as error:
            outcome.append(error)
        finally:
            pull.close()

    g = gevent.spawn(worker)
    assert blocked(g)
    with gevent.Timeout(TIMEOUT):
        context.term()
        g.join()
    assert len(outcome) == 1
    assert outcome[0].errno == zmq.ETERM
    assert isinstance(outcome[0], zmq.ZMQError)
    assert str(outcome[0]) == "Context was terminated"
    assert context.closed
    assert pull.closed


@pytest.mark.parametrize("call", [
    lambda s: s.recv_multipart(),
    lambda s: s.recv(),
], ids=["recv_multipart", "recv"])
def test_term_interrupts_every_blocked_receiver(context, call):
    pull = context.socket(zmq.PULL)
    errors = []

    def worker():
        try:
            call(pull)
        except zmq.ContextTerminated as error:
            errors.append(error)

    workers = [gevent.spawn(worker) for _ in range(3)]
    gevent.sleep(0)
    term = gevent.spawn(context.term)
    with gevent.Timeout(TIMEOUT):
        gevent.joinall(workers)
    assert len(errors) == 3
    assert not term.ready()  # the socket is still open
    pull.close()
    with gevent.Timeout(TIMEOUT):
        term.join()
    assert term.successful()


def test_term_interrupts_blocked_send(context):
    push = context.socket(zmq.PUSH)  # no peer: send blocks
    errors = []

    def worker():
        try:
            push.send(b"nowhere")
        except zmq.ContextTerminated as error:
            errors.append(error)
        finally:
            push.close(linger=0)

    g = gevent.spawn(worker)
    assert blocked(g)
    with gevent.Timeout(TIMEOUT):
        context.term()
    assert [e.errno for e in errors] == [zmq.ETERM]


def test_term_waits_for_open_sockets_which_then_raise_eterm(context):
    push = context.socket(zmq.PUSH)
    push.linger = 0
    pull = context.socket(zmq.PULL)
    term = gevent.spawn(context.term)
    term.join(0.1)
    assert not term.ready()
    for call in (lambda: push.send(b"x"), lambda: pull.recv(), lambda: pull.recv(zmq.NOBLOCK),
                 lambda: push.setsockopt(zmq.LINGER, 0), lambda: push.getsockopt(zmq.LINGER),
                 lambda: pull.bind("inproc://after-term"), lambda: push.connect("inproc://after-term")):
        with gevent.Timeout(TIMEOUT), pytest.raises(zmq.ContextTerminated):
            call()
    push.close()
    assert not term.ready()
    pull.close()
    with gevent.Timeout(TIMEOUT):
        term.join()
    assert context.closed


def test_term_without_sockets_returns_at_once_and_twice_is_harmless():
    c = zmq.Context()
    assert not c.closed
    with gevent.Timeout(1):
        c.term()
        c.term()
        c.destroy()
    assert c.closed


# -- destroy ------------------------------------------------------------------------------------


def test_destroy_linger_zero_drops_queued_messages_and_returns_at_once(ipc_endpoint):
    c = zmq.Context()
    push = c.socket(zmq.PUSH)
    push.connect(ipc_endpoint)  # nobody there: the message stays queued
    push.send(b"dropped")
    pull = c.socket(zmq.PULL)
    pull.connect("inproc://nobody")
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        c.destroy(linger=0)
    assert time.monotonic() - start < 1.0
    assert push.closed and pull.closed and c.closed


def test_destroy_with_linger_waits_at_most_linger(ipc_endpoint):
    c = zmq.Context()
    push = c.socket(zmq.PUSH)
    push.connect(ipc_endpoint)
    push.send(b"never delivered")
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        c.destroy(linger=200)
    elapsed = time.monotonic() - start
    assert 0.15 <= elapsed < 3.0
    assert push.closed and c.closed


# -- context managers -------------------------------------------------------------------------------


def test_context_manager_destroys_context_and_sockets():
    with gevent.Timeout(TIMEOUT), warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with zmq.Context() as c:
            s = c.socket(zmq.PUSH)
            assert not c.closed
    assert c.closed
    assert s.closed


def test_context_manager_warns_about_unclosed_sockets():
    with gevent.Timeout(TIMEOUT), pytest.warns(ResourceWarning, match="unclosed socket"), zmq.Context() as c:
        s = c.socket(zmq.PUSH)
    assert c.closed
    assert s.closed


def test_context_manager_closed_sockets_do_not_warn():
    with gevent.Timeout(TIMEOUT), warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with zmq.Context() as c, c.socket(zmq.PUSH):
            pass
    assert c.closed


def test_socket_context_manager(ctx):
    with ctx.socket(zmq.PAIR) as s:
        assert not s.closed
        assert isinstance(s, zmq.Socket)
    assert s.closed
    with s:  # entering and leaving a closed socket is harmless
        pass
    assert s.closed


def test_with_bind_unbinds_the_concrete_endpoint(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    bound = pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.last_endpoint.decode()
    assert bound.addr == endpoint  # the wildcard is resolved, as pyzmq does
    with bound as s:
        assert s is pull
    with pytest.raises(zmq.ZMQError) as info:
        pull.unbind(endpoint)
    assert info.value.errno == errno.ENOENT
    pull.close()


def test_with_bind_port_zero_unbinds(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    with pull.bind("tcp://127.0.0.1:0"):
        endpoint = pull.last_endpoint.decode()
        assert not endpoint.endswith(":0")
    with pytest.raises(zmq.ZMQError):
        pull.unbind(endpoint)
    pull.close()


def test_with_bind_inproc_frees_the_name(ctx):
    first = ctx.socket(zmq.PULL)
    second = ctx.socket(zmq.PULL)
    with first.bind("inproc://with-bind"), pytest.raises(zmq.ZMQError):
        second.bind("inproc://with-bind")
    second.bind("inproc://with-bind")
    first.close()
    second.close()


def test_with_connect_disconnects(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    with push.connect("inproc://with-connect") as s:
        assert s is push
        assert push.events == zmq.POLLOUT
    assert push.events == 0
    with pytest.raises(zmq.ZMQError):
        push.disconnect("inproc://with-connect")
    push.close()


def test_with_bind_on_socket_closed_inside_is_harmless(ctx):
    pull = ctx.socket(zmq.PULL)
    with pull.bind("inproc://closed-inside"):
        pull.close()
    assert pull.closed


# -- LINGER ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("linger", [5000, -1])
def test_linger_delivers_queued_messages_to_a_late_peer_before_term_returns(ctx, ipc_endpoint, linger):
    sender_ctx = zmq.Context()
    push = sender_ctx.socket(zmq.PUSH)
    push.linger = linger
    push.connect(ipc_endpoint)
    for i in range(3):
        push.send(b"m%d" % i)
    push.close()
    term = gevent.spawn(sender_ctx.term)
    term.join(0.2)
    assert not term.ready()  # waiting for the messages to go out
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind(ipc_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert [pull.recv() for _ in range(3)] == [b"m0", b"m1", b"m2"]
        term.join()
    assert term.successful()
    assert sender_ctx.closed
    pull.close()


@pytest.mark.parametrize("linger", [5000, -1])
def test_disconnect_drops_the_peer_but_flushes_its_queue_within_linger(ctx, ipc_endpoint, linger, caplog):
    """As libzmq (checked with pyzmq 27.3): after disconnect() the socket has no peer for new
    messages, and the ones queued before are still delivered when the endpoint comes up."""
    sender_ctx = zmq.Context()
    push = sender_ctx.socket(zmq.PUSH)
    push.linger = linger
    push.reconnect_ivl = 20
    push.connect(ipc_endpoint)
    for i in range(3):
        push.send(b"m%d" % i)
    push.disconnect(ipc_endpoint)
    with pytest.raises(zmq.Again):
        push.send(b"after", zmq.NOBLOCK)
    push.close()
    term = gevent.spawn(sender_ctx.term)
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind(ipc_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert [pull.recv() for _ in range(3)] == [b"m0", b"m1", b"m2"]
        term.join()
    assert term.successful()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    pull.close()


def test_linger_zero_drops_queued_messages_and_term_returns_at_once(ctx, ipc_endpoint):
    sender_ctx = zmq.Context()
    push = sender_ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(ipc_endpoint)
    for i in range(3):
        push.send(b"m%d" % i)
    push.close()
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        sender_ctx.term()
    assert time.monotonic() - start < 1.0
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind(ipc_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert pull.poll(300) == 0
    pull.close()


def test_linger_expires_without_a_peer(ipc_endpoint):
    c = zmq.Context()
    push = c.socket(zmq.PUSH)
    push.linger = 200
    push.connect(ipc_endpoint)
    push.send(b"nobody will take this")
    push.close()
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        c.term()
    assert 0.15 <= time.monotonic() - start < 3.0


def test_close_linger_argument_overrides_option(ipc_endpoint):
    c = zmq.Context()
    push = c.socket(zmq.PUSH)
    push.connect(ipc_endpoint)
    push.send(b"dropped")
    push.close(linger=0)  # LINGER is -1: without the argument term would wait forever
    with gevent.Timeout(TIMEOUT):
        c.term()
    assert c.closed


def test_messages_sent_before_close_over_tcp_are_all_received(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind("tcp://127.0.0.1:*")
    sender_ctx = zmq.Context()
    push = sender_ctx.socket(zmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    count = 2000
    with gevent.Timeout(TIMEOUT):
        for i in range(count):
            push.send(b"%d" % i)
        push.close()  # LINGER -1: everything still goes out
        term = gevent.spawn(sender_ctx.term)
        got = [pull.recv() for _ in range(count)]
        term.join()
    assert got == [b"%d" % i for i in range(count)]
    pull.close()


# -- the shared instance --------------------------------------------------------------------------------


def test_context_instance_is_a_singleton():
    first = zmq.Context.instance()
    try:
        assert zmq.Context.instance() is first
        assert isinstance(first, zmq.Context)
    finally:
        with gevent.Timeout(TIMEOUT):
            first.term()
    replacement = zmq.Context.instance()
    try:
        assert replacement is not first  # a terminated instance is replaced
        assert zmq.Context.instance() is replacement
        assert not replacement.closed
    finally:
        with gevent.Timeout(TIMEOUT):
            replacement.term()


# -- what a closed socket leaves behind ---------------------------------------------------------


@pytest.mark.parametrize("with_fd", [False, True], ids=["plain", "ZMQ_FD"])
def test_closed_sockets_are_freed(context, with_fd):
    # Each socket's two wake-ups started an async watcher that the loop kept -- and with it the
    # socket's state -- after close (found by the options fuzz target's memory bound).
    import gc

    from greenmq._socket.wakeup import Wakeup

    def live_wakeups():
        gc.collect()
        return sum(isinstance(obj, Wakeup) for obj in gc.get_objects())

    def cycle(count):
        for _ in range(count):
            sock = context.socket(zmq.PAIR)
            if with_fd:
                sock.getsockopt(zmq.FD)
            sock.close(linger=0)
        for _ in range(3):  # a ZMQ_FD descriptor is closed two turns of the loop after its socket
            gevent.sleep(0.01)

    cycle(10)
    before = live_wakeups()
    cycle(200)
    assert live_wakeups() - before < 10

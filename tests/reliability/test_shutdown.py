"""Shutdown under load: term() and destroy() with messages no peer takes, blocked calls woken.

What libzmq promises (``zmq_ctx_term(3)``, ``ZMQ_LINGER`` in
``zmq_setsockopt(3)``) and greenmq follows:

- ``term()`` interrupts every blocking call on the context's sockets with
  ``ETERM``, then returns once every socket is closed and its queued messages
  are sent or its linger period is over. LINGER -1 waits for ever for a peer to
  take them; 0 drops them at once; a positive value waits at most that long.
- ``destroy(linger)`` closes every socket with ``linger`` (their LINGER option
  when not given) and terminates.
- A socket closed while other greenlets wait in it wakes them with
  ``ENOTSOCK``: libzmq leaves closing a socket that another thread uses
  undefined, but in greenmq the greenlets share one thread, so the call that
  is woken reports the socket gone, as any later call on it does.
- ``term()`` may be called from an OS thread other than the ones that made the
  context and its sockets (docs/guide.rst, "OS threads").

Three peers that never take the messages: nobody listening at a tcp endpoint;
a raw TCP listener that accepts and never says a word (the handshake never
ends); a raw TCP peer that completes the NULL handshake as a PULL and then
stops reading, so the queue stays behind full kernel buffers.
"""

import threading
import time

import gevent
import pytest
from gevent import socket as gsocket

import greenmq as zmq
from raw_peer_support import null_handshake
from reliability.leak_cycles import port_nobody_listens_on
from support import TIMEOUT, assert_nothing_arrives, blocked, wait_until
from zmtp_support import parse_frames

BOUND = 0.5  # seconds a term that should block is watched before it is released
SHORT_LINGER = 300  # ms
AT_ONCE = 1.0  # seconds: "returns at once" on a loaded machine
MARGIN = 2.7  # seconds beyond the linger period a term may take on a loaded machine


# -- peers that never take the messages ------------------------------------------------------


class Nobody:
    """A tcp endpoint where nothing listens: the connection is refused and retried."""

    size = 100  # bytes per message
    count = 5

    def __init__(self):
        self.endpoint = f"tcp://127.0.0.1:{port_nobody_listens_on()}"
        self._ctx = zmq.Context()

    def take(self):
        """Start listening now and receive what was queued, in order."""
        pull = self._listen()
        try:
            with gevent.Timeout(TIMEOUT):
                return [pull.recv() for _ in range(self.count)]
        finally:
            pull.close()

    def check_dropped(self):
        pull = self._listen()
        try:
            assert_nothing_arrives(pull, 0.3)
        finally:
            pull.close()

    def _listen(self):
        pull = self._ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.bind(self.endpoint)
        return pull

    def wait_connected(self):
        """Nothing to wait for: nobody is there."""

    def close(self):
        with gevent.Timeout(TIMEOUT):
            self._ctx.destroy(linger=0)


class _RawListener:
    """A raw TCP listener on loopback that accepts one connection (in a greenlet)."""

    size = 100
    count = 5

    def __init__(self):
        self._server = gsocket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self.endpoint = "tcp://127.0.0.1:%d" % self._server.getsockname()[1]
        self.conn = None
        self._accepting = gevent.spawn(self._accept)

    def _accept(self):
        self.conn, _ = self._server.accept()
        self.accepted()

    def accepted(self):
        """What the peer does right after accepting: nothing."""

    def wait_connected(self):
        """Until the greenmq socket's connection is accepted (and, for Stalled, handshaken)."""
        self._connection()

    def _connection(self):
        with gevent.Timeout(TIMEOUT):
            self._accepting.get()
        return self.conn

    def _read(self, size):
        """``size`` bytes, or fewer if the connection ends first."""
        data = bytearray()
        with gevent.Timeout(TIMEOUT):
            while len(data) < size:
                try:
                    chunk = self.conn.recv(min(size - len(data), 1 << 20))
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
        return bytes(data)

    def take(self):
        conn = self._connection()
        if not self.handshaken:
            null_handshake(conn, b"PULL")
        wire = self._read(self.count * (9 + self.size))  # long frames (more than 255 bytes), one a message
        return [body for _flags, _header, body in parse_frames(wire)]

    def check_dropped(self):
        """The connection ends (EOF or reset) before the messages came; with no handshake,
        after no more than greenmq's greeting (64 bytes)."""
        self._connection()
        total = self.count * (9 + self.size)
        got = self._read(total + 1)
        assert (len(got) < total) if self.handshaken else (len(got) <= 64)

    def close(self):
        self._accepting.kill()
        if self.conn is not None:
            self.conn.close()
        self._server.close()


class Silent(_RawListener):
    """Accepts and never reads or writes: the handshake never completes (HANDSHAKE_IVL is 30 s)."""

    handshaken = False
    size = 300


class Stalled(_RawListener):
    """Completes the NULL handshake as a PULL, then stops reading: 16 MiB queued stay behind the
    kernel's buffers (a few MiB on loopback when the receiver does not read)."""

    handshaken = True
    size = 1 << 20
    count = 16

    def accepted(self):
        null_handshake(self.conn, b"PULL")


PEERS = {"nobody": Nobody, "silent": Silent, "stalled": Stalled}


def _messages(peer):
    return [b"%d" % i + b"." * (peer.size - len(b"%d" % i)) for i in range(peer.count)]


def _queued_push(ctx, peer):
    push = ctx.socket(zmq.PUSH)
    push.connect(peer.endpoint)
    with gevent.Timeout(TIMEOUT):
        for message in _messages(peer):
            push.send(message)
    peer.wait_connected()
    return push


def _end(ctx, push, how, linger):
    """End the context the way ``how`` says, with ``linger``."""
    if how == "close-then-term":
        push.close(linger=linger)
        ctx.term()
    elif how == "destroy-linger":
        ctx.destroy(linger=linger)
    else:  # "option-then-destroy": the socket's LINGER decides
        push.linger = linger
        ctx.destroy()


ENDINGS = ["close-then-term", "destroy-linger", "option-then-destroy"]


@pytest.fixture(params=sorted(PEERS))
def peer(request):
    made = PEERS[request.param]()
    yield made
    made.close()


@pytest.mark.parametrize("how", ENDINGS)
def test_linger_minus_one_waits_until_a_peer_takes_the_messages(ctx, peer, how):
    push = _queued_push(ctx, peer)
    ending = gevent.spawn(_end, ctx, push, how, -1)
    ending.join(BOUND)
    assert not ending.ready(), "term returned with messages queued and LINGER -1"
    assert peer.take() == _messages(peer)
    with gevent.Timeout(TIMEOUT):
        ending.get()
    assert ctx.closed


@pytest.mark.parametrize("how", ENDINGS)
def test_linger_zero_returns_at_once_and_drops_the_messages(ctx, peer, how):
    push = _queued_push(ctx, peer)
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        _end(ctx, push, how, 0)
    assert time.monotonic() - start < AT_ONCE
    assert ctx.closed and push.closed
    peer.check_dropped()


@pytest.mark.parametrize("how", ENDINGS)
def test_positive_linger_returns_within_the_linger_period(ctx, peer, how):
    push = _queued_push(ctx, peer)
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        _end(ctx, push, how, SHORT_LINGER)
    elapsed = time.monotonic() - start
    assert SHORT_LINGER / 1000 * 0.8 <= elapsed < SHORT_LINGER / 1000 + MARGIN
    assert ctx.closed
    peer.check_dropped()


def test_term_blocked_by_an_open_socket_returns_when_another_greenlet_closes_it_with_linger_zero(ctx):
    peer = Nobody()
    try:
        push = _queued_push(ctx, peer)
        push.linger = -1
        term = gevent.spawn(ctx.term)
        term.join(BOUND)
        assert not term.ready()
        closer = gevent.spawn(push.close, 0)
        start = time.monotonic()
        with gevent.Timeout(TIMEOUT):
            closer.get()
            term.get()
        assert time.monotonic() - start < AT_ONCE
        peer.check_dropped()
    finally:
        peer.close()


@pytest.mark.parametrize("how", ["close", "unbind"])
def test_a_listener_frees_its_tcp_port_as_soon_as_it_is_closed(ctx, how):
    """Bound again with no yield in between. gevent deferred closing the descriptor the accept
    loop waited on to the hub's next turn, so this bind raised EADDRINUSE every time (libzmq
    closes in its I/O thread, racing the application's next bind)."""
    first = ctx.socket(zmq.PULL)
    first.linger = 0
    first.bind("tcp://127.0.0.1:*")
    endpoint = first.last_endpoint.decode()
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(endpoint)
    push.send(b"through the first")
    with gevent.Timeout(TIMEOUT):
        assert first.recv() == b"through the first"  # the accept loop has run and waits again
    push.close()
    if how == "close":
        first.close()
        second = ctx.socket(zmq.PULL)
        second.linger = 0
    else:
        first.unbind(endpoint)
        second = first
    second.bind(endpoint)
    late = ctx.socket(zmq.PUSH)
    late.linger = 0
    late.connect(endpoint)
    late.send(b"through the second")
    with gevent.Timeout(TIMEOUT):
        assert second.recv() == b"through the second"
    second.close()
    late.close()


# -- a socket closed, or its context terminated, while greenlets wait in it -----------------

#: Types whose receive waits with no peer: every type that receives.
RECEIVERS = [zmq.PULL, zmq.SUB, zmq.REP, zmq.DEALER, zmq.ROUTER, zmq.PAIR, zmq.XPUB, zmq.XSUB, zmq.STREAM,
             zmq.SERVER, zmq.CLIENT, zmq.DISH, zmq.GATHER, zmq.PEER, zmq.CHANNEL]
#: Types whose send waits with no peer (the others drop the message or refuse it at once).
SENDERS = [zmq.PUSH, zmq.DEALER, zmq.REQ, zmq.PAIR, zmq.CLIENT, zmq.SCATTER, zmq.CHANNEL]


def _name(socket_type):
    return zmq.SocketType(socket_type).name


def _waiting_calls(sock, direction):
    """One call per way of waiting for ``direction`` on ``sock``: the socket's own, a Poller, select."""
    poller = zmq.Poller()
    poller.register(sock, direction)
    if direction == zmq.POLLIN:
        return {"recv": sock.recv, "recv_multipart": sock.recv_multipart, "recv_string": sock.recv_string,
                "poll": lambda: sock.poll(None, zmq.POLLIN), "Poller.poll": poller.poll,
                "select": lambda: zmq.select([sock], [], [])}
    return {"send": lambda: sock.send(b"x"), "send_multipart": lambda: sock.send_multipart([b"x"]),
            "send_string": lambda: sock.send_string("x"), "poll": lambda: sock.poll(None, zmq.POLLOUT),
            "Poller.poll": poller.poll, "select": lambda: zmq.select([], [sock], [])}


def _block_in(calls):
    """A greenlet blocked in each call; each greenlet's result is ("errno", n) or ("returned", value)."""

    def attempt(call):
        try:
            return "returned", call()
        except zmq.ZMQError as error:
            return "errno", error.errno

    waiting = {name: gevent.spawn(attempt, call) for name, call in calls.items()}
    for name, greenlet in waiting.items():
        assert blocked(greenlet), f"{name} did not wait"
    return waiting


def _outcomes(waiting):
    with gevent.Timeout(TIMEOUT):
        gevent.joinall(list(waiting.values()))
    return {name: greenlet.get() for name, greenlet in waiting.items()}


@pytest.mark.parametrize("socket_type", RECEIVERS, ids=_name)
def test_close_wakes_every_greenlet_waiting_to_receive_with_enotsock(ctx, socket_type, hub_errors):
    sock = ctx.socket(socket_type)
    waiting = _block_in(_waiting_calls(sock, zmq.POLLIN))
    sock.close()
    assert _outcomes(waiting) == dict.fromkeys(waiting, ("errno", zmq.ENOTSOCK))
    assert hub_errors.getvalue() == ""


@pytest.mark.parametrize("socket_type", SENDERS, ids=_name)
def test_close_wakes_every_greenlet_waiting_to_send_with_enotsock(ctx, socket_type, hub_errors):
    sock = ctx.socket(socket_type)
    waiting = _block_in(_waiting_calls(sock, zmq.POLLOUT))
    sock.close(linger=0)
    assert _outcomes(waiting) == dict.fromkeys(waiting, ("errno", zmq.ENOTSOCK))
    assert hub_errors.getvalue() == ""


@pytest.mark.parametrize("sender, receiver", [(zmq.PUSH, zmq.PULL), (zmq.DEALER, zmq.ROUTER), (zmq.PAIR, zmq.PAIR),
                                              (zmq.CLIENT, zmq.SERVER), (zmq.SCATTER, zmq.GATHER)],
                         ids=lambda t: _name(t))
def test_close_wakes_greenlets_waiting_at_the_high_water_mark(ctx, sender, receiver):
    """The peer is there but reads nothing: sends wait for room, not for a peer."""
    pull = ctx.socket(receiver)
    pull.rcvhwm = 1
    pull.bind("inproc://hwm-full")
    push = ctx.socket(sender)
    push.sndhwm = 1
    push.connect("inproc://hwm-full")
    sent = 0
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        while True:
            push.send(b"%d" % sent, zmq.NOBLOCK)
            sent += 1
    assert sent >= 1
    waiting = _block_in(_waiting_calls(push, zmq.POLLOUT))
    push.close(linger=0)
    assert _outcomes(waiting) == dict.fromkeys(waiting, ("errno", zmq.ENOTSOCK))
    pull.close()


def test_close_wins_over_a_receive_timeout(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = TIMEOUT * 1000
    waiting = _block_in({"recv": pull.recv})
    start = time.monotonic()
    pull.close()
    assert _outcomes(waiting) == {"recv": ("errno", zmq.ENOTSOCK)}
    assert time.monotonic() - start < AT_ONCE


def test_term_wakes_greenlets_waiting_on_several_sockets_and_returns_once_they_close(ctx, hub_errors):
    sockets = {socket_type: ctx.socket(socket_type) for socket_type in (zmq.PULL, zmq.PUSH, zmq.DISH, zmq.SCATTER)}
    for sock in sockets.values():
        sock.linger = 0
    calls = {}
    for socket_type, sock in sockets.items():
        direction = zmq.POLLOUT if socket_type in SENDERS else zmq.POLLIN
        calls.update((f"{_name(socket_type)} {name}", call) for name, call in _waiting_calls(sock, direction).items())
    waiting = _block_in(calls)
    term = gevent.spawn(ctx.term)
    assert _outcomes(waiting) == dict.fromkeys(waiting, ("errno", zmq.ETERM))
    for sock in list(sockets.values())[:-1]:
        sock.close()
    term.join(0.1)
    assert not term.ready(), "term returned with a socket open"
    list(sockets.values())[-1].close()
    with gevent.Timeout(TIMEOUT):
        term.get()
    assert ctx.closed
    assert hub_errors.getvalue() == ""


def test_destroy_wakes_waiting_greenlets_with_enotsock_and_returns_at_once(ctx, hub_errors):
    """destroy() closes the sockets first (pyzmq's order), so their waiters see them closed."""
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    waiting = _block_in({**{f"PULL {name}": call for name, call in _waiting_calls(pull, zmq.POLLIN).items()},
                         **{f"PUSH {name}": call for name, call in _waiting_calls(push, zmq.POLLOUT).items()}})
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT):
        ctx.destroy(linger=0)
    assert time.monotonic() - start < AT_ONCE
    assert _outcomes(waiting) == dict.fromkeys(waiting, ("errno", zmq.ENOTSOCK))
    assert ctx.closed
    assert hub_errors.getvalue() == ""


def test_a_term_given_up_by_a_timeout_leaves_the_context_to_a_later_term(ctx):
    pull = ctx.socket(zmq.PULL)
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.1):
        ctx.term()  # pull is open: this waits until the timeout
    assert not ctx.closed
    with pytest.raises(zmq.ContextTerminated):
        pull.recv(zmq.NOBLOCK)  # interrupted all the same
    pull.close()
    with gevent.Timeout(TIMEOUT):
        ctx.term()
    assert ctx.closed


# -- term() from another OS thread ------------------------------------------------------------


def _thread(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)  # daemon: a hang fails, not freezes
    thread.start()
    return thread


def test_term_wakes_sockets_blocked_in_other_threads(ctx):
    """The context made and terminated in this thread; each worker thread's socket gets ETERM."""
    ready = [threading.Event() for _ in range(3)]
    errnos = []

    def worker(started):
        sock = ctx.socket(zmq.PULL)
        sock.bind(f"inproc://worker-{id(started)}")
        started.set()
        try:
            sock.recv()
        except zmq.ZMQError as error:
            errnos.append(error.errno)
        finally:
            sock.close()

    threads = [_thread(worker, started) for started in ready]
    for started in ready:
        assert started.wait(TIMEOUT)
    with gevent.Timeout(TIMEOUT):
        ctx.term()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert errnos == [zmq.ETERM] * 3
    assert ctx.closed


@pytest.mark.parametrize("call", ["term", "shutdown-then-term"])
def test_term_from_a_thread_that_made_no_socket(ctx, call):
    """The context and its socket are this thread's; another thread terminates it while a
    greenlet here waits in recv. That thread waits on its own hub: before the fix it waited on
    the context creator's and died of greenlet.error ("Cannot switch to a different thread")."""
    pull = ctx.socket(zmq.PULL)

    def receive():
        try:
            pull.recv()
        except zmq.ZMQError as error:
            return error.errno
        finally:
            pull.close()

    receiver = gevent.spawn(receive)
    assert blocked(receiver)
    failures = []

    def terminate():
        try:
            if call == "shutdown-then-term":
                ctx.shutdown()
            ctx.term()
        except BaseException as error:  # reported to the test, not lost in the thread
            failures.append(error)

    thread = _thread(terminate)
    with gevent.Timeout(TIMEOUT):
        assert receiver.get() == zmq.ETERM
    wait_until(lambda: not thread.is_alive(), what="term() in the other thread to return")
    assert failures == []
    assert ctx.closed


def test_term_waits_in_its_thread_for_a_socket_another_thread_closes_later():
    """The context made in a thread that keeps a socket open: term() here waits on this
    thread's hub until that thread closes it."""
    made = threading.Event()
    release = threading.Event()
    box = {}

    def owner():
        box["ctx"] = ctx = zmq.Context()
        sock = ctx.socket(zmq.PULL)
        made.set()
        try:
            sock.recv()
        except zmq.ZMQError as error:
            box["errno"] = error.errno
        release.wait(TIMEOUT)
        sock.close()

    thread = _thread(owner)
    assert made.wait(TIMEOUT)
    term = gevent.spawn(box["ctx"].term)
    wait_until(lambda: "errno" in box, what="the owner's recv to be interrupted")
    assert box["errno"] == zmq.ETERM
    term.join(0.1)
    assert not term.ready(), "term returned with a socket open"
    release.set()
    with gevent.Timeout(TIMEOUT):
        term.get()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert box["ctx"].closed

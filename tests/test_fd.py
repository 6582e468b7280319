"""ZMQ_FD and ZMQ_EVENTS: the readiness descriptor that foreign event loops wait on.

The contract (greenmq/_socket/readiness_fd.py, docs/design.rst): the
descriptor becomes readable when the socket's readiness may have changed;
reading EVENTS resets it and arms the directions it reported not ready, so
that their next change signals. Checked here: every way of waiting on it (a
gevent io watcher, gevent's wait_read, selectors, select.poll, a plain loop in
another OS thread), over tcp, ipc and inproc and several socket types; no
missed wake-up; no busy loop; the descriptor made lazily and closed with the
socket. Facts taken from pyzmq 27 / libzmq 4.3.5: ``fd``, ``fileno()`` and
``getsockopt(FD)`` agree, FD cannot be set (EINVAL), and a closed socket
answers ENOTSOCK for FD and EVENTS.
"""

import gc
import os
import select
import selectors
import threading
import time

import gevent
import pytest
from gevent.event import Event
from gevent.socket import wait_read

import greenmq as zmq

import support
from support import TIMEOUT, endpoint_for

# (bound, connected) socket types, the connected one sending first.
PAIRS = [
    (zmq.PULL, zmq.PUSH),
    (zmq.PAIR, zmq.PAIR),
    (zmq.ROUTER, zmq.DEALER),
    (zmq.REP, zmq.REQ),
    (zmq.SUB, zmq.PUB),
    (zmq.XPUB, zmq.XSUB),
]
QUIET = 0.3  # seconds a test waits for something that must not happen


def readable(fd, timeout=0.0):
    """Whether ``fd`` is readable now (or within ``timeout`` seconds); uses the OS's poll."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def connected_pair(ctx, transport, tmp_path, bound_type, connected_type):
    """(receiver, sender): ``bound_type`` bound, ``connected_type`` connected, the connection up and
    (for SUB) subscribed, so that what the sender sends next reaches the receiver."""
    receiver = ctx.socket(bound_type)
    sender = ctx.socket(connected_type)
    receiver.linger = sender.linger = 0
    if bound_type == zmq.SUB:  # the PUB binds, the SUB connects
        sender.bind(endpoint_for(transport, tmp_path))
        receiver.connect(sender.last_endpoint.decode())
        receiver.subscribe(b"")
        with gevent.Timeout(TIMEOUT):
            while True:  # a subscription takes a moment to reach the publisher
                sender.send(b"sync")
                if receiver.poll(20):
                    receiver.recv()
                    break
        while receiver.poll(50):
            receiver.recv()
        return receiver, sender
    receiver.bind(endpoint_for(transport, tmp_path))
    sender.connect(receiver.last_endpoint.decode())
    if bound_type == zmq.XPUB:
        sender.send(b"\x01")  # XSUB subscribes to everything; XPUB receives the notice
        with gevent.Timeout(TIMEOUT):
            assert receiver.recv() == b"\x01"
        receiver, sender = sender, receiver  # now the XPUB sends, the XSUB receives
    elif bound_type in (zmq.PULL, zmq.PAIR):
        with gevent.Timeout(TIMEOUT):  # both ends attached once a message has come through
            sender.send(b"sync")
            assert receiver.recv() == b"sync"
    else:
        with gevent.Timeout(TIMEOUT):
            while not sender.poll(None, zmq.POLLOUT):
                pass
    return receiver, sender


# -- the option ------------------------------------------------------------------------------


@pytest.mark.parametrize("socket_type", [zmq.PAIR, zmq.PUB, zmq.SUB, zmq.REQ, zmq.REP, zmq.DEALER, zmq.ROUTER,
                                         zmq.PULL, zmq.PUSH, zmq.XPUB, zmq.XSUB, zmq.STREAM])
def test_fd_names_one_open_descriptor(ctx, socket_type):
    sock = ctx.socket(socket_type)
    fd = sock.fd
    assert isinstance(fd, int)
    assert fd == sock.FD == sock.fileno() == sock.getsockopt(zmq.FD) == sock.get(zmq.FD)
    os.fstat(fd)  # an open descriptor
    with pytest.raises(zmq.ZMQError) as info:
        sock.setsockopt(zmq.FD, 3)
    assert info.value.errno == zmq.EINVAL
    sock.close()


def test_closed_socket_answers_enotsock(ctx):
    sock = ctx.socket(zmq.DEALER)
    assert sock.fd >= 0
    sock.close()
    for call in (lambda: sock.fd, sock.fileno, lambda: sock.getsockopt(zmq.EVENTS)):
        with pytest.raises(zmq.ZMQError) as info:
            call()
        assert info.value.errno == zmq.ENOTSOCK


# -- waiting on it, every way ---------------------------------------------------------------


def io_watcher_receive(sock, count):
    """Receive ``count`` messages the way a callback-driven loop does: an io watcher on the fd
    whose callback reads EVENTS and receives while it says POLLIN."""
    received = []
    done = Event()

    def on_readable():
        while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            received.append(sock.recv(zmq.NOBLOCK))
        if len(received) >= count:
            done.set()

    watcher = gevent.get_hub().loop.io(sock.fd, 1)
    watcher.start(on_readable)
    try:
        assert done.wait(TIMEOUT), f"received {len(received)} of {count}"
    finally:
        watcher.stop()
        watcher.close()
    return received


@pytest.mark.parametrize("bound_type, connected_type", [kinds for kinds in PAIRS if kinds[0] != zmq.ROUTER])
def test_gevent_io_watcher(ctx, transport, tmp_path, bound_type, connected_type):
    """(ROUTER, with its envelopes, has test_router_and_dealer_both_ways.)"""
    receiver, sender = connected_pair(ctx, transport, tmp_path, bound_type, connected_type)
    replies = receiver.type == zmq.REP

    def send_later():
        for number in range(5):
            gevent.sleep(0.01)  # messages arriving while the loop waits
            sender.send(b"%d" % number)
            if replies:
                sender_waits_for_reply()

    def sender_waits_for_reply():
        with gevent.Timeout(TIMEOUT):
            assert sender.recv() == b"ok"

    if replies:
        # REQ waits for each reply, so the REP side answers from its callback below.
        received = []
        done = Event()

        def on_readable():
            while receiver.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                received.append(receiver.recv(zmq.NOBLOCK))
                receiver.send(b"ok")
            if len(received) == 5:
                done.set()

        watcher = gevent.get_hub().loop.io(receiver.fd, 1)
        watcher.start(on_readable)
        sending = gevent.spawn(send_later)
        try:
            assert done.wait(TIMEOUT)
        finally:
            watcher.stop()
            watcher.close()
        sending.get(timeout=TIMEOUT)
    else:
        sending = gevent.spawn(send_later)
        received = io_watcher_receive(receiver, 5)
        sending.get(timeout=TIMEOUT)
    assert received == [b"0", b"1", b"2", b"3", b"4"]


def test_router_and_dealer_both_ways(ctx, transport, tmp_path):
    router, dealer = connected_pair(ctx, transport, tmp_path, zmq.ROUTER, zmq.DEALER)
    assert router.fd != dealer.fd  # both made now; the EVENTS below reset them
    assert not router.events & zmq.POLLIN
    assert dealer.events == zmq.POLLOUT
    dealer.send(b"hello")
    with gevent.Timeout(TIMEOUT):
        wait_read(router.fd)
    assert router.events & zmq.POLLIN
    identity, body = router.recv_multipart(zmq.NOBLOCK)
    assert body == b"hello"
    assert not dealer.events & zmq.POLLIN
    router.send_multipart([identity, b"back"])
    with gevent.Timeout(TIMEOUT):
        wait_read(dealer.fd)
    assert dealer.events & zmq.POLLIN
    assert dealer.recv(zmq.NOBLOCK) == b"back"


def wait_in_thread(waiter, fd, timeout, thread_ids=None):
    """Run ``waiter(fd, timeout)`` in an OS thread while the hub goes on (engines keep reading);
    ``thread_ids`` (a list), if given, receives that thread's native id."""
    def run():
        if thread_ids is not None:
            thread_ids.append(threading.get_native_id())
        return waiter(fd, timeout)
    return gevent.get_hub().threadpool.apply(run)


def asleep_in_kernel(native_id):
    """Whether the OS thread ``native_id`` of this process is asleep in the kernel (state S);
    False once it has ended."""
    try:
        with open(f"/proc/self/task/{native_id}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "S"
    except (FileNotFoundError, ProcessLookupError):  # (the thread ended before, or while, we read)
        return False


def wait_until_thread_blocks(thread_ids):
    """Wait until the thread whose native id comes into ``thread_ids`` sleeps in the kernel."""
    support.wait_until(lambda: thread_ids and asleep_in_kernel(thread_ids[0]), what="the thread to block")


def selector_wait(fd, timeout):
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def poll_wait(fd, timeout):
    return readable(fd, timeout)


@pytest.mark.parametrize("waiter", [selector_wait, poll_wait], ids=["selectors", "select.poll"])
@pytest.mark.parametrize("bound_type, connected_type", [PAIRS[0], PAIRS[1], PAIRS[4]])
def test_os_level_waits(ctx, transport, tmp_path, waiter, bound_type, connected_type):
    """selectors and select.poll, blocked in an OS thread, wake when a message arrives."""
    receiver, sender = connected_pair(ctx, transport, tmp_path, bound_type, connected_type)
    fd = receiver.fd
    assert not receiver.events & zmq.POLLIN
    assert not wait_in_thread(waiter, fd, 0.05)  # nothing happened: not readable
    for number in range(3):
        thread_ids = []
        waiting = gevent.spawn(wait_in_thread, waiter, fd, TIMEOUT, thread_ids)
        wait_until_thread_blocks(thread_ids)
        sender.send(b"%d" % number)
        assert waiting.get(timeout=TIMEOUT + 1), "the fd did not become readable"
        assert receiver.events & zmq.POLLIN
        assert receiver.recv(zmq.NOBLOCK) == b"%d" % number
        assert not receiver.events & zmq.POLLIN


def test_plain_event_loop_in_another_thread(ctx):
    """A socket living in a thread that never runs gevent: a selectors loop waits on its fd while
    inproc messages come from the main thread's greenmq sockets."""
    endpoint = "inproc://plain-loop"
    bound = threading.Event()
    result = {}

    def plain_loop():
        pull = ctx.socket(zmq.PULL)
        try:
            pull.linger = 0
            pull.bind(endpoint)
            bound.set()
            received, wakeups = [], 0
            deadline = time.monotonic() + TIMEOUT
            with selectors.DefaultSelector() as selector:
                selector.register(pull.fd, selectors.EVENT_READ)
                while len(received) < 20 and time.monotonic() < deadline:
                    if not selector.select(deadline - time.monotonic()):
                        continue
                    wakeups += 1
                    while pull.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                        received.append(pull.recv(zmq.NOBLOCK))
            result["received"] = received
            result["wakeups"] = wakeups
        except BaseException as error:  # reported to the test below
            result["error"] = error
        finally:
            pull.close()
            bound.set()

    thread = threading.Thread(target=plain_loop)
    thread.start()
    try:
        assert gevent.get_hub().threadpool.apply(bound.wait, (TIMEOUT,))
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.connect(endpoint)
        for number in range(20):
            push.send(b"%d" % number)
            if number % 5 == 4:  # the loop sleeps on the fd again between batches
                support.wait_until(lambda: asleep_in_kernel(thread.native_id) or not thread.is_alive(),
                                   what="the loop to block")
        push.close()
    finally:
        gevent.get_hub().threadpool.apply(thread.join, (TIMEOUT,))
    assert not thread.is_alive(), "the loop's thread did not end"
    assert "error" not in result, result.get("error")
    assert result["received"] == [b"%d" % n for n in range(20)]
    assert 1 <= result["wakeups"] <= 20


class WaitingSocket(zmq.Socket):
    """How zmq.green-era libraries block: every send/recv is NOBLOCK; on EAGAIN, wait for the fd
    to be readable (gevent's wait_read), then look at EVENTS again."""

    wakeups = 0

    def _wait_for(self, event):
        while not self.getsockopt(zmq.EVENTS) & event:
            wait_read(self.fd)
            self.wakeups += 1

    def send(self, data, flags=0, copy=True, track=False, **kwargs):
        while True:
            try:
                return super().send(data, flags | zmq.NOBLOCK, copy, track, **kwargs)
            except zmq.Again:
                if flags & zmq.NOBLOCK:
                    raise
            self._wait_for(zmq.POLLOUT)

    def recv(self, flags=0, copy=True, track=False):
        while True:
            try:
                return super().recv(flags | zmq.NOBLOCK, copy, track)
            except zmq.Again:
                if flags & zmq.NOBLOCK:
                    raise
            self._wait_for(zmq.POLLIN)


def test_wrapper_that_waits_on_the_fd(ctx, transport, tmp_path):
    """REQ/REP ping-pong and a PUSH/PULL stream between wrapped sockets, each side in its greenlet."""
    rep = ctx.socket(zmq.REP, socket_class=WaitingSocket)
    req = ctx.socket(zmq.REQ, socket_class=WaitingSocket)
    assert isinstance(rep, WaitingSocket)
    rep.linger = req.linger = 0
    rep.bind(endpoint_for(transport, tmp_path))
    req.connect(rep.last_endpoint.decode())

    def serve():
        for _ in range(50):
            rep.send(rep.recv() + b"!")

    server = gevent.spawn(serve)
    with gevent.Timeout(TIMEOUT):
        for number in range(50):
            req.send(b"%d" % number)  # waits for the connection the first time
            assert req.recv() == b"%d!" % number
    server.get(timeout=TIMEOUT)

    pull = ctx.socket(zmq.PULL, socket_class=WaitingSocket)
    push = ctx.socket(zmq.PUSH, socket_class=WaitingSocket)
    pull.linger = push.linger = 0
    pull.rcvhwm = push.sndhwm = 5  # the pusher waits for room too
    pull.bind(endpoint_for(transport, tmp_path))
    push.connect(pull.last_endpoint.decode())
    pushing = gevent.spawn(lambda: [push.send(b"%d" % n) for n in range(300)])
    with gevent.Timeout(TIMEOUT):
        assert [pull.recv() for _ in range(300)] == [b"%d" % n for n in range(300)]
    pushing.get(timeout=TIMEOUT)


# -- the contract -----------------------------------------------------------------------------


@pytest.mark.parametrize("bound_type, connected_type", PAIRS)
def test_no_missed_wakeup_for_pollin(ctx, transport, tmp_path, bound_type, connected_type):
    """EVENTS says no POLLIN; then a message arrives: the fd fires."""
    receiver, sender = connected_pair(ctx, transport, tmp_path, bound_type, connected_type)
    if receiver.type == zmq.ROUTER:
        receiver, sender = sender, receiver  # DEALER receives; ROUTER would need an identity
        with gevent.Timeout(TIMEOUT):
            receiver.send(b"hello")
            sender_id = sender.recv_multipart()[0]
    fd = receiver.fd
    for number in range(3):
        assert not receiver.getsockopt(zmq.EVENTS) & zmq.POLLIN
        assert not readable(fd)
        if sender.type == zmq.ROUTER:
            sender.send_multipart([sender_id, b"%d" % number])
        else:
            sender.send(b"%d" % number)
        with gevent.Timeout(TIMEOUT):
            wait_read(fd)
        assert receiver.getsockopt(zmq.EVENTS) & zmq.POLLIN
        assert not readable(fd)  # reading EVENTS reset it
        assert receiver.recv(zmq.NOBLOCK) == b"%d" % number
        if receiver.type == zmq.REP:
            receiver.send(b"reply")
            with gevent.Timeout(TIMEOUT):
                sender.recv()


def test_eagain_arms_too(ctx, transport, tmp_path):
    """EVENTS said POLLIN (so POLLIN is not armed); the loop receives until EAGAIN, without reading
    EVENTS again: that EAGAIN arms it, and the next message fires the fd."""
    pull, push = connected_pair(ctx, transport, tmp_path, zmq.PULL, zmq.PUSH)
    fd = pull.fd
    push.send(b"1")
    push.send(b"2")
    with gevent.Timeout(TIMEOUT):
        while not pull.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            wait_read(fd)
    assert not readable(fd)
    assert pull.recv() == b"1"
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"2"  # (over tcp it may come a moment later)
    with pytest.raises(zmq.Again):
        pull.recv(zmq.NOBLOCK)
    assert not readable(fd)
    push.send(b"3")
    with gevent.Timeout(TIMEOUT):
        wait_read(fd)
    assert pull.recv(zmq.NOBLOCK) == b"3"


def receive_until_again(sock, received):
    """Receive with NOBLOCK until EAGAIN, never reading EVENTS."""
    while True:
        try:
            received.append(sock.recv(zmq.NOBLOCK))
        except zmq.Again:
            return


def io_watcher_loop(sock, received, wakeups, stop):
    """A callback-driven loop: an io watcher on the fd receives until EAGAIN each time it fires."""
    def on_readable():
        wakeups.append(1)
        receive_until_again(sock, received)

    watcher = gevent.get_hub().loop.io(sock.fd, 1)
    watcher.start(on_readable)
    try:
        stop.wait()
    finally:
        watcher.stop()
        watcher.close()


def selector_loop(sock, received, wakeups, stop):
    """A selectors loop in the hub's thread, blocking on the fd in slices so that the hub (and its
    engines) runs in between; a slice that ends with the fd readable counts as a wake-up."""
    with selectors.DefaultSelector() as selector:
        selector.register(sock.fd, selectors.EVENT_READ)
        while not stop.is_set():
            if selector.select(0.01):
                wakeups.append(1)
                receive_until_again(sock, received)
            gevent.sleep(0)


@pytest.mark.parametrize("loop", [io_watcher_loop, selector_loop], ids=["io-watcher", "selectors"])
def test_no_busy_loop_after_eagain(ctx, transport, tmp_path, loop):
    """Wait for the fd, receive until EAGAIN, wait again -- never reading EVENTS. The EAGAIN counts as
    the application having seen the socket (libzmq drains its mailbox there): the fd stops being
    readable, so the loop sleeps while nothing arrives, and the next message still wakes it."""
    pull, push = connected_pair(ctx, transport, tmp_path, zmq.PULL, zmq.PUSH)
    received, wakeups, stop = [], [], Event()
    push.send(b"first")
    running = gevent.spawn(loop, pull, received, wakeups, stop)
    try:
        support.wait_until(lambda: received == [b"first"], what="the first message")
        before, cpu = len(wakeups), time.process_time()
        gevent.sleep(QUIET)  # nothing arrives: the loop must sleep
        idle_wakeups, cpu = len(wakeups) - before, time.process_time() - cpu
        assert idle_wakeups <= 2, f"{idle_wakeups} wake-ups with nothing arriving"
        assert cpu < QUIET / 2, f"{cpu:.3f} s of CPU in {QUIET} s of waiting"
        push.send(b"later")
        support.wait_until(lambda: received == [b"first", b"later"], what="the message sent later")
    finally:
        stop.set()
        running.get(timeout=TIMEOUT)


def test_known_pollin_is_not_signalled_again(ctx):
    """EVENTS said POLLIN and nothing was received: a message from another peer does not fire the
    fd (the loop knows there is something to receive); receiving until EAGAIN re-arms it."""
    pull = ctx.socket(zmq.PULL)
    pushers = [ctx.socket(zmq.PUSH) for _ in range(2)]
    for sock in (pull, *pushers):
        sock.linger = 0
    pull.bind("inproc://known-pollin")
    for pusher in pushers:
        pusher.connect("inproc://known-pollin")
    fd = pull.fd
    pushers[0].send(b"a")
    assert pull.getsockopt(zmq.EVENTS) == zmq.POLLIN
    pushers[1].send(b"b")  # into the other, empty, pipe
    assert not readable(fd, 0.05)
    assert sorted([pull.recv(zmq.NOBLOCK), pull.recv(zmq.NOBLOCK)]) == [b"a", b"b"]
    with pytest.raises(zmq.Again):
        pull.recv(zmq.NOBLOCK)
    pushers[1].send(b"c")
    assert readable(fd)


def test_no_missed_wakeup_for_pollout(ctx, transport, tmp_path):
    """A PUSH without a peer is not writable; when one connects, the fd fires. A full PUSH is not
    writable; when its peer drains the pipe, the fd fires."""
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    push.linger = pull.linger = 0
    push.sndhwm = pull.rcvhwm = 2
    push.bind(endpoint_for(transport, tmp_path))
    fd = push.fd
    assert push.getsockopt(zmq.EVENTS) == 0
    assert not readable(fd)
    pull.connect(push.last_endpoint.decode())
    with gevent.Timeout(TIMEOUT):
        wait_read(fd)
    assert push.getsockopt(zmq.EVENTS) == zmq.POLLOUT
    sent = 0
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                push.send(b"x", zmq.NOBLOCK)
                sent += 1
            except zmq.Again:
                # Over tcp, the engines may still move messages on: wait for the fd and try again
                # until the whole path (both pipes, the kernel's buffers) is full and stays full.
                if not readable(fd, 0.1):
                    break
                push.getsockopt(zmq.EVENTS)
    assert not push.getsockopt(zmq.EVENTS) & zmq.POLLOUT
    assert not readable(fd)
    with gevent.Timeout(TIMEOUT):
        for _ in range(sent):
            pull.recv()
        wait_read(fd)
    assert push.getsockopt(zmq.EVENTS) & zmq.POLLOUT


def count_wakeups(sock, seconds):
    """Wait on the fd in a loop for ``seconds`` the way a level-triggered loop does (wake, read EVENTS,
    consume nothing, wait again); return (wake-ups, CPU seconds used)."""
    wakeups = 0
    cpu = time.process_time()
    with gevent.Timeout(seconds, False):
        while True:
            wait_read(sock.fd)
            wakeups += 1
            sock.getsockopt(zmq.EVENTS)
    return wakeups, time.process_time() - cpu


def test_no_busy_loop_when_nothing_happens(ctx, transport, tmp_path):
    pull, push = connected_pair(ctx, transport, tmp_path, zmq.PULL, zmq.PUSH)
    wakeups, cpu = count_wakeups(pull, QUIET)
    assert wakeups <= 2
    assert cpu < QUIET / 2, f"{cpu:.3f} s of CPU in {QUIET} s of waiting"


def test_no_busy_loop_when_a_message_is_left_unread(ctx, transport, tmp_path):
    """EVENTS keeps saying POLLIN because the loop does not receive: the fd does not fire again and again."""
    pull, push = connected_pair(ctx, transport, tmp_path, zmq.PULL, zmq.PUSH)
    push.send(b"unread")
    with gevent.Timeout(TIMEOUT):
        while not pull.poll(None):
            pass
    wakeups, cpu = count_wakeups(pull, QUIET)
    assert pull.getsockopt(zmq.EVENTS) & zmq.POLLIN
    assert wakeups <= 2
    assert cpu < QUIET / 2, f"{cpu:.3f} s of CPU in {QUIET} s of waiting"
    # Edge-triggered, as libzmq: once the loop has received until EAGAIN, the next message fires it.
    assert pull.recv(zmq.NOBLOCK) == b"unread"
    with pytest.raises(zmq.Again):
        pull.recv(zmq.NOBLOCK)
    push.send(b"next")
    with gevent.Timeout(TIMEOUT):
        wait_read(pull.fd)
    assert pull.recv(zmq.NOBLOCK) == b"next"


def test_fd_starts_readable_only_if_the_socket_is_ready(ctx):
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.linger = b.linger = 0
    a.bind("inproc://starts")
    b.connect("inproc://starts")
    lonely = ctx.socket(zmq.PULL)
    assert not readable(lonely.fd)  # nothing to report
    b.send(b"queued before anyone asked for the fd")
    assert readable(a.fd)  # ready already: a loop that waits first misses nothing
    assert a.events == zmq.POLLIN | zmq.POLLOUT
    assert not readable(a.fd)
    lonely.close()


# -- lazy creation, closing ---------------------------------------------------------------------


def test_descriptor_made_only_when_asked(ctx):
    ctx.socket(zmq.PAIR).close()  # anything made once per thread (the hub's own descriptors)
    before = open_fds()
    sockets = [ctx.socket(kind) for kind in (zmq.PAIR, zmq.PUSH, zmq.PULL, zmq.DEALER, zmq.ROUTER) * 20]
    for sock in sockets:
        sock.getsockopt(zmq.EVENTS)  # EVENTS alone does not make one
    assert open_fds() == before
    descriptors = [sock.fd for sock in sockets[:10]]
    assert len(set(descriptors)) == 10
    # An eventfd is one descriptor; the pipe used where os.eventfd is missing (Python < 3.10) is two.
    per_socket = 1 if hasattr(os, "eventfd") else 2
    assert open_fds() == before + 10 * per_socket
    for sock in sockets:
        sock.close()
    # Closed by the loop, after it has polled; (<=: an earlier test's sockets may close meanwhile.)
    support.wait_until(lambda: open_fds() <= before, what="the descriptors to be closed")
    for fd in descriptors:
        with pytest.raises(OSError):
            os.fstat(fd)


def armed_pull(ctx):
    """A PULL socket and its ZMQ_FD, EVENTS read once: the fd is armed for the next change."""
    sock = ctx.socket(zmq.PULL)
    fd = sock.fd
    sock.getsockopt(zmq.EVENTS)
    return sock, fd


def spawn_events_reader(sock, fd, outcome, then=None):
    """A greenlet that waits until ``fd`` is readable, then reads EVENTS: ``outcome["errno"]`` is
    the errno that raised (None if none did); ``then()``, if given, runs last."""
    def waiter():
        wait_read(fd)
        try:
            sock.getsockopt(zmq.EVENTS)
            outcome["errno"] = None
        except zmq.ZMQError as error:
            outcome["errno"] = error.errno
        if then is not None:
            then()

    return gevent.spawn(waiter)


def test_close_wakes_a_gevent_waiter_then_closes_the_fd(ctx):
    sock, fd = armed_pull(ctx)
    outcome = {}
    waiting = spawn_events_reader(sock, fd, outcome)
    assert support.blocked(waiting)
    sock.close()
    # The waiter's end must be seen at once: gevent 26.9's loop.closing_fd, once used here,
    # left the loop blocked in its next poll, and this get() timed out though the waiter had ended.
    waiting.get(timeout=TIMEOUT)
    assert outcome == {"errno": zmq.ENOTSOCK}
    support.wait_until(lambda: not os.path.exists(f"/proc/self/fd/{fd}"), what="the fd to be closed")
    with pytest.raises(OSError):
        os.fstat(fd)


def test_close_wakes_a_waiter_in_another_thread(ctx):
    sock, fd = armed_pull(ctx)
    thread_ids = []
    waiting = gevent.spawn(wait_in_thread, poll_wait, fd, TIMEOUT, thread_ids)
    wait_until_thread_blocks(thread_ids)
    assert not waiting.ready()
    sock.close()
    assert waiting.get(timeout=TIMEOUT + 1), "the waiter did not wake"


def hubs():
    """The gevent hubs alive in this process (one per thread that has used gevent)."""
    return sum(isinstance(thing, gevent.hub.Hub) for thing in gc.get_objects())


def test_close_from_another_thread_is_left_to_the_owner_loop(ctx):
    """A socket closed from a plain OS thread while an io watcher of its own thread's loop watches
    its fd: the watcher is told (the fd is still the same open descriptor when it fires), then the
    owner's loop closes the fd; the closing thread gets no hub of its own; nothing leaks."""
    before = open_fds()
    sock, fd = armed_pull(ctx)
    identity = os.fstat(fd)
    seen = []

    def on_readable():
        now = os.fstat(fd)  # OSError (reported by the hub) if the fd were closed already
        seen.append((now.st_dev, now.st_ino) == (identity.st_dev, identity.st_ino))
        watcher.stop()

    watcher = gevent.get_hub().loop.io(fd, 1)
    watcher.start(on_readable)
    hubs_before = hubs()
    closed, checked, result = threading.Event(), threading.Event(), {}

    def closer():
        try:
            sock.close()
            result["hubs"] = hubs()  # this thread alive: its hub, if it got one, too
        except BaseException as error:  # reported to the test below
            result["error"] = error
        finally:
            closed.set()
            checked.wait(TIMEOUT)

    thread = threading.Thread(target=closer)
    thread.start()
    try:
        support.wait_until(closed.is_set, what="the close")
        support.wait_until(lambda: seen, what="the owner's watcher")
    finally:
        checked.set()
        watcher.close()
        gevent.get_hub().threadpool.apply(thread.join, (TIMEOUT,))
    assert not thread.is_alive(), "the closing thread did not end"
    assert "error" not in result, result.get("error")
    assert seen == [True]
    assert result["hubs"] == hubs_before
    # (<=: an earlier test's sockets, closed by the loop after it polls, may close meanwhile.)
    support.wait_until(lambda: open_fds() <= before, what="the fd to be closed")
    with pytest.raises(OSError):
        os.fstat(fd)


def test_context_termination_wakes_the_fd(ctx):
    sock, fd = armed_pull(ctx)
    outcome = {}
    waiting = spawn_events_reader(sock, fd, outcome, then=sock.close)
    assert support.blocked(waiting)
    terminating = gevent.spawn(ctx.term)
    waiting.get(timeout=TIMEOUT)
    terminating.get(timeout=TIMEOUT)
    assert outcome == {"errno": zmq.ETERM}

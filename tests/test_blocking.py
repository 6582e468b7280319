"""Blocking calls and cooperation between greenlets of one process.

Timeouts raise Again; interrupted calls (gevent.Timeout, Greenlet.kill) consume
or send nothing, or a whole message; blocked greenlets share messages without
duplicates; tight loops still let other greenlets run; PUSH round-robins and
PULL fair-queues.
"""

import time

import gevent
import pytest
from gevent.event import Event

import greenmq as zmq

from support import TIMEOUT, drain, endpoint_for


def make_pair(ctx, endpoint, sndhwm=None, rcvhwm=None):
    """A PUSH connected to a bound PULL (HWMs set before the pipe is made)."""
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    push.linger = pull.linger = 0
    if sndhwm is not None:
        push.sndhwm = sndhwm
    if rcvhwm is not None:
        pull.rcvhwm = rcvhwm
    pull.bind(endpoint)
    push.connect(pull.last_endpoint.decode())
    return push, pull


def sync_stream(push, pull):
    """Make sure a tcp/ipc connection is up: one message through it."""
    push.send(b"sync")
    assert pull.recv() == b"sync"


@pytest.fixture(params=["inproc", "tcp"])
def transport_endpoint(request, tmp_path):
    return endpoint_for(request.param, tmp_path)


# -- timeouts ------------------------------------------------------------------------------


def test_rcvtimeo_raises_again_after_timeout_and_lets_others_run(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 100
    ticks = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    other = gevent.spawn(ticker)
    try:
        start = time.monotonic()
        with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again) as info:
            pull.recv()
        elapsed = time.monotonic() - start
    finally:
        other.kill()
    assert info.value.errno == zmq.EAGAIN
    assert 0.09 <= elapsed < 2.0
    assert len([t for t in ticks if start <= t <= start + elapsed]) >= 3
    pull.close()


def test_rcvtimeo_recv_multipart(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 50
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        pull.recv_multipart()
    assert 0.04 <= time.monotonic() - start < 2.0
    pull.close()


def test_rcvtimeo_message_in_time_is_received(ctx):
    push, pull = make_pair(ctx, "inproc://rcvtimeo-in-time")
    pull.rcvtimeo = 2000
    gevent.spawn_later(0.02, push.send, b"late but in time")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"late but in time"
    push.close()
    pull.close()


def test_rcvtimeo_zero_is_nonblocking(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 0
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        pull.recv()
    pull.close()


def test_sndtimeo_without_peer_raises_again(ctx):
    push = ctx.socket(zmq.PUSH)
    push.sndtimeo = 100
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        push.send(b"nobody")
    assert 0.09 <= time.monotonic() - start < 2.0
    push.close()


def test_sndtimeo_when_full_raises_again_then_socket_still_works(ctx):
    push, pull = make_pair(ctx, "inproc://sndtimeo-full", sndhwm=1, rcvhwm=1)
    push.send(b"1")
    push.send(b"2")
    push.sndtimeo = 100
    start = time.monotonic()
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        push.send_multipart([b"3a", b"3b"])
    assert 0.09 <= time.monotonic() - start < 2.0
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"1"
        push.send(b"4")
        assert pull.recv_multipart() == [b"2"]
        assert pull.recv_multipart() == [b"4"]
    push.close()
    pull.close()


@pytest.mark.parametrize("flag", [zmq.NOBLOCK, zmq.DONTWAIT])
def test_noblock_raises_again_at_once(ctx, flag):
    push, pull = make_pair(ctx, "inproc://noblock", sndhwm=1, rcvhwm=1)
    with gevent.Timeout(1):
        with pytest.raises(zmq.Again):
            pull.recv(flag)
        with pytest.raises(zmq.Again):
            pull.recv_multipart(flag)
        push.send(b"1", flag)
        push.send(b"2", flag)
        with pytest.raises(zmq.Again):
            push.send(b"3", flag)
        with pytest.raises(zmq.Again):
            push.send_multipart([b"3", b"4"], flag)
        assert pull.recv(flag) == b"1"
    push.close()
    pull.close()


# -- high-water marks ---------------------------------------------------------------------------


def test_push_blocks_when_all_peers_are_full_and_resumes(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.sndhwm = 1
    pulls = []
    for i in range(2):
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.rcvhwm = 1
        pull.bind(f"inproc://full-{i}")
        push.connect(f"inproc://full-{i}")
        pulls.append(pull)
    queued = 0
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                push.send(b"%d" % queued, zmq.NOBLOCK)
            except zmq.Again:
                break
            queued += 1
    assert queued == 4  # (SNDHWM + RCVHWM) per inproc peer
    sender = gevent.spawn(push.send, b"blocked")
    sender.join(0.1)
    assert not sender.ready()  # every pipe is full
    with gevent.Timeout(TIMEOUT):
        received = [pulls[0].recv(), pulls[0].recv()]  # room again on one peer
        sender.join()
    assert sender.successful()
    with gevent.Timeout(TIMEOUT):
        received += [msg for pull in pulls for [msg] in drain(pull)]
    assert sorted(received) == sorted([b"0", b"1", b"2", b"3", b"blocked"])
    push.close()
    for pull in pulls:
        pull.close()


def test_hwm_flow_control_over_tcp_delivers_everything_in_order(ctx):
    push, pull = make_pair(ctx, "tcp://127.0.0.1:*", sndhwm=2, rcvhwm=2)
    payload = b"x" * 65536
    count = 200

    def sender():
        for i in range(count):
            push.send_multipart([b"%d" % i, payload])

    g = gevent.spawn(sender)
    with gevent.Timeout(TIMEOUT):
        gevent.sleep(0.05)  # let the sender fill every buffer and block
        for i in range(count):
            index, body = pull.recv_multipart()
            assert index == b"%d" % i
            assert body == payload
        g.join()
    assert g.successful()
    push.close()
    pull.close()


# -- interruption ------------------------------------------------------------------------------


@pytest.mark.parametrize("kill_first", [True, False], ids=["kill-then-send", "send-then-kill"])
def test_kill_during_blocking_recv_consumes_nothing(ctx, transport_endpoint, kill_first):
    push, pull = make_pair(ctx, transport_endpoint)
    with gevent.Timeout(TIMEOUT):
        if transport_endpoint.startswith("tcp"):
            sync_stream(push, pull)
        got = []
        receiver = gevent.spawn(lambda: got.append(pull.recv()))
        gevent.sleep(0)
        assert not receiver.ready()  # blocked in recv
        if kill_first:
            receiver.kill(block=False)
            push.send(b"precious")
        else:
            push.send(b"precious")
            receiver.kill(block=False)
        receiver.join()
        if not got:
            got.append(pull.recv())
        assert got == [b"precious"]
        assert drain(pull) == []
    push.close()
    pull.close()


def test_gevent_timeout_racing_messages_loses_and_duplicates_nothing(ctx, transport_endpoint):
    """Receivers with tiny gevent.Timeouts race a sender: every message is received exactly once."""
    push, pull = make_pair(ctx, transport_endpoint)
    count = 200
    received = []
    timeouts = 0

    def sender():
        for i in range(count):
            push.send_multipart([b"m", b"%d" % i])
            if i % 3 == 0:
                gevent.sleep(0)
            if i % 7 == 0:
                gevent.sleep(0.001)

    with gevent.Timeout(TIMEOUT):
        if transport_endpoint.startswith("tcp"):
            sync_stream(push, pull)
        g = gevent.spawn(sender)
        index = 0
        while len(received) < count:
            index += 1
            timer = gevent.Timeout((index % 4) * 0.0005)
            timer.start()
            try:
                received.append(pull.recv_multipart())
            except gevent.Timeout as error:
                if error is not timer:
                    raise
                timeouts += 1
            finally:
                timer.close()
        g.join()
        assert drain(pull) == []
    assert received == [[b"m", b"%d" % i] for i in range(count)]
    assert timeouts > 0  # the race was exercised
    push.close()
    pull.close()


def test_interrupted_recv_leaves_no_partial_message(ctx):
    push, pull = make_pair(ctx, "inproc://no-partial-recv")
    with gevent.Timeout(TIMEOUT):
        receiver = gevent.spawn(pull.recv_multipart)
        gevent.sleep(0)
        receiver.kill(block=False)
        push.send_multipart([b"a", b"b", b"c"])
        receiver.join()
        assert pull.rcvmore == 0
        assert pull.recv_multipart() == [b"a", b"b", b"c"]
    push.close()
    pull.close()


@pytest.mark.parametrize("interrupt", ["kill-before-room", "kill-after-room", "timeout"])
def test_interrupted_blocking_send_multipart_sends_all_or_nothing(ctx, interrupt):
    for attempt in range(10):
        push, pull = make_pair(ctx, f"inproc://all-or-none-{interrupt}-{attempt}", sndhwm=1, rcvhwm=1)
        push.send(b"old1")
        push.send(b"old2")
        blocked = Event()

        def sender(push, blocked, attempt):
            blocked.set()
            if interrupt.startswith("kill"):
                push.send_multipart([b"x1", b"x2", b"x3"])
                return
            with gevent.Timeout(attempt * 0.0003, False):
                push.send_multipart([b"x1", b"x2", b"x3"])

        with gevent.Timeout(TIMEOUT):
            g = gevent.spawn(sender, push, blocked, attempt)
            blocked.wait()
            gevent.sleep(0)
            if interrupt == "kill-before-room":
                g.kill(block=False)
            assert pull.recv() == b"old1"  # makes room: the sender is woken ...
            if interrupt == "kill-after-room":
                g.kill(block=False)  # ... and killed, racing the wake-up
            g.join()
            received = drain(pull)
            push.send_multipart([b"y1", b"y2"])
            received.append(pull.recv_multipart())
            received += drain(pull)
        assert received in (
            [[b"old2"], [b"x1", b"x2", b"x3"], [b"y1", b"y2"]],
            [[b"old2"], [b"y1", b"y2"]],
        ), received
        push.close()
        pull.close()


def test_gevent_timeout_during_blocking_send_then_retry(ctx):
    push, pull = make_pair(ctx, "inproc://send-timeout-retry", sndhwm=1, rcvhwm=1)
    push.send(b"1")
    push.send(b"2")
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.05):
        push.send_multipart([b"3a", b"3b"])
    with gevent.Timeout(TIMEOUT):
        assert pull.recv_multipart() == [b"1"]
        push.send_multipart([b"4a", b"4b"])
        assert pull.recv_multipart() == [b"2"]
        assert pull.recv_multipart() == [b"4a", b"4b"]
        assert drain(pull) == []
    push.close()
    pull.close()


# -- several greenlets on one socket ------------------------------------------------------------------


def test_each_message_goes_to_exactly_one_blocked_receiver(ctx, transport_endpoint):
    push, pull = make_pair(ctx, transport_endpoint)
    receivers = 8
    with gevent.Timeout(TIMEOUT):
        if transport_endpoint.startswith("tcp"):
            sync_stream(push, pull)
        greenlets = [gevent.spawn(pull.recv_multipart) for _ in range(receivers)]
        gevent.sleep(0)
        assert not any(g.ready() for g in greenlets)
        for i in range(receivers):
            push.send_multipart([b"msg", b"%d" % i])
        gevent.joinall(greenlets, raise_error=True)
    results = sorted(g.value[1] for g in greenlets)
    assert results == sorted(b"%d" % i for i in range(receivers))
    assert all(g.value[0] == b"msg" for g in greenlets)
    assert drain(pull) == []
    push.close()
    pull.close()


def test_more_receivers_than_messages(ctx):
    push, pull = make_pair(ctx, "inproc://more-receivers")
    with gevent.Timeout(TIMEOUT):
        greenlets = [gevent.spawn(pull.recv) for _ in range(6)]
        gevent.sleep(0)
        for i in range(3):
            push.send(b"%d" % i)
        done = gevent.wait(greenlets, count=3)
        gevent.sleep(0.05)
        assert len([g for g in greenlets if g.ready()]) == 3
        assert sorted(g.value for g in done) == [b"0", b"1", b"2"]
        for i in range(3, 6):
            push.send(b"%d" % i)
        gevent.joinall(greenlets, raise_error=True)
    assert sorted(g.value for g in greenlets) == [b"%d" % i for i in range(6)]
    push.close()
    pull.close()


# -- no starvation -----------------------------------------------------------------------------------


def _run_with_ticker(loop):
    """Run ``loop(progress)`` while a ticker greenlet records how far it had got each time it ran."""
    progress = [0]
    seen = []

    def ticker():
        while True:
            seen.append(progress[0])
            gevent.sleep(0)

    t = gevent.spawn(ticker)
    gevent.sleep(0)
    try:
        loop(progress)
    finally:
        t.kill()
    return seen


def test_tight_send_loop_over_inproc_without_hwm_lets_others_run(ctx):
    push, pull = make_pair(ctx, "inproc://tight-send", sndhwm=0, rcvhwm=0)
    count = 20000

    def loop(progress):
        for i in range(count):
            push.send(b"x")
            progress[0] = i + 1

    with gevent.Timeout(TIMEOUT):
        seen = _run_with_ticker(loop)
    assert [n for n in seen if 0 < n < count], "the ticker never ran during the send loop"
    with gevent.Timeout(TIMEOUT):
        assert len(drain(pull)) == count
    push.close()
    pull.close()


def test_tight_recv_loop_lets_others_run(ctx):
    push, pull = make_pair(ctx, "inproc://tight-recv", sndhwm=0, rcvhwm=0)
    count = 20000
    for _ in range(count):
        push.send(b"x", zmq.NOBLOCK)

    def loop(progress):
        for i in range(count):
            pull.recv()
            progress[0] = i + 1

    with gevent.Timeout(TIMEOUT):
        seen = _run_with_ticker(loop)
    assert [n for n in seen if 0 < n < count], "the ticker never ran during the recv loop"
    push.close()
    pull.close()


def test_tight_send_loop_over_tcp_lets_others_run(ctx):
    push, pull = make_pair(ctx, "tcp://127.0.0.1:*", sndhwm=0, rcvhwm=0)
    count = 20000
    with gevent.Timeout(TIMEOUT):
        sync_stream(push, pull)

    def loop(progress):
        for i in range(count):
            push.send(b"x")
            progress[0] = i + 1

    with gevent.Timeout(TIMEOUT):
        seen = _run_with_ticker(loop)
        for _ in range(count):
            pull.recv()
    assert [n for n in seen if 0 < n < count], "the ticker never ran during the send loop"
    push.close()
    pull.close()


# -- routing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "tcp", "ipc"])
def test_push_round_robins_over_pull_peers(ctx, transport, tmp_path):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    pulls = []
    for i in range(3):
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.bind({"inproc": f"inproc://rr-{i}", "tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/rr-{i}"}[transport])
        push.connect(pull.last_endpoint.decode())  # the pipe exists at once: order is deterministic
        pulls.append(pull)
    for i in range(9):
        push.send(b"%d" % i)
    with gevent.Timeout(TIMEOUT):
        got = [[pull.recv() for _ in range(3)] for pull in pulls]
    assert got == [[b"0", b"3", b"6"], [b"1", b"4", b"7"], [b"2", b"5", b"8"]]
    push.close()
    for pull in pulls:
        pull.close()


def test_push_skips_full_peer(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.sndhwm = 1
    slow = ctx.socket(zmq.PULL)
    fast = ctx.socket(zmq.PULL)
    slow.rcvhwm = 1  # slow's inproc pipe holds 1 + 1 messages
    fast.rcvhwm = 0  # fast's is unlimited
    for name, pull in (("slow", slow), ("fast", fast)):
        pull.linger = 0
        pull.bind(f"inproc://skip-{name}")
        push.connect(f"inproc://skip-{name}")
    with gevent.Timeout(TIMEOUT):
        for i in range(20):
            push.send(b"%d" % i, zmq.NOBLOCK)
        assert drain(slow) == [[b"0"], [b"2"]]
        assert drain(fast) == [[b"1"], [b"3"]] + [[b"%d" % i] for i in range(4, 20)]
    push.close()
    slow.close()
    fast.close()


def test_pull_fair_queues_inproc(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind("inproc://fair")
    pushes = []
    for name in "abc":
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.connect("inproc://fair")
        pushes.append((name, push))
    for name, push in pushes:
        for i in range(4):
            push.send(b"%s%d" % (name.encode(), i))
    with gevent.Timeout(TIMEOUT):
        got = [pull.recv() for _ in range(12)]
    assert got == [b"a0", b"b0", b"c0", b"a1", b"b1", b"c1", b"a2", b"b2", b"c2", b"a3", b"b3", b"c3"]
    for _, push in pushes:
        push.close()
    pull.close()


def test_pull_fair_queues_tcp(ctx):
    """A busy peer cannot starve the others: while it floods, another's messages keep coming through."""
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvhwm = 10
    pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.last_endpoint.decode()
    flood = ctx.socket(zmq.PUSH)
    other = ctx.socket(zmq.PUSH)
    flood.linger = other.linger = 0
    flood.connect(endpoint)
    other.connect(endpoint)
    with gevent.Timeout(TIMEOUT):
        flood.send(b"f")
        other.send(b"o")
        assert sorted(pull.recv() for _ in range(2)) == [b"f", b"o"]  # both connected

        def flooder():
            while True:
                flood.send(b"f")

        def trickle():
            for _ in range(10):
                other.send(b"o")

        fg = gevent.spawn(flooder)
        tg = gevent.spawn(trickle)
        tg.join()
        gevent.sleep(0.05)  # both queues are now full
        window = [pull.recv() for _ in range(40)]
        fg.kill()
    assert window.count(b"o") >= 5, window
    flood.close()
    other.close()
    pull.close()

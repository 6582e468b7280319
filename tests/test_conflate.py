"""CONFLATE: a socket keeps only the newest message in each queue (libzmq's "last value")."""

import gevent
import pytest

import greenmq as zmq


@pytest.mark.parametrize("transport", ["tcp://127.0.0.1:*", "inproc://conflate"])
def test_pull_keeps_only_the_last_message(ctx, transport):
    pull = ctx.socket(zmq.PULL)
    pull.conflate = 1
    pull.bind(transport)
    push = ctx.socket(zmq.PUSH)
    push.conflate = 1
    push.connect(pull.last_endpoint.decode())
    with gevent.Timeout(5):
        push.send(b"first")
        assert pull.recv() == b"first"  # connected: from now on only the newest survives
        for number in range(1000):
            push.send(b"%d" % number)  # never blocks: conflation ignores the HWM
        while pull.poll(50):
            last = pull.recv()
    assert last == b"999"
    assert pull.poll(100) == 0


def test_sub_conflate_gives_the_latest_value(ctx):
    pub = ctx.socket(zmq.PUB)
    pub.bind("inproc://prices")
    sub = ctx.socket(zmq.SUB)
    sub.conflate = 1
    sub.subscribe(b"")
    sub.connect("inproc://prices")
    for price in range(100):
        pub.send(b"price %d" % price)
    with gevent.Timeout(5):
        assert sub.recv() == b"price 99"
    assert sub.poll(100) == 0


def test_conflate_is_ignored_where_libzmq_ignores_it(ctx):
    pair_a = ctx.socket(zmq.PAIR)
    pair_a.conflate = 1  # accepted, as by libzmq, but PAIR keeps every message
    pair_a.bind("inproc://pairs")
    pair_b = ctx.socket(zmq.PAIR)
    pair_b.connect("inproc://pairs")
    for number in range(3):
        pair_b.send(b"%d" % number)
    with gevent.Timeout(5):
        assert [pair_a.recv() for _ in range(3)] == [b"0", b"1", b"2"]

"""inproc between sockets in different OS threads: every message arrives, in order.

The writers of a socket's inbound pipes then run in other threads, and their
wake-ups put pipes in the receiving fair queue's line from there (see
greenmq.patterns.strategies.FairQueue and greenmq._pipe.Pipe's
``_reader_idle``). Several unpatched OS threads push many small messages
while the interpreter switches threads as often as it can; a pipe left out of
the line would keep its messages, and the receiver would time out.
"""

import sys
import threading

import gevent
import pytest

import greenmq as zmq

MESSAGES_PER_THREAD = 20000
SENDERS = 3


@pytest.fixture
def frequent_thread_switches():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _send_from_threads(ctx, endpoint, socket_type, make_message):
    errors = []

    def sender(number):
        try:
            sock = ctx.socket(socket_type)
            sock.linger = 5000
            sock.connect(endpoint)
            for index in range(MESSAGES_PER_THREAD):
                sock.send_multipart(make_message(number, index))
            sock.close()
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(n,), daemon=True) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    return threads, errors


def _check_threads(threads, errors):
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    assert errors == []


@pytest.mark.parametrize("receiver_type, sender_type", [(zmq.PULL, zmq.PUSH), (zmq.ROUTER, zmq.DEALER)])
def test_every_message_from_other_threads_is_received(frequent_thread_switches, receiver_type, sender_type):
    ctx = zmq.Context()
    receiver = ctx.socket(receiver_type)
    receiver.rcvhwm = 0
    receiver.rcvtimeo = 10000  # a lost wake-up shows as Again here
    receiver.bind("inproc://from-threads")
    threads, errors = _send_from_threads(ctx, "inproc://from-threads", sender_type,
                                         lambda n, i: [b"%d" % n, b"%d" % i])
    try:
        following = [0] * SENDERS
        with gevent.Timeout(60):
            for _ in range(SENDERS * MESSAGES_PER_THREAD):
                frames = receiver.recv_multipart()
                number, index = (int(f) for f in frames[-2:])
                assert index == following[number]  # in order per sender, none missing
                following[number] += 1
        assert following == [MESSAGES_PER_THREAD] * SENDERS
        _check_threads(threads, errors)
    finally:
        receiver.close(linger=0)
        ctx.term()

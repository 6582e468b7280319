"""libzmq's rule for multipart messages, one rule for send, send_multipart, recv and recv_multipart.

The first frame of a message decides: that is where a send waits for room,
raises Again (NOBLOCK, SNDTIMEO) or is refused. Once a first frame is
accepted, the later frames of that message never wait and never fail for
lack of room; the message is queued whole with its last frame. A receive
waits for a whole message; its frames are then handed out without waiting.

Each scenario also runs on pyzmq (libzmq 4.3), in this process and with
every wait bounded, to show that greenmq's answer is libzmq's.
"""

import struct

import gevent
import pytest
import zmq as pyzmq

import greenmq
from support import TIMEOUT

SHORT = 50  # ms: SNDTIMEO/RCVTIMEO where a call is expected to give up


@pytest.fixture(params=["greenmq", "pyzmq"])
def zmq(request):
    """The implementation under test: greenmq, or pyzmq as the reference."""
    return greenmq if request.param == "greenmq" else pyzmq


@pytest.fixture
def context(zmq):
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def make_room(zmq, push, pull):
    """Take one message off the PULL, and wait until the PUSH has seen the room it made
    (libzmq tells the writer asynchronously; a poll for POLLOUT waits for that)."""
    message = pull.recv()
    assert push.poll(TIMEOUT * 1000, zmq.POLLOUT) == zmq.POLLOUT
    return message


def full_pipeline(zmq, context, name):
    """A PUSH whose only peer, an inproc PULL, can take no more messages now."""
    pull = context.socket(zmq.PULL)
    push = context.socket(zmq.PUSH)
    pull.rcvhwm = push.sndhwm = 1
    pull.rcvtimeo = push.sndtimeo = SHORT
    pull.bind(f"inproc://{name}")
    push.connect(f"inproc://{name}")
    queued = 0
    while True:
        try:
            push.send(b"%d" % queued, zmq.NOBLOCK)
        except zmq.Again:
            return push, pull, queued
        queued += 1
        assert queued < 100, "the pipe never filled"


def test_first_frame_is_where_noblock_fails_and_nothing_stays_pending(zmq, context):
    push, pull, queued = full_pipeline(zmq, context, "noblock-first")
    with pytest.raises(zmq.Again):
        push.send(b"a", zmq.SNDMORE | zmq.NOBLOCK)
    assert make_room(zmq, push, pull) == b"0"
    push.send(b"fresh", zmq.NOBLOCK)
    got = [pull.recv_multipart() for _ in range(queued)]
    assert got == [[b"%d" % i] for i in range(1, queued)] + [[b"fresh"]]  # no stray b"a" in front


def test_first_frame_is_where_sndtimeo_fails_and_nothing_stays_pending(zmq, context):
    push, pull, queued = full_pipeline(zmq, context, "sndtimeo-first")
    with pytest.raises(zmq.Again):
        push.send(b"a", zmq.SNDMORE)  # waits SNDTIMEO for room, then gives up
    with pytest.raises(zmq.Again):
        push.send_multipart([b"m1", b"m2"])
    assert pull.recv() == b"0"
    push.send(b"fresh")
    got = [pull.recv_multipart() for _ in range(queued)]
    assert got == [[b"%d" % i] for i in range(1, queued)] + [[b"fresh"]]


def test_frames_after_an_accepted_first_frame_never_fail(zmq, context):
    push, pull, queued = full_pipeline(zmq, context, "later-frames")
    assert make_room(zmq, push, pull) == b"0"  # room for one message
    push.send(b"a", zmq.SNDMORE | zmq.NOBLOCK)
    push.send(b"b", zmq.SNDMORE | zmq.NOBLOCK)  # never Again: the message is under way
    push.send(b"c", zmq.NOBLOCK)
    got = [pull.recv_multipart() for _ in range(queued)]
    assert got == [[b"%d" % i] for i in range(1, queued)] + [[b"a", b"b", b"c"]]


def test_send_multipart_finishes_a_message_started_with_sndmore(zmq, context):
    push, pull, queued = full_pipeline(zmq, context, "finish-multipart")
    assert make_room(zmq, push, pull) == b"0"
    push.send(b"a", zmq.SNDMORE | zmq.NOBLOCK)
    push.send_multipart([b"b", b"c"], zmq.NOBLOCK)
    got = [pull.recv_multipart() for _ in range(queued)]
    assert got[-1] == [b"a", b"b", b"c"]


def test_message_whose_peer_left_midway_is_dropped_without_waiting(ctx):
    """greenmq only (libzmq's answer depends on when its socket thread learns of the pipe's end):
    a PUSH that binds loses its only peer between the first and the last frame; the last frame
    neither waits nor fails, the message is dropped, and the next one starts afresh."""
    zmq, context = greenmq, ctx
    push = context.socket(zmq.PUSH)
    push.sndtimeo = SHORT
    monitor = push.get_monitor_socket()
    monitor.rcvtimeo = TIMEOUT * 1000
    port = push.bind_to_random_port("tcp://127.0.0.1")

    def connected_pull():
        pull = context.socket(zmq.PULL)
        pull.linger = 0
        pull.rcvtimeo = TIMEOUT * 1000
        pull.connect(f"tcp://127.0.0.1:{port}")
        return pull

    def wait_for(event):
        while struct.unpack("=HI", monitor.recv_multipart()[0])[0] != event:
            pass

    pull = connected_pull()
    push.send(b"sync")
    assert pull.recv() == b"sync"
    push.send(b"a", zmq.SNDMORE)
    pull.close()
    wait_for(zmq.EVENT_DISCONNECTED)
    push.send(b"b")  # its peer is gone: no wait, no Again
    pull = connected_pull()
    wait_for(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    push.send(b"next")
    assert pull.recv_multipart() == [b"next"]
    pull.close()
    push.disable_monitor()
    monitor.close()
    push.close()


def test_recv_then_recv_multipart_hands_out_one_message_without_waiting(zmq, context):
    pull = context.socket(zmq.PULL)
    push = context.socket(zmq.PUSH)
    pull.rcvtimeo = SHORT
    pull.bind("inproc://partial-recv")
    push.connect("inproc://partial-recv")
    push.send_multipart([b"1", b"2", b"3"])
    push.send(b"4")
    assert pull.recv() == b"1"
    assert pull.getsockopt(zmq.RCVMORE) == 1
    assert pull.recv_multipart() == [b"2", b"3"]  # the rest of the same message
    assert pull.getsockopt(zmq.RCVMORE) == 0
    assert pull.recv_multipart() == [b"4"]
    with pytest.raises(zmq.Again):
        pull.recv()


def test_interrupted_first_frame_leaves_nothing_pending(ctx):
    """greenmq only: a gevent.Timeout while the first frame waits for room sends nothing."""
    push, pull, queued = full_pipeline(greenmq, ctx, "interrupted-first")
    push.sndtimeo = -1
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.05):
        push.send(b"a", greenmq.SNDMORE)
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"0"
        push.send(b"fresh")
        got = [pull.recv_multipart() for _ in range(queued)]
    assert got == [[b"%d" % i] for i in range(1, queued)] + [[b"fresh"]]

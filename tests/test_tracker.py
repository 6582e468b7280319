"""``MessageTracker``: done exactly when greenmq lets go of a zero-copy buffer.

A tracked send of a buffer of at least ``copy_threshold`` bytes is shared,
not copied; its tracker must stay pending while the message waits in a
pipe or in a writer that the kernel does not take more from, and become
done once the engine's writer has written it, or once it is dropped (socket
closed with LINGER 0, peer gone, PUB at its high-water mark, no peer), or,
over inproc, once the receiver has let go of it. Untracked and copied sends
follow pyzmq's return values (None, or the finished tracker).
"""

import gc
import threading

import gevent
import gevent.event
import pytest

import greenmq as zmq
from support import TIMEOUT, WIRE_TRANSPORTS, endpoint_for, new_socket

BIG = 1 << 20  # well above COPY_THRESHOLD: shared, and too much for one kernel buffer after a few


def wait_done(tracker, timeout=TIMEOUT):
    """The tracker becomes done within ``timeout`` seconds (MessageTracker.wait raises NotDone otherwise)."""
    tracker.wait(timeout)
    assert tracker.done is True


def fill_until_blocked(sender, payload):
    """Tracked sends of ``payload`` until one times out: then the sender's pipe is full and the
    last message sent is still queued (a pipe of HWM 1 holds the newest it accepted)."""
    sender.sndtimeo = 200
    trackers = []
    with gevent.Timeout(TIMEOUT * 3):
        while True:
            try:
                trackers.append(sender.send(payload, copy=False, track=True))
            except zmq.Again:
                return trackers


@pytest.fixture
def stalled(ctx, tmp_path, request):
    """A PUSH connected over tcp or ipc to a PULL that does not read, filled with tracked
    messages until the PUSH blocks; yields (push, pull, payload, trackers)."""
    transport = getattr(request, "param", "tcp")
    pull = new_socket(ctx, zmq.PULL, rcvhwm=1)
    push = new_socket(ctx, zmq.PUSH, sndhwm=1)
    pull.bind(endpoint_for(transport, tmp_path))
    push.connect(pull.last_endpoint)
    push.send(b"hello")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"hello"  # connected
    payload = bytearray(BIG)
    trackers = fill_until_blocked(push, payload)
    assert trackers
    return push, pull, payload, trackers


# -- the tracker object -------------------------------------------------------


def test_a_tracker_of_nothing_is_done():
    tracker = zmq.MessageTracker()
    assert tracker.done is True
    assert tracker.wait(0) is None


@pytest.mark.parametrize("event_class", [threading.Event, gevent.event.Event])
def test_tracking_events(event_class):
    event = event_class()
    tracker = zmq.MessageTracker(event)
    assert not tracker.done
    with pytest.raises(zmq.NotDone):
        tracker.wait(0)
    with pytest.raises(zmq.NotDone):
        tracker.wait(0.01)
    event.set()
    assert tracker.done
    assert tracker.wait(0) is None


@pytest.mark.parametrize("bad", [1, "x", None, object(), gevent.event.AsyncResult()])
def test_bad_arguments_are_type_errors(bad):
    with pytest.raises(TypeError, match="Require Events or Message Frames"):
        zmq.MessageTracker(bad)


def test_an_untracked_frame_is_a_value_error():
    with pytest.raises(ValueError, match="Not a tracked message"):
        zmq.MessageTracker(zmq.Frame(b"x"))


def test_a_copied_frame_is_done_at_once():
    assert zmq.Frame(b"small", track=True).tracker is zmq._FINISHED_TRACKER
    assert zmq.Frame(b"x" * 100, track=True, copy=True).tracker.done


def test_a_frame_is_tracked_until_it_is_gone():
    frame = zmq.Frame(b"shared", copy=False, track=True)
    tracker = frame.tracker
    assert tracker.done is False
    with pytest.raises(zmq.NotDone):
        tracker.wait(0.01)
    buffer = frame.buffer
    del frame
    gc.collect()
    assert not tracker.done  # its buffer is still in use
    del buffer
    assert tracker.done is True


def test_combining_waits_for_every_part():
    first = zmq.Frame(b"first", copy=False, track=True)
    second = zmq.Frame(b"second", copy=False, track=True)
    event = gevent.event.Event()
    combined = zmq.MessageTracker(first, zmq.MessageTracker(second), event)
    assert not combined.done
    del first
    event.set()
    assert not combined.done
    with pytest.raises(zmq.NotDone):
        combined.wait(0.01)
    del second
    assert combined.done
    assert combined.wait(0) is None


def test_wait_blocks_only_its_own_greenlet():
    frame = zmq.Frame(b"held", copy=False, track=True)
    tracker = frame.tracker
    holder = [frame]
    del frame

    def release():
        holder.clear()

    gevent.spawn(release)
    wait_done(tracker)  # done while waiting: the greenlet that lets go ran meanwhile



@pytest.fixture
def pair(ctx):
    """Two PAIR sockets linked over inproc (tracked messages are done when the receiver lets go)."""
    a = new_socket(ctx, zmq.PAIR)
    b = new_socket(ctx, zmq.PAIR)
    endpoint = endpoint_for("inproc", None)
    a.bind(endpoint)
    b.connect(endpoint)
    return a, b

# -- what send returns ----------------------------------------------------------


def test_send_return_values_follow_pyzmq(pair):
    a, b = pair
    big = bytes(BIG)
    assert a.send(b"x") is None
    assert a.send(b"x", track=True) is None  # copy=True: nothing to track
    assert a.send(b"x", copy=False) is zmq._FINISHED_TRACKER  # small: copied
    assert a.send(bytearray(10), copy=False, track=True) is zmq._FINISHED_TRACKER
    assert a.send(big, copy=False) is None  # shared, untracked
    strided = memoryview(bytearray(BIG * 2))[::2]
    assert a.send(strided, copy=False) is None  # not contiguous: copied (pyzmq refuses it)
    assert a.send(strided, copy=False, track=True) is zmq._FINISHED_TRACKER
    tracked = zmq.Frame(b"frame", copy=False, track=True)
    assert a.send(tracked) is tracked.tracker
    assert a.send(zmq.Frame(b"untracked")) is None
    assert a.send_multipart([b"a", b"b"], copy=False) is zmq._FINISHED_TRACKER
    assert a.send_multipart([b"a", b"b"]) is None
    with pytest.raises(ValueError, match="Not a tracked message"):
        a.send(zmq.Frame(b"untracked"), track=True)
    with pytest.raises(ValueError, match="Not a tracked message"):
        a.send_multipart([b"a", zmq.Frame(b"untracked")], track=True)
    received = []
    with gevent.Timeout(TIMEOUT):
        for _ in range(11):
            received.append(b.recv_multipart())
    assert received[-1] == [b"a", b"b"]  # the refused sends sent nothing


def test_copy_threshold_zero_shares_small_messages(pair):
    a, b = pair
    a.copy_threshold = 0
    tracker = a.send(b"small", copy=False, track=True)
    assert not tracker.done
    with gevent.Timeout(TIMEOUT):
        assert b.recv() == b"small"
    assert tracker.done


def test_send_multipart_returns_what_sending_the_last_frame_returns(pair):
    a, b = pair
    first = zmq.Frame(bytes(BIG), track=True)
    second = zmq.Frame(bytes(BIG), track=True)
    assert a.send_multipart([first, b"bytes"]) is None
    assert a.send_multipart([b"bytes", first]) is first.tracker
    assert a.send_multipart([first, second]) is second.tracker
    assert a.send_multipart([first, second], copy=False, track=True) is second.tracker
    assert a.send_multipart([b"a", bytes(BIG)], copy=False) is None  # shared, untracked
    assert a.send_multipart([bytes(BIG), b"b"], copy=False, track=True) is zmq._FINISHED_TRACKER
    assert a.send_multipart([b"a", zmq.Frame(b"untracked")], copy=False) is None
    with gevent.Timeout(TIMEOUT):
        for _ in range(7):
            b.recv_multipart()
    first_tracker = first.tracker
    del first, second
    assert first_tracker.done  # greenmq let go of every send of it


def test_untracked_bytes_with_copy_false_inside_a_message(pair):
    a, b = pair
    big = bytes(BIG)
    assert a.send(b"first", zmq.SNDMORE, copy=False) is zmq._FINISHED_TRACKER
    assert a.send(big, zmq.SNDMORE, copy=False) is None
    assert a.send(b"last", copy=False) is zmq._FINISHED_TRACKER
    a.copy_threshold = 0  # nothing is copied, so nothing is finished at once
    assert a.send(b"small", copy=False) is None
    with gevent.Timeout(TIMEOUT):
        assert b.recv_multipart() == [b"first", big, b"last"]
        assert b.recv() == b"small"


def test_copy_threshold_is_a_keyword_of_socket_as_in_pyzmq(ctx):
    sock = ctx.socket(zmq.PAIR, copy_threshold=0)
    try:
        assert sock.copy_threshold == 0
        sock.bind("inproc://tracker-keyword")
        peer = new_socket(ctx, zmq.PAIR)
        peer.connect("inproc://tracker-keyword")
        tracker = sock.send(b"small", copy=False, track=True)
        assert not tracker.done  # shared, not copied
        with gevent.Timeout(TIMEOUT):
            assert peer.recv() == b"small"
        assert tracker.done
        assert ctx.socket(zmq.PAIR, copy_threshold=None).close() is None
        with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
            ctx.socket(zmq.PAIR, bogus=1)
        # Each Socket object has its own, a shadow too (pyzmq's is per object).
        assert zmq.Socket.shadow(sock).copy_threshold == zmq.COPY_THRESHOLD
        shadow = zmq.Socket(shadow=sock, copy_threshold=5)
        assert (shadow.copy_threshold, sock.copy_threshold) == (5, 0)
    finally:
        sock.close(linger=0)


# -- tcp and ipc: the writer --------------------------------------------------


@pytest.mark.parametrize("stalled", WIRE_TRANSPORTS, indirect=True)
def test_not_done_while_the_peer_does_not_read_then_done_once_written(stalled):
    push, pull, payload, trackers = stalled
    assert trackers[-1].done is False
    with pytest.raises(zmq.NotDone):
        trackers[-1].wait(0.1)
    with gevent.Timeout(TIMEOUT):
        for _ in trackers:
            assert len(pull.recv(copy=False)) == BIG
    wait_done(zmq.MessageTracker(*trackers))


def test_done_once_written_to_a_reading_peer(ctx, tmp_path):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    pull.bind(endpoint_for("tcp", tmp_path))
    push.connect(pull.last_endpoint)
    frame = zmq.Frame(bytes(BIG), copy=False, track=True)
    first = push.send(frame)
    second = push.send(frame, copy=False)
    assert first is second is frame.tracker
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == bytes(BIG)
        assert pull.recv() == bytes(BIG)
    assert not frame.tracker.done  # written, but the frame itself still holds the buffer
    tracker = frame.tracker
    del frame
    wait_done(tracker)


def test_dropped_when_the_sender_closes_with_linger_0(stalled):
    push, pull, payload, trackers = stalled
    assert not trackers[-1].done
    push.close(linger=0)
    wait_done(zmq.MessageTracker(*trackers))


def test_dropped_when_the_peer_goes(ctx, tmp_path):
    push = new_socket(ctx, zmq.PUSH, sndhwm=1)
    pull = new_socket(ctx, zmq.PULL, rcvhwm=1)
    push.bind(endpoint_for("tcp", tmp_path))
    pull.connect(push.last_endpoint)
    push.send(b"hello")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"hello"
    trackers = fill_until_blocked(push, bytearray(BIG))
    assert not trackers[-1].done
    pull.close(linger=0)
    wait_done(zmq.MessageTracker(*trackers))


def test_queued_without_a_peer_then_dropped_by_close(ctx, tmp_path):
    push = new_socket(ctx, zmq.PUSH)
    push.connect(endpoint_for("ipc", tmp_path, "nobody"))
    tracker = push.send(bytes(BIG), copy=False, track=True)
    gevent.sleep(0.05)
    assert not tracker.done
    push.close(linger=0)
    wait_done(tracker)


def test_a_started_message_is_dropped_by_close(ctx):
    pub = new_socket(ctx, zmq.PUB)  # (never waits for room)
    pub.bind("inproc://tracker-started")
    tracker = pub.send(bytes(BIG), zmq.SNDMORE, copy=False, track=True)
    assert not tracker.done  # held by the socket until the message ends
    pub.close()
    assert tracker.done


# -- drops by the socket type, inproc ------------------------------------------------


def test_pub_without_subscribers_drops_at_once(ctx):
    pub = new_socket(ctx, zmq.PUB)
    pub.bind("inproc://tracker-pub-alone")
    assert pub.send(bytes(BIG), copy=False, track=True).done


def test_pub_drops_at_its_high_water_mark(ctx):
    pub = new_socket(ctx, zmq.PUB, sndhwm=1)
    sub = new_socket(ctx, zmq.SUB, rcvhwm=1)
    sub.subscribe(b"")
    pub.bind("inproc://tracker-pub-hwm")
    sub.connect("inproc://tracker-pub-hwm")
    trackers = [pub.send(bytes(BIG), copy=False, track=True) for _ in range(5)]
    assert not trackers[0].done  # queued for the subscriber
    assert trackers[-1].done  # dropped: the subscriber's pipe was full
    with gevent.Timeout(TIMEOUT):
        sub.recv()
    assert trackers[0].done


def test_inproc_is_done_when_the_receiver_lets_go(pair):
    a, b = pair
    payload = bytearray(BIG)
    copied = a.send(payload, copy=False, track=True)
    kept = a.send(payload, copy=False, track=True)
    last = a.send_multipart([payload, payload], copy=False, track=True)  # the last frame's, as pyzmq
    assert not (copied.done or kept.done or last.done)  # queued at the receiver
    with gevent.Timeout(TIMEOUT):
        assert len(b.recv()) == BIG  # received as a copy: released at once
        assert copied.done
        frame = b.recv(copy=False)  # received without a copy: held by the frame
        first = b.recv(copy=False)
    assert not kept.done
    buffer = frame.buffer
    del frame
    assert not kept.done  # its buffer is still in use
    del buffer
    assert kept.done
    assert not last.done  # the last frame is still queued
    with gevent.Timeout(TIMEOUT):
        b.recv()
    assert last.done  # although the first frame is still held
    del first

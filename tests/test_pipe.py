"""Pipe, WirePipe and Peer (greenmq._pipe), driven directly: no sockets, no gevent.

A pipe's contract is in its wake-ups: the reader's callable fires when the
queue goes from empty to non-empty (and when the writer closes), the writer's
only after a writer found the pipe full, once the queue has fallen to the
low-water mark (and when the reader closes). Small counting callables check
that each fires exactly then.
"""

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenmq._pipe import Peer, Pipe, WirePipe, low_water_mark, write_each
from greenmq.zmtp.framing import encode_message


class Calls:
    """A wake-up callable that counts how often it was called."""

    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


class CountingEncoder:
    """An ``encode`` for WirePipe that records every message it encodes."""

    def __init__(self):
        self.encoded = []

    def __call__(self, msg):
        self.encoded.append(msg)
        return encode_message(msg)


def counted_pipe(hwm=4, conflate=False):
    reader, writer = Calls(), Calls()
    return Pipe(hwm, reader, writer, conflate), reader, writer


def fill(pipe, count, start=0):
    for number in range(start, start + count):
        assert pipe.try_write(b"%d" % number)


# -- the marks ------------------------------------------------------------------


@pytest.mark.parametrize(("hwm", "lwm"), [(0, 0), (-5, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (1000, 500),
                                          (1001, 501)])
def test_low_water_mark_is_libzmq_half_rounded_up(hwm, lwm):
    assert low_water_mark(hwm) == lwm


def test_hwm_property_reports_the_mark():
    assert Pipe(7).hwm == 7
    assert Pipe().hwm == 1000


def test_has_room_until_the_high_water_mark():
    pipe = Pipe(3)
    answers = []
    for number in range(3):
        answers.append(pipe.has_room())
        pipe.try_write(b"%d" % number)
    answers.append(pipe.has_room())
    assert answers == [True, True, True, False]
    assert len(pipe) == 3


def test_hwm_zero_is_unlimited():
    pipe = Pipe(0)
    assert all(pipe.try_write(b"x") for _ in range(5000))
    assert pipe.has_room()
    assert len(pipe) == 5000


def test_try_write_on_a_full_pipe_returns_false_and_queues_nothing():
    pipe = Pipe(2)
    fill(pipe, 2)
    assert pipe.try_write(b"late") is False
    assert len(pipe) == 2
    assert list(pipe) == [b"0", b"1"]


def test_write_goes_past_the_high_water_mark():
    pipe = Pipe(2)
    fill(pipe, 2)
    pipe.write(b"command")
    pipe.write(b"notice")
    assert len(pipe) == 4
    assert [pipe.read() for _ in range(4)] == [b"0", b"1", b"command", b"notice"]


def test_set_hwm_raises_the_mark():
    pipe = Pipe(2)
    fill(pipe, 2)
    assert not pipe.has_room()
    pipe.set_hwm(3)
    assert pipe.hwm == 3
    assert pipe.try_write(b"2")
    assert not pipe.try_write(b"3")


def test_set_hwm_to_zero_removes_the_limit():
    pipe = Pipe(1)
    fill(pipe, 1)
    pipe.set_hwm(0)
    assert pipe.try_write(b"more")
    assert pipe.has_room()


def test_set_hwm_moves_the_low_water_mark():
    pipe, _, writer = counted_pipe(hwm=2)
    pipe.set_hwm(6)  # low-water mark 3
    fill(pipe, 6)
    assert not pipe.try_write(b"full")
    for _ in range(2):
        pipe.read()
    assert writer.count == 0  # 4 queued: still above 3
    pipe.read()
    assert writer.count == 1


# -- reading ----------------------------------------------------------------------


def test_read_returns_oldest_first_then_none():
    pipe = Pipe(10)
    fill(pipe, 3)
    assert [pipe.read(), pipe.read(), pipe.read(), pipe.read()] == [b"0", b"1", b"2", None]


def test_peek_shows_the_oldest_without_taking_it():
    pipe = Pipe(10)
    assert pipe.peek() is None
    fill(pipe, 2)
    assert pipe.peek() == b"0"
    assert len(pipe) == 2
    assert pipe.read() == b"0"


def test_iteration_lists_the_queue_without_taking_it():
    pipe = Pipe(10)
    fill(pipe, 3)
    assert list(pipe) == [b"0", b"1", b"2"]
    assert len(pipe) == 3


def test_an_empty_pipe_is_still_true():
    pipe = Pipe(10)
    assert len(pipe) == 0
    assert bool(pipe) is True


def test_read_all_takes_everything_in_order():
    pipe = Pipe(10)
    fill(pipe, 4)
    taken = pipe.read_all()
    assert list(taken) == [b"0", b"1", b"2", b"3"]
    assert len(pipe) == 0
    assert pipe.read() is None


def test_read_all_leaves_a_usable_pipe():
    pipe = Pipe(2)
    fill(pipe, 2)
    pipe.read_all()
    assert pipe.try_write(b"a")
    assert pipe.try_write(b"b")
    assert not pipe.try_write(b"c")
    assert list(pipe) == [b"a", b"b"]


# -- waking the reader ----------------------------------------------------------


def test_reader_is_woken_only_when_the_pipe_goes_non_empty():
    pipe, reader, _ = counted_pipe(hwm=10)
    fill(pipe, 3)
    assert reader.count == 1
    pipe.read()
    pipe.try_write(b"again")  # not empty before: no wake-up
    assert reader.count == 1


def test_reader_is_woken_again_after_draining():
    pipe, reader, _ = counted_pipe(hwm=10)
    pipe.try_write(b"a")
    pipe.read()
    pipe.try_write(b"b")
    assert reader.count == 2


def test_a_failed_try_write_does_not_wake_the_reader():
    pipe, reader, _ = counted_pipe(hwm=1)
    pipe.try_write(b"a")
    pipe.try_write(b"b")
    assert reader.count == 1


def test_write_wakes_the_reader_of_an_empty_pipe_only():
    pipe, reader, _ = counted_pipe(hwm=1)
    pipe.write(b"a")
    pipe.write(b"b")
    assert reader.count == 1


def test_write_batch_wakes_the_reader_once():
    pipe, reader, _ = counted_pipe(hwm=10)
    pipe.write_batch([b"a", b"b", b"c"])
    pipe.write_batch([b"d"])
    assert reader.count == 1
    assert list(pipe) == [b"a", b"b", b"c", b"d"]


def test_an_empty_batch_on_an_empty_pipe_wakes_nobody():
    pipe, reader, _ = counted_pipe(hwm=10)
    assert pipe.write_batch([]) is True
    assert reader.count == 0


def test_reading_never_wakes_the_reader():
    pipe, reader, _ = counted_pipe(hwm=10)
    fill(pipe, 3)
    pipe.read()
    pipe.read_all()
    assert reader.count == 1


def test_close_writer_wakes_the_reader_and_keeps_the_queue():
    pipe, reader, _ = counted_pipe(hwm=10)
    fill(pipe, 2)
    pipe.close_writer()
    assert pipe.writer_closed is True
    assert reader.count == 2
    assert [pipe.read(), pipe.read(), pipe.read()] == [b"0", b"1", None]


def test_close_writer_wakes_the_reader_of_an_empty_pipe():
    pipe, reader, _ = counted_pipe(hwm=10)
    pipe.close_writer()
    assert reader.count == 1


# -- waking the writer ----------------------------------------------------------


def test_writer_is_not_woken_if_it_never_found_the_pipe_full():
    pipe, _, writer = counted_pipe(hwm=4)
    fill(pipe, 4)  # up to the mark, but every write fitted
    while pipe.read() is not None:
        pass
    assert writer.count == 0


def test_writer_is_woken_at_the_low_water_mark_after_a_failed_try_write():
    pipe, _, writer = counted_pipe(hwm=4)  # low-water mark 2
    fill(pipe, 4)
    assert not pipe.try_write(b"no room")
    counts = []
    for _ in range(4):
        pipe.read()
        counts.append(writer.count)
    assert counts == [0, 1, 1, 1]


def test_has_room_false_arranges_the_writer_wake_up():
    pipe, _, writer = counted_pipe(hwm=4)
    fill(pipe, 4)
    assert pipe.has_room() is False
    pipe.read()
    assert writer.count == 0
    pipe.read()
    assert writer.count == 1


def test_has_room_true_arranges_nothing():
    pipe, _, writer = counted_pipe(hwm=4)
    fill(pipe, 3)
    assert pipe.has_room() is True
    pipe.write(b"past")  # 4 queued, nobody waits
    while pipe.read() is not None:
        pass
    assert writer.count == 0


def test_writer_wake_up_fires_once_per_wait():
    pipe, _, writer = counted_pipe(hwm=2)  # low-water mark 1
    fill(pipe, 2)
    pipe.has_room()
    pipe.try_write(b"x")  # found full twice: still one wake-up
    pipe.read()
    pipe.read()
    assert writer.count == 1
    fill(pipe, 2, start=10)
    pipe.read()
    pipe.read()
    assert writer.count == 1  # nobody waited this time
    fill(pipe, 2, start=20)
    assert not pipe.try_write(b"z")
    pipe.read()
    assert writer.count == 2


def test_hwm_one_wakes_the_writer_when_emptied():
    pipe, _, writer = counted_pipe(hwm=1)
    fill(pipe, 1)
    assert not pipe.try_write(b"b")
    pipe.read()
    assert writer.count == 1


def test_write_past_the_mark_does_not_arrange_a_wake_up():
    pipe, _, writer = counted_pipe(hwm=2)
    for number in range(5):
        pipe.write(b"%d" % number)
    while pipe.read() is not None:
        pass
    assert writer.count == 0


def test_write_batch_returns_true_while_room_remains():
    pipe = Pipe(4)
    assert pipe.write_batch([b"a", b"b", b"c"]) is True
    assert pipe.write_batch([b"d"]) is False
    assert len(pipe) == 4


def test_write_batch_queues_everything_even_past_the_mark():
    pipe = Pipe(2)
    assert pipe.write_batch([b"%d" % number for number in range(5)]) is False
    assert list(pipe) == [b"0", b"1", b"2", b"3", b"4"]


def test_write_batch_false_wakes_the_writer_at_the_low_water_mark():
    pipe, _, writer = counted_pipe(hwm=4)
    assert pipe.write_batch([b"a", b"b", b"c", b"d", b"e", b"f"]) is False
    counts = []
    for _ in range(6):
        pipe.read()
        counts.append(writer.count)
    assert counts == [0, 0, 0, 1, 1, 1]  # woken when 2 (the low-water mark) were left


def test_write_batch_on_an_unlimited_pipe_is_always_true():
    pipe = Pipe(0)
    assert pipe.write_batch([b"x"] * 3000) is True


def test_read_all_wakes_a_waiting_writer():
    pipe, _, writer = counted_pipe(hwm=2)
    fill(pipe, 2)
    pipe.try_write(b"no room")
    pipe.read_all()
    assert writer.count == 1
    pipe.try_write(b"a")
    pipe.read_all()
    assert writer.count == 1


def test_read_all_without_a_waiting_writer_wakes_nobody():
    pipe, _, writer = counted_pipe(hwm=2)
    fill(pipe, 2)
    pipe.read_all()
    assert writer.count == 0


def test_close_reader_drops_the_queue_and_wakes_the_writer():
    pipe, _, writer = counted_pipe(hwm=2)
    fill(pipe, 2)
    pipe.try_write(b"no room")
    pipe.close_reader()
    assert pipe.reader_closed is True
    assert len(pipe) == 0
    assert pipe.read() is None
    assert writer.count == 1


def test_close_reader_releases_the_wait_only_once():
    pipe, _, writer = counted_pipe(hwm=2)
    fill(pipe, 2)
    pipe.has_room()
    pipe.close_reader()
    fill(pipe, 2)  # a writer that keeps writing (the socket layer stops it)
    pipe.read()
    pipe.read()
    assert writer.count == 1  # the wait was cleared by close_reader


# -- conflate -----------------------------------------------------------------


def test_conflate_keeps_only_the_newest_message():
    pipe = Pipe(2, conflate=True)
    for number in range(10):
        assert pipe.try_write(b"%d" % number)
    assert len(pipe) == 1
    assert pipe.read() == b"9"
    assert pipe.read() is None


def test_conflate_has_no_high_water_mark():
    pipe = Pipe(1, conflate=True)
    assert pipe.hwm == 0
    pipe.set_hwm(5)
    assert pipe.hwm == 0
    fill(pipe, 3)
    assert pipe.has_room()


def test_conflate_write_batch_keeps_the_last_of_the_batch():
    pipe = Pipe(10, conflate=True)
    assert pipe.write_batch([b"a", b"b", b"c"]) is True
    assert list(pipe) == [b"c"]


def test_conflate_survives_read_all():
    pipe = Pipe(10, conflate=True)
    pipe.try_write(b"a")
    assert list(pipe.read_all()) == [b"a"]
    pipe.try_write(b"b")
    pipe.try_write(b"c")
    assert list(pipe) == [b"c"]


def test_set_conflate_keeps_the_newest_queued_message_and_drops_the_mark():
    pipe = Pipe(3)
    fill(pipe, 3)
    pipe.set_conflate()
    assert pipe.hwm == 0
    assert list(pipe) == [b"2"]
    pipe.try_write(b"new")
    assert list(pipe) == [b"new"]


# -- a property: what goes in comes out, and the wake-ups follow the rules ------------

operations = st.lists(
    st.one_of(
        st.just(("try_write", 0)),
        st.just(("has_room", 0)),
        st.just(("write", 0)),
        st.just(("read", 0)),
        st.just(("read_all", 0)),
        st.tuples(st.just("write_batch"), st.integers(min_value=0, max_value=4)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(hwm=st.integers(min_value=0, max_value=6), ops=operations)
def test_pipe_keeps_order_bounds_and_wakes_as_documented(hwm, ops):
    pipe, reader, writer = counted_pipe(hwm=hwm)
    lwm = low_water_mark(hwm)
    queued = deque()  # what the pipe should hold
    delivered = []  # what came out, in order
    written = []  # what went in, in order
    waiting = False  # a writer found the pipe full since the last wake-up
    expected_reader = expected_writer = 0
    serial = 0

    def fits():
        return hwm == 0 or len(queued) < hwm

    for name, size in ops:
        if name in ("try_write", "write"):
            msg = serial
            serial += 1
            was_empty = not queued
            if name == "write":
                pipe.write(msg)
                accepted = True
            else:
                room = fits()
                accepted = pipe.try_write(msg)
                assert accepted == room
                if accepted:
                    assert hwm == 0 or len(pipe) <= hwm  # try_write never goes past the mark
                else:
                    waiting = True
            if accepted:
                queued.append(msg)
                written.append(msg)
                expected_reader += was_empty
        elif name == "has_room":
            room = fits()
            assert pipe.has_room() == room
            waiting = waiting or not room
        elif name == "write_batch":
            batch = list(range(serial, serial + size))
            serial += size
            was_empty = not queued
            queued.extend(batch)
            written.extend(batch)
            expected_reader += was_empty and bool(batch)
            room = fits()
            assert pipe.write_batch(batch) == room
            waiting = waiting or not room
        elif name == "read":
            msg = pipe.read()
            if queued:
                assert msg == queued.popleft()
                delivered.append(msg)
                if waiting and len(queued) <= lwm:
                    waiting = False
                    expected_writer += 1
            else:
                assert msg is None
        else:
            taken = list(pipe.read_all())
            assert taken == list(queued)
            delivered.extend(taken)
            queued.clear()
            if waiting:
                waiting = False
                expected_writer += 1
        assert len(pipe) == len(queued)
        assert reader.count == expected_reader
        assert writer.count == expected_writer

    assert delivered + list(pipe) == written  # nothing lost, duplicated or reordered


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=4), min_size=1, max_size=20))
def test_conflated_pipe_holds_only_the_last_write(messages):
    pipe = Pipe(1, conflate=True)
    for msg in messages:
        assert pipe.try_write(msg)
    assert list(pipe) == [messages[-1]]


# -- WirePipe -------------------------------------------------------------------


def test_wire_pipe_queues_the_wire_form():
    pipe = WirePipe(encode_message, hwm=10)
    pipe.try_write(b"hello")
    pipe.write([b"a", b"bc"])
    assert pipe.read() == b"\x00\x05hello"
    assert pipe.read() == b"\x01\x01a\x00\x02bc"


def test_only_a_wire_pipe_carries_wire_form():
    assert WirePipe(encode_message).carries_wire is True
    assert Pipe().carries_wire is False


def test_write_each_encodes_once_for_all_wire_pipes():
    encoder = CountingEncoder()
    pipes = [WirePipe(encoder, hwm=10) for _ in range(3)]
    write_each(b"news", pipes)
    assert encoder.encoded == [b"news"]
    first = pipes[0].read()
    assert first == b"\x00\x04news"
    assert all(pipe.read() is first for pipe in pipes[1:])  # the very same bytes


def test_wire_pipe_encodes_each_write_of_its_own():
    encoder = CountingEncoder()
    pipes = [WirePipe(encoder, hwm=10) for _ in range(2)]
    for pipe in pipes:
        pipe.try_write(b"m")
    assert encoder.encoded == [b"m", b"m"]


def test_wire_pipe_does_not_encode_what_it_has_no_room_for():
    encoder = CountingEncoder()
    full = WirePipe(encoder, hwm=1)
    assert full.try_write(b"first")
    assert not full.try_write(b"second")
    assert encoder.encoded == [b"first"]


def test_write_each_skips_full_pipes_unless_over_hwm():
    encoder = CountingEncoder()
    full = WirePipe(encoder, hwm=1)
    full.try_write(b"first")
    other = WirePipe(encoder, hwm=1)
    plain = Pipe(1)
    write_each(b"second", [full, other, plain])
    assert list(full) == [b"\x00\x05first"]  # missed it
    assert list(other) == [b"\x00\x06second"]
    assert list(plain) == [b"second"]  # a plain pipe takes the message itself
    write_each(b"third", [full, other], over_hwm=True)
    assert encoder.encoded == [b"first", b"second", b"third"]
    assert list(full) == [b"\x00\x05first", b"\x00\x05third"]
    assert list(other) == [b"\x00\x06second", b"\x00\x05third"]


def test_wire_pipe_keeps_the_pipe_rules():
    reader, writer = Calls(), Calls()
    pipe = WirePipe(encode_message, 2, reader, writer)
    assert pipe.try_write(b"a") and pipe.try_write(b"b")
    assert not pipe.try_write(b"c")
    assert reader.count == 1
    pipe.read()
    assert writer.count == 1


# -- Peer -------------------------------------------------------------------------


def test_peer_defaults():
    peer = Peer("tcp://127.0.0.1:5555")
    assert peer.endpoint == "tcp://127.0.0.1:5555"
    assert peer.inbound is None and peer.outbound is None
    assert peer.metadata is None and peer.routing_id is None
    assert peer.disconnect() is None
    assert repr(peer) == "<Peer 'tcp://127.0.0.1:5555'>"


def test_use_pipes_names_the_peer_on_its_inbound_pipe_only():
    peer = Peer("inproc://x", routing_id=b"id")
    inbound, outbound = Pipe(), Pipe()
    peer.use_pipes(inbound, outbound)
    assert peer.inbound is inbound and peer.outbound is outbound
    assert inbound.peer is peer
    assert outbound.peer is None


def test_use_pipes_accepts_a_missing_pipe():
    peer = Peer()
    outbound = Pipe()
    peer.use_pipes(None, outbound)
    assert peer.inbound is None
    assert peer.outbound is outbound


def test_peer_disconnect_is_the_given_callable():
    dropped = Calls()
    peer = Peer(disconnect=dropped)
    peer.disconnect()
    assert dropped.count == 1


def test_conflate_wakes_the_reader_only_when_the_pipe_goes_non_empty():
    reader = Calls()
    pipe = Pipe(10, wake_reader=reader, conflate=True)
    pipe.try_write(b"a")
    pipe.try_write(b"b")
    pipe.write(b"c")
    assert list(pipe) == [b"c"]
    assert reader.count == 1


def test_an_engine_takes_the_reader_wakeup_over_and_gives_it_back():
    session, engine = Calls(), Calls()
    pipe = Pipe(hwm=10, wake_reader=session)
    assert pipe.redirect_reader_wakeup(engine) is session
    pipe.write(b"a")
    assert (session.count, engine.count) == (0, 1)
    assert pipe.read() == b"a"
    assert pipe.redirect_reader_wakeup(session) is engine
    pipe.write(b"b")
    assert (session.count, engine.count) == (1, 1)


def test_take_single_takes_only_a_lone_message_and_releases_a_waiting_writer():
    writer = Calls()
    pipe = Pipe(hwm=1, wake_writer=writer)
    assert pipe.take_single() is None  # empty
    assert pipe.try_write(b"only")
    assert not pipe.try_write(b"no room")  # the writer now waits for room
    assert pipe.take_single() == b"only"
    assert writer.count == 1 and len(pipe) == 0
    pipe.write(b"one")
    pipe.write(b"two")
    assert pipe.take_single() is None  # two queued: left for a batch
    assert len(pipe) == 2

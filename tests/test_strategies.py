"""The routing strategies (LoadBalancer, FairQueue, Distributor) and TopicIndex, on bare pipes."""

from collections import deque

import pytest

from greenmq._pipe import Pipe, WirePipe
from greenmq.patterns.strategies import Distributor, FairQueue, LoadBalancer
from greenmq.patterns.topics import TopicIndex
from greenmq.zmtp.framing import encode_message


class Calls:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


def full_pipe(hwm=1, wake_writer=None):
    pipe = Pipe(hwm, wake_writer=wake_writer) if wake_writer else Pipe(hwm)
    for number in range(hwm):
        assert pipe.try_write(b"old%d" % number)
    return pipe


def balancer(*pipes):
    lb = LoadBalancer()
    for pipe in pipes:
        lb.attach(pipe)
    return lb


def fair_queue(*pipes):
    fq = FairQueue()
    for pipe in pipes:
        fq.attach(pipe)
    return fq


def contents(pipe):
    return list(pipe)


# -- LoadBalancer -------------------------------------------------------------------


def test_load_balancer_goes_round_robin():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    lb = balancer(a, b, c)
    for number in range(7):
        assert lb.send(number)
    assert (contents(a), contents(b), contents(c)) == ([0, 3, 6], [1, 4], [2, 5])


def test_load_balancer_skips_full_pipes():
    a, b, c = full_pipe(1), Pipe(10), Pipe(10)
    lb = balancer(a, b, c)
    for number in range(3):
        assert lb.send(number)
    assert (contents(a), contents(b), contents(c)) == ([b"old0"], [0, 2], [1])


def test_load_balancer_resumes_after_the_pipe_it_used():
    a, b, c = Pipe(10), Pipe(1), Pipe(10)
    lb = balancer(a, b, c)
    lb.send("a1")
    lb.send("b1")  # b is now full
    lb.send("c1")
    lb.send("a2")
    lb.send("c2")  # b skipped: the turn passes to c
    lb.send("a3")
    assert (contents(a), contents(b), contents(c)) == (["a1", "a2", "a3"], ["b1"], ["c1", "c2"])


def test_load_balancer_with_every_pipe_full_sends_nothing():
    a, b = full_pipe(1), full_pipe(1)
    lb = balancer(a, b)
    assert lb.send(b"x") is False
    assert (contents(a), contents(b)) == ([b"old0"], [b"old0"])
    assert lb.last is None


def test_load_balancer_without_pipes_refuses():
    lb = LoadBalancer()
    assert lb.send(b"x") is False
    assert lb.can_send() is False


def test_load_balancer_over_hwm_without_pipes_drops_the_message():
    lb = LoadBalancer()
    assert lb.send(b"x", over_hwm=True) is True
    assert lb.last is None


def test_load_balancer_over_hwm_queues_past_the_mark_in_turn():
    a, b = full_pipe(1), full_pipe(1)
    lb = balancer(a, b)
    assert lb.send(b"x", over_hwm=True)
    assert lb.send(b"y", over_hwm=True)
    assert lb.send(b"z", over_hwm=True)
    assert contents(a) == [b"old0", b"x", b"z"]
    assert contents(b) == [b"old0", b"y"]


def test_load_balancer_over_hwm_prefers_a_pipe_with_room():
    a, b = full_pipe(1), Pipe(10)
    lb = balancer(a, b)
    assert lb.send(b"x", over_hwm=True)
    assert contents(a) == [b"old0"]
    assert contents(b) == [b"x"]


def test_load_balancer_single_pipe_over_hwm():
    a = full_pipe(2)
    lb = balancer(a)
    assert lb.send(b"x") is False
    assert lb.send(b"x", over_hwm=True) is True
    assert contents(a) == [b"old0", b"old1", b"x"]
    assert lb.last is a


def test_load_balancer_last_is_the_pipe_used():
    a, b = Pipe(10), Pipe(10)
    lb = balancer(a, b)
    lb.send(1)
    assert lb.last is a
    lb.send(2)
    assert lb.last is b


def test_load_balancer_last_survives_a_failed_send():
    a = Pipe(1)
    lb = balancer(a)
    lb.send(1)
    assert lb.send(2) is False
    assert lb.last is a


def test_load_balancer_can_send_while_any_pipe_has_room():
    a, b = full_pipe(1), Pipe(1)
    lb = balancer(a, b)
    assert lb.can_send() is True
    b.try_write(b"fill")
    assert lb.can_send() is False


def test_load_balancer_can_send_false_asks_every_pipe_for_a_wake_up():
    woken = Calls()
    a, b = full_pipe(2, woken), full_pipe(2, woken)
    lb = balancer(a, b)
    assert lb.can_send() is False
    b.read()
    assert woken.count == 1
    a.read()
    assert woken.count == 2


def test_load_balancer_detach_before_the_turn_keeps_the_turn():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    lb = balancer(a, b, c)
    lb.send(1)  # a; b is next
    lb.detach(a)
    lb.send(2)
    assert contents(b) == [2]


def test_load_balancer_detach_of_the_next_pipe_passes_the_turn_on():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    lb = balancer(a, b, c)
    lb.send(1)  # a; b is next
    lb.detach(b)
    lb.send(2)
    assert contents(c) == [2]


def test_load_balancer_detach_of_the_last_pipe_wraps_the_turn():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    lb = balancer(a, b, c)
    lb.send(1)
    lb.send(2)  # c is next
    lb.detach(c)
    lb.send(3)
    assert contents(a) == [1, 3]


def test_load_balancer_detach_of_an_unknown_pipe_is_ignored():
    a = Pipe(10)
    lb = balancer(a)
    lb.detach(Pipe())
    assert lb.pipes == [a]


# -- FairQueue ---------------------------------------------------------------------


def test_fair_queue_takes_one_message_from_each_pipe_in_turn():
    pipes = [Pipe(10) for _ in range(3)]
    for name, pipe in zip("abc", pipes):
        for number in range(3):
            pipe.try_write(f"{name}{number}")
    fq = fair_queue(*pipes)
    received = [fq.recv() for _ in range(10)]
    assert received == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2", None]


def test_fair_queue_skips_empty_pipes():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    a.try_write("a0")
    a.try_write("a1")
    c.try_write("c0")
    fq = fair_queue(a, b, c)
    assert [fq.recv(), fq.recv(), fq.recv(), fq.recv()] == ["a0", "c0", "a1", None]


def test_fair_queue_serves_pipes_in_the_order_their_messages_arrived():
    a, b = Pipe(10), Pipe(10)
    fq = fair_queue(a, b)
    a.try_write("a0")
    assert fq.recv() == "a0"
    b.try_write("b0")
    a.try_write("a1")
    assert fq.recv() == "b0"  # b's message came first
    a.try_write("a2")
    b.try_write("b1")
    assert [fq.recv(), fq.recv(), fq.recv(), fq.recv()] == ["a1", "b1", "a2", None]


class CountingPipe(Pipe):
    """A pipe that counts how often its reader looked into it."""

    __slots__ = ("reads",)

    def __init__(self, hwm):
        super().__init__(hwm)
        self.reads = 0

    def read(self):
        self.reads += 1
        return super().read()


def test_fair_queue_looks_only_into_pipes_with_messages():
    """A receive costs the same among thousands of quiet pipes as among two (libzmq's active set)."""
    pipes = [CountingPipe(10) for _ in range(5000)]
    fq = fair_queue(*pipes)
    busy = pipes[4321]
    for round_ in range(3):
        busy.try_write(round_)
        assert fq.recv() == round_ and fq.last is busy
        assert fq.recv() is None
        assert fq.can_recv() is False
    assert busy.reads == 3
    assert sum(pipe.reads for pipe in pipes) == 3


def test_fair_queue_reads_the_last_pipe_left_when_a_finished_one_is_dropped():
    """Dropping the second-to-last pipe switches to reading the last one directly; a message
    already in that pipe must not be forgotten in the switch (it would get no second wake-up)."""
    finished, other = Pipe(10), Pipe(10)
    fq = fair_queue(finished)
    finished.close_writer()  # its wake-up came while it was the only pipe
    fq.attach(other)
    other.try_write("waiting")
    assert fq.recv() == "waiting"
    assert list(fq.pipes) == [other]
    assert fq.recv() is None


class RacingQueue(deque):
    """A pipe's queue whose ``popleft`` lets another writer append right after it took the
    last message: what a writer in another OS thread may do before the reader goes on."""

    def __init__(self, late_write):
        super().__init__()
        self.late_write = late_write

    def popleft(self):
        msg = super().popleft()
        if not self and self.late_write is not None:
            late_write, self.late_write = self.late_write, None
            late_write()
        return msg


class RacedPipe(Pipe):
    """A pipe written to by a racing writer at the moment its reader empties it."""

    def __init__(self, hwm, late_message):
        super().__init__(hwm)
        self._queue = RacingQueue(lambda: self.try_write(late_message))


def test_fair_queue_keeps_a_pipe_written_while_it_was_being_emptied():
    racing, other = RacedPipe(10, "late"), Pipe(10)
    fq = fair_queue(racing, other)
    racing.try_write("first")
    assert fq.recv() == "first"
    assert fq.can_recv() is True
    assert [fq.recv(), fq.recv()] == ["late", None]


def test_fair_queue_hears_of_a_message_written_before_the_pipe_was_attached():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    fq = fair_queue(a)
    c.try_write("c0")
    fq.attach(b)
    fq.attach(c)
    assert fq.can_recv() is True
    assert [fq.recv(), fq.recv()] == ["c0", None]


def test_fair_queue_forgets_a_pipe_that_leaves_and_still_wakes_the_reader():
    woken = Calls()
    a, b = Pipe(10, wake_reader=woken), Pipe(10)
    fq = fair_queue(a, b)
    a.try_write("a0")
    assert woken.count == 1  # the socket is still woken, through the queue's wake-up
    fq.detach(a)
    assert fq.recv() is None  # a's message is no longer the queue's
    assert fq.can_recv() is False
    assert a.read() == "a0"
    a.try_write("a1")
    assert woken.count == 2
    assert fq.recv() is None


def test_fair_queue_takes_pipes_in_and_out_of_line_as_they_fill_and_empty():
    """Each message a pipe gets after being emptied puts it in line, and emptying takes it out;
    a second wake-up for a pipe already in line (its writer closing) does no harm."""
    a, b = Pipe(10), Pipe(10)
    fq = fair_queue(a, b)
    for number in range(1000):
        a.try_write(number)
        b.try_write(-number)
        assert [fq.recv(), fq.recv(), fq.recv()] == [number, -number, None]
    a.try_write("x")
    a.close_writer()  # a second wake-up for a pipe already in line
    assert [fq.recv(), fq.recv()] == ["x", None]
    assert list(fq.pipes) == [b]


def test_fair_queue_last_is_the_pipe_of_the_latest_message():
    a, b = Pipe(10), Pipe(10)
    fq = fair_queue(a, b)
    assert fq.last is None
    b.try_write("b0")
    fq.recv()
    assert fq.last is b
    assert fq.recv() is None
    assert fq.last is b


def test_fair_queue_without_pipes_gives_nothing():
    fq = FairQueue()
    assert fq.recv() is None
    assert fq.can_recv() is False


def test_fair_queue_can_recv_reports_any_queued_message():
    a, b = Pipe(10), Pipe(10)
    fq = fair_queue(a, b)
    assert fq.can_recv() is False
    b.try_write("b0")
    assert fq.can_recv() is True
    assert len(b) == 1  # asking takes nothing


def test_fair_queue_drains_a_closed_pipe_then_drops_it():
    a = Pipe(10)
    a.try_write("last words")
    a.close_writer()
    fq = fair_queue(a)
    assert fq.recv() == "last words"
    assert list(fq.pipes) == [a]
    assert fq.recv() is None
    assert list(fq.pipes) == []


def test_fair_queue_keeps_an_open_empty_pipe():
    a, b = Pipe(10), Pipe(10)
    fq = fair_queue(a, b)
    assert fq.recv() is None
    assert list(fq.pipes) == [a, b]
    fq1 = fair_queue(a)
    assert fq1.recv() is None
    assert list(fq1.pipes) == [a]


def test_fair_queue_delivers_a_closed_pipe_among_others_before_dropping_it():
    a, b = Pipe(10), Pipe(10)
    a.try_write("a0")
    a.try_write("a1")
    a.close_writer()
    b.try_write("b0")
    fq = fair_queue(a, b)
    assert [fq.recv(), fq.recv(), fq.recv(), fq.recv()] == ["a0", "b0", "a1", None]
    assert list(fq.pipes) == [b]


def test_fair_queue_drops_a_finished_pipe_while_returning_another_message():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    a.close_writer()
    for pipe, name in ((b, "b"), (c, "c")):
        pipe.try_write(name + "0")
        pipe.try_write(name + "1")
    fq = fair_queue(a, b, c)
    assert fq.recv() == "b0"
    assert list(fq.pipes) == [b, c]
    assert [fq.recv(), fq.recv(), fq.recv()] == ["c0", "b1", "c1"]  # the turn order survives the drop


def test_fair_queue_drops_a_finished_pipe_found_after_wrapping():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    fq = fair_queue(a, b, c)
    for pipe, name in ((a, "a"), (b, "b")):
        pipe.try_write(name + "0")
    assert fq.recv() == "a0"
    assert fq.recv() == "b0"  # c is next
    c.close_writer()
    a.try_write("a1")
    b.try_write("b1")
    assert fq.recv() == "a1"
    assert list(fq.pipes) == [a, b]
    assert fq.recv() == "b1"


def test_load_balancer_and_fair_queue_follow_pipes_coming_and_going():
    """From one pipe to two and back to one (the one-pipe case is a path of its own)."""
    first, second = Pipe(10), Pipe(10)
    lb, fq = LoadBalancer(), FairQueue()
    for strategy in (lb, fq):
        strategy.attach(first)
    assert lb.send(b"a") and lb.last is first
    for strategy in (lb, fq):
        strategy.attach(second)
    assert lb.send(b"b") and lb.send(b"c")
    assert (list(first), list(second)) == ([b"a", b"b"], [b"c"])
    second.write(b"from second")
    assert [fq.recv(), fq.recv(), fq.recv(), fq.recv()] == [b"a", b"c", b"b", b"from second"]  # in turn
    for strategy in (lb, fq):
        strategy.detach(first)
    assert lb.send(b"d") and lb.last is second
    assert fq.recv() == b"d" and fq.last is second
    assert fq.recv() is None


def test_fair_queue_detach_keeps_the_turn():
    a, b, c = Pipe(10), Pipe(10), Pipe(10)
    for pipe, name in ((a, "a"), (b, "b"), (c, "c")):
        pipe.try_write(name + "0")
    fq = fair_queue(a, b, c)
    assert fq.recv() == "a0"
    fq.detach(a)
    assert fq.recv() == "b0"
    assert fq.recv() == "c0"


# -- Distributor -----------------------------------------------------------------


def test_distributor_sends_to_every_pipe_given():
    pipes = [Pipe(10) for _ in range(3)]
    Distributor.send_to(b"news", pipes)
    assert [contents(pipe) for pipe in pipes] == [[b"news"]] * 3


def test_distributor_full_pipe_misses_the_message():
    a, b = full_pipe(1), Pipe(10)
    Distributor.send_to(b"news", [a, b])
    assert contents(a) == [b"old0"]
    assert contents(b) == [b"news"]


def test_distributor_over_hwm_reaches_full_pipes_too():
    a, b = full_pipe(1), Pipe(10)
    Distributor.send_to(b"news", [a, b], over_hwm=True)
    assert contents(a) == [b"old0", b"news"]
    assert contents(b) == [b"news"]


def test_distributor_encodes_once_for_all_wire_pipes():
    encoded = []

    def encode(msg):
        encoded.append(msg)
        return encode_message(msg)

    wire1, wire2, plain = WirePipe(encode, 10), WirePipe(encode, 10), Pipe(10)
    Distributor.send_to(b"news", [wire1, plain, wire2])
    assert encoded == [b"news"]
    assert wire1.peek() is wire2.peek()
    assert wire1.peek() == b"\x00\x04news"
    assert contents(plain) == [b"news"]


def test_distributor_encodes_each_message_afresh():
    encoded = []

    def encode(msg):
        encoded.append(msg)
        return encode_message(msg)

    pipes = [WirePipe(encode, 10), WirePipe(encode, 10)]
    Distributor.send_to(b"one", pipes)
    Distributor.send_to(b"two", pipes)
    assert encoded == [b"one", b"two"]
    assert contents(pipes[1]) == [b"\x00\x03one", b"\x00\x03two"]


def test_distributor_over_hwm_shares_the_encoding_with_full_wire_pipes():
    encoded = []

    def encode(msg):
        encoded.append(msg)
        return encode_message(msg)

    full, fresh = WirePipe(encode, 1), WirePipe(encode, 1)
    full.write(b"x")
    encoded.clear()
    Distributor.send_to(b"news", [full, fresh], over_hwm=True)
    assert encoded == [b"news"]
    assert contents(full)[-1] == contents(fresh)[0] == b"\x00\x04news"


def test_distributor_all_have_room():
    assert Distributor.all_have_room([Pipe(1), Pipe(1)]) is True
    assert Distributor.all_have_room([Pipe(1), full_pipe(1)]) is False
    assert Distributor.all_have_room([]) is True


def test_distributor_all_have_room_false_arranges_a_wake_up():
    woken = Calls()
    full = full_pipe(1, woken)
    assert Distributor.all_have_room([Pipe(1), full]) is False
    full.read()
    assert woken.count == 1


def test_distributor_attach_and_detach():
    a, b = Pipe(), Pipe()
    dist = Distributor()
    dist.attach(a)
    dist.attach(b)
    dist.detach(a)
    dist.detach(Pipe())  # unknown: ignored
    assert dist.pipes == [b]


# -- TopicIndex ------------------------------------------------------------------


def test_topic_index_finds_every_prefix_of_the_data():
    index = TopicIndex()
    for topic in (b"", b"A", b"AB", b"B", b"ABCD"):
        index.set(topic, topic.decode() or "all")
    assert sorted(index.matching(b"ABC")) == ["A", "AB", "all"]
    assert index.matching(b"ABCDE") == ["all", "A", "AB", "ABCD"]  # shortest first
    assert index.matching(b"") == ["all"]
    assert index.matching(b"C") == ["all"]


def test_topic_index_get_set_remove_and_len():
    index = TopicIndex()
    index.set(b"A", 1)
    index.set(b"B", 2)
    index.set(b"A", 3)
    assert len(index) == 2
    assert index.get(b"A") == 3
    assert index.get(b"AA") is None
    index.remove(b"A")
    assert index.get(b"A") is None
    assert index.topics() == [b"B"]
    assert index.matching(b"AB") == []
    index.remove(b"B")
    assert len(index) == 0
    assert index.matching(b"B") == []


def test_topic_index_remove_of_an_unknown_topic_raises():
    index = TopicIndex()
    with pytest.raises(KeyError):
        index.remove(b"nothing")


def test_topic_index_ignores_longer_topics():
    index = TopicIndex()
    index.set(b"ABC", "long")
    assert index.matching(b"AB") == []

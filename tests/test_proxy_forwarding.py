"""The proxy's bursts (``SocketBase.forward``): every socket pair, back-pressure, capture, steering.

A direction of ``greenmq.proxy`` moves every message already queued on its
source, up to the room its destination has, in one step. These tests check
that the rules of each socket type hold on that path (routing ids, fair
queueing, subscriptions, SUB filtering, drops for XPUB), that a full backend
stops the proxy from taking anything more (libzmq's proxy does the same:
checked with pyzmq 27.3, where STATISTICS stays at zero while the backend of
a PULL/PUSH proxy has no peer), that the statistics count frames and bytes as
before, and which pairs take the path at all (REQ and REP do not).
"""

import struct

import gevent
import pytest

import greenmq as zmq
from greenmq._pipe import Pipe
from greenmq.patterns.strategies import FairQueue, LoadBalancer
from greenmq.proxy import BURST

from support import TIMEOUT, assert_nothing_arrives, drain, endpoint_for, new_socket

FAST_TRANSPORTS = ["tcp", "inproc"]


def linked(ctx, bound_type, connected_type, endpoint, bound_options=None, connected_options=None):
    """A bound socket and a socket connected to it (LINGER 0; options set before bind/connect)."""
    bound = new_socket(ctx, bound_type, **(bound_options or {}))
    connected = new_socket(ctx, connected_type, **(connected_options or {}))
    bound.bind(endpoint)
    connected.connect(bound.last_endpoint.decode())
    return bound, connected


def stats_of(steer):
    steer.send(b"STATISTICS")
    return [struct.unpack("=Q", frame)[0] for frame in steer.recv_multipart()]


def expected_stats(messages):
    """libzmq's counters for ``messages`` (lists of frames): frames, then bytes."""
    return [sum(len(m) for m in messages), sum(len(f) for m in messages for f in m)]


@pytest.fixture
def forward_calls(monkeypatch):
    """Record each burst: (source type, destination type, messages taken); and each recv_multipart
    a proxy direction makes (the one-at-a-time path) as (socket type,)."""
    bursts = []
    singles = []
    forward = zmq.Socket.forward
    recv_multipart = zmq.Socket.recv_multipart

    def recording_forward(self, destination, limit):
        taken, sent = forward(self, destination, limit)
        if taken:
            bursts.append((self.socket_type, destination.socket_type, len(taken)))
        return taken, sent

    def recording_recv_multipart(self, *args, **kwargs):
        if getattr(getattr(gevent.getcurrent(), "_run", None), "__name__", "") == "_forward":
            singles.append((self.socket_type,))
        return recv_multipart(self, *args, **kwargs)

    monkeypatch.setattr(zmq.Socket, "forward", recording_forward)
    monkeypatch.setattr(zmq.Socket, "recv_multipart", recording_recv_multipart)
    return bursts, singles


# -- every pair the proxy forwards in bursts ---------------------------------------------------------


@pytest.mark.parametrize("transport", FAST_TRANSPORTS)
def test_pull_push_keeps_multipart_messages_whole_and_in_order_per_sender(ctx, transport, tmp_path,
                                                                          forward_calls):
    frontend = new_socket(ctx, zmq.PULL)
    frontend.bind(endpoint_for(transport, tmp_path, "in"))
    senders = [new_socket(ctx, zmq.PUSH) for _ in range(3)]
    for sender in senders:
        sender.connect(frontend.last_endpoint.decode())
    backend = new_socket(ctx, zmq.PUSH)
    backend.bind(endpoint_for(transport, tmp_path, "out"))
    sinks = [new_socket(ctx, zmq.PULL) for _ in range(2)]
    for sink in sinks:
        sink.connect(backend.last_endpoint.decode())
    count = 1500
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)

        def produce(n, sender):
            for i in range(count):
                sender.send_multipart([b"s%d" % n, b"%d" % i] + [b"x" * (i % 7)] * (i % 3))

        producers = [gevent.spawn(produce, n, sender) for n, sender in enumerate(senders)]
        received = {0: [], 1: []}

        def consume(k, sink):
            while True:
                received[k].append(sink.recv_multipart())

        consumers = [gevent.spawn(consume, k, sink) for k, sink in enumerate(sinks)]
        while sum(map(len, received.values())) < 3 * count:
            gevent.sleep(0.01)
        gevent.joinall(producers, raise_error=True)
        gevent.killall(consumers + [proxy])
    everything = received[0] + received[1]
    assert len(everything) == 3 * count
    for n in range(3):
        # Each sender's messages arrive whole and, per sink, in the order sent.
        for k in (0, 1):
            mine = [m for m in received[k] if m[0] == b"s%d" % n]
            numbers = [int(m[1]) for m in mine]
            assert numbers == sorted(numbers)
            assert all(m[2:] == [b"x" * (int(m[1]) % 7)] * (int(m[1]) % 3) for m in mine)
        assert sorted(int(m[1]) for m in everything if m[0] == b"s%d" % n) == list(range(count))
    bursts, singles = forward_calls
    assert bursts and singles == []
    assert {(source, destination) for source, destination, _ in bursts} == {(zmq.PULL, zmq.PUSH)}


@pytest.mark.parametrize("transport", FAST_TRANSPORTS)
def test_router_dealer_broker_keeps_routing_ids_both_ways(ctx, transport, tmp_path, forward_calls):
    frontend = new_socket(ctx, zmq.ROUTER)
    frontend.bind(endpoint_for(transport, tmp_path, "front"))
    clients = [new_socket(ctx, zmq.DEALER, routing_id=b"client-%d" % n) for n in range(2)]
    for client in clients:
        client.connect(frontend.last_endpoint.decode())
    backend, worker = linked(ctx, zmq.DEALER, zmq.DEALER, endpoint_for(transport, tmp_path, "back"))
    capture, tap = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://broker-tap")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend, capture)
        for round_ in range(50):
            for n, client in enumerate(clients):
                client.send_multipart([b"", b"ask", b"%d/%d" % (n, round_)])
        requests = [worker.recv_multipart() for _ in range(100)]
        for routing_id, delimiter, verb, body in requests:
            assert (delimiter, verb) == (b"", b"ask")
            assert routing_id == b"client-" + body.split(b"/")[0]
            worker.send_multipart([routing_id, b"", b"answer", body])
        for n, client in enumerate(clients):
            assert [client.recv_multipart() for _ in range(50)] == [
                [b"", b"answer", b"%d/%d" % (n, round_)] for round_ in range(50)]
        captured = [tap.recv_multipart() for _ in range(200)]
        proxy.kill()
    replies = [[r[0], b"", b"answer", r[3]] for r in requests]  # as the backend received them
    assert sorted(map(tuple, captured)) == sorted(map(tuple, requests + replies))
    bursts, singles = forward_calls
    assert singles == []
    assert {(source, destination) for source, destination, _ in bursts} == {
        (zmq.ROUTER, zmq.DEALER), (zmq.DEALER, zmq.ROUTER)}


@pytest.mark.parametrize("transport", FAST_TRANSPORTS)
def test_xsub_xpub_forwards_subscriptions_up_and_filtered_data_down(ctx, transport, tmp_path, forward_calls):
    frontend, publisher = linked(ctx, zmq.XSUB, zmq.PUB, endpoint_for(transport, tmp_path, "up"))
    backend, subscriber = linked(ctx, zmq.XPUB, zmq.SUB, endpoint_for(transport, tmp_path, "down"))
    other = new_socket(ctx, zmq.SUB)
    other.connect(backend.last_endpoint.decode())
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        subscriber.subscribe(b"a")
        other.subscribe(b"b")
        # Until both subscriptions have gone through the proxy to the publisher.
        seen = set()
        while seen != {b"a", b"b"}:
            publisher.send(b"a-probe")
            publisher.send(b"b-probe")
            gevent.sleep(0.01)
            seen |= {msg[0][:1] for msg in drain(subscriber) + drain(other)}
        for i in range(200):
            publisher.send_multipart([b"abc"[i % 3:i % 3 + 1] + b"-topic", b"%d" % i])

        def data(sock, count):
            """The next ``count`` messages that are not probes (late probes may still come)."""
            messages = []
            while len(messages) < count:
                msg = sock.recv_multipart()
                if not msg[0].endswith(b"-probe"):
                    messages.append(msg)
            return messages

        got_a = data(subscriber, 67)
        got_b = data(other, 67)
        proxy.kill()
    assert got_a == [[b"a-topic", b"%d" % i] for i in range(0, 200, 3)]
    assert got_b == [[b"b-topic", b"%d" % i] for i in range(1, 200, 3)]
    bursts, singles = forward_calls
    assert singles == []
    assert {(source, destination) for source, destination, _ in bursts} == {
        (zmq.XSUB, zmq.XPUB), (zmq.XPUB, zmq.XSUB)}


@pytest.mark.parametrize("transport", FAST_TRANSPORTS)
def test_pair_pair_both_ways(ctx, transport, tmp_path, forward_calls):
    frontend, client = linked(ctx, zmq.PAIR, zmq.PAIR, endpoint_for(transport, tmp_path, "front"))
    backend, worker = linked(ctx, zmq.PAIR, zmq.PAIR, endpoint_for(transport, tmp_path, "back"))
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        for i in range(300):
            client.send_multipart([b"q", b"%d" % i, b"y" * 70000] if i % 100 == 0 else [b"q%d" % i])
            worker.send(b"r%d" % i)
        assert [worker.recv_multipart() for _ in range(300)] == [
            [b"q", b"%d" % i, b"y" * 70000] if i % 100 == 0 else [b"q%d" % i] for i in range(300)]
        assert [client.recv() for _ in range(300)] == [b"r%d" % i for i in range(300)]
        proxy.kill()
    bursts, singles = forward_calls
    assert singles == []
    assert {(source, destination) for source, destination, _ in bursts} == {(zmq.PAIR, zmq.PAIR)}


def test_a_burst_takes_every_queued_message_at_once(ctx, forward_calls):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://burst-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://burst-out")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        gevent.idle()  # the proxy waits for its frontend
        for i in range(50):
            source.send(b"%d" % i)  # no switch: all 50 are queued before the proxy runs
        assert [sink.recv() for _ in range(50)] == [b"%d" % i for i in range(50)]
        proxy.kill()
    bursts, _ = forward_calls
    assert bursts == [(zmq.PULL, zmq.PUSH, 50)]


@pytest.mark.parametrize("frontend_type, backend_type, client_type, worker_type", [
    (zmq.ROUTER, zmq.REQ, zmq.REQ, zmq.REP),
    (zmq.REP, zmq.DEALER, zmq.REQ, zmq.DEALER),
])
def test_req_and_rep_are_forwarded_one_message_at_a_time(ctx, frontend_type, backend_type, client_type,
                                                          worker_type, forward_calls):
    """REQ and REP keep their state machines on the recv_multipart/send_multipart path."""
    frontend, client = linked(ctx, frontend_type, client_type, "inproc://one-front")
    backend, worker = linked(ctx, backend_type, worker_type, "inproc://one-back")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        client.send(b"question")
        if frontend_type == zmq.ROUTER:  # ROUTER -> REQ: the REQ backend adds its own envelope
            assert worker.recv_multipart()[-1] == b"question"
        else:
            assert worker.recv() == b"question"
        proxy.kill()
    bursts, singles = forward_calls
    assert bursts == []
    assert (frontend_type,) in singles


# -- back-pressure and drops ----------------------------------------------------------------------


def test_full_backend_stops_the_proxy_taking_and_nothing_is_lost_or_reordered(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://bp-in")
    # inproc: the pipe's mark is the sum of both sockets' (4 + 4).
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://bp-out", {"sndhwm": 4}, {"rcvhwm": 4})
    ctl, steer = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://bp-control")
    messages = [[b"%d" % i, b"z" * i] for i in range(200)]
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        for msg in messages:
            source.send_multipart(msg)
        gevent.idle()
        stats = stats_of(steer)
        # The proxy took only what the backend had room for, and sent all of it: it holds nothing.
        assert stats[0:2] == stats[6:8] == expected_stats(messages[:8])
        assert frontend.poll(0) == zmq.POLLIN  # the rest waits in the frontend
        received = [sink.recv_multipart() for _ in range(200)]
        assert stats_of(steer) == expected_stats(messages) + [0, 0, 0, 0] + expected_stats(messages)
        steer.send(b"TERMINATE")
        assert proxy.get() == 0
    assert received == messages


@pytest.mark.parametrize("transport", FAST_TRANSPORTS)
def test_slow_tcp_sink_gets_everything_in_order(ctx, transport, tmp_path):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, endpoint_for(transport, tmp_path, "in"))
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, endpoint_for(transport, tmp_path, "out"),
                           {"sndhwm": 3}, {"rcvhwm": 3})
    count = 3 * BURST
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        producer = gevent.spawn(lambda: [source.send_multipart([b"%d" % i, b"." * (i % 50)]) for i in range(count)])
        received = []
        for i in range(count):
            received.append(sink.recv_multipart())
            if i % 97 == 0:
                gevent.sleep(0.001)  # a sink slower than the proxy now and then
        producer.get()
        proxy.kill()
    assert received == [[b"%d" % i, b"." * (i % 50)] for i in range(count)]


def test_xpub_backend_drops_for_a_full_subscriber_and_the_proxy_goes_on(ctx):
    frontend, publisher = linked(ctx, zmq.XSUB, zmq.PUB, "inproc://drop-up")
    backend, subscriber = linked(ctx, zmq.XPUB, zmq.SUB, "inproc://drop-down", {"sndhwm": 2}, {"rcvhwm": 2})
    ctl, steer = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://drop-control")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        subscriber.subscribe(b"")
        gevent.idle()  # the subscription went up through the proxy to the publisher
        for i in range(50):
            publisher.send(b"%d" % i)
        gevent.idle()
        stats = stats_of(steer)
        assert stats[0:2] == expected_stats([[b"%d" % i] for i in range(50)])
        assert stats[6:8] == stats[0:2]  # all of them "sent": the XPUB dropped what did not fit
        assert drain(subscriber) == [[b"%d" % i] for i in range(4)]  # the first 2 + 2 fitted
        publisher.send(b"later")
        assert subscriber.recv() == b"later"
        steer.send(b"TERMINATE")
        assert proxy.get() == 0


# -- capture and steering -----------------------------------------------------------------------


def test_statistics_count_frames_and_bytes_of_bursts_both_ways(ctx):
    frontend, client = linked(ctx, zmq.ROUTER, zmq.DEALER, "inproc://stat-front", connected_options={
        "routing_id": b"me"})
    backend, worker = linked(ctx, zmq.DEALER, zmq.DEALER, "inproc://stat-back")
    ctl, steer = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://stat-control")
    capture, tap = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://stat-tap")
    requests = [[b"", b"r%d" % i, b"w" * (i * 13 % 300)] for i in range(120)]
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy_steerable, frontend, backend, capture, ctl)
        for msg in requests:
            client.send_multipart(msg)
        forwarded = [worker.recv_multipart() for _ in requests]
        assert forwarded == [[b"me", *msg] for msg in requests]
        replies = [[b"me", b"", b"ok%d" % i] for i in range(120)]
        for msg in replies:
            worker.send_multipart(msg)
        assert [client.recv_multipart() for _ in replies] == [msg[1:] for msg in replies]
        in_stats, out_stats = expected_stats(forwarded), expected_stats(replies)
        assert stats_of(steer) == in_stats + out_stats + out_stats + in_stats
        assert drain(tap) == forwarded + replies  # requests all came first: the capture is in order
        steer.send(b"TERMINATE")
        assert proxy.get() == 0


def test_pause_leaves_messages_queued_and_resume_forwards_them_in_order(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://pause-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://pause-out")
    ctl, steer = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://pause-control")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        source.send(b"before")
        assert sink.recv() == b"before"
        steer.send(b"PAUSE")
        assert stats_of(steer)[0] == 1  # (PAIR: no answer to PAUSE; STATISTICS follows it)
        for i in range(30):
            source.send(b"%d" % i)
        assert_nothing_arrives(sink, 0.05)
        steer.send(b"RESUME")
        assert [sink.recv() for _ in range(30)] == [b"%d" % i for i in range(30)]
        steer.send(b"TERMINATE")
        assert proxy.get() == 0


def test_monitored_queue_captures_bursts_with_prefixes(ctx):
    ins, client = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://mq-in")
    outs, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://mq-out")
    mon, tap = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://mq-mon")
    with gevent.Timeout(TIMEOUT):
        queue = gevent.spawn(zmq.devices.monitored_queue, ins, outs, mon)
        for i in range(40):
            client.send_multipart([b"m", b"%d" % i])
        assert [sink.recv_multipart() for _ in range(40)] == [[b"m", b"%d" % i] for i in range(40)]
        assert [tap.recv_multipart() for _ in range(40)] == [[b"in", b"m", b"%d" % i] for i in range(40)]
        queue.kill()


# -- a message half received or half sent before the proxy started ----------------------------------


def test_rest_of_a_message_begun_with_recv_is_forwarded_first(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://half-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://half-out")
    source.send_multipart([b"head", b"body", b"tail"])
    source.send(b"next")
    assert frontend.recv() == b"head"
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        assert sink.recv_multipart() == [b"body", b"tail"]  # as recv_multipart would return it
        assert sink.recv_multipart() == [b"next"]
        proxy.kill()


def test_message_begun_with_sndmore_on_the_backend_is_finished_by_the_next_one(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://more-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://more-out")
    backend.send(b"started", zmq.SNDMORE)
    source.send_multipart([b"a", b"b"])
    source.send(b"c")
    with gevent.Timeout(TIMEOUT):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        assert sink.recv_multipart() == [b"started", b"a", b"b"]  # as send_multipart would send it
        assert sink.recv_multipart() == [b"c"]
        proxy.kill()


# -- the batch methods under the proxy ---------------------------------------------------------------


def test_pipe_room_and_read_many():
    woken = []
    pipe = Pipe(hwm=4, wake_writer=lambda: woken.append("writer"))
    assert pipe.room(10) == 4 and pipe.room(3) == 3
    assert pipe.write_batch([b"0", b"1", b"2", b"3"]) is False  # full: the writer is woken at the mark
    assert pipe.room(10) == 0
    assert list(pipe.read_many(1)) == [b"0"] and woken == []
    assert list(pipe.read_many(1)) == [b"1"] and woken == ["writer"]  # down to the low-water mark (2)
    assert list(pipe.read_many(10)) == [b"2", b"3"]
    assert not pipe.read_many(10)
    unlimited = Pipe(hwm=0)
    assert unlimited.room(7) == 7


def test_fair_queue_recv_many_takes_turns_like_recv():
    queue = FairQueue()
    pipes = [Pipe() for _ in range(3)]
    for pipe in pipes:
        queue.attach(pipe)
    for n, pipe in enumerate(pipes):
        for i in range(3 - n):
            pipe.write(b"p%d-%d" % (n, i))
    assert queue.recv_many(4) == [b"p0-0", b"p1-0", b"p2-0", b"p0-1"]
    assert queue.recv_many(10) == [b"p1-1", b"p0-2"]
    assert queue.recv_many(10) == []


def test_load_balancer_room_and_send_many_over_several_pipes():
    balancer = LoadBalancer()
    pipes = [Pipe(hwm=2), Pipe(hwm=3)]
    for pipe in pipes:
        balancer.attach(pipe)
    assert balancer.room(100) == 5
    assert balancer.send_many([b"%d" % i for i in range(5)]) == 5
    assert balancer.room(100) == 0
    assert [list(pipe.read_many(10)) for pipe in pipes] == [[b"0", b"2"], [b"1", b"3", b"4"]]

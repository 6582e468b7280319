"""The built-in proxies: proxy, proxy_steerable, device.

Expectations checked against pyzmq 27 (libzmq 4.3.5) in separate scratch
processes: TypeError for a frontend/backend/capture/control that is not a
socket, ZMQError(EFAULT) for a closed frontend or backend, a closed capture or
control socket ignored, ContextTerminated when the context is terminated, 0
from proxy_steerable after TERMINATE, ENOTSUP from a capture or control socket
that cannot send, STATISTICS as eight native uint64 frames counting frames and
bytes. Steering follows libzmq's manual page (and libzmq after 4.3.5): a PAIR
control socket gets no reply to PAUSE/RESUME/TERMINATE and PAUSE stops
forwarding; libzmq 4.3.5 itself swapped PAUSE and RESUME and replied on every
socket type (fixed upstream in libzmq PR #4600).
"""

import gc
import struct
import time

import gevent
import pytest

import greenmq as zmq
from greenmq.proxy import RunningProxy

from support import TIMEOUT, endpoint_for


def linked(ctx, bound_type, connected_type, endpoint):
    """A bound socket and a socket connected to it, the connection made."""
    bound = ctx.socket(bound_type)
    connected = ctx.socket(connected_type)
    bound.linger = connected.linger = 0
    bound.bind(endpoint)
    connected.connect(bound.last_endpoint.decode())
    return bound, connected


def make_connected(a, b):
    """Wait until the pair a<->b is up in both directions (PAIR sockets)."""
    with gevent.Timeout(TIMEOUT):
        a.send(b"ping")
        assert b.recv() == b"ping"
        b.send(b"pong")
        assert a.recv() == b"pong"


def live_proxy_helpers():
    """Helper greenlets of proxies that are still alive."""
    return [obj for obj in gc.get_objects()
            if isinstance(obj, gevent.Greenlet) and not obj.dead
            and isinstance(getattr(obj._run, "__self__", None), RunningProxy)]


@pytest.fixture
def pairs(ctx, transport, tmp_path):
    """client <-> frontend, backend <-> worker, all PAIR, connections up."""
    frontend, client = linked(ctx, zmq.PAIR, zmq.PAIR, endpoint_for(transport, tmp_path, "front"))
    backend, worker = linked(ctx, zmq.PAIR, zmq.PAIR, endpoint_for(transport, tmp_path, "back"))
    make_connected(frontend, client)
    make_connected(backend, worker)
    return client, frontend, backend, worker


@pytest.fixture
def control(ctx):
    """The proxy's PAIR control socket and the PAIR that steers it."""
    return linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://control")


def stats_of(steer):
    steer.send(b"STATISTICS")
    frames = steer.recv_multipart()
    assert len(frames) == 8 and all(len(f) == 8 for f in frames)
    return [struct.unpack("=Q", f)[0] for f in frames]


# -- proxy -------------------------------------------------------------------------------------------


def test_proxy_forwards_multipart_both_ways_and_captures(ctx, pairs):
    client, frontend, backend, worker = pairs
    capture, tap = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://capture")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy, frontend, backend, capture)
        client.send_multipart([b"request", b"", b"x" * 70000])
        assert worker.recv_multipart() == [b"request", b"", b"x" * 70000]
        worker.send_multipart([b"reply", b"1"])
        assert client.recv_multipart() == [b"reply", b"1"]
        assert tap.recv_multipart() == [b"request", b"", b"x" * 70000]
        assert tap.recv_multipart() == [b"reply", b"1"]
        g.kill()


def test_proxy_keeps_order_and_message_boundaries_under_load(ctx, transport, tmp_path):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, endpoint_for(transport, tmp_path, "in"))
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, endpoint_for(transport, tmp_path, "out"))
    capture, tap = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://tap")
    count = 3000
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy, frontend, backend, capture)

        def produce():
            for i in range(count):
                source.send_multipart([b"%d" % i] + [b"p"] * (i % 4))

        producer = gevent.spawn(produce)
        # The capture socket blocks the proxy when full (as in libzmq): read it alongside.
        capturer = gevent.spawn(lambda: [tap.recv_multipart() for _ in range(count)])
        received = [sink.recv_multipart() for _ in range(count)]
        captured = capturer.get()
        producer.get()
        g.kill()
    expected = [[b"%d" % i] + [b"p"] * (i % 4) for i in range(count)]
    assert received == expected
    assert captured == expected


def test_proxy_raises_context_terminated_and_stops_its_greenlets():
    context = zmq.Context()
    frontend, client = linked(context, zmq.PAIR, zmq.PAIR, "inproc://term-front")
    backend, worker = linked(context, zmq.PAIR, zmq.PAIR, "inproc://term-back")
    outcome = []

    def run():
        try:
            zmq.proxy(frontend, backend)
        except zmq.ContextTerminated as error:
            outcome.append(error)
        finally:
            frontend.close()
            backend.close()

    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(run)
        client.send(b"through")
        assert worker.recv() == b"through"
        client.close()
        worker.close()
        context.term()
        g.join()
    assert len(outcome) == 1 and outcome[0].errno == zmq.ETERM
    assert live_proxy_helpers() == []


def test_killing_the_proxy_stops_its_greenlets_and_takes_no_more_messages(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://kill-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://kill-out")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy, frontend, backend)
        source.send(b"one")
        assert sink.recv() == b"one"
        assert len(live_proxy_helpers()) == 2
        g.kill()
        assert live_proxy_helpers() == []
        source.send(b"two")
        assert frontend.recv() == b"two"  # nobody else is reading the frontend any more


def test_timeout_in_the_calling_greenlet_stops_the_proxy(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://timeout-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://timeout-out")
    with gevent.Timeout(TIMEOUT):
        timeout = gevent.Timeout(0.05)
        with pytest.raises(gevent.Timeout) as info, timeout:
            zmq.proxy(frontend, backend)
        assert info.value is timeout
        assert live_proxy_helpers() == []


def test_blocked_send_in_one_direction_does_not_block_the_other(ctx):
    frontend, client = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://blocked-front")
    backend = ctx.socket(zmq.PAIR)
    worker = ctx.socket(zmq.PAIR)
    backend.linger = worker.linger = 0
    backend.sndhwm = worker.rcvhwm = 1
    backend.bind("inproc://blocked-back")
    worker.connect("inproc://blocked-back")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy, frontend, backend)
        # The worker reads nothing: the frontend->backend direction fills up and blocks.
        for i in range(20):
            client.send(b"request %d" % i)
        while backend.poll(0, zmq.POLLOUT):  # until the proxy has filled the backend
            gevent.sleep(0.001)
        worker.send(b"reply")
        assert client.recv() == b"reply"
        g.kill()


def test_device_is_a_proxy(ctx, pairs):
    client, frontend, backend, worker = pairs
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.device, zmq.QUEUE, frontend, backend)
        client.send(b"q")
        assert worker.recv() == b"q"
        worker.send(b"r")
        assert client.recv() == b"r"
        g.kill()


@pytest.mark.parametrize("call", ["proxy", "green device"])
def test_proxy_with_frontend_as_backend_echoes(ctx, call):
    echo, client = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://echo")
    with gevent.Timeout(TIMEOUT):
        # -1 as the backend is zmq.green.device's convention for "the same socket".
        args = (zmq.proxy, echo, echo) if call == "proxy" else (zmq.device, zmq.QUEUE, echo, -1)
        g = gevent.spawn(*args)
        client.send_multipart([b"a", b"b"])
        assert client.recv_multipart() == [b"a", b"b"]
        assert len(live_proxy_helpers()) == 1
        g.kill()


def test_idle_proxy_uses_no_cpu(ctx, pairs):
    client, frontend, backend, worker = pairs
    loop = gevent.get_hub().loop
    iterations = [0]
    watcher = loop.prepare()
    watcher.start(lambda: iterations.__setitem__(0, iterations[0] + 1))
    try:
        with gevent.Timeout(TIMEOUT):
            g = gevent.spawn(zmq.proxy, frontend, backend)
            client.send(b"warm up")
            assert worker.recv() == b"warm up"
            iterations[0] = 0
            cpu = time.process_time()
            gevent.sleep(0.3)
            cpu = time.process_time() - cpu
            assert iterations[0] <= 3
            assert cpu < 0.05
            g.kill()
    finally:
        watcher.stop()
        watcher.close()


# -- argument errors ------------------------------------------------------------------------------


def test_arguments_must_be_sockets(ctx):
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    with pytest.raises(TypeError, match="Argument 'frontend' has incorrect type"):
        zmq.proxy(None, b)
    with pytest.raises(TypeError, match="Argument 'backend' has incorrect type"):
        zmq.proxy(a, "b")
    with pytest.raises(TypeError, match="Argument 'capture' has incorrect type"):
        zmq.proxy(a, b, 5)
    with pytest.raises(TypeError, match="Argument 'control' has incorrect type"):
        zmq.proxy_steerable(a, b, None, "x")
    with pytest.raises(TypeError, match="Argument 'frontend' has incorrect type"):
        zmq.device(zmq.QUEUE, None, b)
    a.close()
    b.close()


def test_closed_frontend_or_backend_is_efault(ctx):
    a = ctx.socket(zmq.PAIR)
    closed = ctx.socket(zmq.PAIR)
    closed.close()
    for args in ((closed, a), (a, closed)):
        with pytest.raises(zmq.ZMQError) as info:
            zmq.proxy(*args)
        assert info.value.errno == zmq.EFAULT
    a.close()


def test_closed_control_socket_is_ignored_like_pyzmq(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://closed-ctl-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://closed-ctl-out")
    closed = ctx.socket(zmq.PAIR)
    closed.close()
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, closed, closed)
        source.send(b"still proxied")
        assert sink.recv() == b"still proxied"
        g.kill()


def test_capture_that_cannot_send_fails_the_proxy_with_enotsup(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://badcap-in")
    backend, sink = linked(ctx, zmq.PUSH, zmq.PULL, "inproc://badcap-out")
    capture = ctx.socket(zmq.PULL)
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy, frontend, backend, capture)
        source.send(b"x")
        with pytest.raises(zmq.ZMQError) as info:
            g.get()
    assert info.value.errno == zmq.ENOTSUP
    assert live_proxy_helpers() == []
    capture.close()


# -- proxy_steerable ---------------------------------------------------------------------------------


def test_steerable_statistics_count_frames_and_bytes(ctx, pairs, control):
    client, frontend, backend, worker = pairs
    ctl, steer = control
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        assert stats_of(steer) == [0] * 8
        client.send_multipart([b"a", b"bc"])
        assert worker.recv_multipart() == [b"a", b"bc"]
        worker.send(b"xyz")
        assert client.recv() == b"xyz"
        # frontend recv n/bytes, frontend sent, backend recv, backend sent
        assert stats_of(steer) == [2, 3, 1, 3, 1, 3, 2, 3]
        g.kill()


def test_steerable_pause_resume_terminate_with_pair_control(ctx, pairs, control):
    client, frontend, backend, worker = pairs
    ctl, steer = control
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        steer.send(b"PAUSE")
        # Commands are handled in order and a PAIR gets no reply to PAUSE: the next
        # thing it receives is the answer to STATISTICS (which also proves PAUSE is done).
        assert stats_of(steer) == [0] * 8
        client.send(b"while paused")
        worker.send(b"also paused")
        assert worker.poll(200) == 0
        assert client.poll(0) == 0
        assert stats_of(steer) == [0] * 8
        steer.send(b"RESUME")
        assert worker.recv() == b"while paused"
        assert client.recv() == b"also paused"
        steer.send(b"BOGUS")  # unknown commands are ignored
        assert stats_of(steer) == [1, 12, 1, 11, 1, 11, 1, 12]
        steer.send(b"TERMINATE")
        assert g.get() == 0
    assert steer.poll(50) == 0  # no reply to TERMINATE either
    assert live_proxy_helpers() == []
    assert not frontend.closed and not backend.closed  # the caller still owns them


def test_steerable_without_control_is_a_proxy(ctx, pairs):
    client, frontend, backend, worker = pairs
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend)
        client.send(b"plain")
        assert worker.recv() == b"plain"
        g.kill()


def test_steerable_statistics_on_control_that_cannot_send_is_enotsup(ctx, pairs):
    client, frontend, backend, worker = pairs
    ctl, steer = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://pull-control")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        steer.send(b"STATISTICS")
        with pytest.raises(zmq.ZMQError) as info:
            g.get()
    assert info.value.errno == zmq.ENOTSUP


def test_steerable_terminate_while_the_backend_has_no_room(ctx):
    frontend, source = linked(ctx, zmq.PULL, zmq.PUSH, "inproc://stuck-in")
    backend = ctx.socket(zmq.PUSH)  # no peer: no room for ever
    backend.linger = 0
    ctl, steer = linked(ctx, zmq.PAIR, zmq.PAIR, "inproc://stuck-control")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        source.send(b"stuck")
        gevent.idle()  # the proxy has seen the message and waits for the backend
        # As libzmq's proxy: nothing is taken while the backend cannot send (back-pressure).
        assert stats_of(steer) == [0] * 8
        steer.send(b"TERMINATE")
        assert g.get() == 0
    assert live_proxy_helpers() == []
    assert frontend.recv(zmq.DONTWAIT) == b"stuck"  # still queued, not lost in the proxy
    backend.close()


def test_steerable_rep_control_answers_every_command(ctx, pairs):
    client, frontend, backend, worker = pairs
    ctl, steer = linked(ctx, zmq.REP, zmq.REQ, "inproc://rep-control")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(zmq.proxy_steerable, frontend, backend, None, ctl)
        for command in (b"PAUSE", b"RESUME", b"BOGUS"):
            steer.send(command)
            assert steer.recv_multipart() == [b""]
        steer.send(b"STATISTICS")
        assert len(steer.recv_multipart()) == 8
        steer.send(b"TERMINATE")
        assert steer.recv_multipart() == [b""]
        assert g.get() == 0


def test_shared_queue_router_dealer(ctx):
    """The classic zmq_proxy use: REQ clients -> ROUTER | proxy | DEALER -> REP workers."""
    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.DEALER)
    frontend.bind("tcp://127.0.0.1:*")
    backend.bind("inproc://workers")
    workers = [ctx.socket(zmq.REP) for _ in range(2)]
    for worker in workers:
        worker.connect("inproc://workers")
    clients = [ctx.socket(zmq.REQ) for _ in range(4)]
    for client in clients:
        client.connect(frontend.last_endpoint.decode())

    def work(worker, name):
        while True:
            worker.send(worker.recv() + b" by " + name)

    helpers = [gevent.spawn(work, w, b"w%d" % n) for n, w in enumerate(workers)]
    with gevent.Timeout(TIMEOUT):
        helpers.append(gevent.spawn(zmq.proxy, frontend, backend))
        for round_ in range(3):
            for n, client in enumerate(clients):
                client.send(b"c%d r%d" % (n, round_))
            replies = [client.recv() for client in clients]
            assert [r.split(b" by ")[0] for r in replies] == [b"c%d r%d" % (n, round_) for n in range(4)]
        gevent.killall(helpers)

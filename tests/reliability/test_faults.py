"""Fault injection with real processes on loopback: what the user sees, what is lost, and that traffic resumes.

Each test brings about one fault -- a peer SIGKILLed mid-message,
mid-handshake or mid-CURVE-handshake, a peer that stops reading, a network
partition (the fault proxy of :mod:`fault_support` freezing, resetting or
cutting the link), a listener out of descriptors, a hub blocked for a
second -- and checks three things: the monitor events and errors the
application gets, exactly which messages may be lost (only what ZeroMQ's
semantics allow: what was already written to a connection that died; never
a partial message, never a duplicate, never a message still queued in
greenmq's pipe), and that traffic resumes while the socket's other peers
were never disturbed.

The peers that die or stop are processes of their own (fault_programs.py),
so the kernel closes or freezes their sockets as it would in production.
"""

import errno
import gc
import select
import time
import tracemalloc

import gevent
import gevent.socket
import pytest

import greenmq as zmq
from security_support import CLIENT_PUBLIC_Z85, CLIENT_SECRET_Z85, SERVER_PUBLIC_Z85, SERVER_SECRET_Z85
from support import SHORT_TIMEOUT, TIMEOUT, assert_nothing_arrives, new_socket

from .fault_support import Events, FaultProxy, Program, number, port_of, seq

pytestmark = pytest.mark.timeout(60)

EVENT = zmq.Event


@pytest.fixture
def programs(tmp_path):
    """Starts fault_programs children (``programs.start(name, **args)``) and fault proxies
    (``programs.proxy(port)``); kills and reaps every one at the end."""
    started = []

    class Starter:
        @staticmethod
        def start(name, **args):
            program = Program(tmp_path, name, **args)
            started.append(program)
            return program

        @staticmethod
        def proxy(target_port):
            program = FaultProxy(tmp_path, target_port)
            started.append(program)
            return program

    yield Starter
    for program in started:
        program.cleanup()


@pytest.fixture
def events():
    """``events(sock)``: an :class:`Events` collector, stopped at the end."""
    made = []

    def watch(sock):
        collector = Events(sock)
        made.append(collector)
        return collector
    yield watch
    for collector in made:
        collector.close()


def send_range(sock, start, stop, flags=0):
    for i in range(start, stop):
        sock.send_multipart(seq(i), flags)


def receive_numbers(sock, count, timeout=TIMEOUT):
    with gevent.Timeout(timeout):
        return [number(sock.recv_multipart()) for _ in range(count)]


def round_trip(push, pull, start, count=50):
    """``count`` numbered messages from ``push`` reach ``pull`` in order: traffic flows."""
    send_range(push, start, start + count)
    assert receive_numbers(pull, count) == list(range(start, start + count))


# -- a peer SIGKILLed mid-message ------------------------------------------------------------------

def test_peer_killed_mid_frame_loses_only_the_partial_message(ctx, programs, events):
    """A raw PUSH process sends 5 whole messages and half of a 1 MB frame, then is SIGKILLed.

    Sees: DISCONNECTED on the PULL, nothing else. Lost: the half-sent message only (never
    delivered in part). Resumes: another peer's stream was never disturbed, a new peer works."""
    pull = new_socket(ctx, zmq.PULL)
    watched = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    good = new_socket(ctx, zmq.PUSH)
    good.connect(pull.last_endpoint)
    round_trip(good, pull, 0)

    raw = programs.start("raw_half_frame", port=port_of(pull.last_endpoint), complete=5, size=1 << 20)
    assert raw.line()["sent"] == 5
    with gevent.Timeout(TIMEOUT):
        assert [pull.recv_multipart() for _ in range(5)] == [[b"raw-%d" % i] for i in range(5)]
    send_range(good, 50, 100)  # during the fault
    raw.kill()
    watched.wait_for(EVENT.DISCONNECTED)
    send_range(good, 100, 150)
    assert receive_numbers(pull, 100) == list(range(50, 150))
    assert_nothing_arrives(pull)  # no part of the cut message
    assert watched.count(EVENT.HANDSHAKE_FAILED_NO_DETAIL) == watched.count(EVENT.HANDSHAKE_FAILED_PROTOCOL) == 0

    fresh = new_socket(ctx, zmq.PUSH)
    fresh.connect(pull.last_endpoint)
    round_trip(fresh, pull, 1000)


def test_sender_killed_with_50mb_message_in_flight(ctx, programs, events):
    """A greenmq PUSH process is SIGKILLed while its 50 MB message is on the wire (the PULL
    reads nothing meanwhile, so the kernel buffers hold it back mid-frame).

    Sees: the message before it, then DISCONNECTED. Lost: the 50 MB message. Resumes: a new
    sender's 5 MB message arrives whole."""
    pull = new_socket(ctx, zmq.PULL, rcvhwm=1)
    watched = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    proxy = programs.proxy(port_of(pull.last_endpoint))  # only to count the bytes in flight
    sender = programs.start("greenmq_big_sender", port=proxy.port, size=50 << 20)
    assert sender.line()["queued"] == 50 << 20
    with gevent.Timeout(TIMEOUT):
        while proxy.stats()["upstream"] < 256 << 10:
            gevent.sleep(0.01)
    sender.kill()
    assert proxy.stats()["upstream"] < 50 << 20  # it was killed mid-message
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"small"
    watched.wait_for(EVENT.DISCONNECTED)
    assert_nothing_arrives(pull)

    fresh = new_socket(ctx, zmq.PUSH)
    fresh.connect(pull.last_endpoint)
    big = bytes(range(256)) * (5 << 12)
    fresh.send(big)
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == big


def test_middlebox_cuts_a_message_in_the_middle(ctx, programs, events):
    """The fault proxy resets the connection in the middle of a 1 MB message.

    Sees: DISCONNECTED on both sides (the PUSH reconnects by itself). Lost: the message being
    written. Resumes: what the PUSH sends afterwards arrives, in order."""
    pull = new_socket(ctx, zmq.PULL)
    pulled = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    proxy = programs.proxy(port_of(pull.last_endpoint))
    push = new_socket(ctx, zmq.PUSH)
    pushed = events(push)
    push.connect(proxy.endpoint)
    round_trip(push, pull, 0)
    proxy.cut(proxy.stats()["upstream"] + (512 << 10))
    push.send(bytes(1 << 20))
    pushed.wait_for(EVENT.DISCONNECTED)
    pulled.wait_for(EVENT.DISCONNECTED)
    proxy.passing()
    pushed.wait_for(EVENT.HANDSHAKE_SUCCEEDED, 2)
    round_trip(push, pull, 100)
    assert_nothing_arrives(pull)


# -- a peer SIGKILLed mid-handshake ------------------------------------------------------------------

def test_client_killed_mid_greeting(ctx, programs, events):
    """A raw client sends half a greeting to a bound PULL and is SIGKILLed.

    Sees: HANDSHAKE_FAILED_NO_DETAIL and DISCONNECTED; the value is ECONNRESET, as the kernel
    resets a connection whose owner dies with input unread (our greeting). Lost: nothing.
    Resumes: the PULL's other peer streams on throughout."""
    pull = new_socket(ctx, zmq.PULL)
    watched = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    good = new_socket(ctx, zmq.PUSH)
    good.connect(pull.last_endpoint)
    round_trip(good, pull, 0)
    raw = programs.start("raw_half_greeting", port=port_of(pull.last_endpoint), length=30)
    assert raw.line()["sent"] == 30
    watched.wait_for(EVENT.ACCEPTED, 2)
    send_range(good, 50, 100)
    raw.kill()
    watched.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL, value=errno.ECONNRESET)
    watched.wait_for(EVENT.DISCONNECTED)
    assert receive_numbers(pull, 50) == list(range(50, 100))
    round_trip(good, pull, 100)


def test_server_killed_mid_greeting_nothing_queued_is_lost(ctx, programs, events):
    """greenmq's PUSH connects to a raw server that sends half a greeting and is SIGKILLed.

    Sees: HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED, CONNECT_RETRIED. Lost: nothing: what was
    queued meanwhile stays in the pipe. Resumes: a PULL bound on the same port gets it all."""
    raw = programs.start("raw_half_greeting_server", length=20)
    port = raw.line()["port"]
    push = new_socket(ctx, zmq.PUSH)
    watched = events(push)
    push.connect(f"tcp://127.0.0.1:{port}")
    send_range(push, 0, 100)
    assert raw.line()["sent"] == 20
    raw.kill()
    watched.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL, value=errno.ECONNRESET)
    watched.wait_for(EVENT.DISCONNECTED)
    watched.wait_for(EVENT.CONNECT_RETRIED)
    pull = new_socket(ctx, zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert receive_numbers(pull, 100) == list(range(100))
    round_trip(push, pull, 100)


# -- a peer SIGKILLed mid-CURVE-handshake ---------------------------------------------------------------

def curve_server_socket(ctx, socket_type):
    sock = new_socket(ctx, socket_type)
    sock.curve_server = 1
    sock.curve_secretkey = SERVER_SECRET_Z85
    return sock


def curve_client_socket(ctx, socket_type):
    sock = new_socket(ctx, socket_type)
    sock.curve_serverkey = SERVER_PUBLIC_Z85
    sock.curve_publickey, sock.curve_secretkey = CLIENT_PUBLIC_Z85, CLIENT_SECRET_Z85
    return sock


@pytest.mark.curve
def test_curve_client_killed_between_hello_and_initiate(ctx, programs, events):
    """A CURVE client process sends HELLO, reads the WELCOME and is SIGKILLed before its INITIATE.

    Sees: HANDSHAKE_FAILED_NO_DETAIL and DISCONNECTED on the server, with EPIPE: the client
    had read all we sent, so the kernel ended its connection with a FIN. Lost: nothing.
    Resumes: the server's other CURVE client streams on throughout, and a new one connects."""
    pull = curve_server_socket(ctx, zmq.PULL)
    watched = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    good = curve_client_socket(ctx, zmq.PUSH)
    good.connect(pull.last_endpoint)
    round_trip(good, pull, 0)
    raw = programs.start("raw_curve_hello", port=port_of(pull.last_endpoint))
    assert raw.line()["welcomed"]
    send_range(good, 50, 100)
    raw.kill()
    watched.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL, value=errno.EPIPE)
    watched.wait_for(EVENT.DISCONNECTED)
    assert receive_numbers(pull, 50) == list(range(50, 100))
    fresh = curve_client_socket(ctx, zmq.PUSH)
    fresh.connect(pull.last_endpoint)
    round_trip(fresh, pull, 100)
    round_trip(good, pull, 200)


@pytest.mark.curve
@pytest.mark.parametrize("stage", ["hello", "welcome"])
def test_curve_server_killed_mid_handshake_nothing_queued_is_lost(ctx, programs, events, stage):
    """greenmq's CURVE PUSH connects to a CURVE server process that reads the HELLO (and answers
    with a WELCOME, for "welcome") and is SIGKILLed.

    Sees: HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED, CONNECT_RETRIED. Lost: nothing: the
    messages queued meanwhile wait in the pipe. Resumes: a CURVE PULL bound on the same port
    gets them all."""
    raw = programs.start("raw_curve_server", hello_only=stage == "hello")
    port = raw.line()["port"]
    push = curve_client_socket(ctx, zmq.PUSH)
    watched = events(push)
    push.connect(f"tcp://127.0.0.1:{port}")
    send_range(push, 0, 100)
    assert raw.line()["hello"]
    raw.kill()
    watched.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL)
    watched.wait_for(EVENT.DISCONNECTED)
    watched.wait_for(EVENT.CONNECT_RETRIED)
    pull = curve_server_socket(ctx, zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert receive_numbers(pull, 100) == list(range(100))
    round_trip(push, pull, 100)


# -- a peer that stops reading ----------------------------------------------------------------------------

def traced_memory():
    return tracemalloc.get_traced_memory()[0]


@pytest.fixture
def tracing():
    tracemalloc.start()
    yield
    tracemalloc.stop()


def test_push_to_stopped_pull_blocks_at_hwm_and_memory_stays_bounded(ctx, programs, tracing):
    """A PUSH with SNDHWM 100 sends 1 KB messages to a PULL process that is SIGSTOPped.

    Sees: sends succeed until SNDHWM plus the kernel's buffers are full, then EAGAIN (NOBLOCK)
    or, blocking, Again after SNDTIMEO; greenmq's memory does not grow while the application
    keeps trying. Lost: nothing. Resumes: after SIGCONT the PULL gets every message, in order."""
    push = new_socket(ctx, zmq.PUSH, sndhwm=100)
    push.bind("tcp://127.0.0.1:*")
    pull = programs.start("greenmq_counter", socket_type="PULL", endpoint=push.last_endpoint.decode(),
                          options={"RCVHWM": 100})
    pull.line()
    payload = bytes(1000)
    push.send_multipart(seq(0) + [payload])
    assert pull.line() == {"first": 0}
    pull.stop()
    before = traced_memory()
    sent = 1
    push.sndtimeo = 300
    with gevent.Timeout(30):
        while True:
            try:
                push.send_multipart(seq(sent) + [payload], zmq.NOBLOCK)
            except zmq.Again:
                try:
                    push.send_multipart(seq(sent) + [payload])  # waits SNDTIMEO for the writer to make room
                except zmq.Again:
                    break
            sent += 1
    full = traced_memory()
    refused = 0
    for _ in range(5000):  # the application keeps trying
        try:
            push.send_multipart(seq(sent) + [payload], zmq.NOBLOCK)
        except zmq.Again:
            refused += 1
    assert refused == 5000
    with pytest.raises(zmq.Again):
        push.send_multipart(seq(sent) + [payload])
    gc.collect()
    # What greenmq holds is the pipe (SNDHWM) and the writer's batch (at most SNDHWM more):
    # 200 KB of payload. Whatever else was sent is in the kernel's buffers.
    assert full - before < 1 << 20, (full - before, sent)
    assert traced_memory() - full < 64 << 10
    assert sent > 200  # the kernel took its share too

    pull.cont()
    push.sndtimeo = TIMEOUT * 1000
    push.send_multipart(seq(sent))
    push.send_multipart([b"end"])
    assert pull.line() == {"count": sent + 1, "increasing": True, "last": sent, "contiguous": True}


def test_pub_to_stopped_sub_drops_never_blocks_and_memory_stays_bounded(ctx, programs, tracing):
    """A PUB (SNDHWM 1000) sends 100 000 messages of 200 bytes while its SUB process is SIGSTOPped.

    Sees: every send returns at once (a PUB never blocks, never raises Again). Lost: what did
    not fit in the pipe and the kernel's buffers, dropped silently; the SUB receives no message
    twice and none out of order. Memory stays bounded (20 MB sent, less than 1 MB kept).
    Resumes: after SIGCONT, the SUB receives new messages again."""
    pub = new_socket(ctx, zmq.PUB, sndhwm=1000)
    pub.bind("tcp://127.0.0.1:*")
    sub = programs.start("greenmq_counter", socket_type="SUB", endpoint=pub.last_endpoint.decode(),
                         options={"RCVHWM": 1000})
    sub.line()
    subscribed = gevent.spawn(sub.line)
    sent = 0
    with gevent.Timeout(TIMEOUT):
        while not subscribed.ready():  # until the subscription has reached the PUB
            pub.send_multipart(seq(sent))
            sent += 1
            gevent.sleep(0.005)
    assert subscribed.get()["first"] < sent
    sub.stop()
    payload = bytes(200)
    flood = 100_000
    before = traced_memory()
    peak = before
    with gevent.Timeout(30):
        for i in range(sent, sent + flood):
            pub.send_multipart(seq(i) + [payload])
            if i % 10_000 == 0:
                peak = max(peak, traced_memory())
    sent += flood
    assert max(peak, traced_memory()) - before < 1 << 20

    sub.cont()
    resumed = gevent.spawn(sub.line)
    with gevent.Timeout(TIMEOUT):
        while not resumed.ready():
            pub.send_multipart([b"mark", b"reading"])
            gevent.sleep(0.005)
    assert resumed.get() == {"mark": "reading"}
    send_range(pub, sent, sent + 10)
    pub.send_multipart([b"end"])
    report = sub.line()
    assert report["increasing"]
    assert report["count"] < sent  # some were dropped
    assert report["last"] == sent + 9  # nothing sent after it reads again


# -- a network partition: the fault proxy freezes, resumes, resets ---------------------------------------------

@pytest.fixture
def through_proxy(ctx, programs, events):
    """``through_proxy(server_type, client_type, **client_options)``: a bound server socket, the
    fault proxy in front of it and a client connected through the proxy, with a monitor on
    each end; returns (server, client, proxy, server events, client events) once the
    handshake is done."""
    def make(server_type, client_type, **client_options):
        server = new_socket(ctx, server_type)
        server_events = events(server)
        server.bind("tcp://127.0.0.1:*")
        proxy = programs.proxy(port_of(server.last_endpoint))
        client = new_socket(ctx, client_type, **client_options)
        client_events = events(client)
        client.connect(proxy.endpoint)
        client_events.wait_for(EVENT.HANDSHAKE_SUCCEEDED)
        return server, client, proxy, server_events, client_events
    return make


def test_partition_without_heartbeats_reqrep_resumes_with_nothing_lost(through_proxy):
    """REQ/REP through a link frozen for a while, then resumed (no heartbeats configured).

    Sees: only a late reply (RCVTIMEO expires meanwhile); no monitor event on either side. Lost:
    nothing. Resumes: the request sent during the partition is answered after it."""
    rep, req, proxy, rep_events, req_events = through_proxy(zmq.REP, zmq.REQ, rcvtimeo=300)

    def serve():
        while True:
            rep.send(b"re: " + rep.recv())
    server = gevent.spawn(serve)
    try:
        req.send(b"before")
        assert req.recv() == b"re: before"
        proxy.freeze()
        req.send(b"during")
        with pytest.raises(zmq.Again):
            req.recv()
        proxy.resume()
        req.rcvtimeo = TIMEOUT * 1000
        assert req.recv() == b"re: during"
        req.send(b"after")
        assert req.recv() == b"re: after"
    finally:
        server.kill()
    for watched in (rep_events, req_events):
        assert watched.count(EVENT.DISCONNECTED) == 0 and watched.count(EVENT.HANDSHAKE_SUCCEEDED) == 1


def test_partition_without_heartbeats_pushpull_resumes_with_nothing_lost(through_proxy):
    """PUSH/PULL: 1000 messages sent while the link is frozen all arrive, in order, once it resumes."""
    pull, push, proxy, pull_events, push_events = through_proxy(zmq.PULL, zmq.PUSH)
    round_trip(push, pull, 0)
    proxy.freeze()
    send_range(push, 50, 1050)
    assert_nothing_arrives(pull, 0.3)
    proxy.resume()
    assert receive_numbers(pull, 1000) == list(range(50, 1050))
    round_trip(push, pull, 2000)
    for watched in (pull_events, push_events):
        assert watched.count(EVENT.DISCONNECTED) == 0 and watched.count(EVENT.HANDSHAKE_SUCCEEDED) == 1


def test_partition_with_heartbeats_declares_the_link_dead_and_reconnects(through_proxy):
    """PUSH with HEARTBEAT_IVL 100 ms / HEARTBEAT_TIMEOUT 500 ms through a link that freezes.

    Sees: DISCONNECTED on the PUSH when the PING goes unanswered, then CONNECT_RETRIED and a
    new connection (whose handshake waits for the link). Lost: at most messages the PUSH wrote
    to the dead connection before it was declared dead; none twice. Resumes: everything sent
    after the DISCONNECTED arrives, in order, over the new connection."""
    pull, push, proxy, pull_events, push_events = through_proxy(
        zmq.PULL, zmq.PUSH, heartbeat_ivl=100, heartbeat_timeout=500)
    round_trip(push, pull, 0)
    proxy.freeze()
    send_range(push, 100, 200)  # onto the frozen connection
    push_events.wait_for(EVENT.DISCONNECTED)
    push_events.wait_for(EVENT.CONNECT_RETRIED)
    send_range(push, 200, 300)  # queued for the next connection
    proxy.resume()
    push_events.wait_for(EVENT.HANDSHAKE_SUCCEEDED, 2)
    got = []
    with gevent.Timeout(TIMEOUT):
        while 299 not in got:
            got.append(number(pull.recv_multipart()))
    got += [number(msg) for msg in drain_quietly(pull)]
    during = [n for n in got if 100 <= n < 200]
    assert [n for n in got if n >= 200] == list(range(200, 300))
    # Those written to the dead connection may be lost (here the proxy still delivers them when
    # it resumes); those still in the pipe go on the new one. None twice.
    assert len(set(during)) == len(during)
    print("heartbeat partition: received", len(during), "of the 100 sent during the freeze")
    round_trip(push, pull, 1000)


def drain_quietly(sock, seconds=0.3):
    """What ``sock`` receives until nothing came for ``seconds``."""
    messages = []
    saved, sock.rcvtimeo = sock.rcvtimeo, int(seconds * 1000)
    try:
        while True:
            messages.append(sock.recv_multipart())
    except zmq.Again:
        return messages
    finally:
        sock.rcvtimeo = saved


def test_partition_then_reset_loses_only_what_was_on_the_wire(through_proxy):
    """The link freezes, the PUSH sends 100 messages onto it, then the proxy resets both ends.

    Sees: DISCONNECTED on both sides (the kernel says ECONNRESET), then the PUSH reconnects by itself
    (CONNECT_RETRIED, HANDSHAKE_SUCCEEDED). Lost: exactly the messages the PUSH had written to
    the dead connection -- a tail of those sent during the freeze may survive in the pipe and
    go out on the new connection; everything sent after the reset arrives. So the PULL
    receives 0..49, then n..199 for some 100 <= n <= 200, in order."""
    pull, push, proxy, pull_events, push_events = through_proxy(zmq.PULL, zmq.PUSH)
    round_trip(push, pull, 0)
    proxy.freeze()
    send_range(push, 100, 200)
    proxy.reset()
    push_events.wait_for(EVENT.DISCONNECTED)
    pull_events.wait_for(EVENT.DISCONNECTED)
    send_range(push, 200, 300)
    push_events.wait_for(EVENT.HANDSHAKE_SUCCEEDED, 2)
    got = receive_numbers(pull, 100)
    got += [number(msg) for msg in drain_quietly(pull)]
    first = got[0]
    assert 100 <= first <= 200 and got == list(range(first, 300)), got
    print("reset partition: lost", first - 100, "of the 100 sent during the freeze")
    round_trip(push, pull, 1000)


def test_middlebox_cutting_every_handshake_loses_nothing_queued(ctx, programs, events):
    """The fault proxy resets every connection 30 bytes into the PUSH's greeting, for a while.

    Sees: on both sides, HANDSHAKE_FAILED_NO_DETAIL and DISCONNECTED, again at every retry.
    Lost: nothing: no message left the pipe. Resumes: once connections pass, all arrive in order."""
    pull = new_socket(ctx, zmq.PULL)
    pull_events = events(pull)
    pull.bind("tcp://127.0.0.1:*")
    proxy = programs.proxy(port_of(pull.last_endpoint))
    proxy.cut(30)
    push = new_socket(ctx, zmq.PUSH, reconnect_ivl=20)
    push_events = events(push)
    push.connect(proxy.endpoint)
    send_range(push, 0, 100)
    push_events.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL, 2)
    pull_events.wait_for(EVENT.HANDSHAKE_FAILED_NO_DETAIL, 2)
    assert push_events.count(EVENT.HANDSHAKE_SUCCEEDED) == pull_events.count(EVENT.HANDSHAKE_SUCCEEDED) == 0
    proxy.passing()
    assert receive_numbers(pull, 100) == list(range(100))
    round_trip(push, pull, 100)


# -- the listener's process runs out of descriptors ----------------------------------------------------------

def test_accept_out_of_descriptors_neither_spins_nor_kills_the_listener(ctx, programs):
    """A PULL listener process whose RLIMIT_NOFILE leaves 8 descriptors free; 40 clients connect.

    Sees: ACCEPT_FAILED with EMFILE on the monitor, and one warning in the log, not one per
    retry; the hub does not spin (under 0.3 s of CPU in the second the limit is hit) and the
    listener stays open. Lost: nothing but the connections that could not be taken (they wait
    in the backlog). Resumes: once the clients close, a new PUSH connects and its messages
    arrive."""
    listener = programs.start("emfile_listener", spare=8)
    endpoint = listener.line()["endpoint"]
    port = port_of(endpoint)
    clients = []
    try:
        with gevent.Timeout(TIMEOUT):
            for _ in range(40):
                clients.append(gevent.socket.create_connection(("127.0.0.1", port)))
        report = listener.line(timeout=TIMEOUT + 5)
    finally:
        for client in clients:
            client.close()
    assert report["events"]["emfile"] >= 1 and report["events"]["other_failures"] == 0, report
    assert report["cpu"] < 0.3, report
    assert not report["closed"]

    push = new_socket(ctx, zmq.PUSH)
    push.connect(endpoint)
    send_range(push, 0, 100)
    push.send_multipart([b"end"])
    final = listener.line()
    assert final["received"] == 100, final
    assert listener.wait() == 0
    warnings = [line for line in listener.stderr_path.read_text().splitlines() if "accept on" in line]
    assert len(warnings) == 1, (listener.stderr_path.read_text(), report, final)


# -- a hub blocked for a second ---------------------------------------------------------------------------------
# libzmq's timers run in its I/O thread, which an application thread that blocks does not stop;
# greenmq's run in the hub, which a greenlet that blocks without yielding (time.sleep without
# monkey patching, a long computation) stops. The promise: after the block, every timer acts
# on the time that really passed, with whatever arrived meanwhile taken into account first --
# a timer that expired during the block fires at once, one started after it lasts its full
# length, and a heartbeat is not declared missed when the peer's answer sits in the kernel.

def block_hub(seconds=1.0):
    """Block the whole process's hub: this greenlet does not yield for ``seconds``."""
    time.sleep(seconds)


def test_blocked_hub_is_not_a_missed_heartbeat(ctx, programs, events):
    """A REQ with HEARTBEAT_IVL 100 ms and HEARTBEAT_TIMEOUT 1 s to a live REP process, through
    the fault proxy. The link freezes long enough for a PING to be outstanding; the proxy is
    told to resume and at once the test's hub blocks, until the proxy has resumed and then
    1.2 s more: the PONG comes during the block and waits in the kernel's buffer, while the
    PING's timeout expires.

    Sees: nothing: the connection stays up. Lost: nothing. Resumes: the round trips before
    and after use the same connection."""
    echo = programs.start("greenmq_echo", socket_type="REP", options={})
    proxy = programs.proxy(port_of(echo.line()["endpoint"]))
    req = new_socket(ctx, zmq.REQ, heartbeat_ivl=100, heartbeat_timeout=1000, rcvtimeo=TIMEOUT * 1000)
    watched = events(req)
    req.connect(proxy.endpoint)
    req.send(b"before")
    assert req.recv() == b"before"
    proxy.freeze()
    gevent.sleep(0.15)  # a PING goes out and is held (some 250 ms before the block starts: < 1 s)
    proxy.tell("resume")
    select.select([proxy.proc.stdout], [], [], SHORT_TIMEOUT)  # blocks the hub too, until the proxy answers
    block_hub(1.2)
    assert proxy.line()["open"] == 1
    req.send(b"after")
    assert req.recv() == b"after"
    gevent.sleep(0.3)  # a few heartbeat ticks: a spurious timeout would show by now
    assert watched.count(EVENT.DISCONNECTED) == 0, watched.names()
    assert watched.count(EVENT.HANDSHAKE_SUCCEEDED) == 1


def test_blocked_hub_timers_keep_their_length(ctx, events):
    """RCVTIMEO, a reconnect interval and LINGER around a one-second block of the hub.

    A receive waiting with RCVTIMEO 200 ms when the hub blocks fails with Again as soon as the
    hub runs again (late, not never); one started after the block waits its full 200 ms (not
    0: the hub's clock is up to date). A reconnect due during the block is attempted right
    after it. A close with LINGER 300 ms after the block keeps its 300 ms."""
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=200)
    pull.bind("tcp://127.0.0.1:*")

    def timed_recv():
        started = time.monotonic()
        with pytest.raises(zmq.Again):
            pull.recv()
        return started, time.monotonic()
    waiting = gevent.spawn(timed_recv)
    gevent.sleep(0.05)
    block_hub()
    block_ended = time.monotonic()
    with gevent.Timeout(SHORT_TIMEOUT):
        started, ended = waiting.get()
    assert ended - block_ended < 0.5 and ended - started >= 0.2

    started = time.monotonic()
    with pytest.raises(zmq.Again):
        pull.recv()
    assert 0.19 <= time.monotonic() - started < 1.0

    # a reconnect due in the block: a PUSH to a port nobody listens on yet, retrying every 100 ms
    port = unused_port()
    push = new_socket(ctx, zmq.PUSH, reconnect_ivl=100, reconnect_ivl_max=100)
    watched = events(push)
    push.connect(f"tcp://127.0.0.1:{port}")
    watched.wait_for(EVENT.CONNECT_RETRIED)
    late = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    late.bind(f"tcp://127.0.0.1:{port}")
    block_hub()
    block_ended = time.monotonic()
    watched.wait_for(EVENT.HANDSHAKE_SUCCEEDED, timeout=SHORT_TIMEOUT)
    assert time.monotonic() - block_ended < 1.0  # not a whole interval later, let alone never
    round_trip(push, late, 0)

    # LINGER after the block: a message queued for a peer that never comes keeps term() 300 ms
    other = zmq.Context()
    lingering = other.socket(zmq.PUSH)
    lingering.connect(f"tcp://127.0.0.1:{unused_port()}")
    lingering.send(b"never delivered")
    block_hub()
    started = time.monotonic()
    lingering.close(linger=300)
    with gevent.Timeout(SHORT_TIMEOUT):
        other.term()
    assert 0.28 <= time.monotonic() - started < 2.0


def unused_port():
    """A loopback port nobody listens on (just released by the kernel)."""
    with gevent.socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return placeholder.getsockname()[1]

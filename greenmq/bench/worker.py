"""One benchmark measurement in one process, for one ZeroMQ implementation.

The orchestrator (:mod:`greenmq.bench.cli`) runs this file *by path*, not as
``greenmq.bench.worker``: importing it through the package would import
``greenmq`` (and gevent) into a pyzmq worker too, and the point of one process
per measurement is that the three implementations never share a process.  So
this module needs only the standard library plus the implementation it is
asked to load.

The benchmark code itself (:func:`receive_messages`, :func:`send_messages`,
:func:`ping`, :func:`echo`, :func:`serve_echo`, :func:`ping_until_stopped`,
:func:`publish`, :func:`subscribe_and_count`) is
written once against the pyzmq API and runs unchanged on every implementation;
only how concurrent tasks are started differs (greenlets under gevent, threads
under blocking pyzmq, as a user of each would write it).

One more "implementation", ``gevent.socket``, is no ZeroMQ at all: plain gevent
TCP sockets exchanging 16-byte messages, the floor under any ZeroMQ on gevent.

``--security curve`` runs the throughput and round-trip roles with CURVE
instead of NULL, for the ``curve`` group of the benchmark: the measuring side,
which binds, is the CURVE server; it makes a fresh server and client key pair
with its own implementation's ``curve_keypair()`` and hands the client's keys
to the peer through its endpoint announcement, so no worker ever imports
another implementation and no key outlives its run.

Protocol with the orchestrator: one JSON object per stdout line.  A process that
binds first prints ``{"event": "endpoint", ...}`` so that the orchestrator can
start the connecting peer process; a measuring process finally prints
``{"event": "result", ...}``, a peer ``{"event": "done"}`` once it has closed;
any failure prints ``{"event": "error", ...}`` and exits with status 1.  The
endpoint announcement may carry ``peer_argv``, options the orchestrator passes on
to the peers (the pub/sub sync endpoint, the CURVE keys).
"""

import argparse
import importlib
import json
import queue
import sys
import threading
import time
import traceback
from pathlib import Path

IMPLEMENTATIONS = ("greenmq", "pyzmq", "zmq.green")
FLOOR = "gevent.socket"  # raw gevent TCP: the floor of the REQ/REP round trip, no ZeroMQ
_MODULES = {"greenmq": "greenmq", "pyzmq": "zmq", "zmq.green": "zmq.green", FLOOR: "gevent.socket"}
LATENCY_MESSAGE_SIZE = 16
STOP = b"stop"  # the echo server's last reply to each client: not an echo, so it cannot be mistaken for one
ECHO_BATCH = 64  # messages the echo server handles between looks at the clock
ROUTER_CLIENTS = 200  # DEALER clients of the ROUTER echo server, as issue 3 asks
PUBSUB_SUBSCRIBERS = 4  # SUB sockets fed by the one PUB of the pub/sub test, as issue 4 asks
TOPIC = b"bench/"  # the prefix every subscriber subscribes to; every message of the test starts with it
HELLO = TOPIC + b"hello"  # published until every subscriber has said it receives (slow joiners)
END = TOPIC + b"end"  # published after the data, again and again until every subscriber has reported
SYNC_POLL_MS = 5  # how long the publisher waits for subscribers between two HELLOs or ENDs
SECURITY = ("null", "curve")  # --security: the mechanism of the throughput and round-trip sockets


class Runtime:
    """The implementation under test and the matching way to run a concurrent peer.

    pyzmq blocks the OS thread, so its inproc peer needs a thread; greenmq and
    zmq.green block cooperatively, so their peer is a greenlet on the same hub
    (a thread there would hide the very scheduling cost we want to measure).
    """

    def __init__(self, name):
        self.name = name
        self.zmq = importlib.import_module(_MODULES[name])
        self.green = name != "pyzmq"

    def describe(self):
        """Which library (and libzmq) actually ran, for the record kept with the figures."""
        zmq = self.zmq
        if self.name == FLOOR:
            import gevent

            return f"gevent {gevent.__version__} TCP sockets with TCP_NODELAY (no ZeroMQ)"
        if self.name == "greenmq":
            return f"greenmq {zmq.__version__} (pure Python; follows libzmq {zmq.zmq_version()})"
        described = f"pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}"
        if self.green:
            import gevent

            described += f", gevent {gevent.__version__}"
        return described

    def spawn(self, function, *args):
        """Start ``function(*args)`` concurrently; return something with ``join()``."""
        if self.green:
            import gevent

            return gevent.spawn(function, *args)
        return Task(function, args)

    def join(self, task):
        """Wait for a task from :meth:`spawn` and re-raise its exception, if any."""
        task.join()
        if task.exception is not None:
            raise task.exception

    def run_all(self, function, arg_tuples):
        """Run ``function(*args)`` for each tuple concurrently; return their results in order.

        The first failure is raised as soon as it happens, not when every task
        before it has finished: a failed echo client would otherwise leave the
        others (and the server waiting to stop it) blocked until the deadline.
        """
        if self.green:
            import gevent

            greenlets = [gevent.spawn(function, *args) for args in arg_tuples]
            gevent.joinall(greenlets, raise_error=True)
            return [greenlet.value for greenlet in greenlets]
        finished = queue.Queue()
        tasks = [Task(function, args, finished) for args in arg_tuples]
        for _ in tasks:
            failed = finished.get().exception
            if failed is not None:
                raise failed
        return [task.value for task in tasks]


class Task(threading.Thread):
    """A daemon thread that keeps its function's result or exception, like a greenlet does.

    Only blocking pyzmq uses threads; a thread's uncaught exception would
    otherwise only be printed, and the run would wait for a task that is gone.
    """

    def __init__(self, function, args, finished=None):
        super().__init__(daemon=True)
        self._call = (function, args)
        self._finished = finished
        self.value = self.exception = None
        self.start()

    def run(self):
        function, args = self._call
        try:
            self.value = function(*args)
        except BaseException as error:
            self.exception = error
        if self._finished is not None:
            self._finished.put(self)


# -- the measured code: identical for every implementation -------------------------------


def send_messages(sock, count, size):
    """Send ``count`` messages of ``size`` bytes as fast as the socket accepts them."""
    message = b"x" * size
    send = sock.send
    for _ in range(count):
        send(message)


def receive_messages(sock, count, size):
    """Receive ``count`` messages; time from the first to the last received one.

    Starting the clock at the first message keeps connection setup and process
    start-up out of the figure, as libzmq's ``local_thr`` does.
    """
    first = sock.recv()
    _check_size(first, size)
    recv = sock.recv
    last = first
    start = time.perf_counter()
    for _ in range(count - 1):
        last = recv()
    elapsed = time.perf_counter() - start
    _check_size(last, size)
    messages = count - 1
    return {
        "messages": messages,
        "elapsed": elapsed,
        "msgs_per_s": messages / elapsed if elapsed > 0 else None,
        "mb_per_s": messages * size / elapsed / 1e6 if elapsed > 0 else None,
    }


def ping(sock, count, warmup):
    """Time ``count`` round trips of a 16-byte message, after ``warmup`` untimed ones."""
    message = b"x" * LATENCY_MESSAGE_SIZE
    send, recv, clock = sock.send, sock.recv, time.perf_counter_ns
    for _ in range(warmup):
        send(message)
        _check_echo(recv(), message)
    samples = []
    reply = message
    for _ in range(count):
        start = clock()
        send(message)
        reply = recv()
        samples.append(clock() - start)
    _check_echo(reply, message)
    elapsed = sum(samples) / 1e9
    samples.sort()
    return {
        "round_trips": count,
        "elapsed": elapsed,
        "median_us": _percentile(samples, 50) / 1e3,
        "p99_us": _percentile(samples, 99) / 1e3,
        "min_us": samples[0] / 1e3,
    }


def echo(sock, count):
    """Send each of ``count`` received messages straight back."""
    send, recv = sock.send, sock.recv
    for _ in range(count):
        send(recv())


def serve_echo(sock, clients, warmup, duration):
    """ROUTER echo server: return its round trips per second once all ``clients`` are busy.

    Warm-up lasts until every client has been heard from and ``warmup``
    seconds have passed since the first request.  Then echoes are counted over
    ``duration`` seconds: each client has one request in flight, so echoes in a
    window are its round trips, give or take one per client.  Last, each client
    gets ``STOP`` in reply to its next request, which ends its loop.
    """
    recv, send, clock = sock.recv_multipart, sock.send_multipart, time.perf_counter
    _warm_up(recv, send, clients, warmup)
    echoed = 0
    start = clock()
    end = start + duration
    while clock() < end:
        for _ in range(ECHO_BATCH):
            send(recv())
        echoed += ECHO_BATCH
    elapsed = clock() - start
    _stop_clients(recv, send, clients)
    return {"round_trips": echoed, "elapsed": elapsed, "round_trips_per_s": echoed / elapsed, "clients": clients}


def _warm_up(recv, send, clients, warmup):
    """Echo until every client is connected and busy, and at least ``warmup`` seconds have passed."""
    seen = set()
    first = recv()
    send(first)
    seen.add(first[0])
    end = time.perf_counter() + warmup
    while len(seen) < clients or time.perf_counter() < end:
        request = recv()
        send(request)
        seen.add(request[0])


def _stop_clients(recv, send, clients):
    """Answer each client's next request with ``STOP``; every client has exactly one more coming."""
    stopped = set()
    while len(stopped) < clients:
        routing_id = recv()[0]
        send([routing_id, STOP])
        stopped.add(routing_id)


def ping_until_stopped(ctx, dealer, endpoint, index):
    """One echo client: a DEALER socket of its own, in a ping-pong loop until the server says ``STOP``.

    Each client sends a message of its own, so that an echo routed to the
    wrong client is caught.  Returns the client's number of round trips.
    """
    sock = ctx.socket(dealer)
    sock.connect(endpoint)
    message = b"%016d" % index
    send, recv = sock.send, sock.recv
    round_trips = 0
    while True:
        send(message)
        reply = recv()
        if reply != message:
            break
        round_trips += 1
    sock.close(linger=0)
    if reply != STOP:
        _check_echo(reply, message)
    return round_trips


def publish(pub, sync, subscribers, count, size):
    """PUB side: greet until all ``subscribers`` are in, publish ``count`` messages, then END.

    Subscribers confirm over ``sync`` (a PULL socket) that HELLO reaches them,
    so no message is published before every subscription has arrived; after
    the data, END is published every few milliseconds (a subscriber whose
    queue is full drops it like any message) until each subscriber has sent
    back what it received.  Returns (seconds spent publishing, reports).
    """
    send, poll, recv = pub.send, sync.poll, sync.recv
    ready = set()
    while len(ready) < subscribers:
        send(HELLO)
        while poll(SYNC_POLL_MS):
            ready.add(recv())
    message = TOPIC + b"x" * (size - len(TOPIC))
    start = time.perf_counter()
    for _ in range(count):
        send(message)
    elapsed = time.perf_counter() - start
    reports = {}
    while len(reports) < subscribers:
        send(END)
        while poll(SYNC_POLL_MS):
            report = json.loads(recv())
            reports[report["index"]] = report
    return elapsed, [reports[index] for index in sorted(reports)]


def subscribe_and_count(ctx, sub_type, push_type, endpoint, sync_endpoint, size, index):
    """One subscriber: count data messages until END, timed from the first to the last one.

    Says it is ready (over a PUSH socket to the publisher's ``sync_endpoint``)
    once the first HELLO arrives, and afterwards reports its count and time the
    same way.  Returns that report.
    """
    sub = ctx.socket(sub_type)
    sub.subscribe(TOPIC)
    sub.connect(endpoint)
    sync = ctx.socket(push_type)
    sync.connect(sync_endpoint)
    recv, clock = sub.recv, time.perf_counter
    greeting = recv()
    if greeting != HELLO:
        raise ValueError(f"subscriber {index}: expected {HELLO!r} first, received {bytes(greeting[:32])!r}")
    sync.send(b"%d" % index)
    message = recv()
    while message == HELLO:
        message = recv()
    received, start, end = 0, clock(), None
    first = last = message
    while message != END:  # no clock in here but the one per message: pyzmq, zmq.green, greenmq alike
        received += 1
        end = clock()
        last = message
        message = recv()
    if received:
        _check_size(first, size)
        _check_size(last, size)
    report = {"index": index, "received": received, "elapsed": end - start if received > 1 else 0.0}
    sync.send(json.dumps(report).encode())
    sub.close(linger=0)
    sync.close()  # default linger: the report must get out before the socket goes
    return report


def _check_size(message, size):
    """A figure is only worth reporting if the right messages arrived (checked outside the clock)."""
    if len(message) != size:
        raise ValueError(f"expected {size}-byte messages, received {len(message)} bytes")


def _check_echo(reply, message):
    """The echo must be the very message sent, or the round trip measured something else."""
    if reply != message:
        raise ValueError(f"echo returned {bytes(reply[:32])!r}, expected {message!r}")


def _percentile(sorted_samples, percent):
    """Nearest-rank percentile; enough for thousands of samples and dependency-free."""
    rank = max(0, min(len(sorted_samples) - 1, round(percent / 100 * len(sorted_samples)) - 1))
    return sorted_samples[rank]


# -- roles ----------------------------------------------------------------------------------


def _socket(ctx, kind, hwm):
    """A socket with both high-water marks set to ``hwm`` (0: keep the default 1000).

    The orchestrator lowers them for big messages: a receiver may read up to its
    high-water mark ahead of the application, and the benchmark's counts must
    dwarf that backlog or first-to-last timing measures a buffer drain.
    """
    sock = ctx.socket(kind)
    if hwm:
        sock.sndhwm = hwm
        sock.rcvhwm = hwm
    return sock


def _secure_server(rt, sock, args):
    """Make the binding socket a CURVE server with fresh keys, if asked; return the peer's options.

    Both key pairs are made here, by the implementation under test, once per
    run; the client's pair and the server's public key go to the peer on its
    command line.  There is no ZAP handler: a CURVE server without one admits
    any client key, in libzmq and in greenmq, so nothing else needs setting up.
    """
    if args.security != "curve":
        return []
    zmq = rt.zmq
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock.curve_server = True
    sock.curve_secretkey = server_secret
    sock.curve_publickey = server_public
    return client_argv(server_public, client_public, client_secret)


def client_argv(server_public, client_public, client_secret):
    """The peer's CURVE options, each as one ``--name=KEY`` word.

    Z85 keys may start with ``-`` (it is one of the 85 characters), which
    argparse would take for an option if the key were a word of its own.
    """
    keys = {"--server-key": server_public, "--public-key": client_public, "--secret-key": client_secret}
    return [f"{name}={_text(key)}" for name, key in keys.items()]


def _secure_client(sock, args):
    """Make a connecting socket a CURVE client with the keys the measuring side handed over, if asked."""
    if args.security != "curve":
        return
    sock.curve_serverkey = args.server_key.encode()
    sock.curve_publickey = args.public_key.encode()
    sock.curve_secretkey = args.secret_key.encode()


def _text(key):
    """A Z85 key (bytes from ``curve_keypair()``) as command-line text."""
    return key.decode("ascii") if isinstance(key, bytes) else key


def _bind(sock, endpoint):
    """Bind; ``tcp://host`` without a port means a random free port. Return the endpoint."""
    if endpoint.startswith("tcp://") and endpoint.count(":") == 1:
        port = sock.bind_to_random_port(endpoint)
        return f"{endpoint}:{port}"
    sock.bind(endpoint)
    return endpoint


def _announce(event, **fields):
    """Tell the orchestrator something, one JSON line at a time (it reads line by line)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def _close(ctx, *socks):
    """Close quickly: the measurement is over, so nothing queued still matters."""
    for sock in socks:
        sock.close(linger=0)
    ctx.term()


def measure_throughput(rt, args):
    """PULL side: bind, announce, receive; with inproc also run the PUSH peer here."""
    zmq = rt.zmq
    ctx = zmq.Context()
    pull = _socket(ctx, zmq.PULL, args.hwm)
    peer_argv = _secure_server(rt, pull, args)
    endpoint = _bind(pull, args.bind)
    _announce("endpoint", endpoint=endpoint, peer_argv=peer_argv)
    push = sender = None
    if args.transport == "inproc":
        push = _socket(ctx, zmq.PUSH, args.hwm)
        push.connect(endpoint)
        sender = rt.spawn(send_messages, push, args.count, args.size)
    result = receive_messages(pull, args.count, args.size)
    if sender is not None:
        rt.join(sender)
    _announce("result", library=rt.describe(), **result)
    _close(ctx, *[s for s in (pull, push) if s is not None])


def send_throughput(rt, args):
    """PUSH side in its own process: connect, send, then linger until all is delivered."""
    zmq = rt.zmq
    ctx = zmq.Context()
    push = _socket(ctx, zmq.PUSH, args.hwm)
    _secure_client(push, args)
    push.connect(args.connect)
    send_messages(push, args.count, args.size)
    push.close()  # default linger (-1): returns once the queue is flushed, like remote_thr
    ctx.term()
    _announce("done")


# Socket types of the round-trip tests: (timing side, echo side).
ROUND_TRIP_SOCKETS = {"latency": ("PAIR", "PAIR"), "reqrep": ("REQ", "REP")}


def measure_latency(rt, args):
    """Pinger (PAIR, or REQ): bind, announce, time round trips; with inproc also run the echo here.

    The timing side binds, as the orchestrator expects of a measuring worker;
    for REQ/REP that is the less usual way round, which ZeroMQ allows and
    which changes nothing once the connection is up.
    """
    zmq = rt.zmq
    pinger_type, echo_type = (getattr(zmq, name) for name in ROUND_TRIP_SOCKETS[args.test])
    ctx = zmq.Context()
    pinger = ctx.socket(pinger_type)
    peer_argv = _secure_server(rt, pinger, args)
    endpoint = _bind(pinger, args.bind)
    _announce("endpoint", endpoint=endpoint, peer_argv=peer_argv)
    echoer = task = None
    if args.transport == "inproc":
        echoer = ctx.socket(echo_type)
        echoer.connect(endpoint)
        task = rt.spawn(echo, echoer, args.count + args.warmup)
    result = ping(pinger, args.count, args.warmup)
    if task is not None:
        rt.join(task)
    _announce("result", library=rt.describe(), **result)
    _close(ctx, *[s for s in (pinger, echoer) if s is not None])


def echo_latency(rt, args):
    """Echo side (PAIR, or REP) in its own process."""
    zmq = rt.zmq
    ctx = zmq.Context()
    sock = ctx.socket(getattr(zmq, ROUND_TRIP_SOCKETS[args.test][1]))
    _secure_client(sock, args)
    sock.connect(args.connect)
    echo(sock, args.count + args.warmup)
    _close(ctx, sock)
    _announce("done")


def measure_router(rt, args):
    """ROUTER echo server: bind, announce, echo for all clients, report round trips per second."""
    zmq = rt.zmq
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    endpoint = _bind(router, args.bind)
    _announce("endpoint", endpoint=endpoint)
    result = serve_echo(router, args.clients, args.warmup_seconds, args.duration)
    _announce("result", library=rt.describe(), clients_run_as="greenlets" if rt.green else "threads", **result)
    _close(ctx, router)


def run_clients(rt, args):
    """The DEALER clients in their own process: greenlets under gevent, one thread each under pyzmq."""
    zmq = rt.zmq
    ctx = zmq.Context()
    arg_tuples = [(ctx, zmq.DEALER, args.connect, index) for index in range(args.clients)]
    round_trips = rt.run_all(ping_until_stopped, arg_tuples)
    ctx.term()
    _announce("done", round_trips=sum(round_trips))


def _sync_endpoint(pub_endpoint):
    """Where the publisher's PULL socket binds for the subscribers' reports: next to the PUB."""
    if pub_endpoint.startswith("tcp://"):
        return "tcp://" + _host_port(pub_endpoint)[0]
    return pub_endpoint + "-sync"


def measure_pubsub(rt, args):
    """PUB side: bind PUB and a PULL for reports, announce both, publish; with inproc run the SUBs here.

    Aggregate delivery is the sum over subscribers of what each received per
    second, each timed from its first to its last message; drops are counted
    per subscriber, as messages published minus messages received.
    """
    zmq = rt.zmq
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    sync = ctx.socket(zmq.PULL)
    endpoint = _bind(pub, args.bind)
    sync_endpoint = _bind(sync, _sync_endpoint(endpoint))
    _announce("endpoint", endpoint=endpoint, peer_argv=["--sync", sync_endpoint])
    tasks = []
    if args.transport == "inproc":
        tasks = [rt.spawn(subscribe_and_count, ctx, zmq.SUB, zmq.PUSH, endpoint, sync_endpoint, args.size, index)
                 for index in range(args.subscribers)]
    publish_elapsed, reports = publish(pub, sync, args.subscribers, args.count, args.size)
    for task in tasks:
        rt.join(task)
    received = [report["received"] for report in reports]
    rates = [(report["received"] - 1) / report["elapsed"] if report["elapsed"] > 0 else 0.0 for report in reports]
    _announce("result", library=rt.describe(), subscribers=args.subscribers,
              subscribers_run_as="processes" if args.transport != "inproc" else
              ("greenlets" if rt.green else "threads"),
              published=args.count, publish_elapsed=publish_elapsed,
              published_per_s=args.count / publish_elapsed if publish_elapsed > 0 else None,
              received=received, drops=[args.count - n for n in received],
              drop_fraction=1 - sum(received) / (args.count * args.subscribers),
              subscriber_elapsed=[report["elapsed"] for report in reports],
              elapsed=max(publish_elapsed, *(report["elapsed"] for report in reports)),  # for calibration
              subscriber_msgs_per_s=rates, delivered_per_s=sum(rates))
    _close(ctx, pub, sync)


def subscribe_pubsub(rt, args):
    """One SUB in its own process (the orchestrator starts one per subscriber)."""
    zmq = rt.zmq
    ctx = zmq.Context()
    report = subscribe_and_count(ctx, zmq.SUB, zmq.PUSH, args.connect, args.sync, args.size, args.index)
    ctx.term()
    _announce("done", **report)


class RawTcp:
    """A connected gevent TCP socket carrying fixed-size messages, with the send/recv that ping and echo use.

    TCP has no message boundaries, so ``recv`` reads until a whole message is
    in; with 16 bytes and TCP_NODELAY that is one read in practice.
    """

    def __init__(self, sock, size):
        from gevent import socket

        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.send = sock.sendall
        self._size = size

    def recv(self):
        data = self.sock.recv(self._size)
        while len(data) < self._size:
            more = self.sock.recv(self._size - len(data))
            if not more:
                raise ConnectionError(f"peer closed after {len(data)} of {self._size} bytes")
            data += more
        return data


def measure_floor(rt, args):
    """Raw gevent TCP pinger: listen, announce, accept one peer, time round trips like the ZeroMQ pingers."""
    from gevent import socket

    host, _ = _host_port(args.bind)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(1)
    _announce("endpoint", endpoint=f"tcp://{host}:{listener.getsockname()[1]}")
    conn, _ = listener.accept()
    listener.close()
    result = ping(RawTcp(conn, LATENCY_MESSAGE_SIZE), args.count, args.warmup)
    _announce("result", library=rt.describe(), **result)
    conn.close()


def echo_floor(rt, args):
    """Raw gevent TCP echo in its own process."""
    from gevent import socket

    conn = socket.create_connection(_host_port(args.connect))
    echo(RawTcp(conn, LATENCY_MESSAGE_SIZE), args.count + args.warmup)
    conn.close()
    _announce("done")


def _host_port(endpoint):
    """``tcp://host[:port]`` as (host, port); no port means 0 (any free one)."""
    host, _, port = endpoint[len("tcp://"):].partition(":")
    return host, int(port or 0)


ROLES = {
    ("throughput", "measure"): measure_throughput,
    ("throughput", "peer"): send_throughput,
    ("latency", "measure"): measure_latency,
    ("latency", "peer"): echo_latency,
    ("reqrep", "measure"): measure_latency,
    ("reqrep", "peer"): echo_latency,
    ("router", "measure"): measure_router,
    ("router", "peer"): run_clients,
    ("pubsub", "measure"): measure_pubsub,
    ("pubsub", "peer"): subscribe_pubsub,
}
FLOOR_ROLES = {"measure": measure_floor, "peer": echo_floor}  # for FLOOR, whatever the round-trip test
TESTS = tuple(dict.fromkeys(test for test, _ in ROLES))
SECURE_TESTS = ("throughput", "latency", "reqrep")  # the roles that call _secure_server / _secure_client


def parse_args(argv):
    parser = argparse.ArgumentParser(description="one greenmq benchmark measurement (internal)")
    parser.add_argument("--impl", choices=(*IMPLEMENTATIONS, FLOOR), required=True,
                        help=f"{FLOOR}: the raw TCP ping-pong floor (round-trip tests over tcp)")
    parser.add_argument("--test", choices=TESTS, required=True)
    parser.add_argument("--role", choices=("measure", "peer"), required=True)
    parser.add_argument("--transport", choices=("tcp", "ipc", "inproc"), required=True)
    parser.add_argument("--size", type=int, default=LATENCY_MESSAGE_SIZE)
    parser.add_argument("--count", type=int, default=0, help="messages or round trips (not for router)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed round trips first")
    parser.add_argument("--hwm", type=int, default=0, help="SNDHWM and RCVHWM of PUSH/PULL (0: default)")
    parser.add_argument("--clients", type=int, default=ROUTER_CLIENTS, help="router: DEALER clients")
    parser.add_argument("--warmup-seconds", type=float, default=0.5, help="router: untimed echoing first")
    parser.add_argument("--duration", type=float, default=1.5, help="router: seconds of echoing timed")
    parser.add_argument("--subscribers", type=int, default=PUBSUB_SUBSCRIBERS, help="pubsub: SUB sockets")
    parser.add_argument("--sync", help="pubsub peer: the publisher's PULL endpoint for reports")
    parser.add_argument("--index", type=int, default=0, help="peer: which of several peers this one is")
    parser.add_argument("--security", choices=SECURITY, default="null",
                        help="throughput, latency, reqrep over tcp or ipc: the mechanism (curve: the measuring "
                             "side is the CURVE server and makes the keys)")
    parser.add_argument("--server-key", help="curve peer: the server's public key (Z85)")
    parser.add_argument("--public-key", help="curve peer: this client's public key (Z85)")
    parser.add_argument("--secret-key", help="curve peer: this client's secret key (Z85)")
    endpoint = parser.add_mutually_exclusive_group(required=True)
    endpoint.add_argument("--bind", help="endpoint to bind (tcp://HOST picks a random port)")
    endpoint.add_argument("--connect", help="endpoint to connect to")
    args = parser.parse_args(argv)
    if args.security == "curve":
        if args.test not in SECURE_TESTS or args.transport == "inproc" or args.impl == FLOOR:
            parser.error(f"--security curve applies to {', '.join(SECURE_TESTS)} over tcp or ipc, with ZeroMQ")
        if args.connect and not (args.server_key and args.public_key and args.secret_key):
            parser.error("a curve peer needs --server-key, --public-key and --secret-key")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        role = FLOOR_ROLES[args.role] if args.impl == FLOOR else ROLES[args.test, args.role]
        role(Runtime(args.impl), args)
    except BaseException as error:  # report everything, even KeyboardInterrupt, then fail
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        _announce("error", error=f"{type(error).__name__}: {error} (at {where})", traceback=traceback.format_exc())
        return 1
    return 0


def _fix_path():
    """Make ``import greenmq`` find the tree this file belongs to, and nothing else from here.

    Run by path, Python put this file's folder first on sys.path, where a sibling
    module could shadow one the worker needs; in its place goes the tree's root,
    unless it is on the path already (greenmq installed), so that a checkout
    benchmarks its own greenmq even when it is not installed.
    """
    root = str(Path(__file__).resolve().parents[2])
    del sys.path[0]
    if root not in sys.path:
        sys.path.insert(0, root)


if __name__ == "__main__":
    _fix_path()
    sys.exit(main())

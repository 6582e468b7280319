"""PUSH/PULL throughput and PAIR / REQ/REP round trips, plus the raw gevent TCP floor.

The measured functions (:func:`send_messages`, :func:`receive_messages`,
:func:`ping`, :func:`echo`) take a socket and run unchanged on every
implementation, and on :class:`RawTcp` for the floor: plain gevent TCP
sockets exchanging fixed-size messages, the floor under any ZeroMQ on gevent.
"""

import time

from .common import announce, bind, check_echo, check_size, close, host_port, make_socket, per_second, percentile
from .security import secure_client, secure_server


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
    check_size(first, size)
    recv = sock.recv
    last = first
    start = time.perf_counter()
    for _ in range(count - 1):
        last = recv()
    elapsed = time.perf_counter() - start
    check_size(last, size)
    messages = count - 1
    rate = per_second(messages, elapsed)
    return {"messages": messages, "elapsed": elapsed, "msgs_per_s": rate,
            "mb_per_s": rate * size / 1e6 if rate is not None else None}


def ping(sock, count, warmup, size):
    """Time ``count`` round trips of a ``size``-byte message, after ``warmup`` untimed ones."""
    message = b"x" * size
    send, recv, clock = sock.send, sock.recv, time.perf_counter_ns
    for _ in range(warmup):
        send(message)
        check_echo(recv(), message)
    samples = []
    reply = message
    for _ in range(count):
        start = clock()
        send(message)
        reply = recv()
        samples.append(clock() - start)
    check_echo(reply, message)
    elapsed = sum(samples) / 1e9
    samples.sort()
    return {
        "round_trips": count,
        "elapsed": elapsed,
        "median_us": percentile(samples, 50) / 1e3,
        "p99_us": percentile(samples, 99) / 1e3,
        "min_us": samples[0] / 1e3,
    }


def echo(sock, count):
    """Send each of ``count`` received messages straight back."""
    send, recv = sock.send, sock.recv
    for _ in range(count):
        send(recv())


def measure_throughput(rt, args):
    """PULL side: bind, announce, receive; with inproc also run the PUSH peer here."""
    zmq = rt.zmq
    ctx = zmq.Context()
    pull = make_socket(ctx, zmq.PULL, args.hwm)
    peer_argv = secure_server(rt, pull, args)
    endpoint = bind(pull, args.bind)
    announce("endpoint", endpoint=endpoint, peer_argv=peer_argv)
    push = sender = None
    if args.transport == "inproc":
        push = make_socket(ctx, zmq.PUSH, args.hwm)
        push.connect(endpoint)
        sender = rt.spawn(send_messages, push, args.count, args.size)
    result = receive_messages(pull, args.count, args.size)
    if sender is not None:
        rt.join(sender)
    announce("result", library=rt.describe(), **result)
    close(ctx, *[s for s in (pull, push) if s is not None])


def send_throughput(rt, args):
    """PUSH side in its own process: connect, send, then linger until all is delivered."""
    zmq = rt.zmq
    ctx = zmq.Context()
    push = make_socket(ctx, zmq.PUSH, args.hwm)
    secure_client(push, args)
    push.connect(args.connect)
    send_messages(push, args.count, args.size)
    push.close()  # default linger (-1): returns once the queue is flushed, like remote_thr
    ctx.term()
    announce("done")


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
    peer_argv = secure_server(rt, pinger, args)
    endpoint = bind(pinger, args.bind)
    announce("endpoint", endpoint=endpoint, peer_argv=peer_argv)
    echoer = task = None
    if args.transport == "inproc":
        echoer = ctx.socket(echo_type)
        echoer.connect(endpoint)
        task = rt.spawn(echo, echoer, args.count + args.warmup)
    result = ping(pinger, args.count, args.warmup, args.size)
    if task is not None:
        rt.join(task)
    announce("result", library=rt.describe(), **result)
    close(ctx, *[s for s in (pinger, echoer) if s is not None])


def echo_latency(rt, args):
    """Echo side (PAIR, or REP) in its own process."""
    zmq = rt.zmq
    ctx = zmq.Context()
    sock = ctx.socket(getattr(zmq, ROUND_TRIP_SOCKETS[args.test][1]))
    secure_client(sock, args)
    sock.connect(args.connect)
    echo(sock, args.count + args.warmup)
    close(ctx, sock)
    announce("done")


class RawTcp:
    """A connected gevent TCP socket carrying fixed-size messages, with the send/recv that ping and echo use.

    TCP has no message boundaries, so ``recv`` reads until a whole message is
    in; with small messages and TCP_NODELAY that is one read in practice.
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

    host, _ = host_port(args.bind)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(1)
    announce("endpoint", endpoint=f"tcp://{host}:{listener.getsockname()[1]}")
    conn, _ = listener.accept()
    listener.close()
    result = ping(RawTcp(conn, args.size), args.count, args.warmup, args.size)
    announce("result", library=rt.describe(), **result)
    conn.close()


def echo_floor(rt, args):
    """Raw gevent TCP echo in its own process."""
    from gevent import socket

    conn = socket.create_connection(host_port(args.connect))
    echo(RawTcp(conn, args.size), args.count + args.warmup)
    conn.close()
    announce("done")

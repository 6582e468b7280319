"""Connection churn: a DEALER connects, has one request answered, closes; again and again.

Two processes, as a client and a server usually are: the measuring process
binds a ROUTER and echoes; the client process opens a fresh DEALER for each
cycle, connects, sends a 16-byte request, waits for the echo (by then the
handshake is done both ways) and closes the socket with linger 0.  The server
times the cycles from the request of the first timed cycle to the request of
the cycle after the last, so each timed interval is one whole cycle: socket
set-up, connect, handshake, round trip, close.  It also checks that every
request comes over a new connection (a new routing id).
"""

import time

from .common import announce, bind, check_echo, close

MESSAGE = b"x" * 16


def serve_cycles(router, warmup, count):
    """Echo ``warmup + 1 + count`` requests; time the ``count`` cycles after the warm-up ones."""
    recv, send = router.recv_multipart, router.send_multipart
    previous = None
    for _ in range(warmup):
        previous = _echo_new(recv, send, previous)
    previous = _echo_new(recv, send, previous)
    start = time.perf_counter()
    for _ in range(count):
        previous = _echo_new(recv, send, previous)
    elapsed = time.perf_counter() - start
    return {"cycles": count, "elapsed": elapsed, "cycles_per_s": count / elapsed if elapsed > 0 else None,
            "us_per_cycle": elapsed / count * 1e6}


def _echo_new(recv, send, previous):
    """Echo one request, which must come from another connection than the one before; return its id."""
    request = recv()
    if request[0] == previous:
        raise ValueError("two cycles' requests came over the same connection")
    send(request)
    return request[0]


def measure_churn(rt, args):
    """The server: bind a ROUTER, announce, echo and time the cycles."""
    zmq = rt.zmq
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    endpoint = bind(router, args.bind)
    announce("endpoint", endpoint=endpoint)
    result = serve_cycles(router, args.warmup, args.count)
    announce("result", library=rt.describe(), **result)
    close(ctx, router)


def churn_cycles(rt, args):
    """The client process: ``warmup + 1 + count`` cycles of socket, connect, request, echo, close."""
    zmq = rt.zmq
    ctx = zmq.Context()
    socket, dealer, endpoint = ctx.socket, zmq.DEALER, args.connect
    for _ in range(args.warmup + 1 + args.count):
        sock = socket(dealer)
        sock.connect(endpoint)
        sock.send(MESSAGE)
        check_echo(sock.recv(), MESSAGE)
        sock.close(linger=0)
    ctx.term()
    announce("done")

"""ROUTER echo server under many DEALER clients: connect storm, memory per connection, round trips/s.

The server (the measuring process) binds a ROUTER for the clients and a second
ROUTER, the control socket, for the client processes (there may be several).
A run has three phases:

1. *connect storm*: once every client process has checked in over the control
   socket, the server reads its RSS and tells them to go; each process then
   connects all its DEALER clients at once, and each client sends one request
   and waits for the echo.  The storm lasts from the earliest "go" received
   to the latest first echo received (``time.monotonic``, one clock for every
   process on the machine).
2. *idle*: once every client's first request has been echoed the server reads
   its RSS again: the difference over the client count is what an idle
   connection costs the server.
3. *busy*: the server sends each client GO; each client then pings in a loop,
   one request in flight, and the server counts its echoes over a fixed time
   after a warm-up; last, each client gets STOP in reply to its next request.

Then every client process reports over the control socket.  Client layouts: a
greenlet per client under greenmq and zmq.green, as their users would write
it; under pyzmq one ``zmq.Poller`` loop per process over all its DEALERs (a
thread per client does not scale to thousands).
"""

import json
import time

from .common import GO, STOP, announce, bind, check_echo, close, next_to
from .runtime import raise_nofile, rss_bytes

ECHO_BATCH = 64  # messages the echo server handles between looks at the clock
READY = b"ready"  # a client process to the server's control socket: its clients are about to connect
SOCKET_MARGIN = 16  # sockets a client process needs besides its DEALERs (the control socket)


def client_message(index):
    """Each client's own 16-byte message, so that an echo routed to the wrong client is caught."""
    return b"%016d" % index


def layout(rt):
    """How this implementation's client processes run their clients, as the tables say it."""
    return "a greenlet per client" if rt.green else "a zmq.Poller loop over all the process's DEALERs"


# -- the server ------------------------------------------------------------------------------


def serve(router, control, clients, processes, warmup, duration):
    """Run the three phases; return the server's figures and the client processes' reports."""
    peers = _check_in(control, processes)
    rss_before = rss_bytes()
    for peer in peers:
        control.send_multipart([peer, GO])
    recv, send = router.recv_multipart, router.send_multipart
    routing_ids = _echo_first_requests(recv, send, clients)
    rss_after = rss_bytes()
    for routing_id in routing_ids:
        send([routing_id, GO])
    echoed, elapsed = _echo_for(recv, send, warmup, duration)
    _stop_clients(recv, send, clients)
    reports = [json.loads(control.recv_multipart()[1]) for _ in range(processes)]
    per_connection = (rss_after - rss_before) / clients if rss_before is not None else None
    return {"round_trips": echoed, "elapsed": elapsed, "round_trips_per_s": echoed / elapsed,
            "storm_s": max(r["first_echoes_done"] for r in reports) - min(r["started"] for r in reports),
            "rss_before": rss_before, "rss_after": rss_after, "rss_per_connection": per_connection,
            "client_round_trips": sum(r["round_trips"] for r in reports)}


def _check_in(control, processes):
    """Wait until every client process has said it is ready; return their control routing ids."""
    peers = []
    while len(peers) < processes:
        peer, message = control.recv_multipart()
        if message != READY:
            raise ValueError(f"control: expected {READY!r}, received {bytes(message[:32])!r}")
        peers.append(peer)
    return peers


def _echo_first_requests(recv, send, clients):
    """Echo each client's first request; return the clients' routing ids once all have been heard."""
    seen = set()
    while len(seen) < clients:
        request = recv()
        if request[0] in seen:
            raise ValueError("a client sent a second request before the connect storm was over")
        send(request)
        seen.add(request[0])
    return seen


def _echo_for(recv, send, warmup, duration):
    """Echo for ``warmup`` seconds, then count the echoes of ``duration`` seconds: (echoes, seconds).

    Each client has one request in flight, so the echoes in a window are its
    round trips, give or take one per client.
    """
    clock = time.perf_counter
    end = clock() + warmup
    while clock() < end:
        send(recv())
    echoed = 0
    start = clock()
    end = start + duration
    while clock() < end:
        for _ in range(ECHO_BATCH):
            send(recv())
        echoed += ECHO_BATCH
    return echoed, clock() - start


def _stop_clients(recv, send, clients):
    """Answer each client's next request with ``STOP``; every client has exactly one more coming."""
    stopped = set()
    while len(stopped) < clients:
        routing_id = recv()[0]
        send([routing_id, STOP])
        stopped.add(routing_id)


def measure_router(rt, args):
    """The server process: bind both ROUTERs, announce, serve, report."""
    nofile = raise_nofile()
    zmq = rt.zmq
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.backlog = args.clients  # a storm of connects: the kernel caps this at its somaxconn
    control = ctx.socket(zmq.ROUTER)
    endpoint = bind(router, args.bind)
    control_endpoint = bind(control, next_to(endpoint, "control"))
    announce("endpoint", endpoint=endpoint, peer_argv=["--control", control_endpoint])
    result = serve(router, control, args.clients, args.processes, args.warmup_seconds, args.duration)
    announce("result", library=rt.describe(), clients=args.clients, processes=args.processes,
             clients_run_as=layout(rt), nofile=nofile, **result)
    close(ctx, router, control)


# -- the clients -----------------------------------------------------------------------------


def process_share(clients, processes, index):
    """The client numbers that client process ``index`` of ``processes`` runs: an even split."""
    return range(index * clients // processes, (index + 1) * clients // processes)


def green_client(ctx, dealer, endpoint, index):
    """One client on its own DEALER: first echo, GO, ping until STOP; return (first echo's time, round trips)."""
    sock = ctx.socket(dealer)
    sock.connect(endpoint)
    message = client_message(index)
    send, recv = sock.send, sock.recv
    send(message)
    check_echo(recv(), message)
    first_echo = time.monotonic()
    check_echo(recv(), GO)
    round_trips = 0
    while True:
        send(message)
        reply = recv()
        if reply != message:
            break
        round_trips += 1
    sock.close(linger=0)
    check_echo(reply, STOP)
    return first_echo, round_trips


# What a polled client waits for next.
FIRST_ECHO, WAIT_GO, PINGING = range(3)


def polled_clients(zmq, ctx, endpoint, indices):
    """All of a process's clients in one ``zmq.Poller`` loop: the same protocol as :func:`green_client`.

    Returns (time the last first echo arrived, round trips).
    """
    poller = zmq.Poller()
    messages, states = {}, {}
    for index in indices:
        sock = ctx.socket(zmq.DEALER)
        sock.connect(endpoint)
        messages[sock] = client_message(index)
        states[sock] = FIRST_ECHO
        sock.send(messages[sock])
        poller.register(sock, zmq.POLLIN)
    awaiting_echo, live, round_trips, first_echoes_done = len(states), len(states), 0, time.monotonic()
    while live:
        for sock, _ in poller.poll():
            reply, message, state = sock.recv(), messages[sock], states[sock]
            if state == PINGING and reply == message:
                round_trips += 1
                sock.send(message)
            elif state == PINGING:
                check_echo(reply, STOP)
                poller.unregister(sock)
                sock.close(linger=0)
                live -= 1
            elif state == FIRST_ECHO:
                check_echo(reply, message)
                states[sock] = WAIT_GO
                awaiting_echo -= 1
                if not awaiting_echo:
                    first_echoes_done = time.monotonic()
            else:
                check_echo(reply, GO)
                states[sock] = PINGING
                sock.send(message)
    return first_echoes_done, round_trips


def run_clients(rt, args):
    """A client process: check in, connect its share of the clients on GO, report over the control socket."""
    nofile = raise_nofile()
    zmq = rt.zmq
    indices = process_share(args.clients, args.processes, args.index)
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, max(ctx.get(zmq.MAX_SOCKETS), len(indices) + SOCKET_MARGIN))
    control = ctx.socket(zmq.DEALER)
    control.connect(args.control)
    control.send(READY)
    check_echo(control.recv(), GO)
    started = time.monotonic()
    if rt.green:
        results = rt.run_all(green_client, [(ctx, zmq.DEALER, args.connect, index) for index in indices])
        first_echoes_done = max(first for first, _ in results)
        round_trips = sum(count for _, count in results)
    else:
        first_echoes_done, round_trips = polled_clients(zmq, ctx, args.connect, indices)
    report = {"index": args.index, "clients": len(indices), "started": started,
              "first_echoes_done": first_echoes_done, "round_trips": round_trips}
    control.send(json.dumps(report).encode())
    control.close()  # default linger: the report must get out before the socket goes
    ctx.term()
    announce("done", nofile=nofile, **report)

"""A gevent web server whose request handlers share backend workers over ROUTER/DEALER.

``python web_backend.py`` serves on http://127.0.0.1:8000/ until Ctrl-C (or
SIGTERM); try ``curl 'http://127.0.0.1:8000/square?n=12'``, which answers
``{"n": 12, "square": 144, "worker": "worker-3"}``. The pieces::

    HTTP clients -> gevent.pywsgi, a greenlet per request
                 -> one DEALER shared by every handler
                 -> ROUTER | zmq.proxy | DEALER (the broker)
                 -> REP workers, each a greenlet

Every handler sends on the same DEALER, so many requests are in flight on
one socket at once. A handler tags its request with a request id frame and
waits on a ``gevent.event.AsyncResult`` filed under that id; one dispatcher
greenlet receives every reply from the DEALER and sets the result waiting for
its id. Workers take a random few milliseconds, so replies come back in a
different order from the requests, and each still reaches its own handler.
Nothing is monkey-patched: greenmq's blocking calls wait on the gevent hub.

Options:

``--port PORT`` (0: any free port, printed), ``--workers N`` (default 4),
``--reply-timeout SECONDS`` (default 10; a request no worker answers in
time gets a 504).
``--self-test N`` serves on a free port, fires N concurrent HTTP requests at
itself (each on a gevent socket), checks every reply and exits 0 if all are
right, 1 otherwise.
``--workers-only ENDPOINT`` runs just the broker and workers, bound at
ENDPOINT (``tcp://127.0.0.1:*`` picks a port; the bound endpoint is
printed); ``--backend ENDPOINT`` runs just the web server, with the workers
at ENDPOINT. So the workers can live in another process or on another
machine, and be written with pyzmq as well.

The server binds loopback only. Each run prints a ``... listening ...`` or
``... serving on ...`` line once it is ready, and exits 0 after a signal.
"""

import argparse
import itertools
import json
import random
import signal
import sys
from urllib.parse import parse_qs

import gevent
import gevent.socket
from gevent.event import AsyncResult, Event
from gevent.pywsgi import WSGIServer

import greenmq as zmq

HOST = "127.0.0.1"
BROKER_INPROC = "inproc://web-backend-broker"  # the broker's frontend when everything runs in one process
WORKERS_INPROC = "inproc://web-backend-workers"  # the broker's backend, where the workers connect
REPLY_TIMEOUT = 10.0  # default seconds a handler waits for its worker before answering 504
STOP_TIMEOUT = 5.0  # seconds requests in progress get to finish at shutdown


# -- the workers' side -----------------------------------------------------------------------------

def broker(frontend, backend):
    """Pass requests from the web servers to the workers and replies back, until the context ends."""
    try:
        zmq.proxy(frontend, backend)
    except zmq.ContextTerminated:
        pass
    finally:
        frontend.close(linger=0)
        backend.close(linger=0)


def worker(ctx, name):
    """A REP worker: a plain loop, one request at a time; the broker spreads the load."""
    socket = ctx.socket(zmq.REP)
    socket.connect(WORKERS_INPROC)
    try:
        while True:
            request_id, number = socket.recv_multipart()  # REP has removed the envelope
            gevent.sleep(random.uniform(0, 0.01))  # the slow part: a database, a model, another service
            square = int(number) ** 2
            socket.send_multipart([request_id, str(square).encode(), name.encode()])
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)


def start_workers(ctx, endpoint, count):
    """Bind the broker at ``endpoint``; start it and ``count`` workers. Returns the bound endpoint and the
    greenlets, which end once the context is shut down."""
    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.DEALER)
    frontend.bind(endpoint)
    backend.bind(WORKERS_INPROC)
    greenlets = [gevent.spawn(broker, frontend, backend)]
    greenlets += [gevent.spawn(worker, ctx, f"worker-{n}") for n in range(count)]
    return frontend.getsockopt_string(zmq.LAST_ENDPOINT), greenlets


# -- the web server's side -------------------------------------------------------------------------

class Backend:
    """The web server's way to the workers: one DEALER socket shared by every request handler.

    A request is ``[b"", request id, payload]``: the empty frame is the delimiter a REP worker expects
    (a REQ socket would add it), and the id comes back with the reply, which is how the dispatcher knows
    whose it is.
    """

    def __init__(self, ctx, endpoint, timeout=REPLY_TIMEOUT):
        self.timeout = timeout
        self._socket = ctx.socket(zmq.DEALER)
        self._socket.connect(endpoint)
        self._ids = itertools.count()
        self._pending = {}  # request id -> the AsyncResult its handler waits on
        self.peak_in_flight = 0
        self.dispatcher = gevent.spawn(self._dispatch)

    def request(self, payload):
        """Send ``payload`` to a worker; return its reply frames. Raises ``gevent.Timeout`` after ``self.timeout``
        seconds, which also bounds a send held up by a full queue (a timed-out send has sent nothing)."""
        request_id = str(next(self._ids)).encode()
        reply = self._pending[request_id] = AsyncResult()
        self.peak_in_flight = max(self.peak_in_flight, len(self._pending))
        try:
            with gevent.Timeout(self.timeout):
                self._socket.send_multipart([b"", request_id, payload])
                return reply.get()
        finally:
            del self._pending[request_id]

    def _dispatch(self):
        """Hand every reply to the handler waiting for it, until the context is shut down."""
        try:
            while True:
                _, request_id, *frames = self._socket.recv_multipart()
                reply = self._pending.get(request_id)
                if reply is not None:  # else its handler has given up waiting
                    reply.set(frames)
        except zmq.ContextTerminated:
            pass
        finally:
            self._socket.close(linger=0)


def respond(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_app(backend):
    """The WSGI application: ``GET /square?n=INTEGER``, answered by a worker."""

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/square":
            return respond(start_response, "404 Not Found", {"error": "try /square?n=12"})
        try:
            n = int(parse_qs(environ["QUERY_STRING"])["n"][0])
        except (KeyError, ValueError):
            return respond(start_response, "400 Bad Request", {"error": "n must be an integer"})
        try:
            square, worker_name = backend.request(str(n).encode())
        except gevent.Timeout:
            return respond(start_response, "504 Gateway Timeout", {"error": "no worker answered in time"})
        return respond(start_response, "200 OK", {"n": n, "square": int(square), "worker": worker_name.decode()})

    return app


# -- the self-test's HTTP client -------------------------------------------------------------------

def http_get(port, path):
    """``GET path`` from the server on loopback: (status, decoded JSON body). Plain HTTP/1.0 on a gevent
    socket, which waits cooperatively without monkey-patching."""
    with gevent.socket.create_connection((HOST, port)) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def check(n, client):
    """The worker that rightly answered request ``n`` (from ``client``), or None after saying what went wrong."""
    if not client.successful():
        problem = client.exception or "no answer in time"
    else:
        status, body = client.value
        worker_name = body.pop("worker", None)
        if status == 200 and body == {"n": n, "square": n * n}:
            return worker_name
        problem = f"{status} {body}"
    print(f"self-test: request {n}: {problem}", flush=True)
    return None


def self_test(port, count, backend):
    """Fire ``count`` requests at once; True if each got its own right answer."""
    clients = [gevent.spawn(http_get, port, f"/square?n={n}") for n in range(count)]
    gevent.joinall(clients, timeout=backend.timeout + 50)
    answered_by = [check(n, client) for n, client in enumerate(clients)]  # any still waiting is wrong
    gevent.killall(clients)
    correct = sum(name is not None for name in answered_by)
    print(f"self-test: {correct}/{count} replies correct, from {len(set(answered_by) - {None})} workers, "
          f"up to {backend.peak_in_flight} requests in flight at once", flush=True)
    return correct == count


# -- running it ------------------------------------------------------------------------------------

def serve_until_signal(who, ready_line):
    """Print ``ready_line``, then block this greenlet until SIGINT or SIGTERM. The handlers are in place
    before the line is printed, and run in the hub, so they only set an event."""
    got = Event()
    handlers = [gevent.signal_handler(signum, got.set) for signum in (signal.SIGINT, signal.SIGTERM)]
    print(ready_line, flush=True)
    try:
        got.wait()
    finally:
        for handler in handlers:
            handler.cancel()
    print(f"{who}: got a signal, shutting down", flush=True)


def shut_down(ctx, greenlets):
    """End every greenlet blocked on a socket (they close their sockets), then terminate the context."""
    ctx.shutdown()
    gevent.joinall(greenlets)
    ctx.term()


def run_workers_only(endpoint, workers):
    ctx = zmq.Context()
    bound, greenlets = start_workers(ctx, endpoint, workers)
    serve_until_signal("workers", f"workers: broker listening on {bound}, {workers} workers")
    shut_down(ctx, greenlets)
    print("workers: shutdown complete", flush=True)
    return 0


def run_web(args):
    ctx = zmq.Context()
    greenlets = []
    endpoint = args.backend
    if endpoint is None:
        endpoint, greenlets = start_workers(ctx, BROKER_INPROC, args.workers)
    backend = Backend(ctx, endpoint, args.reply_timeout)
    greenlets.append(backend.dispatcher)
    port = 0 if args.self_test else args.port
    server = WSGIServer((HOST, port), make_app(backend), log=None, backlog=1024)
    server.start()
    try:
        if args.self_test:
            return 0 if self_test(server.server_port, args.self_test, backend) else 1
        url = f"http://{HOST}:{server.server_port}/"
        serve_until_signal("web", f"web: serving on {url} (try: curl '{url}square?n=12')")
        return 0
    finally:
        server.stop(timeout=STOP_TIMEOUT)  # no new connections; requests in progress finish
        shut_down(ctx, greenlets)
        print("web: shutdown complete", flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8000, help="port to serve on, 0 for any free port")
    parser.add_argument("--workers", type=int, default=4, help="worker greenlets (default 4)")
    parser.add_argument("--reply-timeout", type=float, default=REPLY_TIMEOUT,
                        help=f"seconds to wait for a worker before answering 504 (default {REPLY_TIMEOUT:g})")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--self-test", type=int, metavar="N", help="fire N concurrent requests, check, exit")
    modes.add_argument("--workers-only", metavar="ENDPOINT", help="run only the broker and workers, bound there")
    parser.add_argument("--backend", metavar="ENDPOINT", help="use the workers at ENDPOINT instead of starting any")
    args = parser.parse_args(argv)
    if args.workers_only:
        return run_workers_only(args.workers_only, args.workers)
    return run_web(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

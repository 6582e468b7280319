"""A CLIENT/SERVER service: many greenlets share one CLIENT socket, replies matched by request id.

``python client_server.py server`` serves on tcp://127.0.0.1:5555 until
Ctrl-C (or SIGTERM); ``python client_server.py client --requests 100``
sends it 100 requests at once from 100 greenlets. The pieces::

    greenlets --> one CLIENT --tcp--> SERVER --> a handler greenlet per request
              <-- dispatcher <--------        <-- reply sent to the request's routing id

CLIENT and SERVER are the thread-safe, single-frame types libzmq keeps as
drafts (pyzmq has none); greenmq has them always. A SERVER's received frame
carries the routing id of the CLIENT that sent it (``frame.routing_id``),
and ``send(..., routing_id=...)`` answers that one CLIENT: no envelope
frames, as a ROUTER would need. The server answers each request in a
greenlet of its own after a random few milliseconds of "work", so replies
come back in another order than the requests went out.

A CLIENT gives its frames to whichever greenlet calls ``recv`` (fair-queued,
with nothing saying which request a frame answers), so the greenlets do not
receive themselves: each request carries an id, one dispatcher greenlet
receives every reply and hands it to the ``gevent.event.AsyncResult`` filed
under that id. The wire format is JSON: ``{"id": 7, "n": 12}`` and
``{"id": 7, "square": 144}``.

Options: ``server --bind ENDPOINT`` (``tcp://127.0.0.1:*`` picks a port;
the bound endpoint is printed in a ``serving on ...`` line);
``client --connect ENDPOINT --requests N`` (exits 0 if every reply is
right; ``--connect`` again for more servers, among which the CLIENT spreads
the requests); ``--self-test N`` runs both in one process over tcp on loopback
with N concurrent requests, checks every reply and exits 0 if all are
right, 1 otherwise.
"""

import argparse
import itertools
import json
import random
import signal
import sys

import gevent
import gevent.pool
from gevent.event import AsyncResult, Event

import greenmq as zmq

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
REPLY_TIMEOUT = 10.0  # seconds a request waits for its reply


# -- the server --------------------------------------------------------------------------------------

def serve(server):
    """Receive requests until the socket is closed; answer each in a greenlet of its own. Returns how many
    requests it took."""
    handlers = gevent.pool.Group()
    taken = 0
    try:
        while True:
            frame = server.recv(copy=False)  # a Frame: it carries the sender's routing id
            taken += 1
            handlers.spawn(answer, server, frame.routing_id, frame.bytes)
    except zmq.ZMQError as error:
        if error.errno not in (zmq.ENOTSOCK, zmq.ETERM):  # closed, or its context ended: the normal end
            raise
    finally:
        handlers.kill()
    return taken


def answer(server, routing_id, data):
    """The "work" for one request, then the reply to the CLIENT that sent it."""
    request = json.loads(data)
    gevent.sleep(random.uniform(0, 0.01))  # a database, a model, another service
    reply = {"id": request["id"], "square": request["n"] ** 2}
    try:
        server.send_json(reply, routing_id=routing_id)
    except zmq.ZMQError as error:
        if error.errno == zmq.EHOSTUNREACH:  # the CLIENT has gone: nobody to answer
            return
        if error.errno not in (zmq.ENOTSOCK, zmq.ETERM):
            raise


# -- the client --------------------------------------------------------------------------------------

class Client:
    """One CLIENT socket shared by any number of greenlets: :meth:`square` may be called from all at once."""

    def __init__(self, ctx, endpoints):
        self._socket = ctx.socket(zmq.CLIENT)
        self._socket.linger = 0
        for endpoint in endpoints:  # several SERVERs: the CLIENT spreads the requests among them
            self._socket.connect(endpoint)
        self._ids = itertools.count(1)
        self._pending = {}  # request id -> the AsyncResult its greenlet waits on
        self.peak_in_flight = 0
        self.out_of_order = 0  # replies that overtook an earlier request's
        self._dispatcher = gevent.spawn(self._dispatch)

    def square(self, n, timeout=REPLY_TIMEOUT):
        """``n`` squared, by the server. Raises ``gevent.Timeout`` if no reply comes within ``timeout`` s."""
        request_id = next(self._ids)
        reply = self._pending[request_id] = AsyncResult()
        self.peak_in_flight = max(self.peak_in_flight, len(self._pending))
        try:
            with gevent.Timeout(timeout):
                self._socket.send_json({"id": request_id, "n": n})
                return reply.get()
        finally:
            del self._pending[request_id]

    def _dispatch(self):
        """Hand every reply to the greenlet waiting for its id, until the socket is closed."""
        try:
            while True:
                reply = self._socket.recv_json()
                if any(other < reply["id"] for other in self._pending):
                    self.out_of_order += 1
                waiting = self._pending.get(reply["id"])
                if waiting is not None:  # else its greenlet gave up waiting
                    waiting.set(reply["square"])
        except zmq.ZMQError as error:
            if error.errno not in (zmq.ENOTSOCK, zmq.ETERM):
                raise

    def close(self):
        self._socket.close()
        self._dispatcher.join()


def run_requests(client, count):
    """``count`` requests at once, each from a greenlet of its own; the number answered wrongly."""
    numbers = list(range(count))
    jobs = [gevent.spawn(client.square, n) for n in numbers]
    gevent.joinall(jobs)
    wrong = 0
    for n, job in zip(numbers, jobs):
        if not job.successful() or job.value != n * n:
            problem = job.exception or f"got {job.value}"
            print(f"request {n}: {problem}", flush=True)
            wrong += 1
    return wrong


# -- the modes ---------------------------------------------------------------------------------------

def run_server(ctx, endpoint):
    server = ctx.socket(zmq.SERVER)
    server.linger = 0
    server.bind(endpoint)
    print(f"serving on {server.last_endpoint.decode()}", flush=True)
    stop = Event()
    handlers = [gevent.signal_handler(signum, stop.set) for signum in (signal.SIGINT, signal.SIGTERM)]
    serving = gevent.spawn(serve, server)
    stop.wait()
    for handler in handlers:
        handler.cancel()
    server.close()
    print(f"server stopped after {serving.get()} requests", flush=True)
    return 0


def run_client(ctx, endpoints, count):
    client = Client(ctx, endpoints)
    try:
        wrong = run_requests(client, count)
        print(f"client: {count - wrong}/{count} right, peak {client.peak_in_flight} in flight, "
              f"{client.out_of_order} replies out of order", flush=True)
    finally:
        client.close()
    return 1 if wrong else 0


def self_test(ctx, count):
    server = ctx.socket(zmq.SERVER)
    server.linger = 0
    server.bind("tcp://127.0.0.1:*")
    serving = gevent.spawn(serve, server)
    try:
        status = run_client(ctx, [server.last_endpoint.decode()], count)
    finally:
        server.close()
        serving.join()
    print("self-test: " + ("passed" if status == 0 else "FAILED"), flush=True)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("mode", nargs="?", choices=["server", "client"], help="run one side only")
    parser.add_argument("--bind", default=DEFAULT_ENDPOINT, help="server: where to bind")
    parser.add_argument("--connect", action="append", help="client: a server's endpoint (repeat for several; "
                        f"default {DEFAULT_ENDPOINT})")
    parser.add_argument("--requests", type=int, default=100, help="client: how many concurrent requests")
    parser.add_argument("--self-test", type=int, metavar="N", help="server and client in this process, N requests")
    args = parser.parse_args(argv)
    if (args.mode is None) == (args.self_test is None):
        parser.error("give a mode (server or client) or --self-test N")
    ctx = zmq.Context()
    try:
        if args.self_test is not None:
            return self_test(ctx, args.self_test)
        if args.mode == "server":
            return run_server(ctx, args.bind)
        return run_client(ctx, args.connect or [DEFAULT_ENDPOINT], args.requests)
    finally:
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())

"""The load-balancing broker (ROUTER to ROUTER): workers announce readiness, the broker
hands each client request to the least recently ready worker.

``python lbbroker.py [clients] [workers]`` runs everything as greenlets over
inproc and prints which worker served which client. Clients are REQ sockets,
workers are REQ sockets too (they *ask* for work by sending "READY", then
each reply carries the next request), and the broker talks ROUTER on both
sides, addressing workers by their routing ids.
"""

import sys

import gevent

import greenmq as zmq


def client(ctx, name, replies):
    socket = ctx.socket(zmq.REQ)
    socket.routing_id = name.encode()
    socket.connect("inproc://frontend")
    socket.send_string("HELLO")
    replies.append(f"{name}: {socket.recv_string()}")
    socket.close()


def worker(ctx, name):
    socket = ctx.socket(zmq.REQ)
    socket.routing_id = name.encode()
    socket.connect("inproc://backend")
    socket.send_string("READY")
    try:
        while True:
            client_id, empty, request = socket.recv_multipart()
            socket.send_multipart([client_id, b"", f"{request.decode()} handled by {name}".encode()])
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)


def broker(frontend, backend, requests):
    """Route client requests to ready workers; only poll the frontend while a worker is free."""
    ready_workers = []
    poller = zmq.Poller()
    poller.register(backend, zmq.POLLIN)
    served = 0
    while served < requests:
        events = dict(poller.poll())
        if backend in events:
            worker_id, empty, client_id, *rest = backend.recv_multipart()
            if not ready_workers:
                poller.register(frontend, zmq.POLLIN)
            ready_workers.append(worker_id)
            if client_id != b"READY":
                empty, reply = rest
                frontend.send_multipart([client_id, b"", reply])
                served += 1
        if frontend in events:
            client_id, empty, request = frontend.recv_multipart()
            backend.send_multipart([ready_workers.pop(0), b"", client_id, b"", request])
            if not ready_workers:
                poller.unregister(frontend)


def main(argv):
    clients = int(argv[0]) if argv else 10
    workers = int(argv[1]) if len(argv) > 1 else 3
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.ROUTER)
    frontend.bind("inproc://frontend")
    backend.bind("inproc://backend")
    replies = []
    background = [gevent.spawn(worker, ctx, f"worker-{n}") for n in range(workers)]
    with gevent.Timeout(30):
        greenlets = [gevent.spawn(client, ctx, f"client-{n}", replies) for n in range(clients)]
        broker(frontend, backend, clients)
        gevent.joinall(greenlets, raise_error=True)
    for line in sorted(replies):
        print(line)
    frontend.close()
    backend.close()
    ctx.term()
    gevent.joinall(background)


if __name__ == "__main__":
    main(sys.argv[1:])

"""A request-reply broker built on ``zmq.proxy``: clients (REQ) → ROUTER | DEALER → workers (REP).

``python broker.py [clients] [workers] [requests]`` runs the broker, the
workers and the clients as greenlets of one process over tcp, and prints who
served what. Because the broker only forwards whole messages with their
envelopes, REQ clients and REP workers on either side need not know about it.
"""

import sys

import gevent

import greenmq as zmq


def broker(frontend, backend):
    """Forward requests and replies until the context is terminated."""
    try:
        zmq.proxy(frontend, backend)
    except zmq.ContextTerminated:
        pass
    finally:
        frontend.close(linger=0)
        backend.close(linger=0)


def worker(ctx, name, backend_endpoint):
    socket = ctx.socket(zmq.REP)
    socket.connect(backend_endpoint)
    try:
        while True:
            request = socket.recv_string()
            socket.send_string(f"{request} served by {name}")
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)


def client(ctx, name, frontend_endpoint, requests, results):
    socket = ctx.socket(zmq.REQ)
    socket.connect(frontend_endpoint)
    for number in range(requests):
        socket.send_string(f"{name}/request-{number}")
        results.append(socket.recv_string())
    socket.close()


def main(argv):
    clients = int(argv[0]) if argv else 3
    workers = int(argv[1]) if len(argv) > 1 else 2
    requests = int(argv[2]) if len(argv) > 2 else 4
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.DEALER)
    frontend_endpoint = f"tcp://127.0.0.1:{frontend.bind_to_random_port('tcp://127.0.0.1')}"
    backend_endpoint = f"tcp://127.0.0.1:{backend.bind_to_random_port('tcp://127.0.0.1')}"
    background = [gevent.spawn(broker, frontend, backend)]
    background += [gevent.spawn(worker, ctx, f"worker-{n}", backend_endpoint) for n in range(workers)]
    results = []
    with gevent.Timeout(30):
        gevent.joinall([gevent.spawn(client, ctx, f"client-{n}", frontend_endpoint, requests, results)
                        for n in range(clients)], raise_error=True)
    for line in sorted(results):
        print(line)
    print(f"broker: {len(results)} replies")
    ctx.term()
    gevent.joinall(background)


if __name__ == "__main__":
    main(sys.argv[1:])

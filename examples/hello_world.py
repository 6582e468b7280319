"""Hello World over REQ/REP: ``python hello_world.py server|client [endpoint] [count]``.

The server answers each "Hello" with "World"; the client sends ``count``
requests and prints each reply. Run the server first or second: a REQ that
connects before the REP binds simply waits.
"""

import sys

import greenmq as zmq

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"


def server(endpoint, count):
    with zmq.Context() as ctx, ctx.socket(zmq.REP) as socket:
        socket.bind(endpoint)
        print(f"server: listening on {endpoint}", flush=True)
        for _ in range(count):
            message = socket.recv_string()
            print(f"server: received {message!r}", flush=True)
            socket.send_string("World")


def client(endpoint, count):
    with zmq.Context() as ctx, ctx.socket(zmq.REQ) as socket:
        socket.connect(endpoint)
        for number in range(count):
            socket.send_string("Hello")
            print(f"client: reply {number}: {socket.recv_string()!r}", flush=True)


def main(argv):
    role = argv[0] if argv else "server"
    endpoint = argv[1] if len(argv) > 1 else DEFAULT_ENDPOINT
    count = int(argv[2]) if len(argv) > 2 else 10
    {"server": server, "client": client}[role](endpoint, count)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Lazy Pirate: a reliable REQ client that polls with a timeout, retries, and re-creates its socket.

``python lazy_pirate.py server ENDPOINT [--crash-after N] [--slow-at N --slow-seconds S]``
runs a REP server that can misbehave on purpose; ``python lazy_pirate.py
client ENDPOINT [--requests N] [--timeout MS] [--retries N]`` sends numbered
requests and insists on the matching reply. A REQ socket that got no answer
is stuck in its send/recv cycle, so the client closes it (LINGER 0 drops the
unanswered request) and opens a fresh one before resending.
"""

import argparse
import sys

import gevent

import greenmq as zmq


def server(args):
    with zmq.Context() as ctx, ctx.socket(zmq.REP) as socket:
        socket.bind(args.endpoint)
        print("server: ready", flush=True)
        cycles = 0
        while True:
            request = socket.recv_string()
            cycles += 1
            if args.crash_after and cycles > args.crash_after:
                print("server: simulating a crash", flush=True)
                socket.close(linger=0)
                return 0
            if cycles == args.slow_at:
                print(f"server: simulating overload on {request}", flush=True)
                gevent.sleep(args.slow_seconds)
            socket.send_string(request)


def client(args):
    ctx = zmq.Context()
    socket = None
    try:
        for sequence in range(1, args.requests + 1):
            request = str(sequence)
            for attempt in range(args.retries + 1):
                if socket is None:
                    socket = ctx.socket(zmq.REQ)
                    socket.connect(args.endpoint)
                socket.send_string(request)
                if socket.poll(args.timeout, zmq.POLLIN) and socket.recv_string() == request:
                    print(f"client: reply {request} ok" + (f" after {attempt} retries" if attempt else ""),
                          flush=True)
                    break
                print(f"client: no reply to {request}, retrying", flush=True)
                socket.close(linger=0)
                socket = None
            else:
                print("client: server seems to be offline, abandoning", flush=True)
                return 1
        return 0
    finally:
        if socket is not None:
            socket.close(linger=0)
        ctx.term()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("endpoint")
    parser.add_argument("--crash-after", type=int, default=0)
    parser.add_argument("--slow-at", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=2500, help="ms to wait for a reply")
    parser.add_argument("--retries", type=int, default=3)
    args = parser.parse_args(argv)
    return server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Grasslands: ZeroMQ with no security at all -- ``python grasslands.py``.

The baseline of the progression. A PUSH server binds a random port on
127.0.0.1, a PULL client connects, one message goes through, and the script
prints "Grasslands test OK" (exit status 0) or says what failed (exit 1).

What it protects against: nothing. Anyone who can reach the port can connect
and receive the server's messages, and anyone on the path can read and
change them. Keeping the socket on 127.0.0.1, as here, is the only fence.
Good enough for a program talking to itself, or on a network you trust
completely; the next level, strawhouse.py, starts checking who connects.
"""

import sys

import greenmq as zmq

from exchange import bind_loopback, exchange, report


def start_server(ctx):
    """A PUSH socket bound to a random loopback port: ``(socket, endpoint)``. No checks of any kind."""
    server = ctx.socket(zmq.PUSH)
    return server, bind_loopback(server)


def client_socket(ctx):
    """The client: a PULL socket, not yet connected, with no security settings."""
    return ctx.socket(zmq.PULL)


def main():
    ctx = zmq.Context()
    try:
        server, endpoint = start_server(ctx)
        client = client_socket(ctx)
        client.connect(endpoint)
        return report("Grasslands", exchange(server, client))
    finally:
        ctx.destroy(linger=0)  # closes the server and client sockets, then terminates the context


if __name__ == "__main__":
    sys.exit(main())

"""Strawhouse: the NULL mechanism plus an IP address allow list -- ``python strawhouse.py``.

The server starts a ZAP handler (``ThreadAuthenticator``, a greenlet in
greenmq) that admits connections from 127.0.0.1 only, and gives its socket a
``ZAP_DOMAIN``: a NULL socket consults ZAP only when it has one. The client
connects from 127.0.0.1 with no credentials, gets the message, and the script
prints "Strawhouse test OK" (exit status 0) or says what failed (exit 1).

What it protects against: connections from addresses you did not list -- a
client refused here is never attached to the socket, so it receives nothing
and what it sends is never delivered (see ``start_server``'s ``allowed`` and
``denied`` arguments, which the tests use to refuse 127.0.0.1 itself).

What it does not: source addresses are easy to share or spoof (every process
on an allowed host is allowed), nobody proves who they are, and the traffic
is in clear text, open to anyone who can watch or tamper with the network.
woodhouse.py adds a password.
"""

import sys

import greenmq as zmq
from greenmq.auth.thread import ThreadAuthenticator

from exchange import bind_loopback, exchange, report

DOMAIN = b"strawhouse"  # any non-empty name: it is what makes a NULL socket ask ZAP at all


def start_server(ctx, allowed=("127.0.0.1",), denied=()):
    """Start the authenticator and bind the server: ``(authenticator, socket, endpoint)``.

    Give ``allowed`` addresses (only those get in) or ``denied`` ones (all but
    those get in), not both. Stop the authenticator when done.
    """
    auth = ThreadAuthenticator(ctx)
    auth.start()
    if allowed:
        auth.allow(*allowed)
    if denied:
        auth.deny(*denied)
    server = ctx.socket(zmq.PUSH)
    server.zap_domain = DOMAIN
    return auth, server, bind_loopback(server)


def client_socket(ctx):
    """The client: a PULL socket, not yet connected. NULL has no client settings; the address is the credential."""
    return ctx.socket(zmq.PULL)


def main():
    ctx = zmq.Context()
    auth = None
    try:
        auth, server, endpoint = start_server(ctx)
        client = client_socket(ctx)
        client.connect(endpoint)
        return report("Strawhouse", exchange(server, client))
    finally:
        if auth is not None:
            auth.stop()
        ctx.destroy(linger=0)  # closes the server and client sockets, then terminates the context


if __name__ == "__main__":
    sys.exit(main())

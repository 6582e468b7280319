"""Stonehouse: CURVE encryption, the server authenticated, any client admitted -- ``python stonehouse.py``.

The server has a long-term CURVE key pair; a client must know the server's
public key to connect, and brings a key pair of its own -- here a fresh one,
since the ZAP handler (``ThreadAuthenticator``, a greenlet in greenmq) accepts
any client key (``configure_curve(location=CURVE_ALLOW_ANY)``) and keeps only
the 127.0.0.1 allow list of strawhouse.py. One message goes through and the
script prints "Stonehouse test OK" (exit status 0) or says what failed (exit 1).

What it protects against: eavesdropping and tampering (all traffic is
encrypted and authenticated, with keys that are forgotten after the
session), and impostors of the server: a client that has the server's public
key talks only to the holder of the matching secret key.

What it does not: the server has no idea who its clients are -- anyone who
knows its public key (which is not a secret) and can reach the port is
served. ironhouse.py admits known client keys only.
"""

import sys

import greenmq as zmq
from greenmq.auth import CURVE_ALLOW_ANY
from greenmq.auth.thread import ThreadAuthenticator

from exchange import bind_loopback, exchange, report


def start_server(ctx, server_keys):
    """Start the authenticator and bind the CURVE server: ``(authenticator, socket, endpoint)``.

    ``server_keys`` is the server's ``(public, secret)`` key pair (Z85). Stop
    the authenticator when done.
    """
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.allow("127.0.0.1")
    auth.configure_curve(domain="*", location=CURVE_ALLOW_ANY)
    server = ctx.socket(zmq.PUSH)
    server.curve_publickey, server.curve_secretkey = server_keys
    server.curve_server = True
    return auth, server, bind_loopback(server)


def client_socket(ctx, server_public_key, client_keys=None):
    """The client: a PULL socket, not yet connected, that trusts ``server_public_key``.

    It uses ``client_keys`` (``(public, secret)``), or a new key pair: this
    server accepts any.
    """
    client = ctx.socket(zmq.PULL)
    client.curve_publickey, client.curve_secretkey = client_keys or zmq.curve_keypair()
    client.curve_serverkey = server_public_key
    return client


def main():
    ctx = zmq.Context()
    auth = None
    try:
        server_keys = zmq.curve_keypair()  # a real server keeps one pair, in a secret certificate file
        auth, server, endpoint = start_server(ctx, server_keys)
        client = client_socket(ctx, server_public_key=server_keys[0])
        client.connect(endpoint)
        return report("Stonehouse", exchange(server, client))
    finally:
        if auth is not None:
            auth.stop()
        ctx.destroy(linger=0)  # closes the server and client sockets, then terminates the context


if __name__ == "__main__":
    sys.exit(main())

"""Ironhouse: CURVE with known clients only -- ``python ironhouse.py``.

Certificates for a server and a client are made with generate_certificates.py
in a temporary directory (removed at the end): public certificates in
``public_keys/``, secret ones in ``secret_keys/``. The server loads its secret
certificate; its ZAP handler (``ThreadAuthenticator``, a greenlet in greenmq)
keeps the 127.0.0.1 allow list of strawhouse.py and admits only the client
keys that have a certificate in ``public_keys/``
(``configure_curve(location=public_keys_dir)``). The client loads its own
secret certificate and the server's public one. One message goes through and
the script prints "Ironhouse test OK" (exit status 0) or says what failed
(exit 1).

What it protects against: everything stonehouse.py does -- eavesdropping,
tampering, a fake server -- and, in addition, unknown clients: a client
whose public key is not in the directory is refused and receives nothing.

What it does not: a stolen secret key passes for its owner until its
certificate is removed (and ``configure_curve`` called again, since the
directory is read then); keys must reach their directories by a channel you
trust; the allow list is only as good as addresses are; and CURVE hides what
is said, not that, when, or how much is said.
"""

import os
import sys
import tempfile

import greenmq as zmq
from greenmq.auth import load_certificate
from greenmq.auth.thread import ThreadAuthenticator

from exchange import bind_loopback, exchange, report
from generate_certificates import generate_certificates


def start_server(ctx, public_keys_dir, secret_keys_dir):
    """Start the authenticator and bind the CURVE server: ``(authenticator, socket, endpoint)``.

    The server's keys are read from ``secret_keys_dir/server.key_secret``; the
    clients admitted are those with a certificate in ``public_keys_dir``. Stop
    the authenticator when done.
    """
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.allow("127.0.0.1")
    auth.configure_curve(domain="*", location=public_keys_dir)
    server = ctx.socket(zmq.PUSH)
    server.curve_publickey, server.curve_secretkey = load_certificate(os.path.join(secret_keys_dir,
                                                                                   "server.key_secret"))
    server.curve_server = True
    return auth, server, bind_loopback(server)


def client_socket(ctx, client_secret_file, server_public_file):
    """The client: a PULL socket, not yet connected, with the keys of ``client_secret_file`` (a
    ``.key_secret`` certificate), that trusts the server of ``server_public_file`` (a ``.key``)."""
    client = ctx.socket(zmq.PULL)
    client.curve_publickey, client.curve_secretkey = load_certificate(client_secret_file)
    client.curve_serverkey, _ = load_certificate(server_public_file)
    return client


def main():
    ctx = zmq.Context()
    auth = None
    try:
        with tempfile.TemporaryDirectory(prefix="ironhouse-") as keys_dir:
            public_keys_dir, secret_keys_dir = generate_certificates(keys_dir)
            auth, server, endpoint = start_server(ctx, public_keys_dir, secret_keys_dir)
            client = client_socket(ctx, os.path.join(secret_keys_dir, "client.key_secret"),
                                   os.path.join(public_keys_dir, "server.key"))
            client.connect(endpoint)
            return report("Ironhouse", exchange(server, client))
    finally:
        if auth is not None:
            auth.stop()
        ctx.destroy(linger=0)  # closes the server and client sockets, then terminates the context


if __name__ == "__main__":
    sys.exit(main())

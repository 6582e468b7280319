"""Woodhouse: PLAIN username and password, checked by ZAP -- ``python woodhouse.py``.

The server is a PLAIN server; its ZAP handler (``ThreadAuthenticator``, a
greenlet in greenmq) keeps the 127.0.0.1 allow list of strawhouse.py and
checks passwords with ``configure_plain``. The client sends its username and
password in the handshake, gets the message, and the script prints
"Woodhouse test OK" (exit status 0) or says what failed (exit 1).

What it protects against: clients that do not know a password -- a wrong or
unknown one is refused, the client is never attached and receives nothing.

What it does not: PLAIN sends the password in clear text, and everything after
it too, so anyone who can watch the network learns the password and the
data, and anyone who can sit in the middle can pose as the server. Use it on
networks you trust, or for a second factor; stonehouse.py encrypts.
"""

import sys

import greenmq as zmq
from greenmq.auth.thread import ThreadAuthenticator

from exchange import bind_loopback, exchange, report

USERS = {"admin": "secret"}  # a real server would read these from somewhere safe
USERNAME, PASSWORD = "admin", "secret"


def start_server(ctx, users=USERS, allowed=("127.0.0.1",)):
    """Start the authenticator and bind the PLAIN server: ``(authenticator, socket, endpoint)``.

    ``users`` maps usernames to passwords; only clients from the ``allowed``
    addresses may log in at all. Stop the authenticator when done.
    """
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.allow(*allowed)
    # "*" is the domain of sockets that set no ZAP_DOMAIN, like this server.
    auth.configure_plain(domain="*", passwords=users)
    server = ctx.socket(zmq.PUSH)
    server.plain_server = True
    return auth, server, bind_loopback(server)


def client_socket(ctx, username=USERNAME, password=PASSWORD):
    """The client: a PULL socket, not yet connected, that logs in as ``username`` with ``password``."""
    client = ctx.socket(zmq.PULL)
    client.plain_username = username.encode()
    client.plain_password = password.encode()
    return client


def main():
    ctx = zmq.Context()
    auth = None
    try:
        auth, server, endpoint = start_server(ctx)
        client = client_socket(ctx)
        client.connect(endpoint)
        return report("Woodhouse", exchange(server, client))
    finally:
        if auth is not None:
            auth.stop()
        ctx.destroy(linger=0)  # closes the server and client sockets, then terminates the context


if __name__ == "__main__":
    sys.exit(main())

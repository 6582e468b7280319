"""``--security curve``: the throughput and round-trip roles with CURVE instead of NULL.

The measuring side, which binds, is the CURVE server; it makes a fresh server
and client key pair with its own implementation's ``curve_keypair()`` and hands
the client's keys to the peer through its endpoint announcement, so no worker
ever imports another implementation and no key outlives its run.
"""


def secure_server(rt, sock, args):
    """Make the binding socket a CURVE server with fresh keys, if asked; return the peer's options.

    Both key pairs are made here, by the implementation under test, once per
    run; the client's pair and the server's public key go to the peer on its
    command line.  There is no ZAP handler: a CURVE server without one admits
    any client key, in libzmq and in greenmq, so nothing else needs setting up.
    """
    if args.security != "curve":
        return []
    zmq = rt.zmq
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock.curve_server = True
    sock.curve_secretkey = server_secret
    sock.curve_publickey = server_public
    return client_argv(server_public, client_public, client_secret)


def client_argv(server_public, client_public, client_secret):
    """The peer's CURVE options, each as one ``--name=KEY`` word.

    Z85 keys may start with ``-`` (it is one of the 85 characters), which
    argparse would take for an option if the key were a word of its own.
    """
    keys = {"--server-key": server_public, "--public-key": client_public, "--secret-key": client_secret}
    return [f"{name}={_text(key)}" for name, key in keys.items()]


def secure_client(sock, args):
    """Make a connecting socket a CURVE client with the keys the measuring side handed over, if asked."""
    if args.security != "curve":
        return
    sock.curve_serverkey = args.server_key.encode()
    sock.curve_publickey = args.public_key.encode()
    sock.curve_secretkey = args.secret_key.encode()


def _text(key):
    """A Z85 key (bytes from ``curve_keypair()``) as command-line text."""
    return key.decode("ascii") if isinstance(key, bytes) else key

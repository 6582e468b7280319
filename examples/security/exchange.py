"""What the five security examples share: one message from server to client, a deadline, a verdict.

Every level of the progression runs the same exchange -- the server PUSHes a
greeting, the client PULLs it -- so the only differences between the scripts
are the security settings, which is what they are there to show.

Nothing may wait for ever: a client that the server refuses is never
connected, so its ``recv`` would block for good and the server's ``send``
would wait for a peer that never comes. Both sides therefore ``poll`` with a
timeout, and the verdict says which side gave up.
"""

import gevent

import greenmq as zmq

GREETING = b"Hello, you got through"
TIMEOUT = 5.0  # seconds either side waits; a loopback handshake takes milliseconds


def bind_loopback(sock):
    """Bind ``sock`` to a free port on 127.0.0.1 only (never a public interface); return the endpoint."""
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


def exchange(server, client, timeout=TIMEOUT):
    """Send :data:`GREETING` from ``server`` (PUSH) to ``client`` (PULL), each in its own greenlet.

    Returns None if the greeting arrived intact, else a sentence saying what
    went wrong. On a PUSH socket POLLOUT means "a peer is ready", and a peer
    is only attached once its handshake -- ZAP included -- has succeeded, so
    a server that times out here admitted no client.
    """

    def serve():
        if not server.poll(timeout * 1000, zmq.POLLOUT):
            return f"the server admitted no client within {timeout} s"
        server.send(GREETING)
        return None

    def receive():
        if not client.poll(timeout * 1000, zmq.POLLIN):
            return f"the client received nothing within {timeout} s"
        message = client.recv()
        if message != GREETING:
            return f"the client received {message!r} instead of {GREETING!r}"
        return None

    sides = {"server": gevent.spawn(serve), "client": gevent.spawn(receive)}
    gevent.joinall(sides.values(), timeout=timeout + 1)
    stuck = [name for name, greenlet in sides.items() if not greenlet.ready()]
    gevent.killall(sides.values())
    if stuck:  # poll has a timeout, so this would be a bug in greenmq
        return f"the {' and the '.join(stuck)} did not finish"
    for name, greenlet in sides.items():
        if greenlet.exception is not None:
            return f"the {name} failed: {greenlet.exception!r}"
        if greenlet.value is not None:
            return greenlet.value
    return None


def report(level, error):
    """Print the one-line verdict for ``level`` ("Ironhouse", ...); return the exit status (0 is OK)."""
    if error is None:
        print(f"{level} test OK", flush=True)
        return 0
    print(f"{level} test FAILED: {error}", flush=True)
    return 1

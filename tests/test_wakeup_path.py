"""How a message that arrives while the application waits reaches it: with one greenlet switch.

The connection's reader is a watcher callback in the hub (greenmq._connection.reader)
and a blocked ``recv`` is woken by a switch straight from the hub
(greenmq._socket.wakeup). So while ``recv`` waits for a message that is already
in the kernel, the receiving greenlet switches out to the hub once and is
switched back once: no reader greenlet in between, no hub callback round.
Counting the switches with ``greenlet.settrace`` shows it.
"""

import greenlet
import gevent
import pytest

import greenmq as zmq

from raw_peer_support import connect_raw, recv_exactly
from support import TIMEOUT, endpoint_for
from zmtp_support import PUSH_METADATA, command, frame, greeting


def raw_push_peer(pull, transport, tmp_path):
    """A raw ZMTP 3.1 PUSH peer (NULL) connected to ``pull``, with one message through it."""
    endpoint = endpoint_for(transport, tmp_path)
    pull.bind(endpoint)
    if transport == "tcp":
        raw = connect_raw(int(pull.last_endpoint.decode().rsplit(":", 1)[1]))
    else:
        raw = gevent.socket.socket(gevent.socket.AF_UNIX)
        with gevent.Timeout(TIMEOUT):
            raw.connect(endpoint[len("ipc://"):])
    raw.sendall(greeting(b"NULL") + command(b"READY", PUSH_METADATA) + frame(b"first"))
    recv_exactly(raw, 64)  # the greeting; the READY after it is left unread
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"first"
    return raw


def switches_during(call):
    """Run ``call()`` and return its result and every greenlet switch meanwhile, as (origin, target)."""
    seen = []

    def trace(event, args):
        if event in ("switch", "throw"):
            seen.append(args)

    previous = greenlet.settrace(trace)
    try:
        result = call()
    finally:
        greenlet.settrace(previous)
    return result, seen


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_message_in_the_kernel_reaches_a_waiting_recv_with_one_switch(ctx, transport, tmp_path):
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = int(TIMEOUT * 1000)
    raw = raw_push_peer(pull, transport, tmp_path)
    try:
        for attempt in range(3):
            # The message is in the kernel before recv() runs; the hub has not read it yet,
            # so recv() finds nothing queued and waits.
            raw.sendall(frame(b"job %d" % attempt))
            received, seen = switches_during(pull.recv)
            assert received == b"job %d" % attempt
            hub = gevent.get_hub()
            me = greenlet.getcurrent()
            assert seen == [(me, hub), (hub, me)], seen
    finally:
        raw.close()
        pull.close()


def test_a_reply_wakes_a_req_waiting_in_recv_directly(ctx):
    """REQ/REP in one process over tcp: the only greenlets that run during the REQ's
    recv are the hub and the REP's greenlet -- the connections are read in the hub."""
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    rep.linger = req.linger = 0
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req.connect(f"tcp://127.0.0.1:{port}")

    def echo(count):
        for _ in range(count):
            rep.send(rep.recv())

    server = gevent.spawn(echo, 4)
    try:
        with gevent.Timeout(TIMEOUT):
            req.send(b"warm up")
            assert req.recv() == b"warm up"
            for index in range(3):
                req.send(b"%d" % index)
                reply, seen = switches_during(req.recv)
                assert reply == b"%d" % index
                # Only the two greenlets of the exchange and the hub: no reader greenlet.
                allowed = {gevent.get_hub(), greenlet.getcurrent(), server}
                assert seen and all(target in allowed for _, target in seen), seen
            server.join()
    finally:
        server.kill()
        req.close()
        rep.close()


class CountingOs:
    """Stands in for the reader module's ``os``: counts the reads, passes everything through."""

    def __init__(self, real):
        self._real = real
        self.reads = 0

    def read(self, fd, size):
        self.reads += 1
        return self._real.read(fd, size)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_small_message_costs_one_read(ctx, transport, tmp_path, monkeypatch):
    """A short read means the kernel's buffer was emptied: the reader does not read again
    only to meet EAGAIN (the level-triggered watcher tells it when more comes). In a round
    trip that second read was one of the four syscalls."""
    import greenmq._connection.reader as reader_module

    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = int(TIMEOUT * 1000)
    raw = raw_push_peer(pull, transport, tmp_path)
    counting = CountingOs(reader_module.os)
    monkeypatch.setattr(reader_module, "os", counting)
    try:
        for attempt in range(20):
            raw.sendall(frame(b"job %d" % attempt))
            assert pull.recv() == b"job %d" % attempt
        assert counting.reads == 20
    finally:
        raw.close()
        pull.close()

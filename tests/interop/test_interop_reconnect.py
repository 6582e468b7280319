"""A libzmq peer is SIGKILLed and started again on the same endpoint: greenmq carries on.

When greenmq connected, it must reconnect by itself (RECONNECT_IVL); when
greenmq bound, it must take the new connection (for PAIR: even though it had
a peer before). Messages that were on the wire when the peer died may be lost
-- libzmq makes no promise there either -- so the PAIR tests ping until the
link works again, then require every later message, in order.
"""

import itertools

import gevent
import pytest

import greenmq as zmq
from support import WIRE_TRANSPORTS

from .libzmq_peer import bulk_checksum, bulk_payload, greenmq_socket, local_endpoint

BATCH = 100


def _receive_range(sock, start, count):
    for i in range(start, start + count):
        msg = sock.recv_multipart()
        assert msg == [bulk_payload(i)], f"expected message {i}, got {msg!r:.80}"


def _resume_pair(sock):
    """Ping the (new) libzmq echo peer until a ping comes back; then check a batch goes through in order."""
    rcvtimeo, sock.rcvtimeo = sock.rcvtimeo, 200
    try:
        for k in itertools.count():
            sock.send(b"ping-%d" % k)
            try:
                reply = sock.recv()
            except zmq.Again:
                continue
            assert reply.startswith(b"ping-"), reply
            break
    finally:
        sock.rcvtimeo = rcvtimeo
    for i in range(BATCH):
        sock.send(b"after-%d" % i)
    received = []
    while len(received) < BATCH:
        reply = sock.recv()
        if not reply.startswith(b"ping-"):  # echoes of pings that were still queued
            received.append(reply)
    assert received == [b"after-%d" % i for i in range(BATCH)]


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pull_reconnects_to_restarted_libzmq_push(ctx, peers, tmp_path, transport):
    sock = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(30):
        first = peers.start("send", "PUSH", bind=local_endpoint(transport, tmp_path), bulk=BATCH, hold=True)
        endpoint = first.ready()
        sock.connect(endpoint)
        _receive_range(sock, 0, BATCH)
        assert first.result()["sent"] == BATCH
        first.kill()
        assert first.proc.returncode == -9

        # The new PUSH blocks in send until greenmq has reconnected: no message can be lost.
        second = peers.start("send", "PUSH", bind=endpoint, bulk=BATCH, offset=BATCH, hold=True)
        assert second.ready() == endpoint
        _receive_range(sock, BATCH, BATCH)
        assert second.result() == {"sent": BATCH, "timed_out": False, "sha256": bulk_checksum(BATCH, BATCH)}
    sock.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pull_takes_restarted_libzmq_push(ctx, peers, tmp_path, transport):
    """greenmq binds; the killed libzmq PUSH connects again from a new process."""
    sock = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(30):
        sock.bind(local_endpoint(transport, tmp_path))
        endpoint = sock.last_endpoint
        first = peers.start("send", "PUSH", connect=endpoint, bulk=BATCH, hold=True)
        first.ready()
        _receive_range(sock, 0, BATCH)
        first.kill()
        second = peers.start("send", "PUSH", connect=endpoint, bulk=BATCH, offset=BATCH, hold=True)
        second.ready()
        _receive_range(sock, BATCH, BATCH)
        assert second.result()["sent"] == BATCH
    sock.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pair_reconnects_to_restarted_libzmq_pair(ctx, peers, tmp_path, transport):
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(30):
        first = peers.start("echo", "PAIR", bind=local_endpoint(transport, tmp_path))
        endpoint = first.ready()
        sock.connect(endpoint)
        sock.send(b"hello")
        assert sock.recv() == b"hello"
        first.kill()

        second = peers.start("echo", "PAIR", bind=endpoint)
        assert second.ready() == endpoint
        _resume_pair(sock)
    sock.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pair_takes_restarted_libzmq_pair(ctx, peers, tmp_path, transport):
    """greenmq binds: after its first peer died, a PAIR must accept the next one."""
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(30):
        sock.bind(local_endpoint(transport, tmp_path))
        first = peers.start("echo", "PAIR", connect=sock.last_endpoint)
        first.ready()
        sock.send(b"hello")
        assert sock.recv() == b"hello"
        first.kill()

        second = peers.start("echo", "PAIR", connect=sock.last_endpoint)
        second.ready()
        _resume_pair(sock)
    sock.close()

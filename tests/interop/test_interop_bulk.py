"""100 000 small messages between greenmq and libzmq: nothing lost, duplicated, altered or reordered.

Both sides compute a sha256 over every message in order (BulkChecksum); the
receiver also checks each message against the one expected at its position.
"""

import gevent
import pytest

import greenmq as zmq
from support import WIRE_TRANSPORTS

from .libzmq_peer import BINDERS, BulkChecksum, bulk_checksum, bulk_payload, greenmq_socket, link, local_endpoint

COUNT = 100_000


@pytest.fixture(scope="module")
def expected_checksum():
    return bulk_checksum(COUNT)


def _receive_bulk(sock, count):
    """Receive ``count`` messages, checking each against its position; return their checksum."""
    checksum = BulkChecksum()
    for i in range(count):
        msg = sock.recv_multipart()
        assert msg == [bulk_payload(i)], f"message {i} is {msg!r:.80}, expected {bulk_payload(i)!r}"
        checksum.update(msg)
    return checksum.hexdigest()


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_bulk_greenmq_push_to_libzmq_pull(ctx, peers, tmp_path, transport, binder, expected_checksum):
    sock = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint(transport, tmp_path), "recv", "PULL", bulk=COUNT)
        sent = BulkChecksum()
        for i in range(COUNT):
            payload = bulk_payload(i)
            sock.send(payload)
            sent.update([payload])
        assert sent.hexdigest() == expected_checksum
        result = peer.result()
        assert result == {"count": COUNT, "timed_out": False, "sha256": expected_checksum, "first_mismatch": None}
        assert peer.wait() == 0
    sock.close()


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_bulk_libzmq_push_to_greenmq_pull(ctx, peers, tmp_path, transport, binder, expected_checksum):
    sock = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint(transport, tmp_path), "send", "PUSH", bulk=COUNT)
        assert _receive_bulk(sock, COUNT) == expected_checksum
        assert peer.result() == {"sent": COUNT, "timed_out": False, "sha256": expected_checksum}
        assert peer.wait() == 0
        with pytest.raises(zmq.Again):
            sock.recv(zmq.DONTWAIT)
    sock.close()


@pytest.mark.parametrize("binder", BINDERS)
def test_bulk_pair_echo(ctx, peers, tmp_path, binder, expected_checksum):
    """Sending and receiving at once, in two greenlets: far more than the HWMs are in flight
    both ways, so this also exercises flow control against libzmq in both directions."""
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint("tcp", tmp_path), "echo", "PAIR", bulk=COUNT)

        def send_all():
            for i in range(COUNT):
                sock.send(bulk_payload(i))

        sender = gevent.spawn(send_all)
        try:
            assert _receive_bulk(sock, COUNT) == expected_checksum
            sender.get()
        finally:
            sender.kill()
        result = peer.result()
        assert result == {"count": COUNT, "timed_out": False, "sha256": expected_checksum, "first_mismatch": None}
        assert peer.wait() == 0
    sock.close()

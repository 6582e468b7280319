"""Messages of every size, single- and multi-frame, between greenmq and libzmq.

PUSH/PULL in both sending directions and PAIR (greenmq sends, libzmq echoes
back), over tcp and ipc, with either side binding. Content is checked
exactly: libzmq reports a sha256 per received frame, greenmq compares bytes.
"""

import functools

import gevent
import pytest

import greenmq as zmq
from support import WIRE_TRANSPORTS

from .libzmq_peer import (
    BINDERS,
    BulkChecksum,
    assert_same_message,
    frame_payload,
    greenmq_socket,
    link,
    local_endpoint,
    message_digest,
    plan_message,
)

MiB = 1 << 20
SINGLE_FRAME = [[size] for size in (0, 1, 254, 255, 256, 257, 65535, 65536, MiB, 10 * MiB)]
MULTI_FRAME = [
    [0, 0],
    [1, 0, 1],
    [255, 256],
    [256, 255, 0],
    [0, 1, 255, 256, 65536, MiB],
    [(i * 37) % 300 for i in range(40)],  # 40 frames on both sides of the short/long boundary
    [10 * MiB, 0, 1, 256],  # a 10 MB frame, then small ones
]
PLAN = SINGLE_FRAME + MULTI_FRAME


@functools.cache
def plan_digests():
    return [message_digest(plan_message(PLAN, i)) for i in range(len(PLAN))]


@functools.cache
def plan_checksum():
    checksum = BulkChecksum()
    for i in range(len(PLAN)):
        checksum.update(plan_message(PLAN, i))
    return checksum.hexdigest()


def _check_digests(reported):
    expected = plan_digests()
    assert len(reported) == len(expected), f"libzmq received {len(reported)} messages, expected {len(expected)}"
    for i, (got, want) in enumerate(zip(reported, expected)):
        sizes = [size for size, _ in got]
        assert got == want, f"message {i} (frame sizes {PLAN[i]}) arrived at libzmq as sizes {sizes}, other bytes"


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_push_to_libzmq_pull(ctx, peers, tmp_path, transport, binder):
    sock = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint(transport, tmp_path), "recv", "PULL", plan=PLAN)
        for i in range(len(PLAN)):
            sock.send_multipart(plan_message(PLAN, i))
        result = peer.result()
        assert not result["timed_out"]
        _check_digests(result["messages"])
        assert peer.wait() == 0
    sock.close()


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_libzmq_push_to_greenmq_pull(ctx, peers, tmp_path, transport, binder):
    sock = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint(transport, tmp_path), "send", "PUSH", plan=PLAN)
        for i in range(len(PLAN)):
            assert_same_message(sock.recv_multipart(), plan_message(PLAN, i), f"message {i}")
        assert peer.result() == {"sent": len(PLAN), "timed_out": False, "sha256": plan_checksum()}
        assert peer.wait() == 0
        # Nothing more than what was sent (the peer has exited: everything it sent has arrived).
        with pytest.raises(zmq.Again):
            sock.recv(zmq.DONTWAIT)
    sock.close()


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_pair_echo(ctx, peers, tmp_path, transport, binder):
    """greenmq sends the plan to a libzmq PAIR, which sends every message back."""
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(60):
        peer = link(sock, peers, binder, local_endpoint(transport, tmp_path), "echo", "PAIR", plan=PLAN)
        for i in range(len(PLAN)):
            sock.send_multipart(plan_message(PLAN, i))
        for i in range(len(PLAN)):
            assert_same_message(sock.recv_multipart(), plan_message(PLAN, i), f"echo of message {i}")
        result = peer.result()
        assert not result["timed_out"]
        _check_digests(result["messages"])
        assert peer.wait() == 0
    sock.close()


@pytest.mark.parametrize("binder", BINDERS)
def test_pair_frame_by_frame(ctx, peers, tmp_path, binder):
    """send(SNDMORE) frame by frame to libzmq, and recv() frame by frame with RCVMORE from it."""
    plan = [[3, 0, 300, 5], [0], [70000, 1]]
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(30):
        peer = link(sock, peers, binder, local_endpoint("tcp", tmp_path), "echo", "PAIR", plan=plan)
        for i in range(len(plan)):
            frames = plan_message(plan, i)
            for frame in frames[:-1]:
                sock.send(frame, zmq.SNDMORE)
            sock.send(frames[-1])
        for i in range(len(plan)):
            expected = plan_message(plan, i)
            got = []
            for j in range(len(expected)):
                got.append(sock.recv())
                assert sock.rcvmore == (j < len(expected) - 1), f"RCVMORE after frame {j} of message {i}"
            assert_same_message(got, expected, f"echo of message {i}")
        result = peer.result()
        assert result["messages"] == [message_digest(plan_message(plan, i)) for i in range(len(plan))]
        assert peer.wait() == 0
    sock.close()


def test_buffer_types_to_libzmq(ctx, peers):
    """bytes, bytearray, memoryview (also a strided slice), Frame and copy=False all arrive byte-exact."""
    big = frame_payload(0, 0, 3 * MiB)
    sock = greenmq_socket(ctx, zmq.PAIR)
    parts = [
        [bytearray(b"bytearray"), memoryview(big)[1:-1]],
        [memoryview(big)[::2]],  # not contiguous: must be copied correctly
        [zmq.Frame(b"frame"), zmq.Frame(big)],
    ]
    with gevent.Timeout(30):
        peer = link(sock, peers, "libzmq", "tcp://127.0.0.1:*", "echo", "PAIR", count=len(parts) + 2)
        for frames in parts:
            sock.send_multipart(frames, copy=False)
        sock.send(memoryview(big)[5:MiB], copy=False)
        sock.send(bytearray(big[:1000]))
        expected = [[bytes(frame) for frame in frames] for frames in parts]
        expected += [[big[5:MiB]], [big[:1000]]]
        for i, want in enumerate(expected):
            frames = sock.recv_multipart(copy=False)
            assert_same_message([frame.bytes for frame in frames], want, f"echo of message {i}")
        result = peer.result()
        assert result["messages"] == [message_digest(want) for want in expected]
    sock.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_received_frames_carry_libzmq_metadata(ctx, peers, tmp_path, transport):
    """As with pyzmq, a frame received with copy=False tells the peer's handshake properties:
    frame.get("Socket-Type") is what libzmq announced in its READY command."""
    sock = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(30):
        link(sock, peers, "libzmq", local_endpoint(transport, tmp_path), "send", "PUSH", plan=[[1, 2]])
        first, second = sock.recv_multipart(copy=False)
        assert first.more and not second.more
        for frame in (first, second):
            assert frame.get("Socket-Type") == "PUSH"
            if transport == "tcp":
                assert frame.get("Peer-Address") == "127.0.0.1"
    sock.close()

"""Connection life with a libzmq peer: queueing before the peer exists, LINGER on close, heartbeats."""

import gevent
import pytest

import greenmq as zmq

from .libzmq_peer import bulk_checksum, bulk_payload, greenmq_socket, message_digest, plan_message

MiB = 1 << 20


def test_messages_queued_before_libzmq_binds_are_delivered(ctx, peers, tmp_path):
    """greenmq connects first (nothing listens yet), queues messages, then libzmq binds: all arrive, in order."""
    count = 500
    endpoint = f"ipc://{tmp_path}/later.sock"
    sock = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(30):
        sock.connect(endpoint)
        for i in range(count):
            sock.send(bulk_payload(i), zmq.DONTWAIT)  # no wait: the connect pipe takes them (HWM 1000)
        peer = peers.start("recv", "PULL", bind=endpoint, bulk=count)
        assert peer.ready() == endpoint
        result = peer.result()
        assert result == {"count": count, "timed_out": False, "sha256": bulk_checksum(count), "first_mismatch": None}
    sock.close()


@pytest.mark.parametrize("socket_type", ["PULL", "PAIR"])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_messages_outlive_the_libzmq_sender(ctx, peers, tmp_path, transport, socket_type):
    """libzmq sends, closes and exits before greenmq reads anything: what it sent is still all there."""
    count = 500  # under the receive HWM, so libzmq can flush everything and exit
    sock = greenmq_socket(ctx, getattr(zmq, socket_type))
    sock.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/gone.sock")
    peer_type = "PUSH" if socket_type == "PULL" else "PAIR"
    with gevent.Timeout(30):
        peer = peers.start("send", peer_type, connect=sock.last_endpoint, bulk=count)
        assert peer.ready()
        assert peer.result()["sent"] == count
        assert peer.wait() == 0  # its connection is closed now
        for i in range(count):
            assert sock.recv() == bulk_payload(i), f"message {i}"
        with pytest.raises(zmq.Again):
            sock.recv(zmq.DONTWAIT)
    sock.close()


@pytest.mark.parametrize("immediate", [True, False], ids=["connected", "maybe-connecting"])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_close_lingers_until_libzmq_has_everything(ctx, peers, tmp_path, transport, immediate):
    """close(linger=...) straight after sending: greenmq keeps writing until libzmq has every message.

    With IMMEDIATE the first send waits for the handshake, so close() finds a live connection
    with a full queue; without it, close() may come before the connection is even made."""
    # Big messages last: send() yields to the hub only every few hundred calls, so when close()
    # is called they have not been written at all.
    plan = [*([[100]] * 1000), [MiB, 1], [10 * MiB], [0]]
    bind = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/linger.sock"
    sock = greenmq_socket(ctx, zmq.PUSH)
    sock.sndhwm = 0  # unlimited: every message is queued in greenmq when close() is called
    sock.immediate = int(immediate)
    with gevent.Timeout(30):
        peer = peers.start("recv", "PULL", bind=bind, plan=plan)
        sock.connect(peer.ready())
        for i in range(len(plan)):
            sock.send_multipart(plan_message(plan, i))
        sock.close(linger=20000)
        result = peer.result()
        assert not result["timed_out"]
        assert result["count"] == len(plan)
        assert result["messages"] == [message_digest(plan_message(plan, i)) for i in range(len(plan))]
        assert peer.wait() == 0


def test_greenmq_answers_libzmq_heartbeats(ctx, peers):
    """libzmq PINGs every 20 ms and drops a connection with no traffic 400 ms after a PING:
    an idle greenmq must keep it alive by answering PONG."""
    sock = greenmq_socket(ctx, zmq.PAIR)
    with gevent.Timeout(30):
        peer = peers.start("echo", "PAIR", bind="tcp://127.0.0.1:*", heartbeat=(20, 400, 0), monitor=True)
        sock.connect(peer.ready())
        sock.send(b"before")
        assert sock.recv() == b"before"
        peer.collect_events(0.6)  # 30 PINGs; without PONGs libzmq would hang up after 0.42 s
        assert peer.event_count("DISCONNECTED") == 0, peer.events
        sock.send(b"after")
        assert sock.recv() == b"after"
        assert peer.event_count("HANDSHAKE_SUCCEEDED") == 1, peer.events
    sock.close()


def test_libzmq_answers_greenmq_heartbeats(ctx, peers):
    """greenmq PINGs every 20 ms and gives up 400 ms after an unanswered PING: libzmq's PONGs
    must be understood, so an idle connection stays up."""
    sock = greenmq_socket(ctx, zmq.PAIR)
    sock.heartbeat_ivl = 20
    sock.heartbeat_timeout = 400
    with gevent.Timeout(30):
        peer = peers.start("echo", "PAIR", bind="tcp://127.0.0.1:*", monitor=True)
        sock.connect(peer.ready())
        sock.send(b"before")
        assert sock.recv() == b"before"
        peer.collect_events(0.6)
        assert peer.event_count("DISCONNECTED") == 0, peer.events
        sock.send(b"after")
        assert sock.recv() == b"after"
        assert peer.event_count("HANDSHAKE_SUCCEEDED") == 1, peer.events
    sock.close()

"""One greenmq socket, several libzmq peers: PUSH round-robins over libzmq PULLs, PULL fair-queues
libzmq PUSHes -- every message delivered once, each sender's order kept."""

import gevent
import pytest

import greenmq as zmq

from .libzmq_peer import bulk_payload, greenmq_socket, message_digest

PEERS = 3


def test_greenmq_push_round_robins_over_libzmq_pulls(ctx, peers):
    """Connected (not IMMEDIATE) endpoints each have a pipe from connect() on, so, as in libzmq,
    message i goes to the (i mod 3)-th endpoint, whatever order the connections complete in."""
    per_peer = 200
    sock = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(30):
        pullers = [peers.start("recv", "PULL", bind="tcp://127.0.0.1:*", count=per_peer) for _ in range(PEERS)]
        for puller in pullers:
            sock.connect(puller.ready())
        for i in range(per_peer * PEERS):
            sock.send(bulk_payload(i))
        for k, puller in enumerate(pullers):
            result = puller.result()
            expected = [message_digest([bulk_payload(i)]) for i in range(k, per_peer * PEERS, PEERS)]
            assert result["count"] == per_peer, f"PULL {k} got {result['count']} messages"
            assert result["messages"] == expected, f"PULL {k} did not get messages {k}, {k + PEERS}, ..."
            assert puller.wait() == 0
    sock.close()


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_greenmq_pull_fair_queues_libzmq_pushes(ctx, peers, tmp_path, transport):
    per_peer = 2000
    sock = greenmq_socket(ctx, zmq.PULL)
    sock.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/fanin.sock")
    with gevent.Timeout(30):
        pushers = [peers.start("send", "PUSH", connect=sock.last_endpoint, bulk=per_peer, offset=k * per_peer)
                   for k in range(PEERS)]
        for pusher in pushers:
            pusher.ready()
        index = {bulk_payload(i): i for i in range(per_peer * PEERS)}
        next_expected = [k * per_peer for k in range(PEERS)]
        for _ in range(per_peer * PEERS):
            msg = sock.recv_multipart()
            assert len(msg) == 1 and msg[0] in index, f"unexpected message {msg!r:.80}"
            i = index[msg[0]]
            sender = i // per_peer
            assert i == next_expected[sender], f"from PUSH {sender}: message {i}, expected {next_expected[sender]}"
            next_expected[sender] += 1
        assert next_expected == [(k + 1) * per_peer for k in range(PEERS)]
        for pusher in pushers:
            assert pusher.result()["sent"] == per_peer
            assert pusher.wait() == 0
        with pytest.raises(zmq.Again):
            sock.recv(zmq.DONTWAIT)
    sock.close()

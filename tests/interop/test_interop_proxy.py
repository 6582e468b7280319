"""greenmq's zmq.proxy between libzmq peers: its bursts carry libzmq's traffic whole and in order.

libzmq PUSH -> greenmq proxy (PULL, PUSH) -> libzmq PULL with 100 000 small
messages (both sides checksum them in order), and libzmq REQ clients ->
greenmq ROUTER | proxy | DEALER -> a libzmq REP worker, where requests go
one way through the proxy and replies the other, routed back by the ROUTER's
routing ids. (libzmq PUB -> greenmq XSUB | proxy | XPUB -> libzmq SUB is in
test_interop_pubsub.py.)
"""

import gevent
import pytest

import greenmq as zmq
from support import WIRE_TRANSPORTS

from .libzmq_peer import bulk_checksum, greenmq_socket, local_endpoint

COUNT = 100_000
transports = pytest.mark.parametrize("transport", WIRE_TRANSPORTS)


def bound(ctx, socket_type, transport, tmp_path, name):
    sock = greenmq_socket(ctx, socket_type)
    sock.bind(local_endpoint(transport, tmp_path, name))
    return sock


@transports
def test_bulk_from_libzmq_push_through_greenmq_proxy_to_libzmq_pull(ctx, peers, tmp_path, transport):
    frontend = bound(ctx, zmq.PULL, transport, tmp_path, "front")
    backend = bound(ctx, zmq.PUSH, transport, tmp_path, "back")
    with gevent.Timeout(60):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        sink = peers.start("recv", "PULL", connect=backend.last_endpoint, bulk=COUNT)
        sink.ready()
        source = peers.start("send", "PUSH", connect=frontend.last_endpoint, bulk=COUNT)
        source.ready()
        expected = bulk_checksum(COUNT)
        assert source.result() == {"sent": COUNT, "timed_out": False, "sha256": expected}
        assert sink.result() == {"count": COUNT, "timed_out": False, "sha256": expected, "first_mismatch": None}
        assert source.wait() == 0 and sink.wait() == 0
        assert not proxy.dead, proxy.exception
        proxy.kill()


@transports
def test_libzmq_req_clients_through_greenmq_broker_to_libzmq_rep(ctx, peers, tmp_path, transport):
    frontend = bound(ctx, zmq.ROUTER, transport, tmp_path, "front")
    backend = bound(ctx, zmq.DEALER, transport, tmp_path, "back")
    with gevent.Timeout(60):
        proxy = gevent.spawn(zmq.proxy, frontend, backend)
        worker = peers.start("serve", "REP", connect=backend.last_endpoint, tag="lz-worker")
        worker.ready()
        clients = [peers.start("request", "REQ", connect=frontend.last_endpoint, count=200, frames=2,
                               tag=f"client{n}") for n in range(3)]
        for client in clients:
            client.ready()
        for n, client in enumerate(clients):
            assert client.result() == {"timed_out": False, "replies": [
                [f"client{n}:{i}:0".encode().hex(), f"client{n}:{i}:1".encode().hex(), b"lz-worker".hex()]
                for i in range(200)]}
            assert client.wait() == 0
        worker.quit()
        assert worker.result() == {"count": 600}
        assert worker.wait() == 0
        assert not proxy.dead, proxy.exception
        proxy.kill()

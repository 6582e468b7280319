"""tcp endpoint forms and SOCKS5 between greenmq and libzmq.

Interface names in bind endpoints (``tcp://lo:*``) and source addresses in
connect endpoints (``tcp://src:port;dst:port``) with either side binding;
and ``SOCKS_PROXY`` both ways through tests/socks_support.SocksServer, which
also shows that greenmq's SOCKS client says what libzmq's says (the methods
offered, the credentials, the address type of the destination).
"""

import gevent
import pytest

import greenmq as zmq
from greenmq._connection.interfaces import interface_address
from socks_support import SocksServer

from .libzmq_peer import BINDERS, WAIT, bulk_payload, greenmq_socket, link

needs_lo = pytest.mark.skipif(interface_address("lo", False) is None,
                              reason="interface names resolve on Linux only, and this system has no 'lo'")
COUNT = 20


def _receive_bulk(pull, count=COUNT):
    return [pull.recv() for _ in range(count)]


@needs_lo
@pytest.mark.parametrize("binder", BINDERS)
def test_bind_to_an_interface_name(ctx, peers, binder):
    """Whoever binds ``tcp://lo:*`` listens on 127.0.0.1; the other side sends to it."""
    with gevent.Timeout(WAIT):
        if binder == "greenmq":
            pull = greenmq_socket(ctx, zmq.PULL)
            link(pull, peers, binder, "tcp://lo:*", "send", "PUSH", bulk=COUNT)
            assert pull.last_endpoint.startswith(b"tcp://127.0.0.1:")
            assert _receive_bulk(pull) == [bulk_payload(i) for i in range(COUNT)]
        else:
            push = greenmq_socket(ctx, zmq.PUSH)
            peer = link(push, peers, binder, "tcp://lo:*", "recv", "PULL", bulk=COUNT)
            for i in range(COUNT):
                push.send(bulk_payload(i))
            result = peer.result()
            assert (result["count"], result["first_mismatch"]) == (COUNT, None)


def test_libzmq_connects_from_a_source_address(ctx, peers):
    pull = greenmq_socket(ctx, zmq.PULL)
    with gevent.Timeout(WAIT):
        pull.bind("tcp://127.0.0.1:*")
        port = pull.last_endpoint.rsplit(b":", 1)[1].decode()
        peers.start("send", "PUSH", connect=f"tcp://127.0.0.2:*;127.0.0.1:{port}", bulk=1).ready()
        frame = pull.recv(copy=False)
    assert frame.bytes == bulk_payload(0)
    assert frame.get("Peer-Address") == "127.0.0.2"


def test_greenmq_connects_from_a_source_address(ctx, peers):
    push = greenmq_socket(ctx, zmq.PUSH)
    with gevent.Timeout(WAIT):
        peer = peers.start("ctl", "PULL", bind="tcp://127.0.0.1:*")
        port = peer.ready().rsplit(":", 1)[1]
        push.connect(f"tcp://127.0.0.2:*;127.0.0.1:{port}")
        push.send(b"from 127.0.0.2")
        answer = peer.recv_message(properties=("Peer-Address",))
    assert answer["frames"] == [b"from 127.0.0.2"]
    assert answer["properties"]["Peer-Address"] == "127.0.0.2"


# -- SOCKS5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [None, (b"alice", b"secret")], ids=["no-auth", "username"])
def test_libzmq_through_the_proxy_to_greenmq(ctx, peers, credentials):
    pull = greenmq_socket(ctx, zmq.PULL)
    with SocksServer(credentials=credentials, names={"greenmq-socks-test.invalid": "127.0.0.1"}) as proxy:
        with gevent.Timeout(WAIT):
            pull.bind("tcp://127.0.0.1:*")
            port = int(pull.last_endpoint.rsplit(b":", 1)[1])
            options = {"SOCKS_PROXY": proxy.address}
            if credentials is not None:
                options.update(SOCKS_USERNAME=credentials[0].decode(), SOCKS_PASSWORD=credentials[1].decode())
            peers.start("send", "PUSH", connect=f"tcp://greenmq-socks-test.invalid:{port}", bulk=COUNT,
                        sockopts=options).ready()
            assert _receive_bulk(pull) == [bulk_payload(i) for i in range(COUNT)]
        (request,) = proxy.connected()
        libzmq_said = (request.methods, request.credentials, request.address_type, request.host, request.port)
        assert libzmq_said[2:] == (3, "greenmq-socks-test.invalid", port)

        # greenmq's client, same options, same proxy: it must say the same things.
        push = greenmq_socket(ctx, zmq.PUSH)
        push.socks_proxy = proxy.address.encode()
        if credentials is not None:
            push.socks_username, push.socks_password = credentials
        push.connect(f"tcp://greenmq-socks-test.invalid:{port}")
        with gevent.Timeout(WAIT):
            push.send(b"greenmq too")
            assert pull.recv() == b"greenmq too"
        greenmq_request = proxy.connected()[1]
        assert (greenmq_request.methods, greenmq_request.credentials, greenmq_request.address_type,
                greenmq_request.host, greenmq_request.port) == libzmq_said


def test_greenmq_through_the_proxy_to_libzmq(ctx, peers):
    push = greenmq_socket(ctx, zmq.PUSH)
    with SocksServer(credentials=(b"bob", b"hunter2")) as proxy:
        with gevent.Timeout(WAIT):
            peer = peers.start("recv", "PULL", bind="tcp://127.0.0.1:*", bulk=COUNT)
            endpoint = peer.ready()
            push.socks_proxy = proxy.address.encode()
            push.socks_username = b"bob"
            push.socks_password = b"hunter2"
            push.connect(endpoint)
            for i in range(COUNT):
                push.send(bulk_payload(i))
            result = peer.result()
        assert (result["count"], result["first_mismatch"]) == (COUNT, None)
        (request,) = proxy.connected()
        assert (request.credentials, request.address_type, request.host) == ((b"bob", b"hunter2"), 1, "127.0.0.1")

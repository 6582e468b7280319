"""SOCKS_PROXY, SOCKS_USERNAME and SOCKS_PASSWORD: connecting through a SOCKS5 proxy as libzmq does.

The proxy is tests/socks_support.SocksServer on loopback; it records what the
client said, so the tests check the bytes of the exchange as well as that
messages pass through.
"""

import errno
import struct

import gevent
import pytest
from gevent.server import StreamServer

import greenmq as zmq
from greenmq._connection import socks
from socks_support import CONNECTION_REFUSED, NO_AUTHENTICATION, USERNAME_PASSWORD, SocksServer
from support import TIMEOUT, needs_ipv6_loopback, new_socket, raises_errno, wait_until


def _pull(ctx, endpoint="tcp://127.0.0.1:*", **options):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000, **options)
    pull.bind(endpoint)
    return pull, int(pull.last_endpoint.rsplit(b":", 1)[1])


def _push_through(ctx, proxy, endpoint, **options):
    push = new_socket(ctx, zmq.PUSH, socks_proxy=proxy.address.encode(), **options)
    push.connect(endpoint)
    return push


def test_options_are_checked_as_libzmq_does(sock):
    assert sock.socks_proxy == b""
    assert sock.socks_username == b""
    assert sock.socks_password == b""
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.SOCKS_PROXY, b"")
    sock.socks_proxy = b"127.0.0.1:1080"
    assert sock.getsockopt(zmq.SOCKS_PROXY) == b"127.0.0.1:1080"
    sock.socks_username = b"u" * 255
    sock.socks_password = b"p" * 255
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.SOCKS_USERNAME, b"u" * 256)
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.SOCKS_PASSWORD, b"p" * 256)
    sock.socks_username = b""  # back to no authentication
    assert sock.socks_username == b""


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", b"\x05\x01\x00\x01\x7f\x00\x00\x01\x15\xb3"),
    ("::1", b"\x05\x01\x00\x04" + bytes(15) + b"\x01\x15\xb3"),
    ("example.org", b"\x05\x01\x00\x03\x0bexample.org\x15\xb3"),
])
def test_connect_request_encoding(host, expected):
    assert socks.encode_request(host, 5555) == expected


def test_a_name_too_long_for_socks_is_refused():
    with pytest.raises(socks.SocksError):
        socks.encode_request("a" * 256, 5555)


def test_messages_pass_through_the_proxy(ctx):
    pull, port = _pull(ctx)
    with SocksServer() as proxy:
        push = _push_through(ctx, proxy, f"tcp://127.0.0.1:{port}")
        with gevent.Timeout(TIMEOUT):
            for i in range(10):
                push.send(b"through %d" % i)
            assert [pull.recv() for _ in range(10)] == [b"through %d" % i for i in range(10)]
        (request,) = proxy.connected()
        assert request.methods == bytes((NO_AUTHENTICATION,))
        assert request.credentials is None
        assert (request.address_type, request.host, request.port) == (1, "127.0.0.1", port)
        push.close()


def test_a_name_goes_to_the_proxy_unresolved(ctx):
    """libzmq sends a domain name as such (address type 3): this one resolves only at the proxy."""
    pull, port = _pull(ctx)
    with SocksServer(names={"greenmq-socks-test.invalid": "127.0.0.1"}) as proxy:
        push = _push_through(ctx, proxy, f"tcp://greenmq-socks-test.invalid:{port}")
        with gevent.Timeout(TIMEOUT):
            push.send(b"by name")
            assert pull.recv() == b"by name"
        (request,) = proxy.connected()
        assert (request.address_type, request.host, request.port) == (3, "greenmq-socks-test.invalid", port)
        push.close()


@needs_ipv6_loopback
def test_an_ipv6_destination_goes_as_an_address(ctx):
    pull, port = _pull(ctx, "tcp://[::1]:*", ipv6=1)
    with SocksServer() as proxy:
        push = _push_through(ctx, proxy, f"tcp://[::1]:{port}")
        with gevent.Timeout(TIMEOUT):
            push.send(b"v6")
            assert pull.recv() == b"v6"
        (request,) = proxy.connected()
        assert (request.address_type, request.host, request.port) == (4, "::1", port)
        push.close()


def test_username_and_password(ctx):
    pull, port = _pull(ctx)
    with SocksServer(credentials=(b"alice", b"secret")) as proxy:
        push = _push_through(ctx, proxy, f"tcp://127.0.0.1:{port}",
                             socks_username=b"alice", socks_password=b"secret")
        with gevent.Timeout(TIMEOUT):
            push.send(b"authenticated")
            assert pull.recv() == b"authenticated"
        (request,) = proxy.connected()
        assert request.methods == bytes((USERNAME_PASSWORD,))  # libzmq offers the one method
        assert request.credentials == (b"alice", b"secret")
        push.close()


def test_wrong_password_keeps_retrying_and_delivers_nothing(ctx):
    pull, port = _pull(ctx)
    with SocksServer(credentials=(b"alice", b"secret")) as proxy:
        push = _push_through(ctx, proxy, f"tcp://127.0.0.1:{port}", reconnect_ivl=10,
                             socks_username=b"alice", socks_password=b"wrong")
        push.send(b"queued")
        # A request is listed when its connection is accepted, before its credentials are read.
        def answered():
            return [request for request in proxy.requests if request.credentials is not None]

        wait_until(lambda: len(answered()) >= 3, what="the client to try again")
        assert proxy.connected() == []
        assert all(request.credentials == (b"alice", b"wrong") for request in answered())
        push.close()


def test_no_credentials_for_a_proxy_that_wants_them(ctx):
    with SocksServer(credentials=(b"alice", b"secret")) as proxy:
        push = _push_through(ctx, proxy, "tcp://127.0.0.1:9", reconnect_ivl=10)
        def offered():  # (a request is listed before its methods are read)
            return [request for request in proxy.requests if request.methods]

        wait_until(lambda: len(offered()) >= 2, what="the client to try again")
        assert all(request.methods == bytes((NO_AUTHENTICATION,)) for request in offered())
        assert proxy.connected() == []
        push.close()


def test_a_refused_request_is_retried_then_succeeds(ctx):
    pull, port = _pull(ctx)
    with SocksServer(reply=CONNECTION_REFUSED) as proxy:
        push = _push_through(ctx, proxy, f"tcp://127.0.0.1:{port}", reconnect_ivl=10)
        monitor = push.get_monitor_socket()
        monitor.rcvtimeo = TIMEOUT * 1000
        push.send(b"eventually")
        wait_until(lambda: len(proxy.requests) >= 2, what="the client to ask again")
        events = []
        while zmq.EVENT_CONNECT_RETRIED not in events:
            events.append(struct.unpack("=HI", monitor.recv_multipart()[0])[0])
        assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in events
        proxy.reply = 0
        with gevent.Timeout(TIMEOUT):
            assert pull.recv() == b"eventually"
        push.disable_monitor()
        monitor.close()
        push.close()


def test_a_proxy_that_hangs_up_is_retried(ctx):
    """Something that is not a SOCKS proxy at all: each attempt fails, the session keeps trying."""
    attempts = []

    def hang_up(conn, _address):
        attempts.append(conn.recv(16))
        conn.close()

    server = StreamServer(("127.0.0.1", 0), hang_up)
    server.start()
    try:
        push = new_socket(ctx, zmq.PUSH, reconnect_ivl=10, socks_proxy=f"127.0.0.1:{server.server_port}".encode())
        push.connect("tcp://127.0.0.1:9")
        wait_until(lambda: len(attempts) >= 3, what="three attempts")
        assert set(attempts) == {b"\x05\x01\x00"}  # each one a SOCKS5 greeting offering no authentication
        push.close()
    finally:
        server.stop(timeout=0)


def test_a_bind_is_not_affected_by_the_proxy_option(ctx):
    """SOCKS applies to connects only: a socket with SOCKS_PROXY still binds and accepts."""
    pull, port = _pull(ctx, socks_proxy=b"127.0.0.1:9")
    push = new_socket(ctx, zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    with gevent.Timeout(TIMEOUT):
        push.send(b"direct")
        assert pull.recv() == b"direct"
    push.close()

"""STREAM sockets against plain TCP peers (libzmq's raw-TCP socket type)."""

import gevent
import pytest
from gevent import socket as gsocket

import greenmq as zmq

from support import SHORT_TIMEOUT



def _read_until_eof(conn):
    received = b""
    with gevent.Timeout(SHORT_TIMEOUT):
        while True:
            data = conn.recv(4096)
            if not data:
                return received
            received += data


@pytest.fixture
def stream_server(ctx):
    server = ctx.socket(zmq.STREAM)
    server.rcvtimeo = SHORT_TIMEOUT * 1000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    return server, port


def test_http_like_exchange_and_close(stream_server):
    server, port = stream_server
    client = gsocket.create_connection(("127.0.0.1", port))
    routing_id, notice = server.recv_multipart()
    assert notice == b""
    assert len(routing_id) == 5 and routing_id[0] == 0
    client.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert server.recv_multipart() == [routing_id, b"GET / HTTP/1.0\r\n\r\n"]
    server.send_multipart([routing_id, b"HTTP/1.0 200 OK\r\n\r\nhello"])
    server.send_multipart([routing_id, b""])  # an empty frame closes the connection
    assert _read_until_eof(client) == b"HTTP/1.0 200 OK\r\n\r\nhello"
    assert server.recv_multipart() == [routing_id, b""]  # disconnect notification
    client.close()


def test_unknown_routing_id_fails_at_the_first_frame(stream_server):
    server, _ = stream_server
    with pytest.raises(zmq.ZMQError) as info:
        server.send(b"\x00nobody", zmq.SNDMORE)
    assert info.value.errno == zmq.EHOSTUNREACH
    with pytest.raises(zmq.ZMQError) as info:
        server.send_multipart([b"\x00nobody", b"data"])
    assert info.value.errno == zmq.EHOSTUNREACH


def test_each_client_gets_its_own_routing_id(stream_server):
    server, port = stream_server
    clients = [gsocket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    ids = {server.recv_multipart()[0] for _ in clients}
    assert len(ids) == 3
    for index, client in enumerate(clients):
        client.sendall(b"client %d" % index)
    seen = dict(server.recv_multipart() for _ in clients)
    assert sorted(seen.values()) == [b"client 0", b"client 1", b"client 2"]
    for routing_id, data in seen.items():
        server.send_multipart([routing_id, b"echo " + data])
    for index, client in enumerate(clients):
        with gevent.Timeout(SHORT_TIMEOUT):
            assert client.recv(100) == b"echo client %d" % index
        client.close()


def test_peer_close_is_notified(stream_server):
    server, port = stream_server
    client = gsocket.create_connection(("127.0.0.1", port))
    routing_id, _ = server.recv_multipart()
    client.sendall(b"bye")
    client.close()
    assert server.recv_multipart() == [routing_id, b"bye"]
    assert server.recv_multipart() == [routing_id, b""]


def test_stream_notify_off_suppresses_notifications(ctx):
    server = ctx.socket(zmq.STREAM)
    server.stream_notify = 0
    server.rcvtimeo = SHORT_TIMEOUT * 1000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client = gsocket.create_connection(("127.0.0.1", port))
    client.sendall(b"first")
    routing_id, data = server.recv_multipart()
    assert data == b"first"
    client.close()
    server.rcvtimeo = 300
    with pytest.raises(zmq.Again):
        server.recv_multipart()


def test_stream_connects_to_a_plain_tcp_server(ctx):
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stream = ctx.socket(zmq.STREAM)
    stream.rcvtimeo = SHORT_TIMEOUT * 1000
    stream.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    with gevent.Timeout(SHORT_TIMEOUT):
        conn, _ = listener.accept()
    routing_id, notice = stream.recv_multipart()
    assert notice == b""
    stream.send_multipart([routing_id, b"ping"])
    with gevent.Timeout(SHORT_TIMEOUT):
        assert conn.recv(10) == b"ping"
    conn.sendall(b"pong")
    assert stream.recv_multipart() == [routing_id, b"pong"]
    conn.close()
    listener.close()


def test_unknown_routing_id_is_ehostunreach(stream_server):
    server, _ = stream_server
    with pytest.raises(zmq.ZMQError) as info:
        server.send_multipart([b"\x00nope", b"data"])
    assert info.value.errno == zmq.EHOSTUNREACH

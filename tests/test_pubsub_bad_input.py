"""Publish-subscribe against misbehaving raw ZMTP peers: ignored where libzmq ignores, and
one bad peer never costs the other subscribers anything."""

import gevent
import gevent.select
from gevent import socket as gsocket

import greenmq as zmq
from greenmq.zmtp import ZmtpConnection, encode_command

from support import SHORT_TIMEOUT



def raw_peer(port, socket_type):
    """A raw tcp peer that completes the NULL handshake as ``socket_type``; returns (sock, conn)."""
    sock = gsocket.create_connection(("127.0.0.1", port))
    conn = ZmtpConnection(socket_type)
    sock.sendall(conn.data_to_send())
    with gevent.Timeout(SHORT_TIMEOUT):
        while conn.state != "READY":
            conn.receive(sock.recv(65536))
            sock.sendall(conn.data_to_send())
    return sock, conn


def publish_until_received(pub, sub, topic=b"t"):
    """Beat the slow joiner: publish probes until the subscriber has one."""
    with gevent.Timeout(SHORT_TIMEOUT):
        while not sub.poll(10):
            pub.send_multipart([topic, b"probe"])
    return sub.recv_multipart()


def published_to(pub, sock, conn, topic, body):
    """Publish [topic, body] until the raw subscriber has received messages; returns them."""
    with gevent.Timeout(SHORT_TIMEOUT):
        while True:
            pub.send_multipart([b"other", b"not subscribed"])
            pub.send_multipart([topic, body])
            if gevent.select.select([sock], [], [], 0.01)[0]:
                got = conn.receive(sock.recv(65536))
                if got:
                    return got


def test_cancel_for_a_topic_never_subscribed_is_ignored(ctx):
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sock, conn = raw_peer(port, b"SUB")
    sock.sendall(encode_command(b"CANCEL", b"never") + encode_command(b"SUBSCRIBE", b"t"))
    got = published_to(pub, sock, conn, b"t", b"data")
    assert got and all(message == [b"t", b"data"] for message in got)
    sock.close()


def test_malformed_command_drops_only_that_subscriber(ctx):
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    good = ctx.socket(zmq.SUB)
    good.subscribe(b"t")
    good.connect(f"tcp://127.0.0.1:{port}")
    publish_until_received(pub, good)
    sock, _ = raw_peer(port, b"SUB")
    # A command frame whose name length (200) runs past the end of its 3-byte body.
    sock.sendall(b"\x04\x03\xc8AB")
    with gevent.Timeout(SHORT_TIMEOUT):
        while sock.recv(65536):
            pass  # the publisher closes this connection
    sock.close()
    pub.send_multipart([b"t", b"after"])
    good.rcvtimeo = SHORT_TIMEOUT * 1000
    while True:
        frames = good.recv_multipart()
        if frames[1] != b"probe":
            break
    assert frames == [b"t", b"after"]


def test_subscribe_sent_to_a_sub_is_ignored(ctx):
    sub = ctx.socket(zmq.SUB)
    sub.subscribe(b"news")
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    sock, conn = raw_peer(port, b"PUB")
    # A SUB receives subscriptions it has no use for; libzmq drops them silently.
    sock.sendall(encode_command(b"SUBSCRIBE", b"x") + encode_command(b"CANCEL", b"y"))
    out = []
    conn.encode_messages([[b"news", b"still delivered"], [b"sport", b"filtered"]], out)
    sock.sendall(b"".join(bytes(chunk) for chunk in out))
    sub.rcvtimeo = SHORT_TIMEOUT * 1000
    assert sub.recv_multipart() == [b"news", b"still delivered"]
    assert sub.poll(200) == 0
    sock.close()


def test_subscription_message_from_a_zmtp30_style_peer_counts(ctx):
    """3.0 peers subscribe with a data message 0x01 + topic; a PUB accepts it from anyone."""
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sock, conn = raw_peer(port, b"SUB")
    out = []
    conn.encode_messages([b"\x01w", b"\x00never-subscribed"], out)
    sock.sendall(b"".join(bytes(chunk) for chunk in out))
    got = published_to(pub, sock, conn, b"w", b"wanted")
    assert got and all(message == [b"w", b"wanted"] for message in got)
    sock.close()

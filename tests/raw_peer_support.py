"""Helpers for tests that play a hostile peer over a raw TCP socket against a greenmq socket.

Every wait is bounded by :data:`support.TIMEOUT`. (The ``hub_errors`` fixture these tests
use is in conftest.py.)
"""

import gevent
from gevent import socket

from support import TIMEOUT
from zmtp_support import command, greeting, properties


def exchange(push, pull, tag, count=20):
    """Send ``count`` messages through a well-behaved PUSH and check they all arrive, in order."""
    expected = [[tag, b"%d" % i] for i in range(count)]
    with gevent.Timeout(TIMEOUT):
        for msg in expected:
            push.send_multipart(msg)
        got = [pull.recv_multipart() for _ in expected]
    assert got == expected


def connect_raw(port):
    with gevent.Timeout(TIMEOUT):
        return socket.create_connection(("127.0.0.1", port))


def recv_exactly(raw, size):
    data = b""
    with gevent.Timeout(TIMEOUT):
        while len(data) < size:
            chunk = raw.recv(size - len(data))
            assert chunk, f"connection closed after {len(data)} of {size} bytes"
            data += chunk
    return data


def read_until_eof(raw):
    """Everything the peer still sends, until it closes the connection (bounded by TIMEOUT)."""
    data = b""
    with gevent.Timeout(TIMEOUT):
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                return data
            data += chunk


def null_handshake(raw, socket_type, minor=1):
    """Complete a NULL handshake as ``socket_type`` on ``raw``, reading exactly the peer's greeting and
    READY (nothing after them); returns the peer's READY command body."""
    raw.sendall(greeting(b"NULL", minor=minor) + command(b"READY", properties((b"Socket-Type", socket_type))))
    peer_greeting = recv_exactly(raw, 64)
    assert peer_greeting[:1] == b"\xff" and peer_greeting[10] == 3
    flags, size = recv_exactly(raw, 2)
    assert flags == 0x04, "expected a short READY command"
    ready = recv_exactly(raw, size)
    assert ready.startswith(b"\x05READY")
    return ready

"""Helpers for tests that play a hostile peer over a raw TCP socket against a greenmq socket.

Every wait is bounded by :data:`support.TIMEOUT`. (The ``hub_errors`` fixture these tests
use is in conftest.py.)
"""

import gevent
from gevent import socket

from support import TIMEOUT


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

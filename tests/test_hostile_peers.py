"""Hostile and broken peers over real loopback TCP against a greenmq PULL socket.

Each test binds a PULL on 127.0.0.1, connects a well-behaved greenmq PUSH to it,
then lets a raw gevent socket misbehave: garbage, an oversized frame, an
incompatible socket type, a handshake that never finishes. (ZMTP 2.0 and 1.0
peers are served: tests/test_legacy_peers.py.) The raw socket must be disconnected (it reads EOF) while the PUSH
keeps delivering and the PULL keeps working, including for new peers.
"""

import time

import gevent
import pytest

import greenmq as zmq
from greenmq.zmtp import encode_command, encode_properties, make_greeting

from raw_peer_support import connect_raw, exchange, read_until_eof, recv_exactly
from support import TIMEOUT
from zmtp_support import parse_commands

NULL_GREETING = make_greeting(b"NULL")


def ready(socket_type):
    return encode_command(b"READY", encode_properties([("Socket-Type", socket_type)]))


@pytest.fixture
def make_pipeline(ctx, hub_errors):
    """Makes a PULL bound to a random loopback port, with the given options set before the
    bind (a listener keeps the options it was bound with, as in libzmq), and a greenmq PUSH
    connected to it (proven to work)."""
    made = []

    def make(**pull_options):
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        for name, value in pull_options.items():
            setattr(pull, name, value)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.connect(f"tcp://127.0.0.1:{port}")
        made.append((push, pull))
        exchange(push, pull, b"warmup", 1)
        return pull, push, port

    yield make
    for push, pull in made:
        push.close()
        pull.close()


@pytest.fixture
def pipeline(make_pipeline):
    """A PULL bound to a random loopback port and a greenmq PUSH connected to it (proven to work)."""
    return make_pipeline()


def check_still_working(pull, push, port, ctx):
    """The old PUSH keeps delivering, a fresh PUSH can still connect and deliver, and no greenlet
    of greenmq died of an unhandled exception (a hostile peer must end as a protocol error)."""
    exchange(push, pull, b"after")
    push2 = ctx.socket(zmq.PUSH)
    push2.linger = 0
    try:
        push2.connect(f"tcp://127.0.0.1:{port}")
        exchange(push2, pull, b"fresh", 5)
    finally:
        push2.close()
    exchange(push, pull, b"last", 5)
    errors = gevent.get_hub().exception_stream
    assert errors.getvalue() == "", "a greenlet died:\n" + errors.getvalue()


# What greenmq answers: a first byte other than FF is a ZMTP 1.0 peer's identity frame, so
# greenmq sends its signature (the header of its own identity frame) and its empty identity.
@pytest.mark.parametrize("garbage, answer", [
    # "G": a 1.0 identity frame of 70 bytes that never completes: the handshake times out.
    (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", NULL_GREETING[:10]),
    (bytes(64), NULL_GREETING[:10]),  # a 1.0 frame of length 0
    (b"\xff" * 64, NULL_GREETING),  # passes the signature and version checks, fails on the mechanism
    (bytes(range(256)) * 4, NULL_GREETING[:10]),
], ids=["http", "zeros", "all-ff", "byte-ramp"])
def test_garbage_is_disconnected(ctx, make_pipeline, garbage, answer):
    pull, push, port = make_pipeline(handshake_ivl=300)
    raw = connect_raw(port)
    try:
        raw.sendall(garbage)
        exchange(push, pull, b"during")
        assert read_until_eof(raw) == answer
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)


def test_oversized_frame_after_handshake(ctx, make_pipeline):
    pull, push, port = make_pipeline(maxmsgsize=1024)
    raw = connect_raw(port)
    try:
        raw.sendall(NULL_GREETING + ready(b"PUSH"))
        assert recv_exactly(raw, 64) == NULL_GREETING
        reply = recv_exactly(raw, len(ready(b"PULL")))
        assert parse_commands(reply, short_only=True) == [(b"READY", encode_properties([("Socket-Type", b"PULL")]))]
        # The raw peer is a working PUSH for now: a message within the limit arrives.
        raw.sendall(b"\x02" + (1024).to_bytes(8, "big") + b"r" * 1024)
        with gevent.Timeout(TIMEOUT):
            assert pull.recv() == b"r" * 1024
        exchange(push, pull, b"during")
        # Then a header announcing 2**62 bytes, and nothing more: refused from the header alone.
        raw.sendall(b"\x02" + (2**62).to_bytes(8, "big"))
        assert read_until_eof(raw) == b""
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)


def test_oversized_frame_in_handshake(ctx, make_pipeline):
    pull, push, port = make_pipeline(maxmsgsize=100)
    raw = connect_raw(port)
    try:
        raw.sendall(NULL_GREETING + b"\x06" + (2**62).to_bytes(8, "big"))
        assert recv_exactly(raw, 64) == NULL_GREETING
        rest = read_until_eof(raw)
        assert [name for name, _ in parse_commands(rest, short_only=True)] in ([], [b"READY"])
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)


def test_oversized_message_one_byte_above_limit(ctx, make_pipeline):
    pull, push, port = make_pipeline(maxmsgsize=1000)
    raw = connect_raw(port)
    try:
        raw.sendall(NULL_GREETING + ready(b"PUSH") + b"\x02" + (1000).to_bytes(8, "big") + b"k" * 1000)
        with gevent.Timeout(TIMEOUT):
            assert pull.recv() == b"k" * 1000
        raw.sendall(b"\x02" + (1001).to_bytes(8, "big"))
        recv_exactly(raw, 64 + len(ready(b"PULL")))
        assert read_until_eof(raw) == b""
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)


@pytest.mark.parametrize("peer_type", [b"PULL", b"PUB", b"BOGUS"])
def test_incompatible_socket_type_is_disconnected(ctx, pipeline, peer_type):
    pull, push, port = pipeline
    raw = connect_raw(port)
    try:
        raw.sendall(NULL_GREETING + ready(peer_type) + b"\x00\x05hello")
        assert recv_exactly(raw, 64) == NULL_GREETING
        commands = parse_commands(read_until_eof(raw), short_only=True)
        # greenmq's READY (sent when our greeting arrived), then its ERROR before closing.
        assert [name for name, _ in commands] == [b"READY", b"ERROR"]
        reason = commands[1][1]
        assert reason[0] == len(reason) - 1 > 0
    finally:
        raw.close()
    # The message that came with the bad READY must not have been delivered.
    with gevent.Timeout(TIMEOUT):
        push.send(b"marker")
        assert pull.recv() == b"marker"
    check_still_working(pull, push, port, ctx)


@pytest.mark.parametrize("sent", [
    b"",
    b"\xff" + bytes(8) + b"\x7f",  # the signature alone
    NULL_GREETING,  # greeting, but never READY
    NULL_GREETING + b"\x04\x06\x05REA",  # a READY cut short
], ids=["silent", "signature-only", "no-ready", "partial-ready"])
def test_incomplete_handshake_times_out(ctx, make_pipeline, sent):
    pull, push, port = make_pipeline(handshake_ivl=300)
    raw = connect_raw(port)
    start = time.monotonic()
    # greenmq's greeting goes as far as the peer's allows: the signature, then the major version.
    answer = {0: NULL_GREETING[:10], 10: NULL_GREETING[:11]}.get(len(sent), NULL_GREETING)
    try:
        raw.sendall(sent)
        assert recv_exactly(raw, len(answer)) == answer
        # While the stalled connection waits for its timeout, traffic flows.
        exchange(push, pull, b"during")
        rest = read_until_eof(raw)  # default HANDSHAKE_IVL is 30 s, far beyond TIMEOUT
        elapsed = time.monotonic() - start
        assert [name for name, _ in parse_commands(rest, short_only=True)] in ([], [b"READY"])
        assert elapsed >= 0.2, f"closed after {elapsed:.3f}s, before HANDSHAKE_IVL"
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)


def test_many_hostile_peers_at_once(ctx, make_pipeline):
    pull, push, port = make_pipeline(handshake_ivl=300, maxmsgsize=100)
    payloads = [
        b"garbage!" * 8,
        NULL_GREETING + ready(b"PUB"),
        b"\xff" + bytes(8) + b"\x7f\x01\x08\x02" + (300).to_bytes(8, "big"),  # ZMTP 2.0, identity too long
        NULL_GREETING,
        NULL_GREETING + ready(b"PUSH") + b"\x02" + (2**62).to_bytes(8, "big"),
        b"",
    ]
    raws = []
    try:
        for _ in payloads:
            raws.append(connect_raw(port))
        for raw, data in zip(raws, payloads):
            raw.sendall(data)
        readers = [gevent.spawn(read_until_eof, raw) for raw in raws]
        exchange(push, pull, b"during", 50)
        with gevent.Timeout(TIMEOUT):
            gevent.joinall(readers, raise_error=True)
        assert all(reader.successful() for reader in readers)
    finally:
        for raw in raws:
            raw.close()
    check_still_working(pull, push, port, ctx)


def test_unlimited_maxmsgsize_huge_frame_does_not_kill_socket(ctx, pipeline):
    # Without MAXMSGSIZE a 2**62-byte frame cannot be allocated; the connection must
    # still end, as a handled error, and the socket keep working (libzmq fails the
    # connection with ENOMEM).
    pull, push, port = pipeline
    raw = connect_raw(port)
    try:
        raw.sendall(NULL_GREETING + ready(b"PUSH") + b"\x00\x02ok")
        with gevent.Timeout(TIMEOUT):
            assert pull.recv() == b"ok"
        raw.sendall(b"\x02" + (2**62).to_bytes(8, "big"))
        recv_exactly(raw, 64 + len(ready(b"PULL")))
        assert read_until_eof(raw) == b""
    finally:
        raw.close()
    check_still_working(pull, push, port, ctx)

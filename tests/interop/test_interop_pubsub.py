"""PUB, SUB, XPUB and XSUB against real libzmq (pyzmq in a subprocess), and against raw ZMTP peers.

libzmq peers play the ``ctl`` role (and ``forwarder``, libzmq's XSUB/XPUB
proxy). The raw peers are gevent sockets in this process that do the ZMTP
handshake themselves, so that the tests can see exactly which bytes greenmq
puts on the wire: that a PUB sends nothing a subscriber did not ask for, and
that a SUB subscribes with a SUBSCRIBE command to a ZMTP 3.1 peer but with a
``0x01`` + topic message to a ZMTP 3.0 peer (spec checklist items 23-26).

Subscriptions race the first messages (the slow-joiner effect), so every test
publishes a ``<topic>-sync`` message in a loop until the subscriber has one,
and ignores the sync messages that were still in flight afterwards.
"""

import itertools
import socket as stdlib_socket

import gevent
import pytest
from gevent import select, socket

import greenmq as zmq
from greenmq.zmtp import encode_command, encode_properties, make_greeting
from support import WIRE_TRANSPORTS

from .libzmq_peer import BINDERS, WAIT, greenmq_socket, link, local_endpoint

POLL_MS = 100  # how long one sync attempt waits for its message


@pytest.fixture
def raw_sockets():
    """Raw gevent sockets, closed at the end of the test."""
    opened = []
    yield opened
    for raw in opened:
        raw.close()


# -- helpers ------------------------------------------------------------------------------------


def _is_sync(frames):
    return frames[0].endswith(b"-sync")


def _greenmq_poll_recv(sock, timeout_ms=POLL_MS):
    """One message from a greenmq socket within ``timeout_ms``, or None."""
    if sock.poll(timeout_ms, zmq.POLLIN):
        return sock.recv_multipart()
    return None


def _until_received(send, receive):
    """Call ``send()`` then ``receive()`` until the latter returns something (bounded by the test's Timeout)."""
    for _ in itertools.count():
        send()
        got = receive()
        if got is not None:
            return got
    return None  # pragma: no cover


def _sync(send, receive, topics=(b"A", b"B")):
    """For each topic in turn, ``send(topic + b"-sync")`` until one arrives: all are in place."""
    for topic in topics:
        _until_received(lambda topic=topic: send(topic + b"-sync"), receive)


def _collect(receive, end):
    """Messages from ``receive()`` up to and including ``end`` (a list of frames), sync messages left out."""
    got = []
    while True:
        frames = receive()
        assert frames is not None, f"nothing more arrived; so far {got!r}"
        if _is_sync(frames):
            continue
        got.append(frames)
        if frames == end:
            return got


def _libzmq_receive(peer):
    return peer.recv_frames()


# Messages for the filtering tests: (first frame, more frames...). Subscriptions: b"A" and b"B".
TRAFFIC = [
    [b"A1"],
    [b"C1", b"not subscribed"],
    [b"B1", b"two", b"frames more"],
    [b""],
    [b"AB", b""],
    [b"a1"],  # the match is case-sensitive
    [b"Bx" * 1000],
    [b"CA"],  # a prefix match, not a substring match
    [b"A"],
]


def _matching(messages, topics):
    return [msg for msg in messages if any(msg[0].startswith(topic) for topic in topics)]


# -- raw ZMTP peers ---------------------------------------------------------------------------------


def _raw_connect(raw_sockets, endpoint):
    endpoint = endpoint.decode() if isinstance(endpoint, bytes) else endpoint
    with gevent.Timeout(10):
        if endpoint.startswith("tcp://"):
            host, _, port = endpoint[len("tcp://"):].rpartition(":")
            raw = socket.create_connection((host, int(port)))
        else:
            raw = socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
            raw.connect(endpoint[len("ipc://"):])
    raw_sockets.append(raw)
    return raw


def _raw_listen(raw_sockets, transport, tmp_path):
    """A listening raw socket and the endpoint to connect greenmq to."""
    if transport == "tcp":
        listener = socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        endpoint = "tcp://127.0.0.1:%d" % listener.getsockname()[1]
    else:
        listener = socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
        path = f"{tmp_path}/raw.sock"
        listener.bind(path)
        endpoint = f"ipc://{path}"
    listener.listen(1)
    raw_sockets.append(listener)
    return listener, endpoint


def _raw_accept(raw_sockets, listener):
    with gevent.Timeout(10):
        raw, _ = listener.accept()
    raw_sockets.append(raw)
    return raw


def _recv_exactly(raw, size):
    data = b""
    while len(data) < size:
        chunk = raw.recv(size - len(data))
        assert chunk, f"connection closed after {len(data)} of {size} bytes"
        data += chunk
    return data


def _read_frame(raw):
    """One frame: (flags, body, bytes it took on the wire)."""
    flags = _recv_exactly(raw, 1)[0]
    size_bytes = _recv_exactly(raw, 8 if flags & 0x02 else 1)
    size = int.from_bytes(size_bytes, "big")
    return flags, _recv_exactly(raw, size), 1 + len(size_bytes) + size


def _read_message(raw):
    """One whole message: (frames, bytes it took on the wire). Commands are not expected here."""
    frames = []
    total = 0
    while True:
        flags, body, wire = _read_frame(raw)
        assert not flags & 0x04, f"unexpected command {body!r}"
        frames.append(body)
        total += wire
        if not flags & 0x01:
            return frames, total


def _raw_handshake(raw, socket_type, minor):
    """Do the NULL handshake as a ZMTP 3.``minor`` peer of ``socket_type``; return greenmq's greeting."""
    ready = encode_command(b"READY", encode_properties([("Socket-Type", socket_type)]))
    raw.sendall(make_greeting(b"NULL", minor=minor) + ready)
    greeting = _recv_exactly(raw, 64)
    assert greeting[0] == 0xFF and greeting[9] == 0x7F and greeting[10] == 3, greeting
    flags, body, _ = _read_frame(raw)
    assert flags & 0x04 and body.startswith(b"\x05READY"), (flags, body)
    return greeting


def _raw_readable(raw, timeout=POLL_MS / 1000):
    return bool(select.select([raw], [], [], timeout)[0])


# -- greenmq PUB -> libzmq SUB ------------------------------------------------------------------


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pub_to_libzmq_sub_filters_and_unsubscribes(ctx, peers, tmp_path, transport, binder):
    pub = greenmq_socket(ctx, zmq.PUB)
    with gevent.Timeout(WAIT):
        sub = link(pub, peers, binder, local_endpoint(transport, tmp_path), "ctl", "SUB")
        assert sub.set_option("SUBSCRIBE", b"A") is None
        assert sub.set_option("SUBSCRIBE", b"B") is None
        _sync(pub.send, lambda: sub.recv_frames(POLL_MS))
        for msg in TRAFFIC:
            pub.send_multipart(msg)
        pub.send(b"A-end")
        got = _collect(lambda: _libzmq_receive(sub), [b"A-end"])
        assert got == _matching(TRAFFIC, [b"A", b"B"]) + [[b"A-end"]]

        # Unsubscribing from B; the Z subscription after it tells us when the PUB has both.
        assert sub.set_option("UNSUBSCRIBE", b"B") is None
        assert sub.set_option("SUBSCRIBE", b"Z") is None
        _until_received(lambda: pub.send(b"Z-sync"), lambda: sub.recv_frames(POLL_MS))
        for msg in TRAFFIC:
            pub.send_multipart(msg)
        pub.send(b"Z-end")
        got = _collect(lambda: _libzmq_receive(sub), [b"Z-end"])
        assert got == _matching(TRAFFIC, [b"A"]) + [[b"Z-end"]]
    pub.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pub_sends_nothing_a_raw_subscriber_did_not_ask_for(ctx, raw_sockets, tmp_path, transport):
    """Filtering happens on the publisher: non-matching messages never reach the wire."""
    non_matching = 2000
    big = bytes(1000)
    pub = greenmq_socket(ctx, zmq.PUB)
    pub.sndhwm = 0  # no HWM drops: whatever is not filtered out would be sent
    pub.bind(local_endpoint(transport, tmp_path, "pub"))
    with gevent.Timeout(WAIT):
        raw = _raw_connect(raw_sockets, pub.last_endpoint)
        _raw_handshake(raw, b"SUB", minor=1)
        raw.sendall(encode_command(b"SUBSCRIBE", b"topic"))
        _until_received(lambda: pub.send(b"topic-sync"), lambda: _raw_readable(raw) or None)

        matching = [[b"topic-%d" % i, b"payload"] for i in range(5)]
        for i in range(non_matching):
            pub.send_multipart([b"other-%d" % i, big])
            if i % 400 == 0:
                pub.send_multipart(matching[i // 400])
        pub.send(b"topic-end")
        received = []
        wire_bytes = 0
        while not received or received[-1] != [b"topic-end"]:
            frames, size = _read_message(raw)
            if frames == [b"topic-sync"]:
                continue
            received.append(frames)
            wire_bytes += size
        assert received == [*matching, [b"topic-end"]]
        expected_bytes = sum(2 + len(frame) for msg in received for frame in msg)
        assert wire_bytes == expected_bytes, "bytes beyond the matching messages were sent"
        assert not _raw_readable(raw, 0.2), "more bytes followed the last matching message"

        # CANCEL: nothing on "topic" any more (the SUBSCRIBE "mark" after it shows it was applied).
        raw.sendall(encode_command(b"CANCEL", b"topic") + encode_command(b"SUBSCRIBE", b"mark"))
        _until_received(lambda: pub.send(b"mark-sync"), lambda: _raw_readable(raw) or None)
        for msg in matching:
            pub.send_multipart(msg)
        pub.send(b"mark-end")
        while True:
            frames, _ = _read_message(raw)
            assert frames in ([b"mark-sync"], [b"mark-end"]), f"received {frames!r} after CANCEL"
            if frames == [b"mark-end"]:
                break
        assert not _raw_readable(raw, 0.2)
    pub.close()


# -- libzmq PUB -> greenmq SUB ------------------------------------------------------------------


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_libzmq_pub_to_greenmq_sub_filters_multipart_and_unsubscribes(ctx, peers, tmp_path, transport, binder):
    sub = greenmq_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"A")
    sub.setsockopt(zmq.SUBSCRIBE, b"B")
    with gevent.Timeout(WAIT):
        pub = link(sub, peers, binder, local_endpoint(transport, tmp_path), "ctl", "PUB")
        _sync(lambda frame: pub.send_frames([frame]), lambda: _greenmq_poll_recv(sub))
        for msg in TRAFFIC:
            assert pub.send_frames(msg) is None
        pub.send_frames([b"A-end"])
        got = _collect(sub.recv_multipart, [b"A-end"])
        assert got == _matching(TRAFFIC, [b"A", b"B"]) + [[b"A-end"]]

        sub.setsockopt(zmq.UNSUBSCRIBE, b"B")
        sub.setsockopt(zmq.SUBSCRIBE, b"Z")
        _until_received(lambda: pub.send_frames([b"Z-sync"]), lambda: _greenmq_poll_recv(sub))
        for msg in TRAFFIC:
            pub.send_frames(msg)
        pub.send_frames([b"Z-end"])
        got = _collect(sub.recv_multipart, [b"Z-end"])
        assert got == _matching(TRAFFIC, [b"A"]) + [[b"Z-end"]]
        assert _greenmq_poll_recv(sub, 200) is None
    sub.close()


# -- subscriptions as XPUB sees them -------------------------------------------------------------


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_xpub_sees_libzmq_sub_subscriptions(ctx, peers, tmp_path, transport, binder):
    xpub = greenmq_socket(ctx, zmq.XPUB)
    with gevent.Timeout(WAIT):
        sub = link(xpub, peers, binder, local_endpoint(transport, tmp_path), "ctl", "SUB")
        assert sub.set_option("SUBSCRIBE", b"topic") is None
        # A bound libzmq socket attaches a new connection's pipe (and only then sends its
        # subscriptions) on its next API call: poll it until the subscription comes.
        got = _until_received(lambda: sub.command("poll"), lambda: _greenmq_poll_recv(xpub))
        assert got == [b"\x01topic"]
        assert sub.set_option("SUBSCRIBE", b"") is None
        assert xpub.recv_multipart() == [b"\x01"]
        _until_received(lambda: xpub.send(b"topic-sync"), lambda: sub.recv_frames(POLL_MS))
        assert sub.set_option("UNSUBSCRIBE", b"topic") is None
        assert xpub.recv_multipart() == [b"\x00topic"]
        assert sub.set_option("UNSUBSCRIBE", b"") is None
        assert xpub.recv_multipart() == [b"\x00"]
        assert _greenmq_poll_recv(xpub, 200) is None
    xpub.close()


@pytest.mark.parametrize("socket_type", ["SUB", "XSUB"])
@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_libzmq_xpub_sees_greenmq_subscriptions(ctx, peers, tmp_path, transport, binder, socket_type):
    sock = greenmq_socket(ctx, getattr(zmq, socket_type))

    def subscribe(topic, on=True):
        if socket_type == "SUB":
            sock.setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)
        else:
            sock.send((b"\x01" if on else b"\x00") + topic)

    with gevent.Timeout(WAIT):
        xpub = link(sock, peers, binder, local_endpoint(transport, tmp_path), "ctl", "XPUB")
        subscribe(b"topic")
        assert xpub.recv_frames() == [b"\x01topic"]
        _until_received(lambda: xpub.send_frames([b"topic-sync"]), lambda: _greenmq_poll_recv(sock))
        subscribe(b"topic", on=False)
        assert xpub.recv_frames() == [b"\x00topic"]
        assert xpub.recv_frames(200) is None
    sock.close()


# -- ZMTP 3.0 peers: subscriptions as messages ---------------------------------------------------


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_pub_takes_message_form_subscription_from_zmtp30_sub(ctx, raw_sockets, tmp_path, transport):
    pub = greenmq_socket(ctx, zmq.PUB)
    pub.bind(local_endpoint(transport, tmp_path, "pub"))
    with gevent.Timeout(WAIT):
        raw = _raw_connect(raw_sockets, pub.last_endpoint)
        _raw_handshake(raw, b"SUB", minor=0)
        raw.sendall(bytes.fromhex("00020141"))  # the message b"\x01A": subscribe to "A"
        _until_received(lambda: pub.send(b"A-sync"), lambda: _raw_readable(raw) or None)
        pub.send(b"B-no")
        pub.send_multipart([b"A-data", b"more"])
        got = []
        while got[-1:] != [[b"A-data", b"more"]]:
            frames, _ = _read_message(raw)
            if frames != [b"A-sync"]:
                got.append(frames)
        assert got == [[b"A-data", b"more"]]

        raw.sendall(bytes.fromhex("00020041") + b"\x00\x02\x01Z")  # unsubscribe "A", subscribe "Z"
        _until_received(lambda: pub.send(b"Z-sync"), lambda: _raw_readable(raw) or None)
        pub.send(b"A-gone")
        pub.send(b"Z-end")
        while True:
            frames, _ = _read_message(raw)
            assert frames in ([b"A-sync"], [b"Z-sync"], [b"Z-end"]), frames
            if frames == [b"Z-end"]:
                break
    pub.close()


@pytest.mark.parametrize("minor", [0, 1])
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_sub_subscribes_in_the_form_the_pub_peer_speaks(ctx, raw_sockets, tmp_path, transport, minor):
    """ZMTP 3.0 peer: ``00 06 01 'topic'``; ZMTP 3.1 peer: a SUBSCRIBE command (and CANCEL likewise)."""
    if minor == 0:
        subscribe, cancel = b"\x00\x06\x01topic", b"\x00\x06\x00topic"
    else:
        subscribe, cancel = encode_command(b"SUBSCRIBE", b"topic"), encode_command(b"CANCEL", b"topic")
    listener, endpoint = _raw_listen(raw_sockets, transport, tmp_path)
    sub = greenmq_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"topic")  # before connecting: sent once the handshake is done
    sub.connect(endpoint)
    with gevent.Timeout(WAIT):
        raw = _raw_accept(raw_sockets, listener)
        _raw_handshake(raw, b"PUB", minor=minor)
        assert _recv_exactly(raw, len(subscribe)) == subscribe
        raw.sendall(b"\x00\x05other" + b"\x01\x0btopic-hello\x00\x05world")
        assert sub.recv_multipart() == [b"topic-hello", b"world"]
        sub.setsockopt(zmq.UNSUBSCRIBE, b"topic")
        assert _recv_exactly(raw, len(cancel)) == cancel
        sub.setsockopt(zmq.SUBSCRIBE, b"x")
        second = b"\x00\x02\x01x" if minor == 0 else encode_command(b"SUBSCRIBE", b"x")
        assert _recv_exactly(raw, len(second)) == second
        assert not _raw_readable(raw, 0.2)
    sub.close()


# -- reconnect -------------------------------------------------------------------------------------


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_sub_resubscribes_to_restarted_libzmq_pub(ctx, peers, tmp_path, transport, binder):
    """The libzmq PUB is SIGKILLed and started again: greenmq repeats its subscriptions to the new one
    (a libzmq PUB without subscriptions sends nothing, so any delivery proves it)."""
    sub = greenmq_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"A")
    with gevent.Timeout(WAIT):
        if binder == "libzmq":
            first = peers.start("ctl", "PUB", bind=local_endpoint(transport, tmp_path))
            endpoint = first.ready()
            sub.connect(endpoint)
            where = {"bind": endpoint}
        else:
            sub.bind(local_endpoint(transport, tmp_path))
            endpoint = sub.last_endpoint
            first = peers.start("ctl", "PUB", connect=endpoint)
            first.ready()
            where = {"connect": endpoint}
        _until_received(lambda: first.send_frames([b"A-sync"]), lambda: _greenmq_poll_recv(sub))
        first.kill()
        while _greenmq_poll_recv(sub, 0) is not None:  # sync messages still queued
            pass
        second = peers.start("ctl", "PUB", **where)
        second.ready()
        got = _until_received(lambda: second.send_frames([b"A-again"]), lambda: _greenmq_poll_recv(sub))
        assert got == [b"A-again"]
        second.send_frames([b"B-no"])
        second.send_frames([b"A-last"])
        assert _collect(sub.recv_multipart, [b"A-last"])[-1:] == [[b"A-last"]]
    sub.close()


# -- forwarders --------------------------------------------------------------------------------------


@pytest.mark.parametrize("upstream_type", ["PUB", "XPUB"])
@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_forwarder_between_libzmq_pub_and_sub(ctx, peers, tmp_path, transport, upstream_type):
    """greenmq's zmq.proxy(xsub, xpub): subscriptions upstream, data downstream. A libzmq PUB
    sends nothing without subscriptions, so data arriving proves that the subscription got there;
    an upstream XPUB shows the subscription messages themselves."""
    xsub = greenmq_socket(ctx, zmq.XSUB)
    xpub = greenmq_socket(ctx, zmq.XPUB)
    xsub.bind(local_endpoint(transport, tmp_path, "front"))
    xpub.bind(local_endpoint(transport, tmp_path, "back"))
    proxy = gevent.spawn(zmq.proxy, xsub, xpub)
    try:
        with gevent.Timeout(WAIT):
            pub = peers.start("ctl", upstream_type, connect=xsub.last_endpoint)
            sub = peers.start("ctl", "SUB", connect=xpub.last_endpoint)
            pub.ready()
            sub.ready()
            assert sub.set_option("SUBSCRIBE", b"A") is None
            assert sub.set_option("SUBSCRIBE", b"B") is None
            if upstream_type == "XPUB":
                assert pub.recv_frames() == [b"\x01A"]
                assert pub.recv_frames() == [b"\x01B"]
            _sync(lambda frame: pub.send_frames([frame]), lambda: sub.recv_frames(POLL_MS))
            for msg in TRAFFIC:
                pub.send_frames(msg)
            pub.send_frames([b"A-end"])
            got = _collect(lambda: _libzmq_receive(sub), [b"A-end"])
            assert got == _matching(TRAFFIC, [b"A", b"B"]) + [[b"A-end"]]

            assert sub.set_option("UNSUBSCRIBE", b"B") is None
            if upstream_type == "XPUB":
                assert pub.recv_frames() == [b"\x00B"]
                assert pub.recv_frames(200) is None
            assert not proxy.dead, proxy.exception
    finally:
        proxy.kill()
    xsub.close()
    xpub.close()


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_libzmq_forwarder_between_greenmq_pub_and_sub(ctx, peers, tmp_path, transport):
    pub = greenmq_socket(ctx, zmq.PUB)
    sub = greenmq_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"A")
    sub.setsockopt(zmq.SUBSCRIBE, b"B")
    with gevent.Timeout(WAIT):
        forwarder = peers.start("forwarder", "XSUB", bind=local_endpoint(transport, tmp_path, "front"),
                                backend=local_endpoint(transport, tmp_path, "back"))
        pub.connect(forwarder.ready())
        sub.connect(forwarder.ready())
        _sync(pub.send, lambda: _greenmq_poll_recv(sub))
        for msg in TRAFFIC:
            pub.send_multipart(msg)
        pub.send(b"A-end")
        got = _collect(sub.recv_multipart, [b"A-end"])
        assert got == _matching(TRAFFIC, [b"A", b"B"]) + [[b"A-end"]]

        sub.setsockopt(zmq.UNSUBSCRIBE, b"B")
        sub.setsockopt(zmq.SUBSCRIBE, b"Z")
        _until_received(lambda: pub.send(b"Z-sync"), lambda: _greenmq_poll_recv(sub))
        for msg in TRAFFIC:
            pub.send_multipart(msg)
        pub.send(b"Z-end")
        got = _collect(sub.recv_multipart, [b"Z-end"])
        assert got == _matching(TRAFFIC, [b"A"]) + [[b"Z-end"]]
        forwarder.quit()
        assert forwarder.wait() == 0
    pub.close()
    sub.close()

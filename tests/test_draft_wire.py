"""The thread-safe socket types on the wire, against raw peers that speak ZMTP byte by byte.

What libzmq 4.3 does, and so what these peers expect or send: a DISH sends JOIN and LEAVE as
command frames (``\\x04JOIN<group>``, ``\\x05LEAVE<group>``, no length byte before the group),
to a ZMTP 3.0 peer too; a RADIO sends only the groups joined, each message as two frames (the
group with MORE, then the body); the single-frame types drop multipart messages from a peer.
"""

import gevent
import gevent.select
import pytest
from gevent import socket as gsocket

import greenmq as zmq

from raw_peer_support import connect_raw, null_handshake as handshake, recv_exactly
from support import TIMEOUT, new_socket
from zmtp_support import command, frame, properties

MORE = 0x01


def accept_raw(listener):
    with gevent.Timeout(TIMEOUT):
        raw, _ = listener.accept()
    return raw


@pytest.fixture
def listener():
    """A raw listening tcp socket on loopback, for a greenmq socket to connect to."""
    sock = gsocket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock
    sock.close()


def expect_bytes(raw, expected):
    assert recv_exactly(raw, len(expected)) == expected


def nothing_more(raw, seconds=0.1):
    """The peer has sent nothing further within ``seconds``."""
    return not gevent.select.select([raw], [], [], seconds)[0]


# -- DISH --------------------------------------------------------------------------------

@pytest.mark.parametrize("minor", [0, 1])
def test_dish_sends_join_and_leave_commands(ctx, listener, minor):
    dish = new_socket(ctx, zmq.DISH)
    dish.join("early")
    dish.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    raw = accept_raw(listener)
    ready = handshake(raw, b"RADIO", minor)
    assert properties((b"Socket-Type", b"DISH")) in ready
    expect_bytes(raw, b"\x04\x0a\x04JOINearly")
    dish.join("g2")
    expect_bytes(raw, b"\x04\x07\x04JOINg2")
    dish.leave("early")
    expect_bytes(raw, b"\x04\x0b\x05LEAVEearly")
    assert command(b"JOIN", b"g2") == b"\x04\x07\x04JOINg2"  # the helper agrees with the bytes above
    assert nothing_more(raw)
    raw.close()


@pytest.mark.parametrize("minor", [0, 1])
def test_dish_receives_two_frame_messages_of_its_groups(ctx, listener, minor):
    dish = new_socket(ctx, zmq.DISH)
    dish.join("g")
    dish.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    raw = accept_raw(listener)
    handshake(raw, b"RADIO", minor)
    expect_bytes(raw, command(b"JOIN", b"g"))
    raw.sendall(frame(b"other", MORE) + frame(b"not joined")  # filtered by the DISH itself
                + frame(b"no group")  # one frame: not libzmq's shape, dropped
                + frame(b"g", MORE) + frame(b"x", MORE) + frame(b"three frames")  # dropped
                + frame(b"g", MORE) + frame(b"body " * 100))
    with gevent.Timeout(TIMEOUT):
        received = dish.recv(copy=False)
    assert (received.bytes, received.group) == (b"body " * 100, "g")
    assert not dish.poll(50)
    raw.close()


def test_dish_sends_each_group_once_after_a_reconnection(ctx, listener):
    dish = new_socket(ctx, zmq.DISH, reconnect_ivl=10)
    monitor = dish.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    dish.join("a")
    dish.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    raw = accept_raw(listener)
    handshake(raw, b"RADIO")
    expect_bytes(raw, command(b"JOIN", b"a"))
    raw.close()
    with gevent.Timeout(TIMEOUT):
        monitor.recv_multipart()
    # Queued while no connection is up (the next handshake needs this test's greeting): it goes
    # first on the new connection, and the DISH sends again only the group it leaves out.
    dish.join("b")
    raw = accept_raw(listener)
    handshake(raw, b"RADIO")
    size = len(command(b"JOIN", b"a"))
    joins = recv_exactly(raw, size * 2)
    assert sorted([joins[:size], joins[size:]]) == [command(b"JOIN", b"a"), command(b"JOIN", b"b")]
    dish.join("c")
    expect_bytes(raw, command(b"JOIN", b"c"))
    raw.close()


# -- RADIO -------------------------------------------------------------------------------

def raw_dish(ctx, minor=1):
    """A RADIO bound on tcp and a raw DISH connected to it: (radio, raw)."""
    radio = new_socket(ctx, zmq.RADIO)
    port = radio.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"DISH", minor)
    return radio, raw


class RawMessages:
    """Reads whole messages (short frames only) from a raw peer as they come: lists of frames."""

    def __init__(self, raw):
        self.raw = raw
        self.buffer = b""
        self.messages = []

    def read_available(self, seconds=0.01):
        while gevent.select.select([self.raw], [], [], seconds)[0]:
            chunk = self.raw.recv(65536)
            assert chunk, "the peer closed the connection"
            self.buffer += chunk
            seconds = 0
        parts, pos = [], 0
        while pos + 2 <= len(self.buffer):
            flags, size = self.buffer[pos], self.buffer[pos + 1]
            assert flags in (0, MORE), f"unexpected frame flags {flags:#x}"
            if pos + 2 + size > len(self.buffer):
                break
            parts.append(self.buffer[pos + 2:pos + 2 + size])
            pos += 2 + size
            if not flags & MORE:
                self.messages.append(parts)
                self.buffer = self.buffer[pos:]
                parts, pos = [], 0


def pump(radio, raw_messages, sends, until):
    """Send each (group, body) of ``sends`` over and over until ``until(messages received)``; the messages."""
    with gevent.Timeout(TIMEOUT):
        while not until(raw_messages.messages):
            for group, body in sends:
                radio.send(body, group=group)
            raw_messages.read_available()
    return raw_messages.messages


@pytest.mark.parametrize("minor", [0, 1])
def test_radio_sends_joined_groups_as_two_frames(ctx, minor):
    radio, raw = raw_dish(ctx, minor)
    raw.sendall(command(b"JOIN", b"news"))
    with gevent.Timeout(TIMEOUT):
        while nothing_more(raw, 0.01):
            radio.send(b"never", group="unjoined")
            radio.send(b"hello", group="news")
    # The exact bytes: the group in a frame with MORE, then the body.
    expect_bytes(raw, b"\x01\x04news\x00\x05hello")
    raw.close()


def check_leave(radio, raw, joins, leaves, group):
    """After ``joins`` made ``group`` reach the raw DISH, send ``leaves`` and a JOIN of a fence
    group: once the fence arrives, ``group`` never does again (the RADIO applied the LEAVE first)."""
    received = RawMessages(raw)
    raw.sendall(joins)
    pump(radio, received, [(group, b"m")], lambda messages: messages)
    raw.sendall(leaves + command(b"JOIN", b"fence"))
    messages = pump(radio, received, [(group, b"m"), (b"fence", b"f")], lambda messages: [b"fence", b"f"] in messages)
    assert messages[0] == [group, b"m"]
    after_fence = messages[messages.index([b"fence", b"f"]):]
    assert [group, b"m"] not in after_fence
    assert all(message in ([group, b"m"], [b"fence", b"f"]) for message in messages)
    radio.send(b"m", group=group)
    radio.send(b"f", group="fence")
    count = len(messages)
    pump(radio, received, [], lambda messages: len(messages) > count)
    assert received.messages[count:] == [[b"fence", b"f"]]


def test_radio_stops_a_group_after_leave(ctx):
    radio, raw = raw_dish(ctx)
    check_leave(radio, raw, command(b"JOIN", b"news"), command(b"LEAVE", b"news"), b"news")
    raw.close()


def test_radio_ignores_what_a_dish_should_not_send(ctx):
    radio, raw = raw_dish(ctx)
    # SUBSCRIBE is not JOIN, data is not a command; a second JOIN of a group adds nothing, so one
    # LEAVE ends it.
    check_leave(radio, raw, command(b"SUBSCRIBE", b"t") + frame(b"data") + command(b"JOIN", b"t") * 2,
                command(b"LEAVE", b"t"), b"t")
    raw.close()


# -- the single-frame types drop multipart messages ----------------------------------------

@pytest.mark.parametrize(("ours", "theirs"), [(zmq.CLIENT, b"SERVER"), (zmq.GATHER, b"SCATTER"),
                                              (zmq.CHANNEL, b"CHANNEL"), (zmq.PEER, b"PEER")])
def test_multipart_message_from_a_peer_is_dropped(ctx, listener, ours, theirs):
    sock = new_socket(ctx, ours)
    sock.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    raw = accept_raw(listener)
    handshake(raw, theirs)
    raw.sendall(frame(b"part one", MORE) + frame(b"part two") + frame(b"single"))
    with gevent.Timeout(TIMEOUT):
        assert sock.recv() == b"single"
    assert not sock.poll(50)
    raw.close()


def test_server_drops_multipart_message_from_a_client(ctx):
    server = new_socket(ctx, zmq.SERVER)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    handshake(raw, b"CLIENT")
    raw.sendall(frame(b"a", MORE) + frame(b"b") + frame(b"request"))
    with gevent.Timeout(TIMEOUT):
        request = server.recv(copy=False)
        assert request.bytes == b"request"
        server.send(b"reply", routing_id=request.routing_id)
    expect_bytes(raw, frame(b"reply"))
    raw.close()


def test_server_announces_no_identity(ctx):
    server = new_socket(ctx, zmq.SERVER)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    ready = handshake(raw, b"CLIENT")
    assert b"Identity" not in ready and properties((b"Socket-Type", b"SERVER")) in ready
    raw.close()

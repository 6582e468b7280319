"""SocketPort, the narrow interface the connection side uses, on its own (no socket, no network).

A port makes peers with the pipes its socket type needs, hands them to the
pattern, reports monitor events, and routes a publisher's subscription
wake-ups to the publisher's own hub even when an inproc subscriber in
another OS thread writes them.
"""

import threading

import gevent
import pytest

from greenmq._socket.monitor import MonitorPublisher
from greenmq._socket.port import SocketPort
from greenmq._socket.settings import SocketSettings
from greenmq.constants import SocketOption, SocketType
from greenmq.patterns import PATTERNS
from greenmq.patterns.base import Pattern
from greenmq.zmtp.framing import encode_message

from support import TIMEOUT


class Calls:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


class RecordingPattern(Pattern):
    """A publisher-like pattern that records what it is told, and in which OS thread."""

    takes_subscriptions = True

    def __init__(self):
        super().__init__(Calls())
        self.attached = []
        self.detached = []
        self.activated_in = []

    def attach(self, peer):
        self.attached.append(peer)
        return len(self.attached) == 1  # takes the first peer only

    def detach(self, peer):
        self.detached.append(peer)

    def inbound_activated(self, peer):
        self.activated_in.append(threading.get_ident())


def port_for(socket_type, pattern=None):
    readers, writers = Calls(), Calls()
    pattern = pattern or PATTERNS[socket_type](readers)
    port = SocketPort(None, pattern, readers, writers, MonitorPublisher())
    return port, pattern, readers, writers


def options_for(socket_type, values=()):
    settings = SocketSettings(socket_type)
    for option, value in values:
        settings.set(option, value)
    return settings.snapshot(PATTERNS[socket_type](Calls()))


@pytest.mark.parametrize("socket_type, inbound, outbound", [
    (SocketType.PUSH, False, True), (SocketType.PULL, True, False), (SocketType.PAIR, True, True)])
def test_new_peer_has_the_pipes_the_socket_type_needs(socket_type, inbound, outbound):
    port, _, _, _ = port_for(socket_type)
    peer = port.new_peer("tcp://x", options_for(socket_type))
    assert (peer.inbound is not None, peer.outbound is not None) == (inbound, outbound)
    if inbound:
        assert peer.inbound.peer is peer  # a reader finds the peer of a message there
    assert peer.endpoint == "tcp://x"


def test_new_peer_pipes_take_the_endpoint_high_water_marks():
    port, _, _, _ = port_for(SocketType.PAIR)
    peer = port.new_peer("tcp://x", options_for(SocketType.PAIR, [(SocketOption.SNDHWM, 7), (SocketOption.RCVHWM, 9)]))
    assert peer.outbound.hwm == 7 and peer.inbound.hwm == 9


def test_wake_ups_reach_the_socket_and_the_engine():
    port, _, readers, writers = port_for(SocketType.PAIR)
    outbound_ready, inbound_room = Calls(), Calls()
    peer = port.new_peer("tcp://x", options_for(SocketType.PAIR), outbound_ready=outbound_ready,
                         inbound_room=inbound_room)
    peer.outbound.write(b"to the engine")
    assert outbound_ready.count == 1
    peer.inbound.write(b"to the socket")
    assert readers.count == 1
    peer.inbound.write_batch([b"more"] * 10000)  # past the mark: the engine waits for room
    while peer.inbound.read() is not None:
        pass
    assert inbound_room.count == 1


def test_only_a_fan_out_socket_gets_encoded_pipes():
    pub_port, _, _, _ = port_for(SocketType.PUB)
    push_port, _, _, _ = port_for(SocketType.PUSH)
    assert pub_port.new_peer("tcp://x", options_for(SocketType.PUB), encode=encode_message).outbound.carries_wire
    assert not pub_port.new_peer("tcp://x", options_for(SocketType.PUB)).outbound.carries_wire
    assert not push_port.new_peer("tcp://x", options_for(SocketType.PUSH), encode=encode_message).outbound.carries_wire


def test_attach_detach_and_refusal():
    pattern = RecordingPattern()
    port, _, _, writers = port_for(SocketType.PAIR, pattern)
    first = port.new_peer("tcp://a", options_for(SocketType.PAIR))
    second = port.new_peer("tcp://b", options_for(SocketType.PAIR))
    assert port.attach(first) is True
    assert writers.count == 1  # a new peer may make room for a waiting sender
    assert port.attach(second) is False
    port.detach(second)  # never attached: the pattern hears nothing
    assert pattern.detached == []
    port.detach(first)
    assert pattern.detached == [first]
    assert first.outbound.reader_closed and first.inbound.writer_closed
    port.detach(first)  # twice is harmless
    assert pattern.detached == [first]


def test_a_closed_port_refuses_peers_and_stops_reading():
    pattern = RecordingPattern()
    port, _, _, _ = port_for(SocketType.PAIR, pattern)
    peer = port.new_peer("tcp://a", options_for(SocketType.PAIR))
    port.attach(peer)
    port.close()
    assert peer.inbound.reader_closed
    assert port.attach(port.new_peer("tcp://b", options_for(SocketType.PAIR))) is False


def test_subscriptions_from_another_thread_are_taken_in_the_publisher_thread():
    pattern = RecordingPattern()
    port, _, _, _ = port_for(SocketType.PUB, pattern)
    peer = port.new_peer("inproc://x", options_for(SocketType.PUB))
    wake = port.reader_wakeup(peer)
    wake()
    assert pattern.activated_in == [threading.get_ident()]  # same thread: at once
    thread = threading.Thread(target=wake)
    thread.start()
    thread.join(TIMEOUT)
    with gevent.Timeout(TIMEOUT):
        while len(pattern.activated_in) < 2:
            gevent.sleep(0.001)
    assert pattern.activated_in == [threading.get_ident()] * 2


def test_subscriptions_go_to_the_publisher_thread_when_the_link_joined_in_another():
    """An inproc SUB in another thread that connects after the bind joins the link there:
    the wake-up it is given must still lead to the publisher's own thread."""
    pattern = RecordingPattern()
    port, _, _, _ = port_for(SocketType.PUB, pattern)
    peer = port.new_peer("inproc://x", options_for(SocketType.PUB))
    made = []
    thread = threading.Thread(target=lambda: made.append(port.reader_wakeup(peer)))
    thread.start()
    thread.join(TIMEOUT)
    thread = threading.Thread(target=made[0])
    thread.start()
    thread.join(TIMEOUT)
    with gevent.Timeout(TIMEOUT):
        while not pattern.activated_in:
            gevent.sleep(0.001)
    assert pattern.activated_in == [threading.get_ident()]

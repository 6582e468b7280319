"""Request-reply (RFC 28): DEALER, ROUTER, REQ and REP, as libzmq builds them.

DEALER is a load balancer out and a fair queue in. ROUTER fair-queues in,
putting the routing id of the sending peer in front of each message, and
routes out by the first frame. REQ is a DEALER that adds the empty delimiter,
alternates strictly between send and recv (``EFSM`` otherwise) and takes its
reply only from the peer it asked. REP fair-queues requests, keeps their
envelope (every frame up to and including the delimiter) and puts it back in
front of the reply it sends to the same peer.

Messages are bare ``bytes`` (one frame) or lists of frames; see greenmq.patterns.message.
"""

import os
import struct

from ..constants import Errno, SocketOption
from ..error import zmq_error
from .base import Pattern
from .message import as_frames, as_message
from .strategies import FairQueue, LoadBalancer


class Dealer(Pattern):
    """Round-robin out to peers with room (blocking when all are full), fair-queue in."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._lb = LoadBalancer()
        self._fq = FairQueue()
        self._peer_of = {}  # outbound pipe -> Peer, to know whom the load balancer chose
        self.probe_router = False
        self.send = self._lb.send
        self.recv = self._fq.recv
        self.can_send = self._lb.can_send
        self.can_recv = self._fq.can_recv

    def attach(self, peer):
        self._lb.attach(peer.outbound)
        self._fq.attach(peer.inbound)
        self._peer_of[peer.outbound] = peer
        if self.probe_router:
            peer.outbound.write(b"")
        return True

    def detach(self, peer):
        self._lb.detach(peer.outbound)
        self._peer_of.pop(peer.outbound, None)

    def source(self):
        return self._fq.last

    def recv_many(self, limit):
        return self._fq.recv_many(limit)

    def room(self, limit):
        return self._lb.room(limit)

    def send_many(self, messages):
        return self._lb.send_many(messages)

    def option_changed(self, option, value):
        if option == SocketOption.PROBE_ROUTER:
            self.probe_router = bool(value)


class Router(Pattern):
    """Routes by routing id: the first frame names the peer, on the way in and out."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.can_recv = self._fq.can_recv
        self.peers = {}
        self.mandatory = False
        self.handover = False
        self.probe_router = False
        # libzmq starts its generated ids at a random uint32.
        self._next_id = struct.unpack("I", os.urandom(4))[0]

    def _generate_id(self):
        while True:
            self._next_id = (self._next_id + 1) & 0xFFFFFFFF
            routing_id = b"\x00" + self._next_id.to_bytes(4, "big")
            if routing_id not in self.peers:
                return routing_id

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        if peer.routing_id is None and peer.metadata is None:
            return True  # connect side: anonymous until the handshake names it (peer_ready)
        if not self._identify(peer):
            self._fq.detach(peer.inbound)
            return False
        return True

    def peer_ready(self, peer):
        if peer.routing_id is not None and self.peers.get(peer.routing_id) is peer:
            return True
        return self._identify(peer)

    def _identify(self, peer):
        """Give ``peer`` its routing id: CONNECT_ROUTING_ID, else its Identity, else a generated one."""
        routing_id = peer.routing_id
        if routing_id is None and peer.metadata is not None:
            routing_id = peer.metadata.get("Identity") or None
        if routing_id is None:
            routing_id = self._generate_id()
        elif routing_id in self.peers:
            if not self.handover:
                return False
            # ROUTER_HANDOVER: the newcomer takes the id; the old connection is dropped
            # (under a generated id until its engine has gone), as libzmq does.
            previous = self.peers.pop(routing_id)
            previous.routing_id = self._generate_id()
            self.peers[previous.routing_id] = previous
            previous.disconnect()
        peer.routing_id = routing_id
        self.peers[routing_id] = peer
        if self.probe_router:
            peer.outbound.write(b"")
        return True

    def detach(self, peer):
        if self.peers.get(peer.routing_id) is peer:
            del self.peers[peer.routing_id]

    def recv(self):
        msg = self._fq.recv()
        if msg is None:
            return None
        routing_id = self._fq.last.peer.routing_id
        if msg.__class__ is bytes:
            return [routing_id, msg]
        return [routing_id, *msg]

    def send(self, msg, over_hwm=False):
        if msg.__class__ is bytes or len(msg) < 2:
            return True  # a routing id with nothing to send: dropped, as by libzmq
        peer = self.peers.get(bytes(msg[0]))
        if peer is None:
            if self.mandatory and not over_hwm:
                raise zmq_error(Errno.EHOSTUNREACH)
            return True  # unroutable, or its peer left while the message was being sent: dropped
        body = as_message(msg[1:])
        pipe = peer.outbound
        if pipe.try_write(body):
            return True
        if not self.mandatory:
            return True  # a full peer misses the message, as in libzmq
        if over_hwm:
            pipe.write(body)
            return True
        return False

    def check_send(self, first_frame=None):
        """With ROUTER_MANDATORY an unknown routing id fails on the first frame, as in libzmq."""
        if self.mandatory and first_frame is not None and bytes(first_frame) not in self.peers:
            raise zmq_error(Errno.EHOSTUNREACH)

    def room_for(self, first_frame):
        if not self.mandatory:
            return True  # never blocks: a message for a full peer is dropped
        peer = self.peers.get(bytes(first_frame))
        return peer is None or peer.outbound.has_room()

    def can_send(self):
        if not self.mandatory:
            return True  # never blocks: unroutable messages are dropped
        return any(peer.outbound.has_room() for peer in self.peers.values())

    def room(self, limit):
        # Without ROUTER_MANDATORY a send never waits; with it, each message's peer decides.
        return limit if not self.mandatory else super().room(limit)

    def source(self):
        return self._fq.last

    def option_changed(self, option, value):
        if option == SocketOption.ROUTER_MANDATORY:
            self.mandatory = bool(value)
        elif option == SocketOption.ROUTER_HANDOVER:
            self.handover = bool(value)
        elif option == SocketOption.PROBE_ROUTER:
            self.probe_router = bool(value)


class Req(Dealer):
    """Strict request/reply alternation over a DEALER, replies taken only from the asked peer."""

    wants_message_pending = True  # its state changes at a reply's last frame

    # One message at a time, through REQ's own rules (not the DEALER's batches).
    recv_many = Pattern.recv_many
    room = Pattern.room
    send_many = Pattern.send_many

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        # Dealer binds its strategies' methods on the instance; REQ's own rules must win.
        self.send = self._send
        self.recv = self._recv
        self.can_send = self._can_send
        self.can_recv = self._can_recv
        self.expecting_reply = False
        self.relaxed = False
        self.correlate = False
        self._reply_peer = None
        self._drop_reply_rest = None  # while the socket hands out a reply's frames (message_pending)
        self._request_id = struct.unpack("I", os.urandom(4))[0]

    def message_pending(self, drop):
        self._drop_reply_rest = drop

    def check_send(self, first_frame=None):
        drop = self._drop_reply_rest
        if self.expecting_reply or drop is not None:
            if not self.relaxed:
                raise zmq_error(Errno.EFSM)
            if drop is not None:  # a new request: what is left of the old reply is dropped, as by libzmq
                self._drop_reply_rest = None
                drop()

    def _send(self, msg, over_hwm=False):
        self.check_send()
        frames = [b"", *as_frames(msg)]
        if self.correlate:
            self._request_id = (self._request_id + 1) & 0xFFFFFFFF
            frames.insert(0, self._request_id.to_bytes(4, "little"))
        self._lb.last = None
        if not self._lb.send(frames, over_hwm):
            return False
        # None when the request was dropped (its peer left while it was being sent).
        self._reply_peer = self._peer_of.get(self._lb.last)
        self.expecting_reply = True
        return True

    def _recv(self):
        if not self.expecting_reply:
            raise zmq_error(Errno.EFSM)
        while True:
            msg = self._fq.recv()
            if msg is None:
                return None
            if self._fq.last.peer is not self._reply_peer:
                continue  # not from the peer we asked: dropped, as by libzmq
            frames = as_frames(msg)
            if self.correlate:
                if len(frames) < 2 or frames[0] != self._request_id.to_bytes(4, "little"):
                    continue
                frames = frames[1:]
            if len(frames) < 2 or frames[0] != b"":
                continue  # no delimiter: malformed reply, dropped
            self.expecting_reply = False
            self._reply_peer = None
            return as_message(frames[1:])

    def _can_send(self):
        busy = self.expecting_reply or self._drop_reply_rest is not None
        return (self.relaxed or not busy) and self._lb.can_send()

    def _can_recv(self):
        return self.expecting_reply and self._fq.can_recv()

    def option_changed(self, option, value):
        if option == SocketOption.REQ_RELAXED:
            self.relaxed = bool(value)
        elif option == SocketOption.REQ_CORRELATE:
            self.correlate = bool(value)
        else:
            super().option_changed(option, value)


class Rep(Pattern):
    """Receive a request, keep its envelope, send the reply back along it."""

    wants_message_pending = True  # its state changes at a request's last frame

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.sending_reply = False
        self._envelope = None
        self._reply_peer = None
        self._reading = False  # the socket still hands out frames of the request (message_pending)

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        return True

    def detach(self, peer):
        if peer is self._reply_peer:
            self._reply_peer = None

    def message_pending(self, drop):
        self._reading = drop is not None

    def check_send(self, first_frame=None):
        if not self.sending_reply or self._reading:
            raise zmq_error(Errno.EFSM)

    def recv(self):
        if self.sending_reply:
            raise zmq_error(Errno.EFSM)
        while True:
            msg = self._fq.recv()
            if msg is None:
                return None
            if msg.__class__ is bytes:
                continue  # no envelope delimiter: dropped, connection kept (libzmq)
            try:
                delimiter = msg.index(b"")  # frames compare by content, so this finds the empty one
            except ValueError:
                continue
            body = msg[delimiter + 1:]
            if not body:
                continue  # an envelope with no request after it: dropped, as by libzmq
            self._envelope = msg[:delimiter + 1]
            self._reply_peer = self._fq.last.peer
            self.sending_reply = True
            return as_message(body)

    def send(self, msg, over_hwm=False):
        if not self.sending_reply or self._reading:
            raise zmq_error(Errno.EFSM)  # check_send, written out
        peer = self._reply_peer
        self.sending_reply = False
        self._reply_peer = None
        envelope, self._envelope = self._envelope, None
        if peer is not None:  # detach() forgets a peer that left
            peer.outbound.try_write(envelope + as_frames(msg))
        return True  # a reply to a vanished or overloaded peer is dropped

    def can_send(self):
        return self.sending_reply and not self._reading

    def can_recv(self):
        return not self.sending_reply and self._fq.can_recv()

    def source(self):
        return self._fq.last


class Stream(Router):
    """STREAM: raw TCP peers addressed like ROUTER peers ([routing id, data]).

    The connection is read and written by :class:`greenmq._connection.raw_engine.RawEngine`;
    every peer gets a generated routing id (or CONNECT_ROUTING_ID), and sending
    an empty frame to a peer closes its connection.
    """

    raw = True

    room = Pattern.room  # a send to a full peer waits: one message at a time

    def _identify(self, peer):
        if peer.routing_id is None or peer.routing_id in self.peers:
            peer.routing_id = self._generate_id()
        self.peers[peer.routing_id] = peer
        return True

    def send(self, msg, over_hwm=False):
        if msg.__class__ is bytes or len(msg) < 2:
            raise zmq_error(Errno.EHOSTUNREACH)
        peer = self.peers.get(bytes(msg[0]))
        if peer is None:
            if over_hwm:
                return True  # its connection closed while the message was being sent: dropped
            raise zmq_error(Errno.EHOSTUNREACH)
        body = as_message(msg[1:])
        if peer.outbound.try_write(body):
            return True
        if over_hwm:
            peer.outbound.write(body)
            return True
        return False

    def check_send(self, first_frame=None):
        """An unknown routing id fails on the first frame, as libzmq's STREAM does."""
        if first_frame is not None and bytes(first_frame) not in self.peers:
            raise zmq_error(Errno.EHOSTUNREACH)

    def room_for(self, first_frame):
        peer = self.peers.get(bytes(first_frame))
        return peer is None or peer.outbound.has_room()

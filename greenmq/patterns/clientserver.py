"""Client-server (RFC 41): CLIENT and SERVER, as libzmq builds them.

CLIENT is a DEALER of single frames: round-robin out to peers with room
(waiting while all are full), fair-queued in. SERVER fair-queues in and gives
every peer a routing id of its own -- a 32-bit counter that starts at a
random value and skips 0 -- which a received message carries
(``Frame.routing_id``) and a reply names (``send(..., routing_id=...)``). A
reply to an unknown routing id, or with none, is ``EHOSTUNREACH``; a reply to
a peer whose pipe is full waits (or raises ``Again``), as libzmq's SERVER
does. Both refuse multipart messages (see greenmq.patterns.singlepart).
"""

import os
import struct
from ..constants import Errno
from ..error import zmq_error
from .singlepart import SinglePart, next_single, outgoing
from .strategies import FairQueue, LoadBalancer


class Client(SinglePart):
    """Round-robin out, fair-queue in, one frame per message."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._lb = LoadBalancer()
        self._fq = FairQueue()
        self.can_send = self._lb.can_send
        self.can_recv = self._fq.can_recv

    def attach(self, peer):
        self._lb.attach(peer.outbound)
        self._fq.attach(peer.inbound)
        return True

    def detach(self, peer):
        self._lb.detach(peer.outbound)

    def send(self, msg, over_hwm=False):
        return self._lb.send(outgoing(msg), over_hwm)

    def recv(self):
        return next_single(self._fq.recv)

    def source(self):
        return self._fq.last


class Server(SinglePart):
    """Fair-queue in, route out by the routing id each peer was given (see the module docstring)."""

    carries_address = True

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.can_recv = self._fq.can_recv
        self._peers = {}  # routing id -> peer
        self._ids = {}  # peer -> routing id
        # Peers that left with messages still queued: those are read with the id they came with.
        self._departed = {}
        self._next_id = struct.unpack("I", os.urandom(4))[0]  # libzmq starts at a random uint32

    def _new_id(self):
        routing_id = self._next_id
        while not routing_id or routing_id in self._peers:  # never 0 (libzmq's "none")
            routing_id = (routing_id + 1) & 0xFFFFFFFF
        self._next_id = (routing_id + 1) & 0xFFFFFFFF
        return routing_id

    def attach(self, peer):
        routing_id = self._new_id()
        self._peers[routing_id] = peer
        self._ids[peer] = routing_id
        self._fq.attach(peer.inbound)
        return True

    def detach(self, peer):
        routing_id = self._ids.pop(peer, None)
        if routing_id is None:
            return
        del self._peers[routing_id]
        if len(peer.inbound):
            self._departed[peer] = routing_id

    def routing_id_of(self, peer):
        """The routing id ``peer`` was given when it was attached."""
        return self._ids[peer]

    def send(self, msg, over_hwm=False):
        return self.send_addressed(msg, 0, b"", over_hwm)

    def send_addressed(self, msg, routing_id, group, over_hwm=False):
        msg = outgoing(msg)
        peer = self._peers.get(routing_id)
        if peer is None:
            raise zmq_error(Errno.EHOSTUNREACH)
        pipe = peer.outbound
        if pipe.try_write(msg):
            return True
        if over_hwm:
            pipe.write(msg)
            return True
        return False

    def can_send(self):
        return True  # libzmq: whether a send succeeds depends on the peer it names

    def recv(self):
        if self._departed:
            for peer in [peer for peer in self._departed if not len(peer.inbound)]:
                del self._departed[peer]
        return next_single(self._fq.recv)

    def last_address(self):
        pipe = self._fq.last
        if pipe is None:
            return 0, b""
        peer = pipe.peer
        return self._ids.get(peer) or self._departed.get(peer, 0), b""

    def source(self):
        return self._fq.last

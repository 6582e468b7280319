"""Scatter-gather (RFC 49): SCATTER and GATHER, PUSH and PULL of single frames.

SCATTER round-robins each message to one GATHER with room (waiting while all
are full); GATHER fair-queues what its SCATTERs send. They talk only to each
other: libzmq's manual lists SCATTER-SCATTER and GATHER-GATHER, but the
working pairs (and the ones greenmq's handshake accepts) are SCATTER-GATHER.
"""

from .singlepart import SinglePart, next_single, outgoing
from .strategies import FairQueue, LoadBalancer


class Scatter(SinglePart):
    """Round-robin out, one frame per message; receives nothing."""

    receives = False

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._lb = LoadBalancer()
        self.can_send = self._lb.can_send

    def attach(self, peer):
        self._lb.attach(peer.outbound)
        return True

    def detach(self, peer):
        self._lb.detach(peer.outbound)

    def send(self, msg, over_hwm=False):
        return self._lb.send(outgoing(msg), over_hwm)


class Gather(SinglePart):
    """Fair-queue in, dropping multipart messages; sends nothing."""

    sends = False

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.can_recv = self._fq.can_recv

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        return True

    def detach(self, peer):
        pass  # the inbound pipe stays in the queue until drained (FairQueue drops it then)

    def recv(self):
        return next_single(self._fq.recv)

    def source(self):
        return self._fq.last

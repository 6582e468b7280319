"""PUSH and PULL (RFC 30): round-robin out, fair-queue in."""

from .base import Pattern
from .strategies import FairQueue, LoadBalancer


class Push(Pattern):
    """Sends each message to one peer with room, in turn; blocks when all are full."""

    receives = False

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._lb = LoadBalancer()
        self.send = self._lb.send
        self.can_send = self._lb.can_send
        self.room = self._lb.room
        self.send_many = self._lb.send_many

    def attach(self, peer):
        self._lb.attach(peer.outbound)
        return True

    def detach(self, peer):
        self._lb.detach(peer.outbound)


class Pull(Pattern):
    """Receives from all peers fairly."""

    sends = False

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.recv = self._fq.recv
        self.can_recv = self._fq.can_recv
        self.recv_many = self._fq.recv_many

    def source(self):
        return self._fq.last

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        return True

    def detach(self, peer):
        # The inbound pipe stays in the queue until drained (FairQueue drops it then).
        pass

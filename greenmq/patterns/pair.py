"""PAIR (RFC 31): exactly one peer; blocks, never drops."""

from .base import Pattern


class Pair(Pattern):
    """A single bidirectional link; a second peer is refused while the first is attached."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.peer = None
        self._inbound = None
        self._outbound = None

    def attach(self, peer):
        if self.peer is not None:
            return False
        self.peer = peer
        self._inbound = peer.inbound
        self._outbound = peer.outbound
        return True

    def detach(self, peer):
        if peer is self.peer:
            self.peer = None
            self._outbound = None
            # Keep reading what the old peer already sent.

    def send(self, msg, over_hwm=False):
        pipe = self._outbound
        if pipe is None:
            return over_hwm  # the peer of a started message has gone: dropped
        if pipe.try_write(msg):
            return True
        if over_hwm:
            pipe.write(msg)
            return True
        return False

    def recv(self):
        pipe = self._inbound
        if pipe is None:
            return None
        msg = pipe.read()
        if msg is None and pipe.writer_closed and self.peer is None:
            self._inbound = None
        return msg

    def source(self):
        return self._inbound

    def recv_many(self, limit):
        pipe = self._inbound
        if pipe is None:
            return ()
        taken = pipe.read_many(limit)
        if not taken and pipe.writer_closed and self.peer is None:
            self._inbound = None
        return taken

    def room(self, limit):
        pipe = self._outbound
        return 0 if pipe is None else pipe.room(limit)

    def send_many(self, messages):
        pipe = self._outbound
        if pipe is None:
            return 0
        pipe.write_batch(messages)
        return len(messages)

    def can_send(self):
        pipe = self._outbound
        return pipe is not None and pipe.has_room()

    def can_recv(self):
        return self._inbound is not None and len(self._inbound) > 0

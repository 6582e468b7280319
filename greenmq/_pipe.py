"""Bounded queues of whole messages between a socket and one peer.

A :class:`Pipe` carries messages one way. Its reader and writer each give it a
wake-up callable; the pipe calls the reader's only when it goes from empty to
non-empty, and the writer's only when a writer that found it full may write
again (the queue fell to the low-water mark). That keeps wake-ups, and so
greenlet switches, off the per-message path.

A :class:`Peer` is a socket's handle on one connected (or, for ``connect``,
expected) peer: an inbound and/or outbound pipe plus what the handshake told
us about the peer. Over inproc the two sockets share the pipes themselves;
over tcp and ipc an engine sits on the other end.
"""

from collections import deque


def _ignore():
    pass


def low_water_mark(hwm):
    """libzmq's rule: resume writing once the queue has drained to about half."""
    return (hwm + 1) // 2 if hwm > 0 else 0


class Pipe:
    """One-way bounded message queue. ``hwm`` 0 means unlimited."""

    __slots__ = ("queue", "hwm", "lwm", "wake_reader", "wake_writer", "writer_blocked",
                 "writer_closed", "reader_closed", "peer", "wire")

    def __init__(self, hwm=1000, wake_reader=_ignore, wake_writer=_ignore):
        self.queue = deque()
        self.set_hwm(hwm)
        self.wake_reader = wake_reader
        self.wake_writer = wake_writer
        self.writer_blocked = False
        self.writer_closed = False
        self.reader_closed = False
        # The Peer this pipe is inbound for (set by Peer): a reader finds there the
        # routing id and handshake properties of whoever wrote a message.
        self.peer = None
        # True when the writer queues encoded ZMTP bytes, not messages (a publisher
        # encodes once for all its subscribers' engines, which then only join them).
        self.wire = False

    def set_hwm(self, hwm):
        self.hwm = 0 if self.queue.maxlen else hwm
        self.lwm = low_water_mark(self.hwm)

    def set_conflate(self):
        """CONFLATE: keep only the newest message (the queue discards older ones; no HWM)."""
        self.queue = deque(self.queue, maxlen=1)
        self.set_hwm(0)

    def __len__(self):
        return len(self.queue)

    def __bool__(self):
        return True

    def can_write(self):
        """Whether one more message fits; if not, the writer will be woken when it does."""
        if self.hwm <= 0 or len(self.queue) < self.hwm:
            return True
        self.writer_blocked = True
        return False

    def write(self, msg):
        """Queue one message (the caller checked :meth:`can_write` or is allowed to exceed HWM)."""
        queue = self.queue
        queue.append(msg)
        if len(queue) == 1:
            self.wake_reader()

    def write_many(self, messages):
        queue = self.queue
        was_empty = not queue
        queue.extend(messages)
        if was_empty:
            self.wake_reader()

    def read(self):
        """The oldest message, or None if the pipe is empty."""
        queue = self.queue
        if not queue:
            return None
        msg = queue.popleft()
        if self.writer_blocked and len(queue) <= self.lwm:
            self.writer_blocked = False
            self.wake_writer()
        return msg

    def read_all(self):
        """Take every queued message at once (an engine's batch)."""
        taken = self.queue
        self.queue = deque(maxlen=taken.maxlen)
        if self.writer_blocked:
            self.writer_blocked = False
            self.wake_writer()
        return taken

    def close_writer(self):
        """No more messages will come; the reader may still drain what is queued."""
        self.writer_closed = True
        self.wake_reader()

    def close_reader(self):
        """Nobody will read any more: drop what is queued and release a blocked writer."""
        self.reader_closed = True
        self.queue.clear()
        self.writer_blocked = False
        self.wake_writer()


class Peer:
    """A socket's view of one peer: its pipes and its announced properties."""

    __slots__ = ("inbound", "outbound", "metadata", "endpoint", "routing_id", "attached", "remote", "terminate",
                 "encoded")

    def __init__(self, inbound=None, outbound=None, endpoint=None):
        if inbound is not None:
            inbound.peer = self
        self.inbound = inbound
        self.outbound = outbound
        self.metadata = None
        self.endpoint = endpoint
        self.routing_id = None
        self.attached = False
        # inproc only: (other socket, its Peer for us), so a close can tell the other side.
        self.remote = None
        # Set by the owner of the connection: drops it (ROUTER_HANDOVER uses it).
        self.terminate = None
        # The outbound pipe is drained by a ZMTP engine: it also takes pre-encoded messages.
        self.encoded = False

    def __repr__(self):
        return f"<Peer {self.endpoint!r}>"

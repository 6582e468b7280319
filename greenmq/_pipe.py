"""Bounded queues of whole messages between a socket and one peer.

A :class:`Pipe` carries messages one way. Its two ends belong to two owners
-- the socket on one side; an engine's session or another socket's inproc
link on the other -- and each owner hands the pipe a wake-up callable when
the pipe is made. The pipe calls the reader's only when a message arrives
after the reader found the pipe empty, and the writer's only when a writer
that found it full may write again (the queue fell to the low-water mark).
That keeps wake-ups, and so greenlet switches, off the per-message path.

Everything goes through the pipe's methods: the high-water mark, the
low-water mark and the "writer is waiting" flag are the pipe's own
invariants, and nobody else touches the queue.

A :class:`Peer` is a socket's handle on one connected (or, for ``connect``,
expected) peer: an inbound and/or outbound pipe plus what the handshake told
about the peer. Over inproc the two sockets share the pipes themselves; over
tcp and ipc an engine sits on the other end.
"""

from __future__ import annotations

from collections import deque
from itertools import repeat
from typing import Any, Callable
from collections.abc import Iterable, Iterator


def _ignore() -> None:
    pass


def low_water_mark(hwm: int) -> int:
    """libzmq's rule: resume writing once the queue has drained to about half."""
    return (hwm + 1) // 2 if hwm > 0 else 0


class Pipe:
    """One-way bounded message queue. ``hwm`` 0 means unlimited.

    ``wake_reader`` is called when a message arrives after the reader found
    the pipe empty (or when the writer closes); ``wake_writer`` when a writer
    that found the pipe full may write again (or its reader closes).
    ``conflate`` keeps only the newest message (libzmq's CONFLATE; no
    high-water mark then).

    "The reader found it empty" is a flag, ``_reader_idle``, set when the
    reader takes the last message, rather than a look at the queue before
    each write: an inproc writer in another OS thread may append between the
    reader's taking the last message and its noticing that the queue is
    empty. A reader that keeps track of which pipes have messages (the fair
    queue) looks at the pipe's length after the read that set the flag, so
    either the writer sees the flag and wakes it, or the reader sees the
    message (libzmq's ypipe makes the same handshake with a compare-and-swap).
    """

    __slots__ = ("_queue", "_hwm", "_lwm", "_wake_reader", "_wake_writer", "_writer_waits",
                 "_reader_idle", "_line", "writer_closed", "reader_closed", "peer")

    # Whether what the reader takes out is already in ZMTP wire form (see WirePipe).
    carries_wire = False

    def __init__(self, hwm: int = 1000, wake_reader: Callable[[], None] = _ignore,
                 wake_writer: Callable[[], None] = _ignore, conflate: bool = False):
        self._queue: deque = deque(maxlen=1) if conflate else deque()
        self._hwm = 0
        self._lwm = 0
        self.set_hwm(hwm)
        self._wake_reader = wake_reader
        self._wake_writer = wake_writer
        self._writer_waits = False
        self._reader_idle = True
        self._line: deque | None = None
        self.writer_closed = False
        self.reader_closed = False
        # The Peer this pipe is inbound for (set by Peer): a reader finds there the
        # routing id and handshake properties of whoever wrote a message.
        self.peer: Peer | None = None

    # -- limits -----------------------------------------------------------------

    @property
    def hwm(self) -> int:
        return self._hwm

    def set_hwm(self, hwm: int) -> None:
        """Change the high-water mark (an inproc link sums both sockets' marks when it joins)."""
        self._hwm = 0 if self._queue.maxlen else hwm
        self._lwm = low_water_mark(self._hwm)

    def set_conflate(self) -> None:
        """CONFLATE from now on: keep only the newest message (no high-water mark)."""
        self._queue = deque(self._queue, maxlen=1)
        self.set_hwm(0)

    # -- what is queued ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return True  # a pipe is a pipe, empty or not

    def __iter__(self) -> Iterator[Any]:
        """The queued messages, oldest first, without taking them (SUB asks which would pass its filter)."""
        return iter(self._queue)

    def peek(self) -> Any:
        """The oldest message without taking it, or None."""
        queue = self._queue
        return queue[0] if queue else None

    # -- the writer's end -------------------------------------------------------

    def has_room(self) -> bool:
        """Whether one more message fits under the high-water mark.

        Whoever finds no room is about to wait for it (a blocked send, a poll
        for POLLOUT), so a False answer also has the pipe wake the writer once
        there is room again, as libzmq's ``check_write`` does.
        """
        hwm = self._hwm
        if hwm <= 0 or len(self._queue) < hwm:
            return True
        self._writer_waits = True
        return False

    def room(self, limit: int) -> int:
        """How many of ``limit`` more messages fit under the high-water mark.

        As with :meth:`has_room`, an answer of 0 also has the pipe wake the
        writer once there is room again. (The proxy asks how many it may move
        before it takes them from the other socket: back-pressure without
        holding messages.)
        """
        hwm = self._hwm
        if hwm <= 0:
            return limit
        free = hwm - len(self._queue)
        if free <= 0:
            self._writer_waits = True
            return 0
        return free if free < limit else limit

    def try_write(self, msg: Any) -> bool:
        """Queue ``msg`` if it fits; if not, queue nothing, return False and wake the writer
        once it fits again."""
        queue = self._queue
        hwm = self._hwm
        if hwm <= 0 or len(queue) < hwm:
            queue.append(msg)
            if self._reader_idle:
                self._wake_in_line()
            return True
        self._writer_waits = True
        return False

    def write(self, msg: Any) -> None:
        """Queue ``msg`` even past the high-water mark (commands, notifications, and the end
        of a message whose room was secured at its first frame)."""
        self._queue.append(msg)
        if self._reader_idle:
            self._wake_in_line()

    def write_batch(self, messages: Any) -> bool:
        """Queue a batch of messages, past the mark if need be, waking the reader at most
        once; True while there is still room, else False and the writer is woken at the
        low-water mark. (What an engine just read; what the proxy moves, after :meth:`room`.)"""
        queue = self._queue
        queue.extend(messages)
        if self._reader_idle and queue:
            self._wake_in_line()
        hwm = self._hwm
        if hwm <= 0 or len(queue) < hwm:
            return True
        self._writer_waits = True
        return False

    def _wake_in_line(self) -> None:
        """A message came after the reader found the pipe empty: into the fair queue's line
        (if the reader keeps one), then wake the reader."""
        self._reader_idle = False
        line = self._line
        if line is not None:
            line.append(self)
        self._wake_reader()

    def stand_in_line(self, line: deque | None) -> None:
        """From now on, join ``line`` whenever the reader is woken (None: no more).

        A fair queue with several pipes keeps a line of those with messages
        (:class:`~greenmq.patterns.strategies.FairQueue`); the pipe joins it
        itself, at the moment it wakes its reader, which costs a receive
        nothing and a quiet pipe nothing at all.
        """
        self._line = line

    def redirect_reader_wakeup(self, wake_reader: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake_reader`` instead from now on; returns the wake-up it replaces.

        An engine that reads a session's outbound pipe while it is connected
        takes the wake-up over from the session (saving two forwarding calls on
        every send that finds the pipe empty) and gives it back when it ends.
        """
        previous, self._wake_reader = self._wake_reader, wake_reader
        return previous

    def close_writer(self) -> None:
        """No more messages will come; the reader may still drain what is queued."""
        self.writer_closed = True
        line = self._line
        if line is not None:
            line.append(self)  # (the fair queue drops a drained pipe whose writer closed)
        self._wake_reader()

    # -- the reader's end -------------------------------------------------------

    def read(self) -> Any:
        """The oldest message, or None if the pipe is empty."""
        queue = self._queue
        if not queue:
            return None
        msg = queue.popleft()
        if not queue:
            self._reader_idle = True
        if self._writer_waits and len(queue) <= self._lwm:
            self._writer_waits = False
            self._wake_writer()
        return msg

    def read_many(self, limit: int) -> Any:
        """Take up to ``limit`` of the oldest messages at once (a sequence, perhaps empty)."""
        queue = self._queue
        count = len(queue)
        if count <= limit:
            return self.read_all() if count else ()
        popleft = queue.popleft
        taken = [popleft() for _ in repeat(None, limit)]  # (repeat: no int object per message)
        if self._writer_waits and len(queue) <= self._lwm:
            self._writer_waits = False
            self._wake_writer()
        return taken

    def take_single(self) -> Any:
        """The queued message if it is the only one (taken), else None: an engine's cue
        to write a lone message at once rather than batch."""
        queue = self._queue
        if len(queue) != 1:
            return None
        msg = queue.popleft()
        self._reader_idle = True
        if self._writer_waits and not queue:
            self._writer_waits = False
            self._wake_writer()
        return msg

    def read_all(self) -> deque:
        """Take every queued message at once (an engine's batch)."""
        taken = self._queue
        self._queue = deque(maxlen=taken.maxlen)
        self._reader_idle = True
        if self._writer_waits:
            self._writer_waits = False
            self._wake_writer()
        return taken

    def close_reader(self) -> None:
        """Nobody will read any more: drop what is queued and release a waiting writer."""
        self.reader_closed = True
        self._queue.clear()
        self._reader_idle = True
        self._writer_waits = False
        self._wake_writer()


class WirePipe(Pipe):
    """A pipe whose reader, a ZMTP engine, takes messages already in wire form.

    What is written is encoded on the way in, with ``encode``. A publisher
    sends each message to many subscribers; :func:`write_each` encodes it
    once for all the WirePipes among them (those of engines that do not
    encrypt per connection), which then queue the same bytes. The engine
    only joins what it reads.
    """

    __slots__ = ("_encode",)

    carries_wire = True

    def __init__(self, encode: Callable[[Any], bytes], hwm: int = 1000,
                 wake_reader: Callable[[], None] = _ignore, wake_writer: Callable[[], None] = _ignore,
                 conflate: bool = False):
        super().__init__(hwm, wake_reader, wake_writer, conflate)
        self._encode = encode

    def try_write(self, msg: Any) -> bool:
        return self.has_room() and Pipe.try_write(self, self._encode(msg))

    def write(self, msg: Any) -> None:
        Pipe.write(self, self._encode(msg))


def write_each(msg: Any, pipes: Iterable[Pipe], over_hwm: bool = False) -> None:
    """Fan-out: queue ``msg`` on each of ``pipes`` that has room (on all of them with
    ``over_hwm``); a full pipe misses it. The WirePipes among them share one encoding.

    This is the publisher's per-subscriber loop, so it is the pipes' own
    operation, written out once here rather than a method call per pipe.
    """
    encoded = None
    for pipe in pipes:
        queue = pipe._queue
        hwm = pipe._hwm
        if not over_hwm and 0 < hwm <= len(queue):
            continue
        if pipe.carries_wire:
            if encoded is None:
                encoded = pipe._encode(msg)  # type: ignore[attr-defined]  # a WirePipe's
            queue.append(encoded)
        else:
            queue.append(msg)
        if pipe._reader_idle:
            pipe._wake_in_line()


class Peer:
    """A socket's view of one peer: its pipes, where it is, and what it announced.

    ``disconnect`` is set by whoever owns the connection (an engine's session,
    an inproc link) and drops it; ROUTER_HANDOVER uses it.
    """

    __slots__ = ("inbound", "outbound", "endpoint", "metadata", "routing_id", "disconnect", "all_groups", "bound")

    def __init__(self, endpoint: str | None = None, routing_id: bytes | None = None,
                 disconnect: Callable[[], None] = _ignore):
        self.inbound: Pipe | None = None
        self.outbound: Pipe | None = None
        self.endpoint = endpoint
        self.metadata: Any = None  # a Metadata once the handshake (or inproc join) told it
        self.routing_id = routing_id
        self.disconnect = disconnect
        # A RADIO sends this peer every group: nothing comes back over udp to say which it wants.
        self.all_groups = False
        self.bound = False  # the peer came through a bind of the socket (not a connect)

    def use_pipes(self, inbound: Pipe | None, outbound: Pipe | None) -> None:
        """Give the peer its pipes (made after the peer, when their wake-ups name it)."""
        if inbound is not None:
            inbound.peer = self
        self.inbound = inbound
        self.outbound = outbound

    def __repr__(self) -> str:
        return f"<Peer {self.endpoint!r}>"

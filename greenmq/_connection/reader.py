"""The receiving half of a ZMTP connection: bytes from the OS socket to the socket's inbound pipe.

The reader is not a greenlet. It is a read watcher on the connection's
descriptor whose callback runs in the hub: one non-blocking read per
readiness, fed to the sans-I/O :class:`~greenmq.zmtp.ZmtpConnection`, and the
messages it completes go into the peer's inbound pipe in one batch, preceded
by the subscriptions the peer sent (for a socket type that takes them).

That is what makes a round trip cheap: a reply that arrives while the
application waits in ``recv()`` costs the hub one callback and the waiter
one switch, where a reader greenlet would add a switch into it and out of
it, and a second read that only meets EAGAIN before the waiter could run.
The watcher is level-triggered, so whatever one read leaves in the kernel
is read on the next loop iteration.

When the pipe passes its high-water mark the watcher stops until the socket
has drained it to the low-water mark: that is the backpressure a slow
receiver puts on a fast sender, through TCP.

The rest of a large frame is read into a reused buffer and handed to the
decoder, which joins it into the received ``bytes`` (see :meth:`_read_body`).
"""

from __future__ import annotations

import os
from time import monotonic
from typing import Any, Callable
from collections.abc import Sequence

from gevent import get_hub
from gevent.event import AsyncResult, Event

from .._pipe import Pipe
from ..zmtp import Connection, GroupCommand, Ping, Subscription
from .failures import PeerClosed

# What one read asks for. 64 KiB measured better than 256 KiB (greenmq's size until then) for
# 4 KiB messages over tcp (about 1.5x the messages per second) and 64 KiB ones over ipc (2x),
# and no worse for 16 B or 1 MiB: a read's buffer is allocated afresh each time, and a big
# one costs more to allocate and to touch than it saves in system calls.
READ_SIZE = 65536
# A readable connection is read at most this often per loop turn (fairness between connections).
READS_PER_TURN = 8
# A read shorter than this most likely emptied the kernel's buffer: rather than a second read
# that only meets EAGAIN (a syscall that is most of a small round trip's cost), the
# level-triggered watcher says on the next loop turn whether more came.
DRAINED_BELOW = 65536
# Frames with at least this much still to come are read by _read_body.
LARGE_BODY_READ = 65536
# The reused buffer for large frame bodies grows up to this size per connection.
BODY_BUFFER_MAX = 16 << 20
_READ = 1  # libev's EV_READ


def _ignore() -> None:
    pass


def wait_for_room(inbound: Pipe, room: Event, stopped: Callable[[], bool] = lambda: False) -> None:
    """Backpressure for a reader that is a greenlet (STREAM's): stop reading until the socket
    has drained ``inbound`` to its low-water mark.

    ``room`` is the event the inbound pipe's writer wake-up sets; ``stopped`` ends the wait
    early (the connection is being dropped). Clearing before the last look means a wake-up
    in between is never lost.
    """
    while not (stopped() or inbound.reader_closed or inbound.has_room()):
        room.clear()
        if inbound.has_room():
            return
        room.wait()


class ZmtpReader:
    """Reads one connection until it ends (see the module docstring).

    ``inbound`` is None for a socket type that receives nothing (what such a
    peer sends is dropped). ``takes_subscriptions``: the socket type wants the peer's SUBSCRIBE/CANCEL
    (PUB, XPUB) or JOIN/LEAVE (RADIO). ``on_output``: the protocol queued something to send (a
    PONG). ``on_ping``: the peer announced a heartbeat TTL.
    """

    def __init__(self, sock: Any, conn: Connection, inbound: Pipe | None, takes_subscriptions: bool,
                 on_output: Callable[[], None] = _ignore, on_ping: Callable[[], None] = _ignore):
        self._fd = sock.fileno()
        self._conn = conn
        self._inbound = inbound
        self._takes_subscriptions = takes_subscriptions
        self._on_output = on_output
        self._on_ping = on_ping
        self._watcher: Any = get_hub().loop.io(self._fd, _READ)
        self._ended: AsyncResult[BaseException] = AsyncResult()
        self._paused = False  # stopped for backpressure
        self._stopped = False
        self._body_buffer = bytearray()
        self._body_filled = 0  # how much of a large frame's body _read_body holds so far
        self.last_received = monotonic()
        self.peer_ttl = 0  # the peer's heartbeat TTL, tenths of a second (0: none announced)

    def room(self) -> None:
        """The inbound pipe drained to its low-water mark (or its reader left): read on."""
        if self._paused and not self._ended.ready():
            inbound = self._inbound
            if inbound is None or inbound.reader_closed or inbound.has_room():
                self._paused = False
                self._watcher.start(self._readable)

    def stop(self) -> None:
        """The connection is being dropped (its OS socket shut down): read on regardless of
        room, so that the next read meets the end of the connection."""
        self._stopped = True
        if self._paused:
            self._paused = False
            if not self._ended.ready():
                self._watcher.start(self._readable)

    def run(self) -> None:
        """Read until the connection ends, waiting in the calling greenlet; raises what ended
        it (:class:`PeerClosed`, ZmtpError, OSError). Killing the greenlet stops the reading."""
        if not self._paused:
            self._watcher.start(self._readable)
        try:
            error = self._ended.get()
        finally:
            self._watcher.stop()
            self._watcher.close()
        raise error or PeerClosed()

    def _readable(self) -> None:
        """The watcher's callback, in the hub: read, decode and deliver until the kernel has
        nothing more (a short read, or EAGAIN), READS_PER_TURN reads, or a full pipe. Nothing
        may escape into the hub: whatever goes wrong ends this connection, and ``run`` raises it.

        Each read's messages are delivered before the next read, so a receiver waiting in
        ``recv`` runs (and may answer) first. Reading on while reads come back long drains
        the kernel's buffer as fast as the sender fills it: one read per loop turn lets a
        fast sender's writes stall on a full buffer. A short read ends the turn without the
        read that would only meet EAGAIN.
        """
        conn = self._conn
        drained = False
        try:
            for _ in range(READS_PER_TURN):
                missing = conn.bytes_expected()
                if missing >= LARGE_BODY_READ:
                    body = self._read_body(missing)
                    if body is None:
                        continue  # more of the frame to come
                    messages = conn.receive(body)
                else:
                    data = os.read(self._fd, READ_SIZE)
                    if not data:
                        raise PeerClosed()
                    messages = conn.receive(data)
                    if len(data) < DRAINED_BELOW:
                        drained = True
                self.last_received = monotonic()
                if conn.has_output:
                    self._on_output()
                self.deliver(messages, conn.take_events())
                if drained or self._paused or self._ended.ready():
                    return
        except BlockingIOError:
            return  # nothing more for now
        except Exception as error:  # noqa: BLE001 -- handed to run(), whose caller decides
            self._watcher.stop()
            if not self._ended.ready():
                self._ended.set(error)

    def deliver(self, messages: Sequence[Any], events: Sequence[Any] = ()) -> None:
        """Act on what the peer said: subscriptions (if this socket takes them) and then
        messages into the inbound pipe, a PING's TTL to the heartbeat."""
        inbound = self._inbound
        if events:
            self._take_events(events, inbound)
        # Nothing is delivered to a socket type that receives nothing (PUSH), or that closed.
        if (messages and inbound is not None and not inbound.reader_closed and not inbound.write_batch(messages)
                and not self._stopped):
            # Full: read no more until room() (the socket drained the pipe to its low-water mark).
            self._paused = True
            self._watcher.stop()

    def _take_events(self, events: Sequence[Any], inbound: Pipe | None) -> None:
        subscriptions = []
        for event in events:
            if event.__class__ is Subscription or event.__class__ is GroupCommand:
                subscriptions.append(event)
            elif event.__class__ is Ping:
                self.peer_ttl = event.ttl
                self._on_ping()
        if subscriptions and self._takes_subscriptions and inbound is not None and not inbound.reader_closed:
            inbound.write_batch(subscriptions)

    def _read_body(self, missing: int) -> memoryview | None:
        """Read more of a large frame (up to BODY_BUFFER_MAX of it) into a reused buffer;
        the filled part once complete, else None.

        The buffer's pages are already mapped, so the kernel copies into warm
        memory and the decoder's single join is the only fresh allocation; fresh
        1 MiB allocations are page-faulted in each time (glibc gives freed large
        blocks back to the OS), which otherwise dominates large-message cost.
        """
        want = min(missing, BODY_BUFFER_MAX)
        if len(self._body_buffer) < want:
            self._body_buffer = bytearray(want)
        view = memoryview(self._body_buffer)[:want]
        filled = self._body_filled
        count = os.readv(self._fd, (view[filled:],))
        if not count:
            raise PeerClosed()
        filled += count
        if filled < want:
            self._body_filled = filled
            return None
        self._body_filled = 0
        return view

"""The receiving half of a ZMTP connection: bytes from the OS socket to the socket's inbound pipe.

Reads go into the sans-I/O :class:`~greenmq.zmtp.ZmtpConnection`; the
messages one read completes go into the peer's inbound pipe in one batch,
preceded by the subscriptions the peer sent (for a socket type that takes
them). When the pipe passes its high-water mark the reader stops reading
until the socket has drained it to the low-water mark: that is the
backpressure a slow receiver puts on a fast sender, through TCP.

The rest of a large frame is read into a reused buffer and handed to the
decoder, which joins it into the received ``bytes`` (see :meth:`_read_body`).
"""

from __future__ import annotations

from time import monotonic
from typing import Any, Callable
from collections.abc import Sequence

from gevent.event import Event

from .._pipe import Pipe
from ..zmtp import Ping, Subscription, ZmtpConnection
from .failures import PeerClosed

READ_SIZE = 262144
# Frames with at least this much still to come are read by _read_body.
LARGE_BODY_READ = 65536
# The reused buffer for large frame bodies grows up to this size per connection.
BODY_BUFFER_MAX = 16 << 20


def _ignore() -> None:
    pass


def wait_for_room(inbound: Pipe, room: Event, stopped: Callable[[], bool] = lambda: False) -> None:
    """Backpressure: stop reading until the socket has drained ``inbound`` to its low-water mark.

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
    (PUB, XPUB). ``on_output``: the protocol queued something to send (a
    PONG). ``on_ping``: the peer announced a heartbeat TTL.
    """

    def __init__(self, sock: Any, conn: ZmtpConnection, inbound: Pipe | None, takes_subscriptions: bool,
                 on_output: Callable[[], None] = _ignore, on_ping: Callable[[], None] = _ignore):
        self._sock = sock
        self._conn = conn
        self._inbound = inbound
        self._takes_subscriptions = takes_subscriptions
        self._on_output = on_output
        self._on_ping = on_ping
        self._room = Event()
        self._stopped = False
        self._body_buffer = bytearray()
        self.last_received = monotonic()
        self.peer_ttl = 0  # the peer's heartbeat TTL, tenths of a second (0: none announced)

    def room(self) -> None:
        """The inbound pipe drained to its low-water mark (or its reader left): read on."""
        self._room.set()

    def stop(self) -> None:
        """The connection is being dropped (its OS socket shut down): stop waiting for room,
        so that the next read meets the end of the connection."""
        self._stopped = True
        self._room.set()

    def run(self) -> None:
        """Read until the connection ends; raises what ended it (:class:`PeerClosed`, ZmtpError, OSError)."""
        recv = self._sock.recv
        conn = self._conn
        while True:
            missing = conn.bytes_expected()
            if missing >= LARGE_BODY_READ:
                messages = conn.receive(self._read_body(missing))
            else:
                data = recv(READ_SIZE)
                if not data:
                    raise PeerClosed()
                messages = conn.receive(data)
            self.last_received = monotonic()
            events = conn.take_events()
            if conn.has_output:
                self._on_output()
            if messages or events:
                self.deliver(messages, events)

    def deliver(self, messages: Sequence[Any], events: Sequence[Any] = ()) -> None:
        """Act on what the peer said: subscriptions (if this socket takes them) and then
        messages into the inbound pipe, a PING's TTL to the heartbeat."""
        inbound = self._inbound
        subscriptions = []
        for event in events:
            if event.__class__ is Subscription:
                subscriptions.append(event)
            elif event.__class__ is Ping:
                self.peer_ttl = event.ttl
                self._on_ping()
        if inbound is None or inbound.reader_closed:
            return  # a socket type that receives nothing (PUSH), or a socket that closed
        if subscriptions and self._takes_subscriptions:
            inbound.write_batch(subscriptions)
        if messages and not inbound.write_batch(messages):
            self._wait_for_room(inbound)

    def _wait_for_room(self, inbound: Pipe) -> None:
        wait_for_room(inbound, self._room, lambda: self._stopped)

    def _read_body(self, missing: int) -> memoryview:
        """Read the rest of a large frame (up to BODY_BUFFER_MAX of it) into a reused buffer.

        The buffer's pages are already mapped, so the kernel copies into warm
        memory and the decoder's single join is the only fresh allocation; fresh
        1 MiB allocations are page-faulted in each time (glibc gives freed large
        blocks back to the OS), which otherwise dominates large-message cost.
        """
        want = min(missing, BODY_BUFFER_MAX)
        if len(self._body_buffer) < want:
            self._body_buffer = bytearray(want)
        view = memoryview(self._body_buffer)[:want]
        filled = 0
        recv_into = self._sock.recv_into
        while filled < want:
            count = recv_into(view[filled:])
            if not count:
                raise PeerClosed()
            filled += count
        return view

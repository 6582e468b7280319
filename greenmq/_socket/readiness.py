"""What a poller needs from a socket: whether it can receive or send now, and a way to wait.

A socket's two wake-ups are set whenever its readiness may have changed: the
readable one when an inbound pipe goes from empty to non-empty, the writable
one when a full pipe drains to its low-water mark or a peer arrives; both
when the socket closes or its context terminates. A poller clears them,
asks :meth:`Readiness.events`, and waits on them only if nothing is ready,
so a change after the clear is never missed.
"""

from __future__ import annotations

from typing import Callable

from .wakeup import Wakeup


class Readiness:
    """A socket's wake-ups and its current POLLIN/POLLOUT events."""

    __slots__ = ("readable", "writable", "events", "check")

    def __init__(self, readable: Wakeup, writable: Wakeup, events: Callable[[], int], check: Callable[[], None]):
        self.readable = readable
        self.writable = writable
        # events(): POLLIN | POLLOUT as they are now; check(): ENOTSOCK once closed, ETERM once terminated.
        self.events = events
        self.check = check

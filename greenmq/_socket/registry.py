"""What a context keeps for its sockets: who is open, what lingers, and its inproc names.

``Context.term()`` must interrupt every blocked call on the context's
sockets and then wait until each socket is closed and its lingering messages
are sent. Sockets register here when made, with the callable that interrupts
them, and leave with the greenlets that still flush their messages.
"""

from __future__ import annotations

import errno
from typing import Any, Callable
from collections.abc import Iterable

import gevent

from .._connection.inproc import InprocNamespace
from ..constants import Errno
from ..error import zmq_error
from .wakeup import Wakeup


class SocketRegistry:
    """The sockets of one context (see the module docstring)."""

    def __init__(self) -> None:
        self._sockets: dict[Any, Callable[[], None]] = {}  # socket -> what interrupts it at term()
        self._lingering: list[gevent.Greenlet] = []
        # One per term() waiting, made on the waiting thread's hub: a context that is never
        # terminated, or has no socket left when it is, starts no watcher at all.
        self._closing_waiters: list[Wakeup] = []
        self.terminating = False
        self.closed = False
        self.inproc = InprocNamespace()

    def check_open(self) -> None:
        """ETERM once the context is terminating or closed: no new socket then."""
        if self.closed or self.terminating:
            raise zmq_error(Errno.ETERM)

    def check_room(self, max_sockets: int) -> None:
        """EMFILE when the context already has MAX_SOCKETS sockets."""
        if len(self._sockets) >= max_sockets:
            raise zmq_error(errno.EMFILE)

    def sockets(self) -> list[Any]:
        return list(self._sockets)

    def add(self, socket: Any, interrupt: Callable[[], None]) -> None:
        self._sockets[socket] = interrupt

    def remove(self, socket: Any, lingering: Iterable[gevent.Greenlet]) -> None:
        """A socket closed; ``lingering`` greenlets still flush its messages."""
        self._sockets.pop(socket, None)
        self.linger(lingering)
        if not self._sockets:
            for waiter in list(self._closing_waiters):
                waiter.set()  # thread-safe: the last socket may close in another thread

    def linger(self, greenlets: Iterable[gevent.Greenlet]) -> None:
        """Greenlets that ``term()`` must wait for (a closed endpoint flushing its queue)."""
        self._lingering = [g for g in self._lingering if not g.dead]
        self._lingering.extend(greenlets)

    def interrupt_all(self) -> None:
        """Make every blocked and future call on the sockets raise ContextTerminated."""
        self.terminating = True
        for interrupt in list(self._sockets.values()):
            interrupt()

    def wait_until_closed(self) -> None:
        """Wait for every socket to close, then for the lingering greenlets of this thread's hub.

        The caller may be any thread (a socket's thread, or one that only terminates), so it
        waits on a wake-up of its own hub; the wake-up is listed before the sockets are
        looked at, so a last close in another thread between the two still sets it."""
        if self._sockets:
            waiter = Wakeup()
            self._closing_waiters.append(waiter)
            try:
                while True:
                    waiter.clear()
                    if not self._sockets:
                        break
                    waiter.wait()
            finally:
                self._closing_waiters.remove(waiter)
                waiter.close()
        hub = gevent.get_hub()
        # Greenlets live on the hub of the thread that made them; only ours can be joined here.
        lingering = [g for g in self._lingering if not g.dead and g.parent is hub]
        if lingering:
            gevent.joinall(lingering)
        self._lingering = []
        self.closed = True

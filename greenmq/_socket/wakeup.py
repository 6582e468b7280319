"""A wake-up flag that a greenlet waits on and that any thread may set.

Sockets are used from one thread each, but one context can serve several
threads, and inproc pipes then connect sockets living on different gevent hubs
(one hub per OS thread). A plain gevent ``Event`` set from a foreign thread
does not reliably wake a waiter on another hub, so :class:`Wakeup` routes a
foreign ``set()`` through an async watcher of the owner's loop, whose callback
sets the event inside the owner's thread.

The watcher is unref'd except while someone waits: an idle socket never keeps
a hub alive, and a thread whose only hope is a message from another thread
does not die of gevent's ``LoopExit`` ("would block forever").

``notify``, None unless the application asked for the socket's ``ZMQ_FD``,
is called by every ``set()`` in the setting thread: that is how the
descriptor (:mod:`greenmq._socket.readiness_fd`) learns of a change.
"""

from __future__ import annotations

from typing import Any, Callable, cast

from gevent import get_hub, monkey
from gevent.event import Event
from gevent.hub import Hub

# The OS thread's identity even under gevent.monkey (whose get_ident names greenlets).
_thread_ident = monkey.get_original("_thread", "get_ident")


class Wakeup:
    """Event-like: ``set``, ``clear``, ``wait(timeout)``; ``set`` is thread-safe."""

    __slots__ = ("event", "notify", "_hub", "_thread", "_async", "_waiters")

    def __init__(self) -> None:
        self.event = Event()
        self.notify: Callable[[], None] | None = None
        self._hub = get_hub()
        self._thread = _thread_ident()
        # Any: gevent's stubs lack the watcher's 'ref' attribute.
        self._async: Any = cast(Any, self._hub.loop.async_())
        self._async.start(self.event.set)
        self._async.ref = False
        self._waiters = 0

    @property
    def hub(self) -> Hub:
        """The hub of the thread that owns this wake-up (and its socket)."""
        return self._hub

    def set(self) -> None:
        notify = self.notify
        if notify is not None:
            notify()
        if _thread_ident() == self._thread:  # not get_hub(): that would make a hub in a foreign thread
            self.event.set()
        else:
            self._async.send()

    def clear(self) -> None:
        self.event.clear()

    def is_set(self) -> bool:
        return self.event.is_set()

    def hold(self) -> None:
        """Someone is about to wait on ``event`` (directly or with gevent.wait): keep the hub alive."""
        self._waiters += 1
        self._async.ref = True

    def release(self) -> None:
        """The wait that :meth:`hold` announced is over."""
        self._waiters -= 1
        if not self._waiters:
            self._async.ref = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until set (True) or until ``timeout`` seconds pass (False)."""
        self.hold()
        try:
            return self.event.wait(timeout)
        finally:
            self.release()

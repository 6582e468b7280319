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

A greenlet blocked in :meth:`Wakeup.wait` (a ``recv`` or ``send`` waiting) is
woken by a switch straight from ``set()`` when ``set()`` runs in the hub --
as it does when a connection's read watcher delivers a message -- so a
message that arrives while the application waits reaches it with that one
switch. A ``set()`` from another greenlet cannot switch away from itself: it
schedules the switch on the hub instead. Pollers wait on ``event``, which is
set as well.
"""

from __future__ import annotations

from typing import Any, Callable, cast

from gevent import get_hub, getcurrent, monkey
from gevent.event import Event
from gevent.hub import Hub, Waiter

# The OS thread's identity even under gevent.monkey (whose get_ident names greenlets).
_thread_ident = monkey.get_original("_thread", "get_ident")


class Wakeup:
    """Event-like: ``set``, ``clear``, ``wait(timeout)``; ``set`` is thread-safe."""

    __slots__ = ("event", "notify", "_hub", "_thread", "_async", "_waiters", "_blocked")

    def __init__(self) -> None:
        self.event = Event()
        self.notify: Callable[[], None] | None = None
        self._hub = get_hub()
        self._thread = _thread_ident()
        # Any: gevent's stubs lack the watcher's 'ref' attribute.
        self._async: Any = cast(Any, self._hub.loop.async_())
        self._async.start(self._set_here)
        self._async.ref = False
        self._waiters = 0  # greenlets waiting, here or on ``event`` (hold/release)
        self._blocked: list[Waiter[bool]] = []  # those waiting in wait(), to be switched to by set()

    @property
    def hub(self) -> Hub:
        """The hub of the thread that owns this wake-up (and its socket)."""
        return self._hub

    def set(self) -> None:
        notify = self.notify
        if notify is not None:
            notify()
        if _thread_ident() == self._thread:  # not get_hub(): that would make a hub in a foreign thread
            self._set_here()
        else:
            self._async.send()

    def _set_here(self) -> None:
        """``set()`` in the owner's thread: the flag for pollers, then the blocked waiters."""
        self.event.set()
        blocked = self._blocked
        if blocked:
            self._blocked = []
            hub = self._hub
            if getcurrent() is hub:
                for waiter in blocked:
                    waiter.switch(True)
            else:
                for waiter in blocked:
                    hub.loop.run_callback(waiter.switch, True)

    def clear(self) -> None:
        self.event.clear()

    def close(self) -> None:
        """The socket closed (after its last ``set()`` woke the waiters): stop the async watcher,
        which the loop would otherwise keep -- and with it this object and what ``notify`` holds --
        for as long as the loop lives. A later ``set()`` from another thread is then a no-op.
        Only the owner's thread may touch its loop."""
        if _thread_ident() == self._thread:
            self._async.stop()
        else:
            loop: Any = self._hub.loop
            loop.run_callback_threadsafe(self._async.stop)

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
        if self.event.is_set():
            return True
        hub = self._hub
        waiter: Waiter[bool] = Waiter(hub)
        self._blocked.append(waiter)
        timer = None
        if timeout is not None:
            timer = hub.loop.timer(max(timeout, 0.0))
            timer.start(waiter.switch, False)
        self._waiters += 1  # hold(), written out: this is every blocking recv's path
        self._async.ref = True
        try:
            return bool(waiter.get())
        finally:
            self._waiters -= 1
            if not self._waiters:
                self._async.ref = False
            if timer is not None:
                timer.close()
            blocked = self._blocked
            if waiter in blocked:  # not taken by set(): woken by the timer, or by an exception
                blocked.remove(waiter)

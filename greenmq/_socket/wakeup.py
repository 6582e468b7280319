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
"""

from gevent import get_hub
from gevent.event import Event


class Wakeup:
    """Event-like: ``set``, ``clear``, ``wait(timeout)``; ``set`` is thread-safe."""

    __slots__ = ("event", "_hub", "_async", "_waiters")

    def __init__(self):
        self.event = Event()
        self._hub = get_hub()
        self._async = self._hub.loop.async_()
        self._async.start(self.event.set)
        self._async.ref = False
        self._waiters = 0

    def set(self):
        if get_hub() is self._hub:
            self.event.set()
        else:
            self._async.send()

    def clear(self):
        self.event.clear()

    def is_set(self):
        return self.event.is_set()

    def hold(self):
        """Someone is about to wait on ``event`` (directly or with gevent.wait): keep the hub alive."""
        self._waiters += 1
        self._async.ref = True

    def release(self):
        """The wait that :meth:`hold` announced is over."""
        self._waiters -= 1
        if not self._waiters:
            self._async.ref = False

    def wait(self, timeout=None):
        """Wait until set (True) or until ``timeout`` seconds pass (False)."""
        self.hold()
        try:
            return self.event.wait(timeout)
        finally:
            self.release()

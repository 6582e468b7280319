"""Polling: :class:`Poller`, :func:`select` and :func:`zmq_poll`, as in pyzmq.

A poll mixes greenmq sockets with native file descriptors (ints, or objects
with a ``fileno()`` method) and is level-triggered like ``zmq_poll``: it
returns at once with everything that is ready, or waits cooperatively for the
first item to become ready (or for the timeout).

Waiting is event-driven, never periodic. For sockets a poll waits on the
wake-ups of the socket's :class:`~greenmq._socket.readiness.Readiness`
(``readable`` set when a pipe goes from empty to non-empty, ``writable``
when a full pipe drains or a peer attaches; both set when the socket is
closed or its context terminated): it clears them, computes the socket's
events, and waits only if nothing is ready, so a wake-up that happens after
the clear is never lost and several greenlets may poll (and receive from)
the same socket. For file descriptors it starts io watchers of
the gevent loop and asks the OS (``poll()`` with a zero timeout) what is
ready whenever one fires. What libev cannot watch -- ``POLLPRI``, and a
descriptor polled for ``POLLERR`` alone -- is left to one helper OS thread,
blocked in ``poll()`` for as long as the poll waits.

Results follow pyzmq (and libzmq): a socket reports ``POLLIN``/``POLLOUT``
only; a descriptor reports ``POLLIN``/``POLLOUT``/``POLLPRI`` as requested,
and ``POLLERR`` whenever the OS reports anything else (error, hang-up, a
closed descriptor), requested or not; a descriptor is returned as the int fd
even when an object with ``fileno()`` was registered.
"""

from __future__ import annotations

import os
import select as select_module
from time import monotonic
from collections.abc import Iterable, Sequence
from typing import Any, Callable

import gevent
from gevent import monkey
from gevent.event import Event

from ._socket.base import SocketBase
from ._socket.readiness import Readiness
from ._socket.wakeup import Wakeup
from .constants import PollEvent

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
POLLERR = int(PollEvent.POLLERR)
POLLPRI = int(PollEvent.POLLPRI)
_SOCKET_EVENTS = POLLIN | POLLOUT
# A resolved poll item: (key, readiness or None, fd, flags, gevent events to clear and wait on).
_Item = tuple[Any, Any, int, int, tuple[Any, ...]]

# The OS's poll(), even when gevent.monkey has replaced select.poll.
_os_poll = monkey.get_original("select", "poll")
_start_new_thread = monkey.get_original("_thread", "start_new_thread")
_allocate_lock = monkey.get_original("_thread", "allocate_lock")
# The OS's POLL* bits differ from ZMQ_POLL* (POLLOUT is 4 on Linux, ZMQ_POLLERR is 4): translate.
_OS_IN, _OS_OUT, _OS_PRI = select_module.POLLIN, select_module.POLLOUT, select_module.POLLPRI
_OS_OTHER = ~(_OS_IN | _OS_OUT | _OS_PRI)
_EV_READ, _EV_WRITE = 1, 2  # libev's (and gevent's) io watcher events


# -- resolving poll items --------------------------------------------------------------


def _resolve(sockets: Iterable[tuple[Any, int]]) -> list[_Item]:
    """The items of ``[(socket_or_fd, flags), ...]`` with pyzmq's errors, as
    ``(key, readiness or None, fd, flags, events)``: ``key`` is what a result
    names (the socket, or the int fd), ``readiness`` the socket's (None for an
    fd), ``fd`` is -1 for a socket, ``events`` the gevent events of the
    socket's Wakeups that the poll clears and waits on."""
    items: list[_Item] = []
    for obj, flags in sockets:
        flags = int(flags)
        if isinstance(obj, SocketBase):
            readiness = obj.readiness
            events = tuple(wakeup.event for wakeup in _socket_wakeups(readiness, flags))
            items.append((obj, readiness, -1, flags, events))
            continue
        if isinstance(obj, int):
            fd = obj
        elif hasattr(obj, "fileno"):
            try:
                fd = int(obj.fileno())
            except Exception:
                raise ValueError("fileno() must return a valid integer fd") from None
        else:
            raise TypeError(f"Socket must be a 0MQ socket, an integer fd or have a fileno() method: {obj!r}")
        items.append((fd, None, fd, flags, ()))
    return items


def _socket_wakeups(readiness: Readiness, flags: int) -> tuple[Wakeup, ...]:
    """The Wakeups a poll for ``flags`` on a socket waits on; ``readable`` also stands
    for close and termination when neither POLLIN nor POLLOUT is asked for."""
    if flags & POLLOUT:
        return (readiness.readable, readiness.writable) if flags & POLLIN else (readiness.writable,)
    return (readiness.readable,)


def _os_events(flags: int) -> int:
    events = 0
    if flags & POLLIN:
        events |= _OS_IN
    if flags & POLLOUT:
        events |= _OS_OUT
    if flags & POLLPRI:
        events |= _OS_PRI
    return events


def _zmq_events(revents: int) -> int:
    events = 0
    if revents & _OS_IN:
        events |= POLLIN
    if revents & _OS_OUT:
        events |= POLLOUT
    if revents & _OS_PRI:
        events |= POLLPRI
    if revents & _OS_OTHER:
        events |= POLLERR
    return events


def _fd_readiness(items: list[_Item]) -> dict[int, int]:
    """{fd: ZMQ events} for the fds that are ready now (a zero-timeout OS poll)."""
    wanted: dict[int, int] = {}
    for _, readiness, fd, flags, _ in items:
        if readiness is None and fd >= 0:  # poll() ignores negative fds, and so does zmq_poll
            wanted[fd] = wanted.get(fd, 0) | _os_events(flags)
    if not wanted:
        return {}
    poller = _os_poll()
    for fd, events in wanted.items():
        poller.register(fd, events)
    return {fd: _zmq_events(revents) for fd, revents in poller.poll(0)}


def _ready(items: list[_Item], has_fds: bool) -> list[tuple[Any, int]]:
    """Clear the wake-ups, then compute what is ready: ``[(key, events), ...]`` in item order.

    Every wake-up is cleared before its socket's events are read, with no
    switch in between, so anything that becomes ready later sets it again.
    """
    fd_events = _fd_readiness(items) if has_fds else {}
    ready = []
    for key, readiness, fd, flags, wakeup_events in items:
        if readiness is not None:
            readiness.check()  # ENOTSOCK when closed, ETERM when the context is terminated
            for event in wakeup_events:
                event.clear()
            events = readiness.events() & flags & _SOCKET_EVENTS
        else:
            # As with poll(): events not asked for are not reported, conditions are.
            events = fd_events.get(fd, 0) & (flags | POLLERR)
        if events:
            ready.append((key, events))
    return ready


# -- waiting ------------------------------------------------------------------------------


class _ThreadPoll:
    """One OS thread blocked in ``poll()`` for the fd events libev cannot watch.

    It ends when any of them is ready (waking the hub through an async watcher;
    ``finished`` is then true) or when :meth:`close` closes the write end of
    its wake-up pipe.
    """

    def __init__(self, hub: Any, registrations: dict[int, int], on_ready: Callable[[], None]) -> None:
        self.finished = False
        self._read_end, self._write_end = os.pipe()
        self._lock = _allocate_lock()
        self._closed = False
        self._async = hub.loop.async_()
        self._async.start(on_ready)
        _start_new_thread(self._run, (registrations,))

    def _run(self, registrations: dict[int, int]) -> None:
        try:
            poller = _os_poll()
            for fd, events in registrations.items():
                poller.register(fd, events)
            poller.register(self._read_end, _OS_IN)
            while True:
                try:
                    poller.poll()
                    break
                except InterruptedError:  # pragma: no cover - only with signal handlers on this thread
                    continue
        except OSError:  # pragma: no cover - the hub re-checks the fds itself
            pass
        finally:
            os.close(self._read_end)
            with self._lock:
                self.finished = True
                if not self._closed:
                    self._async.send()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            os.close(self._write_end)
        self._async.stop()
        self._async.close()


class _Waiter:
    """What a poll waits on: the sockets' wake-ups, io watchers, and maybe a :class:`_ThreadPoll`."""

    def __init__(self, items: list[_Item]) -> None:
        hub = gevent.get_hub()
        self.fd_event = Event()
        self.objects = [self.fd_event]
        self._wakeups = []
        seen = set()
        for _, readiness, _, flags, _ in items:
            if readiness is None:
                continue
            for wakeup in _socket_wakeups(readiness, flags):
                if id(wakeup) not in seen:
                    seen.add(id(wakeup))
                    self._wakeups.append(wakeup)
                    self.objects.append(wakeup.event)
        # While someone waits, a Wakeup's async watcher keeps the hub alive (see Wakeup.wait):
        # a wake-up from another thread is then waited for, not a LoopExit.
        for wakeup in self._wakeups:
            wakeup.hold()
        self._watchers = []
        self._thread = None
        self._threaded: dict[int, int] = {}
        threaded = self._threaded
        watched: dict[int, int] = {}
        for _, readiness, fd, flags, _ in items:
            if readiness is not None or fd < 0:
                continue
            if flags & POLLPRI or not flags & _SOCKET_EVENTS:
                threaded[fd] = threaded.get(fd, 0) | _os_events(flags)
            else:
                # An io watcher also fires on errors and hang-ups (libev reports them as both).
                watched[fd] = watched.get(fd, 0) | (_EV_READ if flags & POLLIN else 0) | (
                    _EV_WRITE if flags & POLLOUT else 0)
        try:
            for fd, events in watched.items():
                watcher = hub.loop.io(fd, events)
                watcher.start(self.fd_event.set)
                self._watchers.append(watcher)
            if threaded:
                self._thread = _ThreadPoll(hub, threaded, self.fd_event.set)
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float | None) -> None:
        """Until an item may be ready (the caller looks again) or ``timeout`` seconds pass."""
        thread = self._thread
        if thread is not None and thread.finished:
            # It saw an event that was gone again when the hub looked (someone read the
            # urgent byte first): watch again.
            thread.close()
            self._thread = None  # closed once only, even if a new one cannot be started
            self._thread = _ThreadPoll(gevent.get_hub(), self._threaded, self.fd_event.set)
        gevent.wait(self.objects, timeout=timeout, count=1)

    def close(self) -> None:
        for wakeup in self._wakeups:
            wakeup.release()
        self._wakeups = []
        for watcher in self._watchers:
            watcher.stop()
            watcher.close()
        self._watchers = []
        if self._thread is not None:
            self._thread.close()
            self._thread = None


def _poll(sockets: Iterable[tuple[Any, int]], timeout: float | None) -> list[tuple[Any, int]]:
    """Poll ``[(socket_or_fd, flags), ...]``; ``timeout`` in seconds, None for ever."""
    items = _resolve(sockets)
    if not items:
        return []
    has_fds = any(readiness is None for _, readiness, _, _, _ in items)
    deadline = None if timeout is None else monotonic() + timeout
    waiter = None
    try:
        while True:
            if waiter is not None:
                waiter.fd_event.clear()
            ready = _ready(items, has_fds)
            if ready:
                return ready
            remaining = None
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    return []
            if waiter is None:
                # No switch since the check: whatever becomes ready from now on wakes the waiter.
                waiter = _Waiter(items)
            waiter.wait(remaining)
    finally:
        if waiter is not None:
            waiter.close()


# -- the public API -----------------------------------------------------------------------


def zmq_poll(sockets: Sequence[tuple[Any, int]], timeout: float | None = -1) -> list[tuple[Any, int]]:
    """zmq_poll(sockets, timeout=-1)

    Poll a set of greenmq sockets, native file descriptors or objects with a
    ``fileno()`` method.

    Parameters
    ----------
    sockets : list of tuples of (socket, flags)
        Each element is a two-tuple of a socket (or fd) and the events to watch
        for: ``POLLIN``, ``POLLOUT``, and for fds also ``POLLPRI`` and ``POLLERR``.
    timeout : int
        Milliseconds to wait. Negative (or None) waits for ever.

    Returns
    -------
    list of (socket_or_fd, events) for every item with events, in the order
    given; descriptors are returned as int fds.
    """
    return _poll(sockets, None if timeout is None or timeout < 0 else timeout / 1000.0)


class Poller:
    """A stateful poll interface that mirrors Python's built-in poll.

    Register greenmq sockets and native fds (or objects with ``fileno()``),
    then call :meth:`poll`. Waiting is cooperative: other greenlets run while
    a poll waits, and an idle poll costs no CPU at all.
    """

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._map: dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """p.register(socket, flags=POLLIN|POLLOUT)

        Register a greenmq socket or native fd for I/O monitoring.

        ``register(s, 0)`` is equivalent to ``unregister(s)`` (and does nothing
        for a socket that is not registered).

        Parameters
        ----------
        socket : greenmq.Socket or native socket
            A greenmq Socket, an int fd, or any object with a ``fileno()``
            method that returns a valid file descriptor.
        flags : int
            The events to watch for: ``POLLIN``, ``POLLOUT`` or both (for fds
            also ``POLLPRI``, ``POLLERR``). ``0`` unregisters the socket.
        """
        if flags:
            if socket in self._map:
                self.sockets[self._map[socket]] = (socket, flags)
            else:
                self._map[socket] = len(self.sockets)
                self.sockets.append((socket, flags))
        elif socket in self._map:
            self.unregister(socket)

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Modify the flags for an already registered socket or native fd (registers it if it is not)."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Remove a socket or native fd from I/O monitoring (KeyError if it is not registered)."""
        index = self._map.pop(socket)
        self.sockets.pop(index)
        for other, _ in self.sockets[index:]:
            self._map[other] -= 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Poll the registered sockets and fds for I/O.

        Returns at once if some events are ready; otherwise waits (cooperatively)
        until the first event, or until ``timeout`` milliseconds have passed.

        Parameters
        ----------
        timeout : int
            The timeout in milliseconds; None or negative waits for ever. A
            float is truncated to whole milliseconds, as in pyzmq.

        Returns
        -------
        events : list
            ``[(socket_or_fd, event_mask), ...]``, commonly turned into a dict
            with ``dict(poller.poll())``. Raises ``ContextTerminated`` when a
            registered socket's context is terminated (also while waiting), and
            ``ZMQError(ENOTSOCK)`` for a closed socket.
        """
        if timeout is None or timeout < 0:
            timeout = -1
        elif isinstance(timeout, float):
            timeout = int(timeout)
        return zmq_poll(self.sockets, timeout=timeout)


def select(rlist: Sequence[Any], wlist: Sequence[Any], xlist: Sequence[Any],
           timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
    """select(rlist, wlist, xlist, timeout=None) -> (rlist, wlist, xlist)

    Return the result of a poll as lists of sockets ready for reading, writing,
    or with an error condition -- the interface of ``select.select()``.

    Parameters
    ----------
    timeout : float, optional
        The timeout in seconds (None: for ever), as for ``select.select()``.
    rlist, wlist, xlist : list
        Sockets or fds to poll for read (``POLLIN``), write (``POLLOUT``) and
        error (``POLLERR``) events.

    Returns
    -------
    (rlist, wlist, xlist) : tuple of lists
        The ready sockets; fds (also objects with ``fileno()``) as ints.
    """
    if timeout is None:
        timeout = -1
    timeout = int(timeout * 1000.0)
    if timeout < 0:
        timeout = -1
    sockets = []
    for sock in dict.fromkeys([*rlist, *wlist, *xlist]):
        flags = 0
        if sock in rlist:
            flags |= POLLIN
        if sock in wlist:
            flags |= POLLOUT
        if sock in xlist:
            flags |= POLLERR
        sockets.append((sock, flags))
    readable, writable, errors = [], [], []
    for sock, events in zmq_poll(sockets, timeout):
        if events & POLLIN:
            readable.append(sock)
        if events & POLLOUT:
            writable.append(sock)
        if events & POLLERR:
            errors.append(sock)
    return readable, writable, errors


__all__ = ["Poller", "select", "zmq_poll"]

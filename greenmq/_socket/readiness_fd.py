"""``ZMQ_FD``: an OS descriptor that becomes readable when a socket's readiness may have changed.

Event loops that know nothing of greenmq (a gevent io watcher, ``selectors``,
``select.poll``, another thread's loop) can wait for a socket through it, the
way libzmq's ``ZMQ_FD`` is used: wait until the descriptor is readable, read
``ZMQ_EVENTS``, act on what it says, wait again.

The contract is libzmq's edge-triggered one, made exact:

- Reading ``EVENTS`` resets the descriptor (it stops being readable) and
  *arms* each direction that ``EVENTS`` reported not ready. An armed
  direction signals -- makes the descriptor readable -- at its next real
  change: a message arriving into an empty inbound pipe, room appearing in a
  full outbound pipe, a peer arriving. So after ``EVENTS`` said "no POLLIN",
  a message that arrives is never missed; and a loop that wakes, reads
  ``EVENTS``, finds nothing and waits again sleeps until something happens.
- A direction that ``EVENTS`` reported ready is not armed: the application
  knows about it and is expected to consume it (receive until ``EAGAIN``, or
  until ``EVENTS`` stops saying ``POLLIN``). Waiting on the descriptor while
  messages are left unread waits for the next change, as with libzmq.
- ``recv``/``send`` with ``NOBLOCK`` that raise ``EAGAIN`` (and an
  ``RCVTIMEO``/``SNDTIMEO`` that expires) count as reading ``EVENTS``: the
  application has seen the socket's state (libzmq drains its mailbox on that
  path too), so a loop that receives until ``EAGAIN`` and waits again
  sleeps. If the direction that raised became ready in between, the socket
  signals at once.
- Closing the socket, or terminating its context, makes the descriptor
  readable, so that a waiter wakes and finds ``ENOTSOCK``/``ETERM`` on
  ``EVENTS``. A closed socket's descriptor is closed, by the owning thread's
  loop (whose io watchers must see it readable first), whichever thread
  closes the socket.

The descriptor is an ``eventfd`` where the OS has one, else a pipe. Signals
come from whichever thread wrote into the socket's pipe (inproc peers may
live in other threads), so the armed flags and the "signalled" state are
kept under a lock; writing to the descriptor is thread-safe in itself.
"""

from __future__ import annotations

import os
from typing import Any

from gevent import monkey
from gevent.hub import Hub

from ..constants import PollEvent

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
_BOTH = POLLIN | POLLOUT

# A real lock and the real thread identity even under gevent.monkey: signals come from other OS threads.
_allocate_lock = monkey.get_original("_thread", "allocate_lock")
_thread_ident = monkey.get_original("_thread", "get_ident")


def _open() -> tuple[int, int]:
    """(read end, write end): one non-blocking, close-on-exec eventfd, or a pipe."""
    eventfd = getattr(os, "eventfd", None)
    if eventfd is not None:
        fd = eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        return fd, fd
    read_end, write_end = os.pipe()
    for fd in (read_end, write_end):
        os.set_blocking(fd, False)
    return read_end, write_end


class ReadinessFd:
    """The descriptor behind ``ZMQ_FD`` and its armed directions (see the module docstring)."""

    __slots__ = ("fileno", "_hub", "_write_end", "_lock", "_armed", "_signalled", "_closed")

    def __init__(self, hub: Hub) -> None:
        """``hub``: the owning socket's, whose loop closes the descriptor."""
        self.fileno, self._write_end = _open()
        self._hub = hub
        self._lock: Any = _allocate_lock()
        self._armed = _BOTH  # the directions whose next change signals
        self._signalled = False  # whether the descriptor is readable now
        self._closed = False

    # -- the socket's side ----------------------------------------------------------

    def changed(self, direction: int) -> None:
        """``direction`` (POLLIN or POLLOUT) may have become ready: signal if it is armed.

        Called on the wake-up path from any thread; an unarmed direction costs
        one attribute test and no lock.
        """
        if self._armed & direction:
            with self._lock:
                if self._armed & direction:
                    self._armed &= ~direction
                    self._signal()

    def signal(self) -> None:
        """Make the descriptor readable whatever is armed (close, termination, a missed race)."""
        with self._lock:
            self._signal()

    def reset(self) -> None:
        """``EVENTS`` is being read (or ``EAGAIN`` raised): stop being readable and arm both
        directions; the caller then computes the events and hands them to :meth:`seen`."""
        with self._lock:
            self._armed = _BOTH
            if self._signalled:
                self._signalled = False
                self._drain()

    def seen(self, events: int) -> None:
        """``EVENTS`` reported ``events``: those directions are known ready, not armed."""
        with self._lock:
            self._armed &= ~events

    def close_after_signal(self) -> None:
        """The socket closed: make the descriptor readable, then close it.

        An io watcher of the owner's loop must see the descriptor readable,
        and a waiter woken by it must have stopped its watcher, before the
        descriptor is closed: libev aborts the process when a watcher of a
        closed descriptor changes. So the close waits two turns of the owner's
        loop, in a check watcher (which runs after the loop has polled and
        delivered the events): the first turn delivers the readiness, the
        second finds the waiters done. ``loop.closing_fd`` is not used: with
        gevent 26.9 it leaves the loop blocked in its next poll, so callbacks
        scheduled meanwhile (a woken greenlet's links) wait for an unrelated
        event. Only the owner's thread may touch its loop; closed from another
        thread, the whole step is handed to it.
        """
        self.signal()
        if self._hub.thread_ident == _thread_ident():
            self._close_from_owner_loop()
        else:
            loop: Any = self._hub.loop
            loop.run_callback_threadsafe(self._close_from_owner_loop)

    def _close_from_owner_loop(self) -> None:
        check: Any = self._hub.loop.check()
        turns = [0]

        def close_on_the_second_turn() -> None:
            turns[0] += 1
            if turns[0] < 2:
                return
            check.stop()
            check.close()
            self.close()

        check.start(close_on_the_second_turn)

    def close(self) -> None:
        """Close the descriptor (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        os.close(self.fileno)
        if self._write_end != self.fileno:
            os.close(self._write_end)

    # -- the descriptor -------------------------------------------------------------

    def _signal(self) -> None:
        if self._signalled or self._closed:
            return
        self._signalled = True
        try:
            os.write(self._write_end, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except BlockingIOError:  # pragma: no cover - a full pipe is readable already
            pass

    def _drain(self) -> None:
        try:
            while os.read(self.fileno, 4096):
                pass
        except BlockingIOError:
            pass

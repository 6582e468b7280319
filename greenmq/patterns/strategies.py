"""Routing strategies shared by socket types (libzmq's ``lb``, ``fq`` and ``dist``).

Each works on :class:`~greenmq._pipe.Pipe` objects through their methods and
never blocks: it answers "sent"/"received" or "not now", and the socket
decides whether and how long to wait.

``over_hwm`` is how the end of a multipart message is sent: its room was
secured when its first frame was sent (that is where a send waits or fails
with EAGAIN, as in libzmq), so the whole message is queued now even if
another sender filled the pipes in between, or dropped if its peer has gone.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from typing import Any, Callable
from collections.abc import Iterable

from .._pipe import Pipe, write_each


class LoadBalancer:
    """Round-robin outgoing messages over the pipes that have room (PUSH, DEALER, REQ).

    ``last`` is the pipe of the latest message sent (REQ expects its reply
    from there). ``_only`` is the pipe when there is exactly one, the common
    case, which then skips the turn-taking.
    """

    __slots__ = ("pipes", "_next", "last", "_only")

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []
        self._next = 0
        self.last: Pipe | None = None
        self._only: Pipe | None = None

    def attach(self, pipe: Pipe) -> None:
        self.pipes.append(pipe)
        self._only = self.pipes[0] if len(self.pipes) == 1 else None

    def detach(self, pipe: Pipe) -> None:
        try:
            index = self.pipes.index(pipe)
        except ValueError:
            return
        del self.pipes[index]
        self._only = self.pipes[0] if len(self.pipes) == 1 else None
        if index < self._next:
            self._next -= 1
        if self._next >= len(self.pipes):
            self._next = 0

    def send(self, msg: Any, over_hwm: bool = False) -> bool:
        """Queue ``msg`` on the next pipe with room; False if every pipe is full (or none exists)."""
        pipe = self._only
        if pipe is not None:
            if pipe.try_write(msg):
                self.last = pipe
                return True
        else:
            pipes = self.pipes
            count = len(pipes)
            index = self._next
            for _ in range(count):
                pipe = pipes[index]
                index += 1
                if index == count:
                    index = 0
                if pipe.try_write(msg):
                    self._next = index
                    self.last = pipe
                    return True
        if not over_hwm:
            return False
        pipes = self.pipes
        if pipes:
            pipe = pipes[self._next]
            self._next = (self._next + 1) % len(pipes)
            pipe.write(msg)
            self.last = pipe
        return True  # with no pipe left, the message is dropped, as libzmq drops the rest of one

    def can_send(self) -> bool:
        return any(pipe.has_room() for pipe in self.pipes)


class FairQueue:
    """Take incoming messages from each pipe in turn (PULL, DEALER, ROUTER ...).

    Only pipes with messages take turns, as in libzmq's ``fq``: the queue
    puts its own wake-up in front of each pipe's (``activate``), so a pipe
    joins the line of active pipes when a message reaches it while the queue
    thought it empty, and leaves the line when it has been emptied. A receive
    therefore costs the same with ten thousand quiet peers as with one; a
    scan over every pipe made a busy ROUTER's receive grow with its number of
    clients. Pipes are served in the order their messages arrived, one
    message per turn.

    A pipe may stand in the line twice for a moment (an inproc writer in
    another thread woke it while the reader saw its message anyway); its
    second turn then finds it empty and drops out. A pipe whose writer has
    gone is kept until it has been drained, so that messages a peer sent
    before disconnecting are still delivered. ``last`` is the pipe of the
    latest message (REQ checks its reply came from the peer it asked; a
    received message's peer is found there). ``_only`` is the pipe when there
    is exactly one, the common case, which then skips the line.
    """

    __slots__ = ("pipes", "_active", "last", "_only")

    def __init__(self) -> None:
        # Each pipe, in the order attached, with the wake-up it had before ours.
        self.pipes: dict[Pipe, Callable[[], None]] = {}
        self._active: deque[Pipe] = deque()
        self.last: Pipe | None = None
        self._only: Pipe | None = None

    def attach(self, pipe: Pipe) -> None:
        if pipe in self.pipes:
            return
        pipes = self.pipes
        pipes[pipe] = pipe.redirect_reader_wakeup(partial(self._activate, pipe))
        if len(pipes) == 1:
            self._only = pipe
            return
        self._only = None
        # Now in line: the pipes already holding messages (after _only is cleared, so that a
        # message written meanwhile from another thread is announced to the line, if not seen here).
        for candidate in (pipes if len(pipes) == 2 else (pipe,)):
            if len(candidate) or candidate.writer_closed:
                self._active.append(candidate)

    def _activate(self, pipe: Pipe) -> None:
        """``pipe``'s wake-up: it has a message (or its writer closed); then the one it had."""
        wake = self.pipes.get(pipe)
        if wake is None:
            return  # detached meanwhile (by the socket's thread, while another one wrote)
        if self._only is None:
            self._active.append(pipe)
        wake()

    def detach(self, pipe: Pipe) -> None:
        pipes = self.pipes
        previous = pipes.pop(pipe, None)
        if previous is None:
            return
        pipe.redirect_reader_wakeup(previous)
        active = self._active
        if len(pipes) == 1:
            active.clear()
            self._only = next(iter(pipes))
            return
        self._only = None
        while pipe in active:
            active.remove(pipe)

    def recv(self) -> Any:
        """The next message in fair order, or None."""
        pipe = self._only
        if pipe is not None:
            msg = pipe.read()
            if msg is not None:
                self.last = pipe
                return msg
            if pipe.writer_closed:
                self.detach(pipe)
            return None
        active = self._active
        while active:
            pipe = active[0]
            msg = pipe.read()
            if msg is None:
                active.popleft()
                if pipe.writer_closed:
                    self.detach(pipe)
                    if self._only is not None:
                        return self.recv()  # one pipe left: it is read directly, not in line
                continue
            if pipe not in self.pipes:
                active.popleft()  # detached while a wake-up from another thread put it in line
                continue
            self.last = pipe
            if len(pipe):
                active.rotate(-1)  # to the back of the line
            else:
                active.popleft()  # out of the line until its next message
                if pipe.writer_closed:
                    self.detach(pipe)
            return msg
        return None

    def can_recv(self) -> bool:
        pipe = self._only
        if pipe is not None:
            return len(pipe) > 0
        # A copy: a wake-up from another thread may add to the line meanwhile.
        return any(len(pipe) for pipe in list(self._active))


class Distributor:
    """Fan-out: one message to many pipes (PUB, XPUB, XSUB; libzmq's ``dist``).

    A pipe without room misses the message; the others all get it. The loop
    over the pipes is :func:`greenmq._pipe.write_each`, which also encodes
    the message once for every pipe that takes wire bytes.
    """

    __slots__ = ("pipes",)

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []

    def attach(self, pipe: Pipe) -> None:
        self.pipes.append(pipe)

    def detach(self, pipe: Pipe) -> None:
        if pipe in self.pipes:
            self.pipes.remove(pipe)

    # send_to(msg, pipes, over_hwm=False): queue msg on each of pipes with room (on all with over_hwm).
    send_to = staticmethod(write_each)

    @staticmethod
    def all_have_room(pipes: Iterable[Pipe]) -> bool:
        return all(pipe.has_room() for pipe in pipes)

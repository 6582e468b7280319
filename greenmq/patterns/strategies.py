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

from typing import Any
from collections.abc import Iterable

from .._pipe import Pipe, write_each


class _PipeRing:
    """Pipes visited in turn: the bookkeeping the load balancer and the fair queue share.

    ``last`` is the pipe of the latest message sent or received (REQ expects
    its reply from where it sent; a received message's peer is found there).
    ``_only`` is the pipe when there is exactly one, the common case, which
    then skips the turn-taking.
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


class LoadBalancer(_PipeRing):
    """Round-robin outgoing messages over the pipes that have room (PUSH, DEALER, REQ)."""

    __slots__ = ()

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


class FairQueue(_PipeRing):
    """Take incoming messages from each pipe in turn (PULL, DEALER, ROUTER ...).

    A pipe whose writer has gone is kept until it has been drained, so that
    messages a peer sent before disconnecting are still delivered.
    """

    __slots__ = ()

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
        pipes = self.pipes
        count = len(pipes)
        index = self._next
        finished = None
        for _ in range(count):
            pipe = pipes[index]
            index += 1
            if index == count:
                index = 0
            msg = pipe.read()
            if msg is not None:
                self._next = index
                self.last = pipe
                if finished:
                    self._drop(finished)
                return msg
            if pipe.writer_closed:
                finished = finished or []
                finished.append(pipe)
        if finished:
            self._drop(finished)
        return None

    def _drop(self, finished: list[Pipe]) -> None:
        for pipe in finished:
            self.detach(pipe)

    def can_recv(self) -> bool:
        return any(len(pipe) for pipe in self.pipes)


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

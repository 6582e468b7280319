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
from typing import Any
from collections.abc import Iterable

from .._pipe import Pipe, write_each


def recv_each(recv: Any, limit: int) -> list[Any]:
    """Up to ``limit`` messages from ``recv`` one at a time, until it returns None. The
    one-by-one form of ``recv_many``."""
    taken: list[Any] = []
    while len(taken) < limit:
        msg = recv()
        if msg is None:
            break
        taken.append(msg)
    return taken


def send_each(send: Any, messages: Iterable[Any]) -> int:
    """Queue ``messages`` with ``send`` one at a time until one finds no room (``send`` returns a
    false value); returns how many were queued. The one-by-one form of ``send_many``."""
    count = 0
    for msg in messages:
        if not send(msg):
            break
        count += 1
    return count


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

    def room(self, limit: int) -> int:
        """How many of ``limit`` messages :meth:`send` would queue now, over all pipes
        (0: none, and every pipe wakes the writer once it has room)."""
        pipe = self._only
        if pipe is not None:
            return pipe.room(limit)
        total = 0
        for pipe in self.pipes:
            total += pipe.room(limit - total)
            if total >= limit:
                return limit
        return total

    def send_many(self, messages: Any) -> int:
        """Queue ``messages`` (no more than :meth:`room` allowed), in turn as :meth:`send`
        would; the reader of a pipe is woken once. Returns how many were queued."""
        pipe = self._only
        if pipe is not None:
            pipe.write_batch(messages)
            self.last = pipe
            return len(messages)
        return send_each(self.send, messages)


class FairQueue:
    """Take incoming messages from each pipe in turn (PULL, DEALER, ROUTER ...).

    Only pipes with messages take turns, as in libzmq's ``fq``: each pipe
    joins the queue's line of active pipes when a message reaches it while
    the queue had emptied it (:meth:`Pipe.stand_in_line`), and leaves the
    line when it has been emptied. A receive therefore costs the same with
    ten thousand quiet peers as with one; a scan over every pipe made a busy
    ROUTER's receive grow with its number of clients. Pipes are served in the
    order their messages arrived, one message per turn.

    A pipe may stand in the line twice for a moment (an inproc writer in
    another thread announced it while the reader saw its message anyway); its
    second turn then finds it empty and it drops out. A pipe whose writer has
    gone is kept until it has been drained, so that messages a peer sent
    before disconnecting are still delivered. ``last`` is the pipe of the
    latest message (REQ checks its reply came from the peer it asked; a
    received message's peer is found there). ``_only`` is the pipe when there
    is exactly one, the common case, which is then read directly, without
    the line.
    """

    __slots__ = ("pipes", "_active", "last", "_only")

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []
        self._active: deque[Pipe] = deque()
        self.last: Pipe | None = None
        self._only: Pipe | None = None

    def attach(self, pipe: Pipe) -> None:
        pipes = self.pipes
        pipes.append(pipe)
        if len(pipes) == 1:
            self._only = pipe
            return
        self._only = None
        # The pipes that hold messages already go in line, after they were told to stand in it:
        # one written meanwhile from another thread is then either seen here or announced.
        joining = pipes if len(pipes) == 2 else (pipe,)
        active = self._active
        for candidate in joining:
            candidate.stand_in_line(active)
        for candidate in joining:
            if len(candidate) or candidate.writer_closed:
                active.append(candidate)

    def detach(self, pipe: Pipe) -> None:
        pipes = self.pipes
        try:
            pipes.remove(pipe)
        except ValueError:
            return  # detached already
        pipe.stand_in_line(None)
        active = self._active
        if len(pipes) == 1:
            only = self._only = pipes[0]
            only.stand_in_line(None)
            active.clear()
            return
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
            self.last = pipe
            # Whether it still has messages, asked after the read (which told the pipe it
            # was emptied, if it was): a message written after that announces itself.
            if len(pipe):
                active.rotate(-1)  # to the back of the line
            else:
                active.popleft()  # out of the line until its next message
                if pipe.writer_closed:
                    self.detach(pipe)
            return msg
        return None

    def recv_many(self, limit: int) -> Any:
        """Up to ``limit`` messages in the order :meth:`recv` would return them (a sequence,
        perhaps empty). One pipe is emptied in one step; several take turns message by message."""
        pipe = self._only
        if pipe is not None:
            taken = pipe.read_many(limit)
            if taken:
                self.last = pipe
            elif pipe.writer_closed:
                self.detach(pipe)
            return taken
        return recv_each(self.recv, limit)

    def can_recv(self) -> bool:
        pipe = self._only
        if pipe is not None:
            return len(pipe) > 0
        # A copy: a pipe written from another thread may join the line meanwhile.
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

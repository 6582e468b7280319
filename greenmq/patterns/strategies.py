"""Routing strategies shared by socket types (libzmq's ``lb``, ``fq``).

Each works on :class:`~greenmq.pipe.Pipe` objects and never blocks: it
answers "sent"/"received" or "not now", and the socket decides whether and how
long to wait.
"""


class LoadBalancer:
    """Round-robin outgoing messages over the pipes that have room (PUSH, DEALER, REQ)."""

    __slots__ = ("pipes", "_next")

    def __init__(self):
        self.pipes = []
        self._next = 0

    def attach(self, pipe):
        self.pipes.append(pipe)

    def detach(self, pipe):
        try:
            index = self.pipes.index(pipe)
        except ValueError:
            return
        del self.pipes[index]
        if index < self._next:
            self._next -= 1
        if self._next >= len(self.pipes):
            self._next = 0

    def send(self, msg):
        """Queue ``msg`` on the next pipe with room; False if every pipe is full (or none exists)."""
        pipes = self.pipes
        count = len(pipes)
        start = self._next
        for offset in range(count):
            index = (start + offset) % count
            pipe = pipes[index]
            if pipe.can_write():
                pipe.write(msg)
                self._next = index + 1 if index + 1 < count else 0
                return True
        return False

    def can_send(self):
        return any(pipe.hwm <= 0 or len(pipe) < pipe.hwm for pipe in self.pipes)


class FairQueue:
    """Take incoming messages from each pipe in turn (PULL, DEALER, ROUTER ...).

    A pipe whose writer has gone is kept until it has been drained, so that
    messages a peer sent before disconnecting are still delivered.
    """

    __slots__ = ("pipes", "_next")

    def __init__(self):
        self.pipes = []
        self._next = 0

    def attach(self, pipe):
        self.pipes.append(pipe)

    def detach(self, pipe):
        try:
            index = self.pipes.index(pipe)
        except ValueError:
            return
        del self.pipes[index]
        if index < self._next:
            self._next -= 1
        if self._next >= len(self.pipes):
            self._next = 0

    def recv(self):
        """The next message in fair order, or None."""
        pipes = self.pipes
        count = len(pipes)
        if count == 1:
            pipe = pipes[0]
            msg = pipe.read()
            if msg is None and pipe.writer_closed:
                self.detach(pipe)
            return msg
        start = self._next
        finished = None
        for offset in range(count):
            index = (start + offset) % count
            pipe = pipes[index]
            msg = pipe.read()
            if msg is not None:
                self._next = index + 1 if index + 1 < count else 0
                return msg
            if pipe.writer_closed:
                finished = finished or []
                finished.append(pipe)
        if finished:
            for pipe in finished:
                self.detach(pipe)
        return None

    def can_recv(self):
        return any(pipe.queue for pipe in self.pipes)

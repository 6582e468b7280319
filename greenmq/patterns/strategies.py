"""Routing strategies shared by socket types (libzmq's ``lb``, ``fq``).

Each works on :class:`~greenmq.pipe.Pipe` objects and never blocks: it
answers "sent"/"received" or "not now", and the socket decides whether and how
long to wait.
"""


class _PipeRing:
    """Pipes visited in turn: the bookkeeping both strategies share.

    ``last`` is the pipe of the latest message sent or received (REQ expects
    its reply from where it sent; a received message's peer is found there).
    """

    __slots__ = ("pipes", "_next", "last")

    def __init__(self):
        self.pipes = []
        self._next = 0
        self.last = None

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


class LoadBalancer(_PipeRing):
    """Round-robin outgoing messages over the pipes that have room (PUSH, DEALER, REQ)."""

    __slots__ = ()

    def send(self, msg):
        """Queue ``msg`` on the next pipe with room; False if every pipe is full (or none exists).

        The pipe's ``can_write``/``write`` are inlined: this runs once per message.
        """
        pipes = self.pipes
        count = len(pipes)
        if count == 1:
            pipe = pipes[0]
            queue = pipe.queue
            hwm = pipe.hwm
            if hwm <= 0 or len(queue) < hwm:
                queue.append(msg)
                if len(queue) == 1:
                    pipe.wake_reader()
                self.last = pipe
                return True
            pipe.writer_blocked = True
            return False
        index = self._next
        for _ in range(count):
            pipe = pipes[index]
            queue = pipe.queue
            hwm = pipe.hwm
            index += 1
            if index == count:
                index = 0
            if hwm <= 0 or len(queue) < hwm:
                queue.append(msg)
                if len(queue) == 1:
                    pipe.wake_reader()
                self._next = index
                self.last = pipe
                return True
            pipe.writer_blocked = True
        return False

    def can_send(self):
        return any(pipe.hwm <= 0 or len(pipe) < pipe.hwm for pipe in self.pipes)


class FairQueue(_PipeRing):
    """Take incoming messages from each pipe in turn (PULL, DEALER, ROUTER ...).

    A pipe whose writer has gone is kept until it has been drained, so that
    messages a peer sent before disconnecting are still delivered.
    """

    __slots__ = ()

    def recv(self):
        """The next message in fair order, or None. (Pipe.read is inlined: once per message.)"""
        pipes = self.pipes
        count = len(pipes)
        if count == 1:
            pipe = pipes[0]
            queue = pipe.queue
            if queue:
                msg = queue.popleft()
                if pipe.writer_blocked and len(queue) <= pipe.lwm:
                    pipe.writer_blocked = False
                    pipe.wake_writer()
                self.last = pipe
                return msg
            if pipe.writer_closed:
                self.detach(pipe)
            return None
        index = self._next
        finished = None
        for _ in range(count):
            pipe = pipes[index]
            queue = pipe.queue
            index += 1
            if index == count:
                index = 0
            if queue:
                msg = queue.popleft()
                if pipe.writer_blocked and len(queue) <= pipe.lwm:
                    pipe.writer_blocked = False
                    pipe.wake_writer()
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

    def _drop(self, finished):
        for pipe in finished:
            self.detach(pipe)

    def can_recv(self):
        return any(pipe.queue for pipe in self.pipes)

"""The sending half of a ZMTP connection: the socket's outbound pipe to the OS socket.

Like the reader, the writer is not a greenlet. When the outbound pipe goes
non-empty (or the protocol has something to say: a PONG, a PING) it
schedules one flush on the hub; the flush takes every queued message at
once, encodes the batch and writes it with non-blocking system calls --
small frames joined into one buffer, frames of 64 KiB and more written from
their own buffer, several buffers in one ``writev``. What the kernel does
not take at once waits for a write watcher on the descriptor, which resumes
the flush. A busy connection so costs a hub callback per batch, not two
greenlet switches, and an idle one no greenlet at all.

On an idle connection a lone small message is sent straight from the
sending greenlet instead (:meth:`ZmtpWriter.outbound_ready`): one
non-blocking system call instead of a hub callback, which is most of a
round trip's cost.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable

import gevent

from .._pipe import Pipe
from ..zmtp import Connection

# Largest message outbound_ready sends directly from the sending greenlet.
DIRECT_LIMIT = 8192
# Small chunks are joined into buffers of up to this size.
JOIN_LIMIT = 1 << 20
# Buffers handed to one writev (the kernel's IOV_MAX is 1024).
WRITEV_MAX = 64
_WRITE = 2  # libev's EV_WRITE


def _ignore() -> None:
    pass


class ZmtpWriter:
    """Drains one peer's outbound pipe into one OS socket (see the module docstring).

    ``on_flushed`` is called when everything queued has been written after
    :meth:`close` (LINGER). After a write error the writer stops writing: the
    reader meets the same failure and reports it.
    """

    def __init__(self, sock: Any, conn: Connection, outbound: Pipe | None,
                 on_flushed: Callable[[], None] = _ignore):
        self._fd = sock.fileno()
        self._conn = conn
        self._outbound = outbound
        # A WirePipe's messages are already encoded: the writer only joins them.
        self._preencoded = outbound is not None and outbound.carries_wire
        self._join_encoded = conn.join_encoded  # b"".join, but for a ZMTP 1.0 peer
        self._on_flushed = on_flushed
        self._loop = gevent.get_hub().loop
        self._watcher: Any = self._loop.io(self._fd, _WRITE)
        self._scheduled: Any = None  # the pending flush callback
        self._unsent: deque[Any] = deque()  # encoded buffers the kernel has not taken yet
        # A big batch's encoded chunks, joined into _unsent piece by piece (see _join_next).
        self._encoded: list[Any] = []
        self._encoded_index = 0
        self._direct_iteration = -1  # the hub loop iteration of the latest direct write
        self._stopped = False
        self._flushing = False  # a flush is running (a sender it woke may run inside it)
        self.closing = False

    # -- what the engine tells the writer ---------------------------------------

    def outbound_ready(self) -> None:
        """The outbound pipe went non-empty; runs in the sending greenlet.

        A lone small message on an idle connection goes out at once with one
        non-blocking system call. That happens at most once per hub loop
        iteration, so a tight send loop still has its messages batched by a
        flush. Whatever the kernel does not take at once is left for the
        flush, which sends it first.
        """
        outbound = self._outbound
        iteration = self._loop.iteration
        if (outbound is None or self._preencoded or self._scheduled is not None or self._unsent
                or self._flushing or self._stopped or iteration == self._direct_iteration):
            # A publisher's fan-out batches instead: a lone direct write per loop
            # iteration would cost every subscriber connection an extra segment.
            self.wake()
            return
        msg = outbound.peek()
        if msg.__class__ is bytes:
            size = len(msg)
        elif msg.__class__ is list:
            size = 0
            for frame in msg:
                size += len(frame)
        else:
            size = DIRECT_LIMIT + 1  # a Subscription: left to the flush
        if size > DIRECT_LIMIT:
            self.wake()
            return
        msg = outbound.take_single()
        if msg is None:  # more than one queued: batched by a flush
            self.wake()
            return
        self._direct_iteration = iteration
        data = self._conn.encode_message(msg)
        try:
            sent = os.write(self._fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._stopped = True  # the reader meets the same failure and reports it
            return
        if sent < len(data):
            self._unsent.append(memoryview(data)[sent:])
            self.wake()

    def wake(self) -> None:
        """Something to write (queued messages, protocol output, closing): flush on the hub soon."""
        if not self._stopped and self._scheduled is None and not self._watcher.active:
            self._scheduled = self._loop.run_callback(self._flush)

    def close(self) -> None:
        """Stop once everything queued has been written (``on_flushed`` then)."""
        self.closing = True
        self.wake()

    def stop(self) -> None:
        """The connection is closing now: write nothing more."""
        self._stopped = True
        if self._scheduled is not None:
            self._scheduled.stop()
            self._scheduled = None
        self._watcher.stop()
        self._watcher.close()
        self._unsent.clear()
        self._encoded = []

    @property
    def busy(self) -> bool:
        """Something is written, or waits to be, that the outbound pipe no longer holds."""
        return not self._stopped and (self._scheduled is not None or bool(self._unsent) or bool(self._encoded))

    # -- the flush, in the hub ---------------------------------------------------

    def _flush(self) -> None:
        """Write until everything is out or the kernel's buffer is full (then the write
        watcher calls back). Runs in the hub: nothing may escape.

        Taking the batch can wake a sender that waited for room, and that
        sender runs at once, inside this flush: ``_flushing`` makes it queue
        behind the batch (no direct write may overtake it).
        """
        self._scheduled = None
        if self._stopped:
            return
        self._flushing = True
        try:
            self._write_all()
        finally:
            self._flushing = False

    def _write_all(self) -> None:
        unsent = self._unsent
        try:
            while True:
                if not unsent and not self._collect():
                    break
                count = len(unsent)
                if count == 1:
                    written = os.write(self._fd, unsent[0])
                else:
                    written = os.writev(self._fd, [unsent[i] for i in range(min(count, WRITEV_MAX))])
                if not self._consume(written):
                    self._watcher.start(self._flush)  # the kernel is full: wait until it takes more
                    return
        except BlockingIOError:
            self._watcher.start(self._flush)
            return
        except OSError:
            self._stopped = True  # the reader meets the same failure and reports it
            unsent.clear()
            self._watcher.stop()
            return
        self._watcher.stop()
        if self.closing:
            self._stopped = True
            self._on_flushed()

    def _consume(self, written: int) -> bool:
        """Drop ``written`` bytes from the front of the unsent buffers; True if all went."""
        unsent = self._unsent
        while written:
            head = unsent[0]
            size = len(head)
            if written < size:
                unsent[0] = memoryview(head)[written:]
                return False
            unsent.popleft()
            written -= size
        return not unsent

    def _collect(self) -> bool:
        """Refill the (empty) unsent buffers: the next piece of a big batch; else protocol
        output and every queued message, encoded. Protocol output goes only between
        batches, never into the middle of a message."""
        if self._encoded:
            self._join_next()
            return True
        conn = self._conn
        unsent = self._unsent
        if conn.has_output:
            unsent.append(conn.data_to_send())
        outbound = self._outbound
        if outbound is not None and len(outbound):
            batch = outbound.read_all()
            if self._preencoded:
                unsent.append(self._join_encoded(batch))  # already encoded (see greenmq._pipe.WirePipe)
            else:
                self._encode(batch)
                if self._encoded:
                    self._join_next()
        return bool(unsent)

    def _encode(self, batch: Any) -> None:
        """Encode ``batch``: a batch of at most JOIN_LIMIT small frames becomes one buffer at
        once; a bigger one is kept as chunks that ``_join_next`` joins piece by piece."""
        chunks: list = []
        total, large_count = self._conn.encode_messages(batch, chunks)
        if total <= JOIN_LIMIT and not large_count:
            self._unsent.append(b"".join(chunks))
            return
        self._encoded = chunks
        self._encoded_index = 0

    def _join_next(self) -> None:
        """The next piece of a big batch into the unsent buffers: small chunks joined up to
        JOIN_LIMIT, or one large body as it is (never copied).

        One piece at a time, joined only when the previous one has been written: a
        batch of many megabytes would otherwise be joined into that many fresh
        buffers at once, which glibc gives back to the system when they are freed
        and must fault in again for the next batch -- that dominated the cost of
        sending 4 KiB messages.
        """
        chunks = self._encoded
        index = self._encoded_index
        count = len(chunks)
        first = chunks[index]
        if type(first) is memoryview:
            self._unsent.append(first)
            index += 1
        else:
            end = index
            size = 0
            while end < count and size < JOIN_LIMIT:
                chunk = chunks[end]
                if type(chunk) is memoryview:
                    break
                size += len(chunk)
                end += 1
            self._unsent.append(b"".join(chunks[index:end]))
            index = end
        if index >= count:
            self._encoded = []
            index = 0
        self._encoded_index = index

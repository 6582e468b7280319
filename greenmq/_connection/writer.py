"""The sending half of a ZMTP connection: the socket's outbound pipe to the OS socket.

A writer greenlet sleeps until the outbound pipe goes non-empty (or the
protocol has something to say: a PONG, a PING), then takes every queued
message at once and writes them with as few system calls as it can; frames
of 64 KiB and more are written from their own buffer, never copied into a
joined one.

On an idle connection a lone small message is sent straight from the
sending greenlet instead (:meth:`ZmtpWriter.outbound_ready`): one
non-blocking system call instead of an event, a hub callback and a switch
into the writer, which is most of a round trip's cost.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import gevent
from gevent import GreenletExit
from gevent.event import Event

from .._pipe import Pipe
from ..zmtp import ZmtpConnection

# Largest message outbound_ready sends directly from the sending greenlet.
DIRECT_LIMIT = 8192
# Batches up to this size are joined into one buffer for one send.
JOIN_LIMIT = 1 << 20


def _ignore() -> None:
    pass


class ZmtpWriter:
    """Drains one peer's outbound pipe into one OS socket (see the module docstring).

    ``on_flushed`` is called when the writer stops after flushing a closing
    connection (LINGER).
    """

    def __init__(self, sock: Any, conn: ZmtpConnection, outbound: Pipe | None,
                 on_flushed: Callable[[], None] = _ignore):
        self._sock = sock
        self._fd = sock.fileno()
        self._conn = conn
        self._outbound = outbound
        # A WirePipe's messages are already encoded: the writer only joins them.
        self._preencoded = outbound is not None and outbound.carries_wire
        self._on_flushed = on_flushed
        self._wake = Event()
        self._idle = False
        self._loop = gevent.get_hub().loop
        self._direct_iteration = -1  # the hub loop iteration of the latest direct write
        self._unsent: memoryview | None = None
        self.closing = False

    def wake(self) -> None:
        """Something to write: the protocol queued a command, or the connection is closing."""
        self._wake.set()

    def close(self) -> None:
        """Stop once everything queued has been written."""
        self.closing = True
        self._wake.set()

    def outbound_ready(self) -> None:
        """The outbound pipe went non-empty; runs in the sending greenlet.

        A lone small message on an idle connection goes out at once with one
        non-blocking system call. That happens at most once per hub loop
        iteration, so a tight send loop still has its messages batched by the
        writer. Whatever the kernel does not take at once is left for the
        writer, which sends it first.
        """
        outbound = self._outbound
        iteration = self._loop.iteration
        if outbound is None or self._preencoded or not self._idle or iteration == self._direct_iteration:
            # A publisher's fan-out batches instead: a lone direct write per loop
            # iteration would cost every subscriber connection an extra segment.
            self._wake.set()
            return
        msg = outbound.peek()
        if msg.__class__ is bytes:
            size = len(msg)
        elif msg.__class__ is list:
            size = 0
            for frame in msg:
                size += len(frame)
        else:
            size = DIRECT_LIMIT + 1  # a Subscription: left to the writer
        if size > DIRECT_LIMIT:
            self._wake.set()
            return
        msg = outbound.take_single()
        if msg is None:  # more than one queued: the writer batches them
            self._wake.set()
            return
        self._direct_iteration = iteration
        data = self._conn.encode_message(msg)
        try:
            sent = os.write(self._fd, data)
        except OSError:
            sent = 0  # EAGAIN, or an error the writer will meet and report
        if sent < len(data):
            self._unsent = memoryview(data)[sent:]
            self._wake.set()

    def run(self) -> None:
        """The writer greenlet: write until the connection fails, or until flushed once closing."""
        conn = self._conn
        sock = self._sock
        outbound = self._outbound
        wake = self._wake
        try:
            while True:
                if self._unsent is not None:
                    unsent, self._unsent = self._unsent, None
                    sock.sendall(unsent)
                if conn.has_output:
                    sock.sendall(conn.data_to_send())
                if outbound is None or not len(outbound):
                    if self.closing:
                        break
                    wake.clear()
                    if (outbound is None or not len(outbound)) and not conn.has_output and self._unsent is None:
                        self._idle = True
                        try:
                            wake.wait()
                        finally:
                            self._idle = False
                    continue
                self._write_batch(outbound.read_all())
        except OSError:
            pass  # the reader meets the same failure and reports it
        except GreenletExit:
            # Killed (the connection ends): end quietly. Letting the exception out would keep
            # it, and with its traceback the batch being written, in the greenlet's result --
            # and so keep zero-copy buffers held that greenmq has given up (their trackers).
            return
        if self.closing:
            self._on_flushed()

    def _write_batch(self, batch: Any) -> None:
        sendall = self._sock.sendall
        if self._preencoded:
            sendall(b"".join(batch))  # already encoded (see greenmq._pipe.WirePipe)
            return
        chunks: list = []
        total, large_count = self._conn.encode_messages(batch, chunks)
        if total <= JOIN_LIMIT and not large_count:
            sendall(b"".join(chunks))
            return
        pending: list = []
        pending_size = 0
        for chunk in chunks:
            if type(chunk) is memoryview:
                if pending:
                    sendall(b"".join(pending))
                    pending = []
                    pending_size = 0
                sendall(chunk)
                continue
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= JOIN_LIMIT:
                sendall(b"".join(pending))
                pending = []
                pending_size = 0
        if pending:
            sendall(b"".join(pending))

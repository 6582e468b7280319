"""stdin and stdout for commands that run on the gevent hub.

Reading stdin with ``sys.stdin`` would block the whole process -- the hub, and
with it every connection, handshake and heartbeat -- while a terminal or a pipe
has nothing to say. :func:`input_lines` waits for stdin to be readable on the
hub first, then reads what is there. The descriptor's blocking mode is left
alone: a terminal's stdin is shared with the shell.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from gevent.socket import wait_read

_CHUNK = 65536


def input_lines(fd: int | None = None) -> Iterator[bytes]:
    """The lines of ``fd`` (default: stdin), each without its newline, as they arrive.

    A last line without a newline is a line too; an empty input has none.
    """
    if fd is None:
        fd = sys.stdin.fileno()
    pending = b""
    while True:
        wait_read(fd)
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


def write_output(data: bytes) -> None:
    """Write to stdout at once: the reader is often a pipe that waits for each message."""
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def note(command: str, text: str) -> None:
    """A line for the user on stderr, ``greenmq COMMAND: text`` (stdout carries only messages)."""
    print(f"greenmq {command}: {text}", file=sys.stderr, flush=True)

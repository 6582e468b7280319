"""pyzmq's ``zmq.utils.win32``: ``allow_interrupt``, a Ctrl-C workaround for libzmq on Windows.

libzmq blocks inside C calls where Windows cannot deliver Ctrl-C to Python, so pyzmq lets a
program register an action that wakes its poll loop. greenmq's waits are on the gevent hub, and
greenmq targets POSIX systems, where pyzmq's ``allow_interrupt`` does nothing too: here it is
that no-op, so programs that wrap their loop in it run unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["allow_interrupt"]


class allow_interrupt:
    """Context manager kept for pyzmq compatibility; entering and leaving it do nothing.

    ``action`` (what pyzmq calls on Ctrl-C on Windows) is accepted and never called.
    """

    def __init__(self, action: Callable[[], Any] | None = None) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None

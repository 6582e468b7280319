"""pyzmq's ``zmq.utils.garbage``, for programs and tests that look at it.

pyzmq needs a collector: libzmq releases a zero-copy buffer in its own
thread, and a helper thread must then drop Python's reference to it and set
the tracker's event; ``gc.refs`` holds the buffers waiting for that. greenmq
holds such buffers as Python objects, which CPython frees as soon as greenmq
lets go (see :mod:`greenmq.frame`), so nothing ever waits here: ``gc.refs``
is always empty.
"""

from __future__ import annotations

from typing import Any


class GarbageCollector:
    """pyzmq's collector of zero-copy buffers; greenmq's has nothing to collect (module docstring)."""

    def __init__(self) -> None:
        self.refs: dict[Any, Any] = {}

    def is_alive(self) -> bool:
        """pyzmq's collector thread runs while buffers are shared; greenmq has none."""
        return False


gc = GarbageCollector()

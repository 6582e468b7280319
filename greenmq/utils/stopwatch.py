"""``zmq.Stopwatch``: a deprecated microsecond timer, kept because pyzmq 27 still exports it."""

from __future__ import annotations

import time
import warnings

__all__ = ["Stopwatch"]


class Stopwatch:
    """Measures microseconds from ``start()`` to ``stop()``.

    Deprecated, as in pyzmq (creating one warns): use ``time.monotonic()``. As in pyzmq 27,
    ``stop()`` before ``start()`` is no error; it measures from the monotonic clock's zero.
    """

    def __init__(self) -> None:
        warnings.warn("Stopwatch is deprecated (as zmq.Stopwatch is in pyzmq): measure with time.monotonic() instead",
                      DeprecationWarning, stacklevel=2)
        self._start = 0.0

    def start(self) -> None:
        """Start (or restart) the measurement."""
        self._start = time.monotonic()

    def stop(self) -> int:
        """Microseconds since ``start()``."""
        return int((time.monotonic() - self._start) * 1e6)

"""The progress line on stderr while the benchmark runs (a full run takes minutes).

Each run gets a position out of the planned total, ``[ 37/210]``.  On a
terminal the run about to start is shown on a status line that is rewritten
in place, and each finished run's line (its figures, or why it failed) is
printed above it, so nothing scrolls away but the status; elsewhere (a log, a
pipe) only the finished runs' lines appear, one per run, numbered the same way.
"""

from __future__ import annotations

import sys

CLEAR = "\r\x1b[K"  # back to the start of the line and erase it


class Progress:
    """Numbered run lines on ``stream``, with a live status line when it is a terminal."""

    def __init__(self, total, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.position = 0  # runs finished or passed over
        self._width = len(str(total))
        self._tty = self.stream.isatty()
        self._status_shown = False

    def _prefix(self):
        return f"[{min(self.position + 1, self.total):>{self._width}}/{self.total}]"

    def starting(self, what):
        """A run of ``what`` is about to start: shown on the status line (terminals only)."""
        if self._tty:
            self.stream.write(f"{CLEAR}{self._prefix()} {what} ...")
            self.stream.flush()
            self._status_shown = True

    def line(self, text):
        """A line that stays: a finished run, a calibration note, a skipped cell."""
        self.stream.write(f"{CLEAR if self._status_shown else ''}{self._prefix()} {text}\n")
        self.stream.flush()
        self._status_shown = False

    def advance(self, runs=1):
        """``runs`` planned runs are over (kept, or given up on): the next one gets the next number."""
        self.position += runs

    def close(self):
        """Leave the terminal's line empty for what is printed next."""
        if self._status_shown:
            self.stream.write(CLEAR)
            self.stream.flush()
            self._status_shown = False

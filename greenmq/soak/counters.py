"""A peer's counters in a small shared file, so that they outlive the peer.

A peer that the soak kills with SIGKILL cannot say goodbye; what it had
counted until then is exactly what the accounting needs (how many messages
a publisher sent before it died). So each peer process keeps its counters in
a file it maps into memory: every update lands in the page cache at once, the
coordinator reads the file while the peer runs and after it is gone, and no
message or pipe is involved. One 8-byte slot per figure; the round-trip
histogram is a run of slots with logarithmic buckets, which sum across
processes and incarnations (unlike percentiles).
"""

from __future__ import annotations

import math
import mmap
import os
import struct
from pathlib import Path

#: The figures a peer counts, by slot. Senders count ``sent``; receivers ``received``, ``duplicated``
#: (a sequence number not above the last one from that sender) and ``corrupt`` (a payload that does
#: not match its header); REQ clients ``sent`` (every attempt), ``received`` (good replies),
#: ``timeouts`` (attempts given up: lazy pirate) and ``corrupt`` (a reply that is not the echo).
FIELDS = ("sent", "received", "timeouts", "duplicated", "corrupt")
HIST_LOW = 1e-5  # seconds: the first bucket's upper edge (10 us)
HIST_RATIO = 1.1  # each bucket is 10 % wider than the one before: percentiles within 10 %
HIST_BUCKETS = 200  # up to HIST_LOW * 1.1**199, about 30 minutes; slower lands in the last bucket
_SLOT = struct.Struct("=Q")
SIZE = (len(FIELDS) + HIST_BUCKETS) * _SLOT.size


class Counters:
    """The counters of one peer incarnation, in the file at ``path`` (created zeroed if missing)."""

    def __init__(self, path: Path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self._slots = memoryview(self._map).cast("Q")

    def add(self, field: str, count: int = 1) -> None:
        self._slots[FIELDS.index(field)] += count

    def get(self, field: str) -> int:
        return int(self._slots[FIELDS.index(field)])

    def record_latency(self, seconds: float) -> None:
        self._slots[len(FIELDS) + bucket(seconds)] += 1

    def histogram(self) -> list[int]:
        return list(self._slots[len(FIELDS):])

    def snapshot(self) -> dict[str, int]:
        return {field: self.get(field) for field in FIELDS}

    def close(self) -> None:
        self._slots.release()
        self._map.close()


def bucket(seconds: float) -> int:
    """The histogram bucket of a round trip of ``seconds``."""
    if seconds <= HIST_LOW:
        return 0
    return min(HIST_BUCKETS - 1, math.ceil(math.log(seconds / HIST_LOW, HIST_RATIO)))


def bucket_top(index: int) -> float:
    """The upper edge of bucket ``index``, in seconds: what a percentile that lands in it reports."""
    return HIST_LOW * HIST_RATIO ** index


def percentile(histogram: list[int], percent: float) -> float | None:
    """The ``percent`` percentile (nearest rank) of the round trips in ``histogram``; None if it is empty."""
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(percent / 100 * total))
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return bucket_top(index)
    return bucket_top(len(histogram) - 1)  # not reached: the counts sum to total

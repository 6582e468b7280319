"""What a receiving peer makes of the sequence numbers it sees: firsts, gaps, duplicates.

Every stream message carries its sender's name and incarnation
(``pub-b#3``), a sequence number that starts at 0 in each incarnation, and
the time it was sent (``time.monotonic()``, which on Linux is one clock for
every process). The receiver reports at once, as events for the
coordinator, the first message it gets from each sender incarnation and
every gap between two messages it got; the coordinator decides from the
send times whether a peer was restarting then (:mod:`~greenmq.soak.accounting`).
Counting and event-making live here, apart from any socket, so that tests
can drive them with plain numbers.
"""

from __future__ import annotations

from typing import Callable

Event = dict


def encode(sender: str, seq: int, sent_at: float, size: int) -> bytes:
    """A stream message: a header line, then ``size`` bytes that repeat a value derived from ``seq``."""
    return f"{sender} {seq} {sent_at!r}\n".encode() + bytes((seq % 251,)) * size


def decode(message: bytes) -> tuple[str, int, float] | None:
    """(sender, seq, sent_at) of a message from :func:`encode`, or None if it is not one, or damaged."""
    head, newline, padding = message.partition(b"\n")
    fields = head.split(b" ")
    if not newline or len(fields) != 3:
        return None
    try:
        sender, seq, sent_at = fields[0].decode(), int(fields[1]), float(fields[2])
    except ValueError:
        return None
    if padding.count(seq % 251) != len(padding):
        return None
    return sender, seq, sent_at


class Tracker:
    """The receiving side's view of each sender incarnation: the last sequence number and its send time.

    ``emit`` gets ``first`` and ``gap`` events as they happen (the receiver
    prints them at once, so that even a receiver killed the next instant has
    told them). ``see`` returns how the message counted: ``"new"``,
    ``"duplicate"`` (a number at or below the last one: ZeroMQ never
    delivers one twice nor out of order, so it is an error) or ``"dropped"``
    (the self-test's deliberate loss, below).
    """

    def __init__(self, emit: Callable[[Event], None], drop_after: int | None = None):
        self._emit = emit
        self._last: dict[str, tuple[int, float]] = {}
        self._first: dict[str, int] = {}
        # Self-test only (GREENMQ_SOAK_SELFTEST_DROP, read by the peer): pretend that the message
        # ``drop_after`` numbers after the first one received from each sender incarnation never
        # arrived -- counted from the first one received, it falls after both ends have settled.
        self._drop_after = drop_after

    def see(self, sender: str, seq: int, sent_at: float) -> str:
        if self._drop_after is not None and sender in self._first and seq == self._first[sender] + self._drop_after:
            return "dropped"
        previous = self._last.get(sender)
        if previous is None:
            self._first[sender] = seq
            self._emit({"event": "first", "sender": sender, "seq": seq, "sent_at": sent_at})
        elif seq <= previous[0]:
            return "duplicate"
        elif seq > previous[0] + 1:
            self._emit({"event": "gap", "sender": sender, "after": previous[0], "before": seq,
                        "from": previous[1], "to": sent_at})
        self._last[sender] = (seq, sent_at)
        return "new"

    def last(self) -> dict[str, int]:
        """The last sequence number received from each sender incarnation (for the final report)."""
        return {sender: seq for sender, (seq, _) in self._last.items()}

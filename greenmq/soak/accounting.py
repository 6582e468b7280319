"""Which lost messages ZeroMQ's semantics allow, and which it does not.

Every peer start (the first, and each restart) opens a *window* for its
slot: from the moment the old process was killed (or the new one spawned)
until :data:`~greenmq.soak.plan.SETTLE` seconds after the new one said it
was ready, time enough to reconnect, finish a CURVE handshake and, for a
SUB, to get its subscription to the PUB. A message may go missing only in
one of three places, and each is judged by the windows of the two peers it
went between (its sender and its receiver):

* **head**: before the first message a receiver incarnation got from a
  sender incarnation. Allowed if that first message was sent inside a window
  of either peer: a SUB joining late, a PUB restarted, a PULL restarted
  (what sat in the old one's kernel buffer and pipe is gone).
* **gap**: between two messages one receiver incarnation got from one
  sender incarnation, so neither peer restarted in between. Allowed only if
  the interval in which the missing messages were sent overlaps a window of
  either peer; otherwise it is a loss while all were up.
* **tail**: after the last message a receiver incarnation got from a sender
  incarnation. During the run that means one of the two was stopped
  (allowed: in-flight messages die with their process). At the end the run
  stops all senders, waits for the receivers to catch up and asks each for
  the last number it got: every message missing then was lost while all
  were up.

A REQ client's request whose reply does not come in time is a lost message
(the request or its reply); allowed if the attempt overlaps a window of the
client or of the REP, unexplained otherwise. A client killed while waiting
loses that attempt too, allowed.

A peer can also stop making progress without losing anything it counted: a
receiver that hangs (and would later be killed, its tail excused) or a
sender blocked for good. :class:`StallWatch` flags a peer whose count has
not moved for longer than a restart could explain while no peer of its
pattern was in a window.

``lost`` is what was sent minus what arrived (exact: the counters outlive
SIGKILL); ``unexplained`` is the sum of the heads, gaps, tails and timeouts
that no window excuses; ``allowed`` is the rest.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass


def slot_of(incarnation: str) -> str:
    """``pub-b`` of ``pub-b#3``."""
    return incarnation.partition("#")[0]


@dataclass
class Tally:
    """One pattern's figures; for PUB/SUB ``sent`` counts each message once per subscriber slot."""

    sent: int
    received: int
    lost_allowed: int
    lost_unexplained: int
    duplicated: int = 0
    corrupt: int = 0
    timeouts: int = 0


class Windows:
    """Per slot, the times between a peer's stop (or spawn) and its settling after the next start."""

    def __init__(self) -> None:
        self._spans: dict[str, list[list[float]]] = defaultdict(list)

    def open(self, slot: str, at: float) -> None:
        self._spans[slot].append([at, math.inf])

    def close(self, slot: str, at: float) -> None:
        """The slot's open window ends at ``at`` (its peer's ready time plus the settling time)."""
        self._spans[slot][-1][1] = at

    def overlaps(self, slots: tuple[str, ...], start: float, end: float) -> bool:
        return any(span[0] <= end and start <= span[1] for slot in slots for span in self._spans[slot])

    def all_closed_by(self) -> float:
        """When the last window closes (inf while one is open; 0 if there are none)."""
        return max((spans[-1][1] for spans in self._spans.values() if spans), default=0.0)


class Ledger:
    """The events receivers and clients reported, judged against the windows when asked for a tally."""

    def __init__(self, links: dict[str, tuple[str, ...]]) -> None:
        self.windows = Windows()
        self._links = links  # a REQ client's slot -> the slot(s) it connects to
        self._events: list[tuple[str, dict]] = []  # (reporting slot, event), in arrival order
        self._end: dict[str, dict[str, int]] = {}  # receiver slot -> last seq per sender at the end

    def record(self, slot: str, event: dict) -> None:
        """A ``first``, ``gap`` or ``timeout`` event from the peer in ``slot``."""
        if event.get("event") in ("first", "gap", "timeout"):
            self._events.append((slot, event))

    def record_end(self, slot: str, last: dict[str, int]) -> None:
        """A receiver's ``final`` after the end of the run: the last number it got from each sender."""
        self._end[slot] = last

    def unexplained(self, pattern_slots: set[str], end_senders: dict[str, int] | None = None) -> int:
        """The messages lost while all were up, among those going between ``pattern_slots``.

        ``end_senders``, for the final tally, maps each sender incarnation still running at the end to
        how many messages it sent: what the receivers' last numbers fall short of is a tail loss.
        """
        seen: dict[tuple[str, str], int] = {}  # (sender incarnation, receiver slot) -> highest seq known
        total = 0
        for receiver, event in self._events:
            if receiver not in pattern_slots:
                continue
            kind = event["event"]
            if kind == "timeout":
                if not self.windows.overlaps((receiver, *self._links[receiver]), event["from"], event["to"]):
                    total += 1
                continue
            sender = event["sender"]
            ends = (slot_of(sender), receiver)
            key = (sender, receiver)
            if kind == "first":
                missing = event["seq"] - (seen.get(key, -1) + 1)
                if missing > 0 and not self.windows.overlaps(ends, event["sent_at"], event["sent_at"]):
                    total += missing
                seen[key] = max(seen.get(key, -1), event["seq"])
            else:
                if not self.windows.overlaps(ends, event["from"], event["to"]):
                    total += event["before"] - event["after"] - 1
                seen[key] = max(seen.get(key, -1), event["before"])
        for sender, sent in (end_senders or {}).items():
            for receiver, last in self._end.items():
                if receiver in pattern_slots:
                    got = last.get(sender, seen.get((sender, receiver), -1))
                    total += max(0, sent - 1 - got)
        return total


class StallWatch:
    """Notices a peer whose progress count (messages sent, or received) stands still while all are up."""

    def __init__(self, windows: Windows, limit: float):
        self._windows = windows
        self._limit = limit  # seconds without progress that no restart explains
        self._marks: dict[str, tuple[int, float, bool]] = {}  # peer -> (count, since when, reported)

    def observe(self, peer: str, slots: tuple[str, ...], count: int, now: float) -> str | None:
        """The peer's count now; a description of the stall the first time it is one, else None.

        ``slots`` are those whose windows excuse a pause (its pattern's: a SUB waits for its PUBs).
        """
        mark = self._marks.get(peer)
        if mark is None or mark[0] != count:
            self._marks[peer] = (count, now, False)
            return None
        _, since, reported = mark
        if reported or now - since <= self._limit or self._windows.overlaps(slots, since, now):
            return None
        self._marks[peer] = (count, since, True)
        return f"{peer} made no progress for {now - since:.0f} s while every peer of its pattern was up"

"""What a :class:`~greenmq.zmtp.ZmtpConnection` learned from the peer besides messages.

``ZmtpConnection.receive`` returns the messages that arrived;
``ZmtpConnection.take_events`` hands out everything else, in arrival order:
a peer's :class:`~greenmq.zmtp.framing.Subscription` (SUBSCRIBE or CANCEL),
its :class:`Ping` (whose TTL bounds how long it may stay silent) and its
:class:`Pong`. The engine acts on them; the connection keeps no state for it
to read back.
"""

from __future__ import annotations


class Ping:
    """The peer sent PING; ``ttl`` is its heartbeat TTL in tenths of a second (0: none)."""

    __slots__ = ("ttl",)

    def __init__(self, ttl: int):
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"Ping(ttl={self.ttl})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ping) and other.ttl == self.ttl

    __hash__ = None  # type: ignore[assignment]


class Pong:
    """The peer answered one of our PINGs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Pong()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pong)

    __hash__ = None  # type: ignore[assignment]

"""ZMTP heartbeats (RFC 37): PING every HEARTBEAT_IVL, and closing a connection gone silent.

A connection is closed when a PING goes unanswered for HEARTBEAT_TIMEOUT
(default: the interval), or when the peer's own PING promised a TTL and
that long passes in silence. Any traffic from the peer counts as an answer,
as in libzmq. A connection with heartbeats off still runs this loop when
the peer announces a TTL, to enforce it.
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import Any, Callable

import gevent

from ..zmtp import ZmtpConnection
from .reader import ZmtpReader

log = logging.getLogger("greenmq")


def run_heartbeat(options: Any, conn: ZmtpConnection, reader: ZmtpReader, wake_writer: Callable[[], None],
                  endpoint: str) -> None:
    """Ping and watch until the connection must close; return then (the caller closes it).

    The verdict is given only after the reader has had its turn: when a greenlet blocked the
    hub (libzmq's I/O thread has no such trouble), this wake-up is late and the peer's answer
    may sit unread in the kernel, the reader's watcher due in the same loop turn as this timer.
    """
    interval = options.heartbeat_ivl / 1000.0
    timeout = interval if options.heartbeat_timeout < 0 else options.heartbeat_timeout / 1000.0
    ttl_deciseconds = options.heartbeat_ttl // 100
    tick = min(t for t in (interval, timeout, 0.1) if t > 0)
    ping_sent = None
    next_ping = monotonic() + interval
    while True:
        gevent.sleep(tick)
        now = monotonic()
        if _verdict(reader, ping_sent, timeout, now) is not None:
            gevent.sleep(0)  # the reader first
            verdict = _verdict(reader, ping_sent, timeout, now)
            if verdict is not None:
                log.debug("greenmq: %s %s; closing", endpoint, verdict)
                return
        if ping_sent is not None and reader.last_received >= ping_sent:
            ping_sent = None
        if interval > 0 and now >= next_ping:
            conn.ping(ttl_deciseconds)
            wake_writer()
            next_ping = now + interval
            if ping_sent is None:
                ping_sent = now


def _verdict(reader: ZmtpReader, ping_sent: float | None, timeout: float, now: float) -> str | None:
    """Why the connection must close at ``now`` (for the log), or None."""
    if ping_sent is not None and reader.last_received < ping_sent and now - ping_sent >= timeout:
        return "missed its heartbeat"
    peer_ttl = reader.peer_ttl / 10.0
    if peer_ttl and now - reader.last_received >= peer_ttl:
        return "was silent longer than its heartbeat TTL"
    return None

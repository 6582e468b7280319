"""Why a ZMTP connection ended, and what that means: the table from errors to monitor events.

Every way a connection can end arrives at the engine as an exception. This
module says, for each, what libzmq would do: which monitor event (and value)
to report, whether the ERROR command the protocol queued is sent first,
whether the endpoint reconnects, and how loudly to log. Whatever a remote
peer can cause -- a bad greeting or frame, a failed handshake, a refusal, a
hang-up -- is logged at DEBUG and reported through the monitor, so that a
flood of bad connections does not flood the application's log (libzmq
prints nothing); WARNING is for local faults (a PLAIN server without a ZAP
handler), and a bug gets its traceback at ERROR.
"""

from __future__ import annotations

import errno
import logging
from typing import Callable

from ..constants import Event, ProtocolError
from ..error import ZMQError
from ..zmtp import ZmtpError, ZmtpPeerError
from ..zmtp.errors import ZapRefused, ZapUnavailable


class PeerClosed(Exception):
    """The peer closed the connection (EOF)."""


class HandshakeTimeout(Exception):
    """The peer did not complete the handshake within HANDSHAKE_IVL."""


class Outcome:
    """What to do about one ended connection."""

    __slots__ = ("event", "value", "send_error", "give_up", "level", "text")

    def __init__(self, level: int, text: str, event: int | None = None, value: int = 0,
                 send_error: bool = False, give_up: bool = False):
        self.level = level  # logging level of the line describing the end
        self.text = text
        self.event = event  # monitor event to report, or None
        self.value = value
        self.send_error = send_error  # flush the ERROR command the protocol queued before closing
        self.give_up = give_up  # as libzmq: a peer that broke the protocol or refused us is not retried


def _zap_status(reason: str) -> int | None:
    """The ZAP status (300, 400, 500) an ERROR reason carries, as libzmq recognises it; else None."""
    if len(reason) == 3 and reason[0] in "345" and reason[1:] == "00":
        return int(reason)
    return None


def _protocol_event(error: ZmtpError, handshaking: bool) -> tuple[int | None, int]:
    """libzmq reports protocol failures (and AUTH refusals in an ERROR) during the handshake only."""
    if not handshaking:
        return None, 0
    status = _zap_status(error.reason) if isinstance(error, ZmtpPeerError) else None
    if status is not None:
        return Event.HANDSHAKE_FAILED_AUTH, status
    return Event.HANDSHAKE_FAILED_PROTOCOL, int(error.code or ProtocolError.ZMTP_UNSPECIFIED)


def _peer_closed(error: BaseException, handshaking: bool) -> Outcome:
    # A server that refuses us silently, say: libzmq reports EPIPE.
    event = Event.HANDSHAKE_FAILED_NO_DETAIL if handshaking else None
    return Outcome(logging.DEBUG, "the peer closed the connection", event, errno.EPIPE)


def _handshake_timeout(error: BaseException, handshaking: bool) -> Outcome:
    return Outcome(logging.DEBUG, "the handshake timed out", Event.HANDSHAKE_FAILED_NO_DETAIL, errno.EAGAIN)


def _peer_refused(error: ZmtpPeerError, handshaking: bool) -> Outcome:
    event, value = _protocol_event(error, handshaking)
    return Outcome(logging.DEBUG, f"the peer refused the connection: {error.reason}", event, value, give_up=True)


def _zap_refused(error: ZapRefused, handshaking: bool) -> Outcome:
    return Outcome(logging.DEBUG, f"ZAP refused the peer ({error.status})", Event.HANDSHAKE_FAILED_AUTH,
                   error.status, send_error=True)


def _zap_unavailable(error: ZapUnavailable, handshaking: bool) -> Outcome:
    # libzmq reports a PLAIN server without a ZAP handler this way, with EFAULT. A local
    # fault (the application's setup), hence the warning.
    return Outcome(logging.WARNING, error.reason, Event.HANDSHAKE_FAILED_NO_DETAIL, errno.EFAULT)


def _protocol_error(error: ZmtpError, handshaking: bool) -> Outcome:
    event, value = _protocol_event(error, handshaking)
    return Outcome(logging.DEBUG, error.reason, event, value, send_error=True, give_up=True)


def _os_error(error: OSError, handshaking: bool) -> Outcome:
    event = Event.HANDSHAKE_FAILED_NO_DETAIL if handshaking else None
    return Outcome(logging.DEBUG, f"the connection ended: {error}", event, error.errno or 0)


def _context_terminated(error: ZMQError, handshaking: bool) -> Outcome:
    # The context terminated while the ZAP handler was being asked.
    return Outcome(logging.DEBUG, f"the connection ended: {error}")


# Most specific first: the first row whose class matches decides.
_TABLE: list[tuple[type[BaseException], Callable]] = [
    (PeerClosed, _peer_closed),
    (HandshakeTimeout, _handshake_timeout),
    (ZmtpPeerError, _peer_refused),
    (ZapRefused, _zap_refused),
    (ZapUnavailable, _zap_unavailable),
    (ZmtpError, _protocol_error),
    (OSError, _os_error),
    (ZMQError, _context_terminated),
]


def outcome(error: BaseException, handshaking: bool) -> Outcome | None:
    """What to do about ``error``; None for an error nobody expected (a bug, which costs
    the one connection and is logged with its traceback)."""
    for kind, describe in _TABLE:
        if isinstance(error, kind):
            return describe(error, handshaking)
    return None

"""A bound tcp or ipc endpoint: the accept loop that gives each connection its session."""

from __future__ import annotations

import errno
import logging
from time import monotonic
from typing import Any

import gevent

from ..constants import Event as MonitorEvent
from . import tcp_ipc
from .session import AcceptSession

log = logging.getLogger("greenmq")

# accept() failures a remote peer causes (it gave up before we took its connection): not worth
# a warning, as libzmq says nothing. The others (EMFILE, ENOBUFS ...) are this process's trouble.
_PEER_CAUSED = (errno.ECONNABORTED, errno.ECONNRESET, errno.EPROTO, errno.EPERM, errno.ETIMEDOUT)
# Seconds between accept attempts while the process is out of descriptors or memory.
RETRY_AFTER = 0.1
# Seconds during which such failures are logged at DEBUG after one was logged as a warning.
WARN_EVERY = 60


class Listener:
    """One bound endpoint: binds at once (so ``bind()`` raises EADDRINUSE and friends), then
    accepts in a greenlet, each connection in an :class:`AcceptSession` with the options
    the socket had when it bound."""

    def __init__(self, port: Any, options: Any, transport: str, address: str):
        self.port = port
        self.options = options
        self.bound = tcp_ipc.ListeningSocket(transport, address, options)
        self.endpoint = self.bound.last_endpoint
        self.sessions: set[AcceptSession] = set()
        port.event(MonitorEvent.LISTENING, self.bound.sock.fileno(), self.endpoint, bound=True)
        self.greenlet = gevent.spawn(self._accept_loop)

    def _accept_loop(self) -> None:
        # Out of descriptors or memory, accept is retried every RETRY_AFTER seconds (the pending
        # connection stays in the backlog) rather than at once, which would spin the hub. Each
        # failure is a monitor event, as in libzmq; at most one per WARN_EVERY seconds is logged
        # as a warning, or the log would get ten lines a second until the process recovers.
        quiet_until = 0.0
        while True:
            try:
                sock, peer_address = self.bound.accept()
            except OSError as error:
                if self.bound.sock.fileno() < 0:
                    return
                self.port.event(MonitorEvent.ACCEPT_FAILED, error.errno or 0, self.endpoint, bound=True)
                if error.errno in _PEER_CAUSED:
                    log.debug("greenmq: accept on %s failed: %s", self.endpoint, error)
                    continue
                now = monotonic()
                if now >= quiet_until:
                    log.warning("greenmq: accept on %s failed: %s (retrying; further failures are logged at "
                                "DEBUG for %d s)", self.endpoint, error, WARN_EVERY)
                    quiet_until = now + WARN_EVERY
                else:
                    log.debug("greenmq: accept on %s failed: %s", self.endpoint, error)
                gevent.sleep(RETRY_AFTER)
                continue
            self.port.event(MonitorEvent.ACCEPTED, sock.fileno(), self.endpoint, bound=True)
            self.sessions.add(AcceptSession(self, sock, peer_address))

    def session_ended(self, session: AcceptSession) -> None:
        self.sessions.discard(session)

    def close(self, linger: int) -> list[gevent.Greenlet]:
        """Stop accepting and close every connection accepted here; returns greenlets to join."""
        self.greenlet.kill(block=False)
        self.bound.close()
        self.port.event(MonitorEvent.CLOSED, 0, self.endpoint, bound=True)
        return [session.close(linger) for session in list(self.sessions)]

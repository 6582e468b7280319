"""Sessions: what keeps a socket's peers connected.

A :class:`ConnectSession` owns one ``connect()`` endpoint. Unless
``IMMEDIATE`` is set, its peer (and so its pipes) exists from the moment
``connect()`` returns, so messages queue while the peer is away; the session
connects, runs an engine, and reconnects after ``RECONNECT_IVL`` (doubling up
to ``RECONNECT_IVL_MAX``, with libzmq's random jitter) whenever the
connection ends.

A :class:`Listener` owns one ``bind()`` endpoint: it accepts connections and
gives each an :class:`AcceptSession`, whose peer lives exactly as long as the
connection.
"""

import logging
import random

import gevent

from ..constants import Event as MonitorEvent
from .engine import StreamEngine
from .raw_engine import RawEngine
from . import tcp_ipc

log = logging.getLogger("greenmq")


def engine_class(socket):
    """ZMTP for every socket type but STREAM, which speaks raw TCP."""
    return RawEngine if socket._pattern.raw else StreamEngine


class ConnectSession:
    """One outgoing endpoint, kept connected."""

    def __init__(self, socket, transport, address, endpoint):
        self.socket = socket
        self.transport = transport
        self.address = address
        self.endpoint = endpoint
        self.engine = None
        self.closing = False
        self.lingering = False
        # A STREAM peer is one TCP connection: it exists only while connected.
        self.immediate = bool(socket._options_get_int("IMMEDIATE")) or socket._pattern.raw
        self.peer = None
        self.routing_id = socket._take_connect_routing_id()
        self.security = socket._security()
        if not self.immediate:
            self.peer = self._new_peer()
            socket._attach(self.peer)
        self.greenlet = gevent.spawn(self._run)

    def _run(self):
        socket = self.socket
        interval = socket._options_get_int("RECONNECT_IVL")
        delay = 0.0
        while not self.closing or self.lingering:
            if delay:
                gevent.sleep(delay)
            try:
                timeout_ms = socket._options_get_int("CONNECT_TIMEOUT")
                sock, peer_address = tcp_ipc.open_connection(
                    self.transport, self.address, socket._options_get_int,
                    timeout_ms / 1000.0 if timeout_ms > 0 else None)
            except (OSError, gevent.Timeout) as error:
                log.debug("greenmq: connect to %s failed: %s", self.endpoint, error)
                socket._event(MonitorEvent.CONNECT_DELAYED, 0, self.endpoint)
            except Exception as error:  # resolution errors come as ZMQError
                log.info("greenmq: cannot connect to %s: %s", self.endpoint, error)
            else:
                socket._event(MonitorEvent.CONNECTED, sock.fileno(), self.endpoint)
                self.engine = engine_class(socket)(self, sock, self.endpoint, peer_address)
                self.engine.closing = self.lingering
                self.engine.run()
                failed = self.engine.protocol_error
                self.engine = None
                if failed:
                    # As libzmq: a peer that broke the protocol (or refused us) is not retried.
                    log.info("greenmq: not reconnecting to %s after a protocol error", self.endpoint)
                    self.detach()
                    break
                interval = socket._options_get_int("RECONNECT_IVL")
            if self.closing and not self.lingering:
                break
            current = socket._options_get_int("RECONNECT_IVL")
            if current < 0:
                break
            delay = self._next_delay(interval)
            socket._event(MonitorEvent.CONNECT_RETRIED, int(delay * 1000), self.endpoint)
            maximum = socket._options_get_int("RECONNECT_IVL_MAX")
            if maximum > interval:
                interval = min(interval * 2, maximum)

    @staticmethod
    def _next_delay(interval):
        if interval <= 0:
            return 0.001
        return (interval + random.randrange(interval)) / 1000.0

    # -- engine callbacks -------------------------------------------------

    def _new_peer(self):
        peer = self.socket._create_peer(self.endpoint, self.security.encrypts)
        peer.routing_id = self.routing_id
        peer.terminate = self._drop_connection
        return peer

    def _drop_connection(self):
        if self.engine is not None:
            self.engine.close(0)

    def engine_ready(self, engine, metadata):
        if self.immediate:
            peer = self._new_peer()
            peer.metadata = metadata
            if not self.socket._attach(peer):
                return None
            self.peer = peer
            return peer
        self.peer.metadata = metadata
        if not self.socket._pattern.peer_ready(self.peer):
            return None
        return self.peer

    def engine_closed(self, engine, peer):
        # As libzmq: every connection that ends is reported, even one that never got past its handshake.
        self.socket._event(MonitorEvent.DISCONNECTED, 0, self.endpoint)
        if self.immediate and self.peer is not None:
            self.socket._detach(self.peer)
            self.peer = None

    # -- shutdown ----------------------------------------------------------

    def close(self, linger):
        """Stop the session; flush queued messages for up to ``linger`` ms. Returns a joinable greenlet.

        A session that is not connected but still has messages queued keeps
        trying to connect during the linger period (forever for -1, as libzmq).
        """
        self.closing = True
        outbound = self.peer.outbound if self.peer is not None else None
        pending = outbound is not None and bool(outbound.queue)
        if self.engine is not None:
            self.engine.close(linger)
        elif linger == 0 or not pending:
            self.greenlet.kill(block=False)
        else:
            self.lingering = True
            if linger > 0:
                gevent.spawn_later(linger / 1000.0, self.greenlet.kill, block=False)
        return self.greenlet

    def detach(self):
        """Remove the session's peer from the socket (``disconnect()``)."""
        if self.peer is not None:
            self.socket._detach(self.peer)
            self.peer = None


class AcceptSession:
    """The session of one accepted connection: its peer comes and goes with the engine."""

    def __init__(self, listener, sock, peer_address):
        self.listener = listener
        self.socket = listener.socket
        self.endpoint = listener.endpoint
        self.security = listener.security
        self.peer = None
        self.engine = engine_class(self.socket)(self, sock, listener.endpoint, peer_address)
        self.greenlet = gevent.spawn(self._run)

    def _run(self):
        try:
            self.engine.run()
        finally:
            self.listener.sessions.discard(self)

    def engine_ready(self, engine, metadata):
        peer = self.socket._create_peer(self.endpoint, self.security.encrypts)
        peer.metadata = metadata
        peer.terminate = lambda: self.engine.close(0)
        if not self.socket._attach(peer):
            return None
        self.peer = peer
        return peer

    def engine_closed(self, engine, peer):
        if peer is not None:
            self.socket._detach(peer)
        self.socket._event(MonitorEvent.DISCONNECTED, 0, self.endpoint)

    def close(self, linger):
        self.engine.close(linger)
        return self.greenlet


class Listener:
    """One bound endpoint: an accept loop feeding AcceptSessions."""

    def __init__(self, socket, transport, address):
        self.socket = socket
        self.security = socket._security()
        self.bound = tcp_ipc.BoundStream(transport, address, socket._options_get_int)
        self.endpoint = self.bound.last_endpoint
        self.sessions = set()
        socket._event(MonitorEvent.LISTENING, self.bound.sock.fileno(), self.endpoint)
        self.greenlet = gevent.spawn(self._accept_loop)

    def _accept_loop(self):
        while True:
            try:
                sock, peer_address = self.bound.accept()
            except OSError as error:
                if self.bound.sock.fileno() < 0:
                    return
                log.warning("greenmq: accept on %s failed: %s", self.endpoint, error)
                self.socket._event(MonitorEvent.ACCEPT_FAILED, error.errno or 0, self.endpoint)
                gevent.sleep(0.1)
                continue
            self.socket._event(MonitorEvent.ACCEPTED, sock.fileno(), self.endpoint)
            self.sessions.add(AcceptSession(self, sock, peer_address))

    def close(self, linger):
        """Stop accepting and close every connection accepted here; returns greenlets to join."""
        self.greenlet.kill(block=False)
        self.bound.close()
        self.socket._event(MonitorEvent.CLOSED, 0, self.endpoint)
        return [session.close(linger) for session in list(self.sessions)]

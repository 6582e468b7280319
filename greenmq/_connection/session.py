"""Sessions: what keeps a socket's peers connected.

A :class:`ConnectSession` owns one ``connect()`` endpoint. Unless
``IMMEDIATE`` is set, its peer (and so its pipes) exists from the moment
``connect()`` returns, so messages queue while the peer is away; the session
connects, runs an engine, and reconnects after ``RECONNECT_IVL`` (doubling up
to ``RECONNECT_IVL_MAX``, with libzmq's random jitter) whenever the
connection ends.

An :class:`AcceptSession` is one connection a
:class:`~greenmq._connection.listener.Listener` accepted; its peer lives
exactly as long as the connection.

A session is the stable owner of its peer's engine-side pipe ends: the
pipes wake the session, which passes the wake-up on to the engine of the
moment (there is none between two connections).
"""

from __future__ import annotations

import errno
import logging
import random
from typing import Any

import gevent

from .._pipe import Peer
from ..constants import Event as MonitorEvent, ReconnectStop
from ..zmtp.framing import encode_message
from . import tcp_ipc
from .engine import EngineBase, ZmtpEngine
from .raw_engine import RawEngine

log = logging.getLogger("greenmq")


def engine_class(options: Any) -> type:
    """ZMTP for every socket type but STREAM, which speaks raw TCP."""
    return RawEngine if options.raw else ZmtpEngine


class _Session:
    """What both kinds of session share: the peer's engine-side wake-ups."""

    port: Any
    options: Any
    endpoint: str
    engine: EngineBase | None = None
    peer: Peer | None = None
    bound = False  # the session's endpoint is a bind of the socket (monitor events say so)

    def _new_peer(self, routing_id: bytes | None = None) -> Peer:
        options = self.options
        # A publisher's pipes to engines that do not encrypt per connection carry each
        # message encoded once for all subscribers (the port decides whether it fans out).
        encode = None if options.raw or options.security.encrypts else encode_message
        return self.port.new_peer(self.endpoint, options, outbound_ready=self._outbound_ready,
                                  inbound_room=self._inbound_room, disconnect=self._drop_connection,
                                  routing_id=routing_id, encode=encode, bound=self.bound)

    def _outbound_ready(self) -> None:
        engine = self.engine
        if engine is not None:
            engine.outbound_ready()

    def _inbound_room(self) -> None:
        engine = self.engine
        if engine is not None:
            engine.inbound_room()

    def _notify_connected(self, peer: Peer) -> Peer:
        """ROUTER_NOTIFY's connect notice: an empty message from the peer, ahead of what it sends."""
        if self.options.router_notify & 1 and peer.inbound is not None:
            peer.inbound.write(b"")
        return peer

    def _last_words(self, peer: Peer, accepted: bool) -> None:
        """A connection that got past its handshake ended: what the socket receives in the
        peer's name, as libzmq does (ROUTER_NOTIFY's empty message, then DISCONNECT_MSG for an
        accepted connection or HICCUP_MSG for a connected one)."""
        inbound = peer.inbound
        if inbound is None or inbound.writer_closed:
            return
        options = self.options
        if options.router_notify & 2:
            inbound.write(b"")
        last = options.disconnect_msg if accepted else options.hiccup_msg
        if last:
            inbound.write(last)

    def _drop_connection(self) -> None:
        engine = self.engine
        if engine is not None:
            engine.close(0)


class ConnectSession(_Session):
    """One outgoing endpoint, kept connected."""

    def __init__(self, port: Any, options: Any, transport: str, address: str, endpoint: str):
        self.port = port
        self.options = options
        self.transport = transport
        self.address = address
        self.endpoint = endpoint
        self.closing = False
        self.lingering = False
        self.stopped = False  # RECONNECT_STOP ended it: the socket forgets the endpoint
        # A STREAM peer is one TCP connection: it exists only while connected.
        self.immediate = options.immediate or options.raw
        if not self.immediate:
            self.peer = self._new_peer(options.connect_routing_id)
            # A refused peer (a PAIR's second connect) still connects and is ignored, as in libzmq.
            port.attach(self.peer)
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        port, options = self.port, self.options
        interval = options.reconnect_ivl
        delay = 0.0
        while not self.closing or self.lingering:
            if delay:
                gevent.sleep(delay)
            try:
                timeout_ms = options.connect_timeout
                sock, peer_address = tcp_ipc.open_connection(
                    self.transport, self.address, options, timeout_ms / 1000.0 if timeout_ms > 0 else None)
            except (OSError, gevent.Timeout) as error:
                log.debug("greenmq: connect to %s failed: %s", self.endpoint, error)
                port.event(MonitorEvent.CONNECT_DELAYED, 0, self.endpoint)
                if self._stops_after(error):
                    log.debug("greenmq: not reconnecting to %s (RECONNECT_STOP)", self.endpoint)
                    port.event(MonitorEvent.CLOSED, 0, self.endpoint)
                    self.stopped = True
                    self.detach()
                    break
            except Exception as error:  # resolution errors come as ZMQError
                log.debug("greenmq: cannot connect to %s: %s", self.endpoint, error)
            else:
                port.event(MonitorEvent.CONNECTED, sock.fileno(), self.endpoint)
                engine = self.engine = engine_class(options)(self, sock, peer_address)
                engine.closing = self.lingering
                engine.run()
                if engine.give_up:
                    # As libzmq: a peer that broke the protocol (or refused us) is not retried.
                    log.debug("greenmq: not reconnecting to %s after a protocol error", self.endpoint)
                    self.detach()
                    break
                interval = options.reconnect_ivl
            if (self.closing and not self.lingering) or options.reconnect_ivl < 0:
                break
            delay = self._next_delay(interval)
            port.event(MonitorEvent.CONNECT_RETRIED, int(delay * 1000), self.endpoint)
            if options.reconnect_ivl_max > interval:
                interval = min(interval * 2, options.reconnect_ivl_max)

    def _stops_after(self, error: BaseException) -> bool:
        """RECONNECT_STOP, where libzmq's connecters check it: a refused tcp connect
        (CONN_REFUSED; not through a SOCKS proxy), or a refused ipc connect once the socket
        has disconnected or unbound an endpoint (AFTER_DISCONNECT)."""
        if getattr(error, "errno", None) != errno.ECONNREFUSED:
            return False
        bits = self.options.reconnect_stop
        if self.transport == "tcp":
            return bool(bits & ReconnectStop.CONN_REFUSED) and not self.options.socks_proxy
        return self.transport == "ipc" and bool(bits & ReconnectStop.AFTER_DISCONNECT) and self.port.disconnected

    @staticmethod
    def _next_delay(interval: int) -> float:
        if interval <= 0:
            return 0.001
        return (interval + random.randrange(interval)) / 1000.0

    # -- engine callbacks -------------------------------------------------

    def engine_ready(self, engine: EngineBase, metadata: Any) -> Peer | None:
        """The handshake succeeded: the peer to use, or None if the socket refuses it."""
        if self.closing:
            # Connected while lingering (after close() or disconnect()): only flush what is queued.
            if self.peer is not None:
                self.peer.metadata = metadata
            return self.peer
        if self.immediate:
            fresh = self._new_peer(self.options.connect_routing_id)
            fresh.metadata = metadata
            if not self.port.attach(fresh):
                return None
            self.peer = fresh
            return self._notify_connected(fresh)
        peer = self.peer
        if peer is None:
            return None
        peer.metadata = metadata
        if not self.port.peer_ready(peer):
            return None
        return self._notify_connected(peer)

    def engine_closed(self, engine: EngineBase, peer: Peer | None) -> None:
        self.engine = None
        if peer is not None and not self.closing:
            self._last_words(peer, accepted=False)
        # As libzmq: every connection that ends is reported, even one that never got past its handshake.
        self.port.event(MonitorEvent.DISCONNECTED, 0, self.endpoint)
        if self.immediate and self.peer is not None:
            self.port.detach(self.peer)
            self.peer = None

    # -- shutdown ----------------------------------------------------------

    def close(self, linger: int) -> gevent.Greenlet:
        """Stop the session; flush queued messages for up to ``linger`` ms. Returns a joinable greenlet.

        A session that is not connected but still has messages queued keeps
        trying to connect during the linger period (forever for -1, as libzmq).
        """
        self.closing = True
        outbound = self.peer.outbound if self.peer is not None else None
        pending = outbound is not None and len(outbound) > 0
        if self.engine is not None:
            self.engine.close(linger)
        elif linger == 0 or not pending:
            self.greenlet.kill(block=False)
        else:
            self.lingering = True
            if linger > 0:
                gevent.spawn_later(linger / 1000.0, self.greenlet.kill, block=False)
        self.greenlet.rawlink(self._drop_queued)
        return self.greenlet

    def disconnect(self, linger: int) -> gevent.Greenlet:
        """``disconnect()``: the socket stops using this peer at once, and what is queued for it
        is still sent for up to ``linger`` ms, the session connecting meanwhile (as libzmq)."""
        peer = self.peer
        if peer is not None:
            self.port.detach(peer, close_pipes=False)
            if peer.inbound is not None:
                peer.inbound.close_writer()  # what it sent can still be read; then it is gone
        return self.close(linger)

    def _drop_queued(self, _greenlet: gevent.Greenlet) -> None:
        """The closed session has ended: what is still queued for its peer will never be sent,
        so it is dropped now rather than when the socket object goes (zero-copy buffers are
        released, and their trackers done)."""
        peer = self.peer
        if peer is not None and peer.outbound is not None:
            peer.outbound.close_reader()
        self.detach()

    def detach(self) -> None:
        """Remove the session's peer from the socket, with what is queued for it."""
        if self.peer is not None:
            self.port.detach(self.peer)
            self.peer = None


class AcceptSession(_Session):
    """The session of one accepted connection: its peer comes and goes with the engine."""

    bound = True

    def __init__(self, listener: Any, sock: Any, peer_address: str | None):
        self.listener = listener
        self.port = listener.port
        self.options = listener.options
        self.endpoint = listener.endpoint
        self.engine = engine_class(self.options)(self, sock, peer_address)
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        try:
            if self.engine is not None:
                self.engine.run()
        finally:
            self.listener.session_ended(self)

    def engine_ready(self, engine: EngineBase, metadata: Any) -> Peer | None:
        peer = self._new_peer()
        peer.metadata = metadata
        if not self.port.attach(peer):
            return None
        self.peer = peer
        return self._notify_connected(peer)

    def engine_closed(self, engine: EngineBase, peer: Peer | None) -> None:
        if peer is not None:
            self._last_words(peer, accepted=True)
            self.port.detach(peer)
        self.port.event(MonitorEvent.DISCONNECTED, 0, self.endpoint, self.bound)

    def close(self, linger: int) -> gevent.Greenlet:
        if self.engine is not None:
            self.engine.close(linger)
        return self.greenlet

"""One peer connection over a stream socket (tcp or ipc).

An engine lives as long as one OS-level connection. :meth:`ZmtpEngine.run`
is that life, in the session's greenlet: the handshake
(:mod:`~greenmq._connection.handshake`), then the peer is attached, its
:class:`~greenmq._connection.writer.ZmtpWriter` and
:class:`~greenmq._connection.reader.ZmtpReader` -- watcher callbacks on the
hub, no greenlets -- start and, if needed, a heartbeat greenlet
(:mod:`~greenmq._connection.heartbeat`), while the calling greenlet waits
in ``ZmtpReader.run`` for the connection's end. Whatever ends the
connection -- the peer closing, a protocol error, the handshake timing out,
the socket closing -- ends in
:meth:`EngineBase._finish`, which stops the helpers, closes the OS socket and
tells the session; :mod:`~greenmq._connection.failures` says what each
ending means for the monitor and for reconnection.

The engine reaches its socket only through the session: the socket's
:class:`~greenmq._socket.port.SocketPort` and the endpoint's options.
"""

from __future__ import annotations

import logging
from socket import SHUT_RDWR, SHUT_WR
from typing import Any, Callable

import gevent

from .._pipe import Peer, Pipe
from ..constants import Event as MonitorEvent, ReconnectStop
from ..zmtp import Connection, ZmtpConnection
from . import failures
from .handshake import perform_handshake
from .heartbeat import run_heartbeat
from .reader import READ_SIZE, ZmtpReader
from .writer import ZmtpWriter
from .zap_client import ZapClient

log = logging.getLogger("greenmq")

# How long a refused peer gets to read our ERROR and hang up (see _flush_error).
ERROR_LINGER = 0.5


class EngineBase:
    """What every engine shares: its greenlets, closing with linger, and releasing its peer.

    ``run()`` (in the caller's greenlet) owns the connection; whatever ends
    the connection ends in :meth:`_finish`. ``give_up`` tells the session not
    to reconnect (the peer broke the protocol or refused us, as libzmq).
    """

    give_up = False

    def __init__(self, session: Any, sock: Any, peer_address: str | None):
        self.session = session
        self.port = session.port
        self.options = session.options
        self.endpoint = session.endpoint
        self.sock = sock
        self.peer_address = peer_address
        self.peer: Peer | None = None
        self.closing = False
        self._greenlet: Any = None  # the greenlet that runs the engine (a session's)

    def run(self) -> None:
        """Run the connection in the calling greenlet until it ends (each engine its own way)."""
        raise NotImplementedError

    # -- what the session forwards from the peer's pipes -------------------

    def outbound_ready(self) -> None:
        """The socket queued a message for this connection."""

    def inbound_room(self) -> None:
        """The socket drained what this connection delivered."""

    # -- closing -----------------------------------------------------------

    def close(self, linger: int) -> None:
        """Stop the connection: at once for ``linger == 0``, else after flushing (up to linger ms)."""
        self.closing = True
        peer = self.peer or self.session.peer
        pending = (peer is not None and peer.outbound is not None and len(peer.outbound) > 0) or self._writing()
        if linger == 0 or not pending:
            self._kill()
            return
        self._flush_then_stop()
        if linger > 0:
            gevent.spawn_later(linger / 1000.0, self._kill)

    def _flush_then_stop(self) -> None:
        """Closing with LINGER: write what is queued, then end."""

    def _writing(self) -> bool:
        """Whether bytes taken from the outbound pipe are still being written."""
        return False

    def _kill(self) -> None:
        greenlet = self._greenlet
        if greenlet is not None and greenlet is not gevent.getcurrent():
            greenlet.kill(block=False)
        elif greenlet is None:
            self._finish()

    def _helpers(self) -> list[gevent.Greenlet | None]:
        """Greenlets that live and die with the connection."""
        return []

    def _stop_sending(self) -> None:
        """From here on, nothing may be written to the OS socket (it is about to close)."""

    def _finish(self) -> None:
        current = gevent.getcurrent()
        self._stop_sending()
        for helper in self._helpers():
            if helper is not None and helper is not current:
                helper.kill(block=False)
        try:
            self.sock.close()
        except OSError:
            pass
        peer, self.peer = self.peer, None
        if peer is not None:
            self._peer_gone(peer)
        self.session.engine_closed(self, peer)

    def _peer_gone(self, peer: Peer) -> None:
        """Last words to the peer's pipes before they are released (STREAM's notification)."""


class ZmtpEngine(EngineBase):
    """ZMTP over one connected stream socket, on behalf of a session."""

    def __init__(self, session: Any, sock: Any, peer_address: str | None):
        super().__init__(session, sock, peer_address)
        self.conn: Connection | None = None
        self._reader: ZmtpReader | None = None
        self._writer: ZmtpWriter | None = None
        # While connected the outbound pipe wakes the writer directly (see _start_traffic).
        self._outbound_pipe: Pipe | None = None
        self._session_wakeup: Callable[[], None] | None = None
        self._heartbeat: gevent.Greenlet | None = None

    # -- lifetime -------------------------------------------------------

    def run(self) -> None:
        """Run the connection in the calling greenlet until it ends."""
        self._greenlet = gevent.getcurrent()
        handshaking = True
        try:
            conn, messages = self._handshake(ZmtpConnection(**self.options.handshake()))
            handshaking = False
            peer = self.peer = self.session.engine_ready(self, conn.peer_metadata)
            if peer is None:
                # libzmq keeps a refused connection (a second PAIR peer) open and ignores it,
                # so the intruder does not reconnect in a loop.
                log.debug("greenmq: a %s socket refused a second peer on %s",
                         self.options.wire_type.decode(), self.endpoint)
                while self.sock.recv(READ_SIZE):
                    pass
                return
            self._start_traffic(conn, peer, messages).run()
        except Exception as error:  # noqa: BLE001 -- the failure table decides; a bug costs one connection
            self._failed(error, handshaking)
        finally:
            self._finish()

    def _handshake(self, conn: ZmtpConnection) -> tuple[Connection, list[Any]]:
        """The connection that carries the traffic (a ZMTP 2.0/1.0 peer's is another one) and the
        messages that came with the handshake."""
        self.conn = conn
        options = self.options
        zap_client = ZapClient(self.port.context, options.security.zap_domain, options.routing_id)
        traffic, messages = perform_handshake(self.sock, conn, options.handshake_ivl, zap_client, self.peer_address)
        self.conn = traffic
        if not traffic.legacy:  # libzmq reports no handshake for peers without a mechanism
            self.port.event(MonitorEvent.HANDSHAKE_SUCCEEDED, 0, self.endpoint, self.session.bound)
        return traffic, messages

    def _start_traffic(self, conn: Connection, peer: Peer, messages: list[Any]) -> ZmtpReader:
        """Deliver what came with the handshake, start the writer (and heartbeats); the reader
        returned is the rest of the engine's life."""
        reader = self._reader = ZmtpReader(self.sock, conn, peer.inbound, self.options.takes_subscriptions,
                                           on_output=self._wake_writer, on_ping=self._start_heartbeat)
        reader.deliver(messages, conn.take_events())
        writer = self._writer = ZmtpWriter(self.sock, conn, peer.outbound, on_flushed=self._kill)
        if peer.outbound is not None:
            self._outbound_pipe = peer.outbound
            self._session_wakeup = peer.outbound.redirect_reader_wakeup(writer.outbound_ready)
        if self.closing:
            writer.close()
        else:
            writer.wake()  # what was queued while there was no connection
        if self.options.heartbeat_ivl > 0 or reader.peer_ttl:
            self._start_heartbeat()
        return reader

    def _failed(self, error: Exception, handshaking: bool) -> None:
        outcome = failures.outcome(error, handshaking)
        if outcome is None:
            # A bug or resource failure must cost one connection, never the hub or the socket.
            log.exception("greenmq: unexpected error on %s; closing the connection", self.endpoint)
            return
        log.log(outcome.level, "greenmq: %s: %s", self.endpoint, outcome.text)
        if outcome.send_error:
            self._flush_error()
        if outcome.give_up or (handshaking and outcome.event == MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL
                               and self.options.reconnect_stop & ReconnectStop.HANDSHAKE_FAILED):
            # RECONNECT_STOP_HANDSHAKE_FAILED: as libzmq, a peer that hangs up or is silent
            # during the handshake is then treated as one that broke the protocol.
            self.give_up = True
        if outcome.event is not None:
            self.port.event(outcome.event, outcome.value, self.endpoint, self.session.bound)

    def _flush_error(self) -> None:
        """Best effort: send what the protocol queued (an ERROR command) before closing.

        Closing a socket that has unread input makes the kernel reset the
        connection, and the peer may then meet the reset before our ERROR (a
        libzmq client that was still sending would take it for a network error
        and reconnect). So after the ERROR the connection is half-closed and
        drained until the peer hangs up, for at most ERROR_LINGER seconds.
        """
        if self.conn is None:
            return
        data = self.conn.data_to_send()
        if not data:
            return
        with gevent.Timeout(ERROR_LINGER, False):  # type: ignore[arg-type]  # False: end quietly
            try:
                self.sock.sendall(data)
                self.sock.shutdown(SHUT_WR)
                while self.sock.recv(READ_SIZE):
                    pass
            except OSError:
                pass

    # -- helpers --------------------------------------------------------

    def _helpers(self) -> list[gevent.Greenlet | None]:
        return [self._heartbeat]

    def _stop_sending(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop()
        pipe, self._outbound_pipe = self._outbound_pipe, None
        if pipe is not None and self._session_wakeup is not None:
            pipe.redirect_reader_wakeup(self._session_wakeup)  # the session's again

    def outbound_ready(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.outbound_ready()

    def inbound_room(self) -> None:
        reader = self._reader
        if reader is not None:
            reader.room()

    def _writing(self) -> bool:
        return self._writer is not None and self._writer.busy

    def _wake_writer(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.wake()

    def _flush_then_stop(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def _start_heartbeat(self) -> None:
        conn, reader = self.conn, self._reader
        # Only a ZMTP 3.x connection has PING: libzmq heartbeats no ZMTP 2.0/1.0 peer either.
        if (self._heartbeat is None and self._writer is not None and isinstance(conn, ZmtpConnection)
                and reader is not None):
            self._heartbeat = gevent.spawn(self._heartbeat_run, conn, reader)

    def _heartbeat_run(self, conn: ZmtpConnection, reader: ZmtpReader) -> None:
        run_heartbeat(self.options, conn, reader, self._wake_writer, self.endpoint)
        self._heartbeat = None
        self._drop()

    def _drop(self) -> None:
        """End this connection, not the session: shut the OS socket down so that the reader
        meets its end (and a connecting session reconnects, as libzmq does after a missed
        heartbeat). Killing the greenlet instead would end a ConnectSession's loop with it."""
        try:
            self.sock.shutdown(SHUT_RDWR)
        except OSError:
            pass
        if self._reader is not None:
            self._reader.stop()

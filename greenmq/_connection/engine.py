"""One peer connection over a stream socket (tcp or ipc), speaking ZMTP.

:meth:`StreamEngine.run` is the connection's life: greeting and handshake
(bounded by ``HANDSHAKE_IVL``), then a read loop in the calling greenlet and a
write loop in a second greenlet. Reads go into the sans-I/O
:class:`~greenmq.zmtp.ZmtpConnection`; completed messages go into the peer's
inbound pipe in one batch per read. The writer sleeps until the outbound pipe
goes non-empty, then takes every queued message at once and writes them with
as few system calls as it can (frames of 64 KiB and more are written from
their own buffer, never copied into a joined one).

The rest of a large frame is read into a reused buffer and handed to the
decoder, which joins it into the received ``bytes`` (see :meth:`_read_body`).

Whatever ends the connection -- the peer closing, a protocol error, the
handshake timing out, the socket closing -- ends in :meth:`_finish`, which
closes the OS socket, stops the writer and tells the session.
"""

import errno
import logging
from socket import SHUT_WR
from time import monotonic

import gevent
from gevent.event import Event

from ..constants import Event as MonitorEvent, ProtocolError, SocketType
from ..error import ZMQError
from ..zmtp import READY, Subscription, ZmtpConnection, ZmtpError, ZmtpPeerError, zap
from ..zmtp.errors import ZapRefused, ZapUnavailable

log = logging.getLogger("greenmq")

READ_SIZE = 262144
# Frames with at least this much still to come are read by _read_body.
LARGE_BODY_READ = 65536
# The reused buffer for large frame bodies grows up to this size per connection.
BODY_BUFFER_MAX = 16 << 20
_JOIN_LIMIT = 1 << 20
# Largest message _outbound_ready sends directly from the sending greenlet.
_DIRECT_LIMIT = 8192
_ZAP_NAME = zap.ENDPOINT.partition("://")[2]
# How long a refused peer gets to read our ERROR and hang up (see _flush_quietly).
ERROR_LINGER = 0.5


class PeerClosed(Exception):
    """The peer closed the connection (EOF)."""


class HandshakeTimeout(Exception):
    """The peer did not complete the handshake within HANDSHAKE_IVL."""


class EngineBase:
    """What every engine shares: its greenlets, closing with linger, and releasing its peer.

    ``run()`` (in the caller's greenlet) owns the connection; a writer greenlet
    drains the peer's outbound pipe; whatever ends the connection ends in
    :meth:`_finish`.
    """

    protocol_error = False

    def __init__(self, session, sock, endpoint, peer_address):
        self.session = session
        self.socket = session.socket
        self.sock = sock
        self.endpoint = endpoint
        self.peer_address = peer_address
        self.peer = None
        self.closing = False
        self._wake_writer = Event()
        self._room = Event()
        self._writer = None
        self._greenlet = None

    def close(self, linger):
        """Stop the connection: at once for ``linger == 0``, else after flushing (up to linger ms)."""
        self.closing = True
        peer = self.peer or self.session.peer
        pending = peer is not None and peer.outbound is not None and bool(peer.outbound.queue)
        if linger == 0 or not pending:
            self._kill()
            return
        self._wake_writer.set()
        if linger > 0:
            gevent.spawn_later(linger / 1000.0, self._kill)

    def _kill(self):
        greenlet = self._greenlet
        if greenlet is not None and greenlet is not gevent.getcurrent():
            greenlet.kill(block=False)
        elif greenlet is None:
            self._finish()

    def _helpers(self):
        """Greenlets that live and die with the connection."""
        return [self._writer]

    def _finish(self):
        current = gevent.getcurrent()
        for helper in self._helpers():
            if helper is not None and helper is not current:
                helper.kill(block=False)
        self._writer = None
        try:
            self.sock.close()
        except OSError:
            pass
        peer, self.peer = self.peer, None
        if peer is not None:
            self._peer_gone(peer)
            if peer.outbound is not None:
                peer.outbound.wake_reader = _ignore
            if peer.inbound is not None:
                peer.inbound.wake_writer = _ignore
        self.session.engine_closed(self, peer)

    def _peer_gone(self, peer):
        """Last words to the peer's pipes before they are released (STREAM's notification)."""

    def _wait_for_room(self, inbound):
        """Backpressure: stop reading until the socket has drained the inbound pipe to its low-water mark."""
        room = self._room
        while not inbound.reader_closed and not inbound.can_write():
            room.clear()
            if inbound.can_write():
                return
            room.wait()


class StreamEngine(EngineBase):
    """ZMTP over one connected stream socket, on behalf of a session."""

    def __init__(self, session, sock, endpoint, peer_address):
        super().__init__(session, sock, endpoint, peer_address)
        self.conn = None
        self._heartbeat = None
        self._body_buffer = bytearray()
        # Direct sends (see _outbound_ready): gevent's non-blocking OS socket, if exposed.
        self._raw = getattr(sock, "_sock", None)
        self._writer_idle = False
        self._direct_allowed = True
        self._unsent = None
        self.last_received = 0.0

    # -- lifetime -------------------------------------------------------

    def run(self):
        """Run the connection in the calling greenlet until it ends."""
        self._greenlet = gevent.getcurrent()
        stage = "handshake"
        try:
            messages = self._handshake()
            stage = "traffic"
            self.peer = self.session.engine_ready(self, self.conn.peer_metadata)
            if self.peer is None:
                # libzmq keeps a refused connection (a second PAIR peer) open and ignores it,
                # so the intruder does not reconnect in a loop.
                log.info("greenmq: %s refused a second peer on %s", self.socket, self.endpoint)
                while self.sock.recv(READ_SIZE):
                    pass
                return
            self._connect_pipes()
            self._deliver(self.peer.inbound, messages)
            self._writer = gevent.spawn(self._write_loop)
            self.last_received = monotonic()
            if self.socket._options_get_int("HEARTBEAT_IVL") > 0:
                self._heartbeat = gevent.spawn(self._heartbeat_loop)
            self._read_loop()
        except PeerClosed:
            if stage == "handshake":  # a server that refuses us silently, say
                self.socket._event(MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, errno.EPIPE, self.endpoint)
        except HandshakeTimeout:
            log.info("greenmq: handshake with %s timed out", self.endpoint)
            self.socket._event(MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, errno.EAGAIN, self.endpoint)
        except ZmtpPeerError as error:
            log.info("greenmq: peer %s refused the connection: %s", self.endpoint, error.reason)
            self.protocol_error = True  # as libzmq: not retried
            self._report_failure(stage, error)
        except ZapRefused as error:
            log.info("greenmq: ZAP refused %s (%s)", self.endpoint, error.status)
            self._flush_quietly()
            self.socket._event(MonitorEvent.HANDSHAKE_FAILED_AUTH, error.status, self.endpoint)
        except ZapUnavailable as error:
            log.warning("greenmq: closing %s: %s", self.endpoint, error.reason)
            # libzmq reports a PLAIN server without a ZAP handler this way, with EFAULT.
            self.socket._event(MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, errno.EFAULT, self.endpoint)
        except ZmtpError as error:
            log.warning("greenmq: closing %s: %s", self.endpoint, error.reason)
            self.protocol_error = True
            self._flush_quietly()
            self._report_failure(stage, error)
        except OSError as error:
            log.debug("greenmq: connection %s ended: %s", self.endpoint, error)
            if stage == "handshake":
                self.socket._event(MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL, error.errno or 0, self.endpoint)
        except ZMQError as error:  # the context terminated while the ZAP handler was being asked
            log.debug("greenmq: connection %s ended: %s", self.endpoint, error)
        except Exception:
            # A bug or resource failure must cost one connection, never the hub or the socket.
            log.exception("greenmq: unexpected error on %s; closing the connection", self.endpoint)
        finally:
            self._finish()

    def _helpers(self):
        return [self._writer, self._heartbeat]

    def _report_failure(self, stage, error):
        if stage != "handshake":
            return
        status = _zap_status(error.reason) if isinstance(error, ZmtpPeerError) else None
        if status is not None:
            self.socket._event(MonitorEvent.HANDSHAKE_FAILED_AUTH, status, self.endpoint)
        else:
            code = error.code if error.code else ProtocolError.ZMTP_UNSPECIFIED
            self.socket._event(MonitorEvent.HANDSHAKE_FAILED_PROTOCOL, int(code), self.endpoint)

    def _flush_quietly(self):
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
        with gevent.Timeout(ERROR_LINGER, False):
            try:
                self.sock.sendall(data)
                self.sock.shutdown(SHUT_WR)
                while self.sock.recv(READ_SIZE):
                    pass
            except OSError:
                pass

    # -- handshake ------------------------------------------------------

    def _handshake(self):
        options = self.socket._handshake_options()
        self.conn = conn = ZmtpConnection(security=self.session.security, **options)
        timeout_ms = self.socket._options_get_int("HANDSHAKE_IVL")
        timer = gevent.Timeout(timeout_ms / 1000.0, HandshakeTimeout) if timeout_ms > 0 else None
        if timer is not None:
            timer.start()
        try:
            self.sock.sendall(conn.data_to_send())
            messages = []
            while conn.state is not READY:
                if conn.zap_request is not None:
                    messages = conn.zap_reply(self._ask_zap(*conn.zap_request))
                else:
                    data = self.sock.recv(READ_SIZE)
                    if not data:
                        raise PeerClosed()
                    messages = conn.receive(data)
                out = conn.data_to_send()
                if out:
                    self.sock.sendall(out)
        finally:
            if timer is not None:
                timer.close()
        if self.peer_address is not None:
            conn.peer_metadata.set("Peer-Address", self.peer_address.encode())
        self.socket._event(MonitorEvent.HANDSHAKE_SUCCEEDED, 0, self.endpoint)
        return messages

    def _ask_zap(self, mechanism, credentials):
        """Ask the context's ZAP handler about this peer; None when no handler is bound.

        Runs inside the handshake, so HANDSHAKE_IVL bounds the wait for an answer."""
        context = self.socket.context
        if _ZAP_NAME not in context._inproc.bound:
            return None
        security = self.session.security
        identity = self.socket._options_get_int("ROUTING_ID")
        request = zap.request_frames(security.zap_domain, (self.peer_address or "").encode(), identity,
                                     mechanism, credentials)
        client = context.socket(SocketType.DEALER)
        try:
            client.linger = 0
            client.connect(zap.ENDPOINT)
            client.send_multipart(request)
            return zap.parse_reply(client.recv_multipart())
        finally:
            client.close(0)

    def _connect_pipes(self):
        peer = self.peer
        if peer.outbound is not None:
            peer.outbound.wake_reader = self._outbound_ready
        if peer.inbound is not None:
            peer.inbound.wake_writer = self._room.set

    # -- traffic --------------------------------------------------------

    def _read_loop(self):
        recv = self.sock.recv
        conn = self.conn
        decoder = conn.decoder
        inbound = self.peer.inbound
        while True:
            missing = decoder.body_remaining()
            if missing >= LARGE_BODY_READ:
                messages = conn.receive(self._read_body(missing))
            else:
                data = recv(READ_SIZE)
                if not data:
                    raise PeerClosed()
                messages = conn.receive(data)
            self.last_received = monotonic()
            if conn.peer_ttl and self._heartbeat is None:
                self._heartbeat = gevent.spawn(self._heartbeat_loop)
            if conn.has_output:
                self._wake_writer.set()
            if messages or conn.subscriptions:
                self._deliver(inbound, messages)

    def _deliver(self, inbound, messages):
        """Queue what the peer sent: subscriptions (if this socket takes them), then messages."""
        conn = self.conn
        if inbound is None or inbound.reader_closed:
            conn.subscriptions = []
            return
        if conn.subscriptions:
            if self.socket._pattern.takes_subscriptions:
                inbound.write_many([Subscription(*entry) for entry in conn.subscriptions])
            conn.subscriptions = []
        if messages:
            inbound.write_many(messages)
            if not inbound.can_write():
                self._wait_for_room(inbound)

    def _read_body(self, missing):
        """Read the rest of a large frame (up to BODY_BUFFER_MAX of it) into a reused buffer.

        The buffer's pages are already mapped, so the kernel copies into warm
        memory and the decoder's single join is the only fresh allocation; fresh
        1 MiB allocations are page-faulted in each time (glibc gives freed large
        blocks back to the OS), which otherwise dominates large-message cost.
        """
        want = min(missing, BODY_BUFFER_MAX)
        if len(self._body_buffer) < want:
            self._body_buffer = bytearray(want)
        view = memoryview(self._body_buffer)[:want]
        filled = 0
        recv_into = self.sock.recv_into
        while filled < want:
            count = recv_into(view[filled:])
            if not count:
                raise PeerClosed()
            filled += count
        return view

    def _heartbeat_loop(self):
        """ZMTP heartbeats: PING every HEARTBEAT_IVL; close when a PING goes unanswered for
        HEARTBEAT_TIMEOUT (default: the interval), or when the peer's PING TTL passes in silence.
        Any traffic from the peer counts as an answer, as in libzmq."""
        option = self.socket._options_get_int
        interval = option("HEARTBEAT_IVL") / 1000.0
        timeout_ms = option("HEARTBEAT_TIMEOUT")
        timeout = interval if timeout_ms < 0 else timeout_ms / 1000.0
        ttl_deciseconds = option("HEARTBEAT_TTL") // 100
        tick = min(t for t in (interval, timeout, 0.1) if t > 0)
        ping_sent = None
        next_ping = monotonic() + interval
        while True:
            gevent.sleep(tick)
            now = monotonic()
            if ping_sent is not None:
                if self.last_received >= ping_sent:
                    ping_sent = None
                elif now - ping_sent >= timeout:
                    log.info("greenmq: %s missed its heartbeat; closing", self.endpoint)
                    break
            peer_ttl = self.conn.peer_ttl / 10.0
            if peer_ttl and now - self.last_received >= peer_ttl:
                log.info("greenmq: %s was silent longer than its heartbeat TTL; closing", self.endpoint)
                break
            if interval > 0 and now >= next_ping:
                self.conn.ping(ttl_deciseconds)
                self._wake_writer.set()
                next_ping = now + interval
                if ping_sent is None:
                    ping_sent = now
        self._heartbeat = None
        self._kill()

    def _outbound_ready(self):
        """The outbound pipe went non-empty; runs in the sending greenlet.

        On an idle connection a lone small message goes out at once with one
        non-blocking system call, instead of an event, a hub callback and a
        switch into the writer greenlet: that is most of a round trip's cost.
        It happens at most once per hub loop iteration, so a tight send loop
        still has its messages batched by the writer. Whatever the kernel does
        not take at once is left for the writer, which sends it first.
        """
        outbound = self.peer.outbound
        queue = outbound.queue
        if not (self._writer_idle and self._direct_allowed and self._raw is not None and len(queue) == 1):
            self._wake_writer.set()
            return
        msg = queue[0]
        if outbound.wire:
            # A publisher's fan-out: batching beats latency here (a lone direct write
            # per loop iteration costs every subscriber connection an extra segment).
            self._wake_writer.set()
            return
        if msg.__class__ is bytes:
            size = len(msg)
        elif msg.__class__ is list:
            size = sum(len(frame) for frame in msg)
        else:
            size = _DIRECT_LIMIT + 1  # a Subscription: left to the writer
        if size > _DIRECT_LIMIT:
            self._wake_writer.set()
            return
        self._direct_allowed = False
        gevent.get_hub().loop.run_callback(self._allow_direct)
        chunks = []
        self.conn.encode_messages(outbound.read_all(), chunks)
        data = b"".join(chunks)
        try:
            sent = self._raw.send(data)
        except OSError:
            sent = 0  # EAGAIN, or an error the writer will meet and report
        if sent < len(data):
            self._unsent = memoryview(data)[sent:]
            self._wake_writer.set()

    def _allow_direct(self):
        self._direct_allowed = True

    def _write_loop(self):
        conn = self.conn
        sock = self.sock
        outbound = self.peer.outbound
        wake = self._wake_writer
        try:
            while True:
                if self._unsent is not None:
                    unsent, self._unsent = self._unsent, None
                    sock.sendall(unsent)
                if conn.has_output:
                    sock.sendall(conn.data_to_send())
                if outbound is None or not outbound.queue:
                    if self.closing:
                        break
                    wake.clear()
                    if (outbound is None or not outbound.queue) and not conn.has_output and self._unsent is None:
                        self._writer_idle = True
                        try:
                            wake.wait()
                        finally:
                            self._writer_idle = False
                    continue
                self._write_batch(outbound.read_all())
        except OSError:
            pass
        # The writer ends when the connection ends or, while closing, once flushed.
        if self.closing:
            self._kill()

    def _write_batch(self, batch):
        if self.peer.outbound.wire:
            self.sock.sendall(b"".join(batch))  # already encoded (see Pipe.wire)
            return
        chunks = []
        total, large_count = self.conn.encode_messages(batch, chunks)
        sendall = self.sock.sendall
        if total <= _JOIN_LIMIT and not large_count:
            sendall(b"".join(chunks))
            return
        pending = []
        pending_size = 0
        for chunk in chunks:
            if type(chunk) is memoryview:
                if pending:
                    sendall(b"".join(pending))
                    pending = []
                    pending_size = 0
                sendall(chunk)
                continue
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= _JOIN_LIMIT:
                sendall(b"".join(pending))
                pending = []
                pending_size = 0
        if pending:
            sendall(b"".join(pending))


def _ignore():
    pass


def _zap_status(reason):
    """The ZAP status (300, 400, 500) an ERROR reason carries, as libzmq recognises it; else None."""
    if len(reason) == 3 and reason[0] in "345" and reason[1:] == "00":
        return int(reason)
    return None

"""The engine of STREAM sockets: plain bytes over TCP, no ZMTP.

Each chunk ``recv`` returns becomes one message for the STREAM pattern (which
puts the peer's routing id in front). Outgoing messages are written as they
are; an empty one closes the connection, as libzmq's STREAM does. With
STREAM_NOTIFY (the default) an empty message marks the connection's start and
end for the application.
"""

import logging

import gevent
from gevent.event import Event

from .constants import Event as MonitorEvent, SocketOption
from .zmtp.metadata import Metadata

log = logging.getLogger("greenmq")

READ_SIZE = 65536


class RawEngine:
    """One raw TCP connection on behalf of a STREAM socket's session."""

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
        self._notify = bool(self.socket._options[SocketOption.STREAM_NOTIFY])

    def run(self):
        """Run the connection in the calling greenlet until it ends."""
        self._greenlet = gevent.getcurrent()
        try:
            metadata = Metadata([("Peer-Address", (self.peer_address or "").encode())])
            self.peer = self.session.engine_ready(self, metadata)
            if self.peer is None:
                return
            self.peer.outbound.wake_reader = self._wake_writer.set
            inbound = self.peer.inbound
            inbound.wake_writer = self._room.set
            if self._notify:
                inbound.write(b"")
            self._writer = gevent.spawn(self._write_loop)
            while True:
                data = self.sock.recv(READ_SIZE)
                if not data:
                    break
                if inbound.reader_closed:
                    continue
                inbound.write(data)
                while not inbound.reader_closed and not inbound.can_write():
                    self._room.clear()
                    if inbound.can_write():
                        break
                    self._room.wait()
        except OSError as error:
            log.debug("greenmq: raw connection %s ended: %s", self.endpoint, error)
        finally:
            self._finish()

    def _write_loop(self):
        outbound = self.peer.outbound
        wake = self._wake_writer
        try:
            while True:
                if not outbound.queue:
                    if self.closing:
                        break
                    wake.clear()
                    if not outbound.queue:
                        wake.wait()
                    continue
                for msg in outbound.read_all():
                    data = msg if msg.__class__ is bytes else b"".join(msg)
                    if not data:
                        return self._kill()  # an empty message closes the connection
                    self.sock.sendall(data)
        except OSError:
            pass
        if self.closing:
            self._kill()

    def close(self, linger):
        """Stop: at once for linger 0 or nothing queued, else after flushing (up to linger ms)."""
        self.closing = True
        pending = self.peer is not None and bool(self.peer.outbound.queue)
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

    def _finish(self):
        writer, self._writer = self._writer, None
        if writer is not None and writer is not gevent.getcurrent():
            writer.kill(block=False)
        try:
            self.sock.close()
        except OSError:
            pass
        peer, self.peer = self.peer, None
        if peer is not None:
            if self._notify and not peer.inbound.reader_closed:
                peer.inbound.write(b"")
            peer.outbound.wake_reader = _ignore
            peer.inbound.wake_writer = _ignore
        self.session.engine_closed(self, peer)
        if peer is not None:
            self.socket._event(MonitorEvent.DISCONNECTED, 0, self.endpoint)


def _ignore():
    pass

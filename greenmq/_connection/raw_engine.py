"""The engine of STREAM sockets: plain bytes over TCP, no ZMTP.

Each chunk ``recv`` returns becomes one message for the STREAM pattern (which
puts the peer's routing id in front). Outgoing messages are written as they
are; an empty one closes the connection, as libzmq's STREAM does. With
STREAM_NOTIFY (the default) an empty message marks the connection's start and
end for the application.
"""

import logging

import gevent

from ..constants import SocketOption
from .engine import EngineBase
from ..zmtp.metadata import Metadata

log = logging.getLogger("greenmq")

READ_SIZE = 65536


class RawEngine(EngineBase):
    """One raw TCP connection on behalf of a STREAM socket's session."""

    def __init__(self, session, sock, endpoint, peer_address):
        super().__init__(session, sock, endpoint, peer_address)
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
                self._wait_for_room(inbound)
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

    def _peer_gone(self, peer):
        if self._notify and not peer.inbound.reader_closed:
            peer.inbound.write(b"")

"""The engine of STREAM sockets: plain bytes over TCP, no ZMTP.

Each chunk ``recv`` returns becomes one message for the STREAM pattern (which
puts the peer's routing id in front). Outgoing messages are written as they
are; an empty one closes the connection, as libzmq's STREAM does. With
STREAM_NOTIFY (the default) an empty message marks the connection's start and
end for the application.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
from gevent.event import Event

from .._pipe import Peer, Pipe
from ..zmtp.metadata import Metadata
from .engine import EngineBase
from .reader import wait_for_room

log = logging.getLogger("greenmq")

READ_SIZE = 65536


class RawEngine(EngineBase):
    """One raw TCP connection on behalf of a STREAM socket's session."""

    def __init__(self, session: Any, sock: Any, peer_address: str | None):
        super().__init__(session, sock, peer_address)
        self._notify = self.options.stream_notify
        self._wake = Event()
        self._room = Event()
        self._writer: gevent.Greenlet | None = None

    def run(self) -> None:
        """Run the connection in the calling greenlet until it ends."""
        self._greenlet = gevent.getcurrent()
        try:
            metadata = Metadata([("Peer-Address", (self.peer_address or "").encode())])
            peer = self.peer = self.session.engine_ready(self, metadata)
            if peer is None:
                return
            inbound, outbound = peer.inbound, peer.outbound
            assert inbound is not None and outbound is not None  # a STREAM socket sends and receives
            if self._notify:
                inbound.write(b"")
            self._writer = gevent.spawn(self._write_loop, outbound)
            while True:
                data = self.sock.recv(READ_SIZE)
                if not data:
                    break
                if inbound.reader_closed:
                    continue
                if not inbound.write_batch((data,)):
                    wait_for_room(inbound, self._room)
        except OSError as error:
            log.debug("greenmq: raw connection %s ended: %s", self.endpoint, error)
        finally:
            self._finish()

    def outbound_ready(self) -> None:
        self._wake.set()

    def inbound_room(self) -> None:
        self._room.set()

    def _flush_then_stop(self) -> None:
        self._wake.set()

    def _helpers(self) -> list[gevent.Greenlet | None]:
        return [self._writer]

    def _write_loop(self, outbound: Pipe) -> None:
        wake = self._wake
        try:
            while True:
                if not len(outbound):
                    if self.closing:
                        break
                    wake.clear()
                    if not len(outbound):
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

    def _peer_gone(self, peer: Peer) -> None:
        inbound = peer.inbound
        if self._notify and inbound is not None and not inbound.reader_closed:
            inbound.write(b"")

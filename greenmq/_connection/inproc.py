"""inproc: two sockets of one context share a pair of pipes; messages stay Python objects.

Bind and connect may happen in either order: a connect before the bind gets
its pipes at once (so sends queue, up to its SNDHWM) and is joined to the
binder when the bind happens. A joined pipe's HWM is the sender's SNDHWM plus
the receiver's RCVHWM (unlimited if either is 0), as in libzmq.

An :class:`InprocLink` owns one such connection: it made the pipes, it
wakes the binder's side once joined, and either side can cut it (close,
``disconnect()``, ROUTER_HANDOVER), after which the other side may still
read what was already queued for it.

Of the draft options that act on connections, inproc has what libzmq's
inproc has: the binder's HELLO_MSG is the first message the connector gets,
and the binder's DISCONNECT_MSG arrives from a connector that disconnects
or closes. (The connector's HELLO_MSG, ROUTER_NOTIFY and HICCUP_MSG belong
to libzmq's sessions and engines, which inproc does not have.)
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from .._pipe import Peer, Pipe
from ..constants import Errno
from ..error import zmq_error
from ..zmtp.metadata import Metadata
from ..zmtp.sockettypes import compatible

log = logging.getLogger("greenmq")


def _ignore() -> None:
    pass


def _sum_hwm(sndhwm: int, rcvhwm: int) -> int:
    return 0 if sndhwm == 0 or rcvhwm == 0 else sndhwm + rcvhwm


def _metadata(options: Any) -> Metadata:
    """What a ZMTP handshake would have told the other side about a socket with ``options``."""
    properties = [("Socket-Type", options.wire_type)]
    if options.routing_id:
        properties.append(("Identity", options.routing_id))
    return Metadata(properties)


class InprocLink:
    """One inproc connection, from ``connect()`` until either side cuts it."""

    def __init__(self, namespace: InprocNamespace, port: Any, endpoint: str, options: Any):
        self._namespace = namespace
        self.endpoint = endpoint
        self.connector = port
        self._connector_options = options
        self.binder: Any = None
        self.binder_peer: Peer | None = None
        self._disconnect_msg = b""  # the binder's DISCONNECT_MSG, once joined
        # Until the bind, the binder's ends of the pipes wake nobody.
        self._wake_binder_reader = _ignore
        self._wake_binder_writer = _ignore
        peer = Peer(endpoint, options.connect_routing_id, disconnect=lambda: self.cut(port))
        self.to_binder = Pipe(options.sndhwm, self._binder_readable, port.wake_writers, options.conflate)
        self.from_binder = Pipe(options.rcvhwm, port.reader_wakeup(peer), self._binder_writable, options.conflate)
        peer.use_pipes(self.from_binder, self.to_binder)
        self.connector_peer = peer

    def _binder_readable(self) -> None:
        self._wake_binder_reader()

    def _binder_writable(self) -> None:
        self._wake_binder_writer()

    def join(self, binder: Any, options: Any) -> bool:
        """Connect the bound socket to this link; False if the two cannot talk (the link is then cut)."""
        connector, connector_options = self.connector, self._connector_options
        ours, theirs = options.wire_type, connector_options.wire_type
        if not compatible(ours, theirs):
            log.warning("greenmq: inproc %s: %s cannot talk to %s", self.endpoint, theirs.decode(), ours.decode())
            self.cut(connector)
            return False
        to_binder, from_binder = self.to_binder, self.from_binder
        to_binder.set_hwm(_sum_hwm(connector_options.sndhwm, options.rcvhwm))
        from_binder.set_hwm(_sum_hwm(options.sndhwm, connector_options.rcvhwm))
        if options.conflate:
            to_binder.set_conflate()
            from_binder.set_conflate()
        binder_peer = Peer(self.endpoint, disconnect=lambda: self.cut(binder))
        binder_peer.bound = True
        binder_peer.use_pipes(to_binder, from_binder)
        binder_peer.metadata = _metadata(connector_options)
        self.connector_peer.metadata = _metadata(options)
        self.binder, self.binder_peer = binder, binder_peer
        self._wake_binder_reader = binder.reader_wakeup(binder_peer)
        self._wake_binder_writer = binder.wake_writers
        if not binder.attach(binder_peer):
            self.cut(connector)
            return False
        if options.hello_msg:
            from_binder.write(options.hello_msg)  # after what attaching queued (XPUB's welcome), as libzmq
        self._disconnect_msg = options.disconnect_msg
        if not connector.peer_ready(self.connector_peer):
            self.cut(connector)
            return False
        if len(to_binder):
            self._wake_binder_reader()
        connector.wake_writers()
        return True

    def cut(self, port: Any, last_words: bool = False) -> None:
        """``port``'s side leaves: it reads and writes no more; the other side may still
        drain what it was sent, then sees the link end. ``last_words``: the connector
        disconnects or closes, which gives the binder its DISCONNECT_MSG (libzmq's
        ``send_disconnect_msg``)."""
        ours: Peer | None
        theirs: Peer | None
        if port is self.connector:
            ours, theirs, other = self.connector_peer, self.binder_peer, self.binder
            sending, receiving = self.to_binder, self.from_binder
        else:
            ours, theirs, other = self.binder_peer, self.connector_peer, self.connector
            sending, receiving = self.from_binder, self.to_binder
        if ours is not None:
            port.detach(ours, close_pipes=False)
        if last_words and port is self.connector and self._disconnect_msg and not sending.writer_closed:
            sending.write(self._disconnect_msg)
        sending.close_writer()
        receiving.close_reader()
        if other is not None and theirs is not None:
            other.detach(theirs, close_pipes=False)
        self._namespace.forget_link(self)


class InprocNamespace:
    """The inproc names of one context, and the links made through them."""

    def __init__(self) -> None:
        self._bound: dict[str, tuple[Any, Any]] = {}  # name -> (port, options)
        self._pending: dict[str, list[InprocLink]] = {}  # name -> links waiting for a bind
        self._links: set[InprocLink] = set()

    def is_bound(self, name: str) -> bool:
        return name in self._bound

    def bind(self, port: Any, name: str, endpoint: str, options: Any) -> None:
        if name in self._bound:
            raise zmq_error(Errno.EADDRINUSE, endpoint)
        self._bound[name] = (port, options)
        for link in self._pending.pop(name, []):
            link.join(port, options)

    def unbind(self, port: Any, name: str) -> None:
        """Release the name; as in libzmq, links already made stay up."""
        bound = self._bound.get(name)
        if bound is None or bound[0] is not port:
            raise zmq_error(errno.ENOENT)
        del self._bound[name]

    def connect(self, port: Any, name: str, endpoint: str, options: Any) -> None:
        link = InprocLink(self, port, endpoint, options)
        self._links.add(link)
        port.attach(link.connector_peer)
        bound = self._bound.get(name)
        if bound is None:
            self._pending.setdefault(name, []).append(link)
        else:
            link.join(*bound)

    def disconnect(self, port: Any, endpoint: str) -> None:
        """Undo ``port``'s connects to ``endpoint`` (ENOENT if there are none)."""
        links = [link for link in self._links if link.connector is port and link.endpoint == endpoint]
        if not links:
            raise zmq_error(errno.ENOENT)
        for link in links:
            link.cut(port, last_words=True)

    def forget(self, port: Any) -> None:
        """A socket is closing: drop its names, and cut every link it is on from its side."""
        for name in [name for name, (bound, _) in self._bound.items() if bound is port]:
            del self._bound[name]
        for link in [link for link in self._links if port in (link.connector, link.binder)]:
            link.cut(port, last_words=True)

    def forget_link(self, link: InprocLink) -> None:
        self._links.discard(link)
        name = link.endpoint[len("inproc://"):]
        pending = self._pending.get(name)
        if pending and link in pending:
            pending.remove(link)
            if not pending:
                del self._pending[name]

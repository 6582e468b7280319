"""inproc: two sockets of one context share a pair of pipes; messages stay Python objects.

Bind and connect may happen in either order: a connect before the bind gets
its pipes at once (so sends queue, up to its SNDHWM) and is joined to the
binder when the bind happens. A joined pipe's HWM is the sender's SNDHWM plus
the receiver's RCVHWM (unlimited if either is 0), as in libzmq.
"""

import errno
import logging

from ..constants import Errno, SocketOption
from ..error import zmq_error
from .._pipe import Peer, Pipe
from ..zmtp.metadata import Metadata
from ..zmtp.sockettypes import WIRE_NAMES, compatible

log = logging.getLogger("greenmq")


def _sum_hwm(sndhwm, rcvhwm):
    return 0 if sndhwm == 0 or rcvhwm == 0 else sndhwm + rcvhwm


def _metadata(socket):
    """What a ZMTP handshake would have told the other side about ``socket``."""
    properties = [("Socket-Type", WIRE_NAMES[socket.socket_type])]
    identity = socket._options[SocketOption.ROUTING_ID]
    if identity:
        properties.append(("Identity", identity))
    return Metadata(properties)


class InprocRegistry:
    """The inproc names of one context."""

    def __init__(self):
        self.bound = {}
        self.pending = {}

    def bind(self, socket, name, endpoint):
        if name in self.bound:
            raise zmq_error(Errno.EADDRINUSE, endpoint)
        self.bound[name] = socket
        for connector, peer in self.pending.pop(name, []):
            if not connector.closed:
                self._join(socket, connector, peer, endpoint)

    def unbind(self, socket, name):
        """Release the name; as in libzmq, links already made stay up."""
        if self.bound.get(name) is not socket:
            raise zmq_error(errno.ENOENT)
        del self.bound[name]

    def connect(self, socket, name, endpoint):
        to_binder = Pipe(socket._options_get_int("SNDHWM"), wake_writer=socket._writable.set)
        from_binder = Pipe(socket._options_get_int("RCVHWM"), wake_reader=socket._readable.set)
        if socket._conflates():
            to_binder.set_conflate()
            from_binder.set_conflate()
        peer = Peer(inbound=from_binder, outbound=to_binder, endpoint=endpoint)
        peer.routing_id = socket._take_connect_routing_id()
        socket._attach(peer)
        binder = self.bound.get(name)
        if binder is None:
            self.pending.setdefault(name, []).append((socket, peer))
        else:
            self._join(binder, socket, peer, endpoint)
        return peer

    def forget(self, socket):
        """Drop every name and pending connect of a closing socket."""
        for name in [n for n, s in self.bound.items() if s is socket]:
            del self.bound[name]
        for name, entries in list(self.pending.items()):
            entries[:] = [(s, p) for s, p in entries if s is not socket]
            if not entries:
                del self.pending[name]

    def disconnect(self, socket, endpoint):
        name = endpoint[len("inproc://"):]
        found = False
        entries = self.pending.get(name, [])
        for entry in list(entries):
            if entry[0] is socket:
                entries.remove(entry)
                socket._detach(entry[1])
                found = True
        for peer in list(socket._peers):
            if peer.endpoint == endpoint and peer.remote is not None:
                socket._inproc_disconnect(peer)
                found = True
        if not found:
            raise zmq_error(errno.ENOENT)

    def _join(self, binder, connector, connector_peer, endpoint):
        ours = WIRE_NAMES[binder.socket_type]
        theirs = WIRE_NAMES[connector.socket_type]
        if not compatible(ours, theirs):
            log.warning("greenmq: inproc %s: %s cannot talk to %s", endpoint, theirs.decode(), ours.decode())
            connector._detach(connector_peer)
            return
        to_binder = connector_peer.outbound
        from_binder = connector_peer.inbound
        to_binder.set_hwm(_sum_hwm(connector._options_get_int("SNDHWM"), binder._options_get_int("RCVHWM")))
        from_binder.set_hwm(_sum_hwm(binder._options_get_int("SNDHWM"), connector._options_get_int("RCVHWM")))
        if binder._conflates():
            to_binder.set_conflate()
            from_binder.set_conflate()
        to_binder.wake_reader = binder._readable.set
        from_binder.wake_writer = binder._writable.set
        binder_peer = Peer(inbound=to_binder, outbound=from_binder, endpoint=endpoint)
        binder_peer.metadata = _metadata(connector)
        connector_peer.metadata = _metadata(binder)
        if not binder._attach(binder_peer):
            connector._detach(connector_peer)
            return
        if not connector._pattern.peer_ready(connector_peer):
            binder._detach(binder_peer)
            connector._detach(connector_peer)
            return
        binder_peer.remote = (connector, connector_peer)
        connector_peer.remote = (binder, binder_peer)
        binder_peer.terminate = lambda: binder._inproc_disconnect(binder_peer)
        connector_peer.terminate = lambda: connector._inproc_disconnect(connector_peer)
        if to_binder.queue:
            binder._readable.set()
        connector._writable.set()

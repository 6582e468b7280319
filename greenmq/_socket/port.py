"""The narrow interface through which connections plug into a socket.

Sessions, engines and inproc links never see the :class:`~greenmq.Socket`:
they get its :class:`SocketPort` and the
:class:`~greenmq._socket.settings.EndpointOptions` of their endpoint, and
with those they make peers, attach and detach them, and report monitor
events. That is all the connection side may do to a socket, as libzmq's
sessions talk to their socket only through pipes and a few commands.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from gevent import get_hub

from .._pipe import Peer, Pipe, WirePipe
from ..constants import Errno, Event
from ..error import zmq_error
from .monitor import MonitorPublisher
from .settings import EndpointOptions


def _ignore() -> None:
    pass


class SocketPort:
    """One socket's side of every connection it has (see the module docstring).

    ``context`` is the socket's context (a ZAP client asks the handler bound
    in it); ``wake_writers`` wakes greenlets waiting to send (a peer has room
    or arrived); ``disconnected`` is libzmq's flag for RECONNECT_STOP's
    AFTER_DISCONNECT bit: the socket has undone an endpoint while the bit was set.
    """

    __slots__ = ("context", "_pattern", "_wake_readers", "wake_writers", "_monitor", "_peers", "closed", "_hub",
                 "disconnected")

    def __init__(self, context: Any, pattern: Any, wake_readers: Callable[[], None],
                 wake_writers: Callable[[], None], monitor: MonitorPublisher):
        self.context = context
        self._pattern = pattern
        self._wake_readers = wake_readers
        self.wake_writers = wake_writers
        self._monitor = monitor
        self._peers: dict[Peer, None] = {}
        self.closed = False
        self.disconnected = False
        # The hub of the socket's own thread (a port is made with its socket, in that thread).
        self._hub = get_hub()

    def reader_wakeup(self, peer: Peer) -> Callable[[], None]:
        """What a peer's inbound pipe calls when it goes non-empty.

        Waiting receivers, usually; a publisher instead takes subscriptions the
        moment they arrive, so that its next send already honours them. An
        inproc subscriber in another OS thread writes into that pipe from its
        own thread: the publisher's pattern is then reached through its own
        hub, never changed from a thread that does not own it.
        """
        if not self._pattern.takes_subscriptions:
            return self._wake_readers
        take = partial(self._pattern.inbound_activated, peer)
        hub = self._hub  # not this thread's: an inproc link may join from the subscriber's thread

        def take_subscriptions() -> None:
            if get_hub() is hub:
                take()
            else:
                hub.loop.run_callback_threadsafe(take)

        return take_subscriptions

    def new_peer(self, endpoint: str, options: EndpointOptions, *,
                 outbound_ready: Callable[[], None] = _ignore, inbound_room: Callable[[], None] = _ignore,
                 disconnect: Callable[[], None] = _ignore, routing_id: bytes | None = None,
                 encode: Callable[[Any], bytes] | None = None, bound: bool = False) -> Peer:
        """A peer with the pipes this socket type needs, for a connection whose other end
        (an engine) is woken by ``outbound_ready`` (messages to send) and ``inbound_room``
        (room to deliver more). With ``encode``, a fan-out socket's outbound pipe carries
        messages already encoded by it (see :class:`~greenmq._pipe.WirePipe`)."""
        pattern = self._pattern
        peer = Peer(endpoint, routing_id, disconnect)
        peer.bound = bound
        inbound: Pipe | None = None
        outbound: Pipe | None = None
        if pattern.receives:
            inbound = Pipe(options.rcvhwm, self.reader_wakeup(peer), inbound_room, options.conflate)
        if pattern.sends:
            if encode is not None and pattern.fans_out:
                outbound = WirePipe(encode, options.sndhwm, outbound_ready, self.wake_writers, options.conflate)
            else:
                outbound = Pipe(options.sndhwm, outbound_ready, self.wake_writers, options.conflate)
        peer.use_pipes(inbound, outbound)
        return peer

    def attach(self, peer: Peer) -> bool:
        """Hand a peer to the socket type; False if it refuses it (or the socket is closed)."""
        if self.closed or not self._pattern.attach(peer):
            return False
        self._peers[peer] = None
        self.wake_writers()
        return True

    def peer_ready(self, peer: Peer) -> bool:
        """A peer attached before its handshake now has its properties; False if refused."""
        return self._pattern.peer_ready(peer)

    def detach(self, peer: Peer, close_pipes: bool = True) -> None:
        """Forget a peer. For an engine's peer the pipes die with it: what we queued for it
        is dropped, what it sent us can still be read. (An inproc link closes its own.)"""
        if peer not in self._peers:
            return  # never attached, or detached already
        del self._peers[peer]
        self._pattern.detach(peer)
        if close_pipes:
            if peer.outbound is not None:
                peer.outbound.close_reader()
            if peer.inbound is not None:
                peer.inbound.close_writer()

    def event(self, event: int, value: int, endpoint: str, bound: bool = False) -> None:
        """Report a monitor event about ``endpoint``, a bind of the socket (``bound``) or a connect."""
        self._monitor.emit(event, value, endpoint, bound)

    def pipes_stats(self) -> None:
        """``zmq_socket_monitor_pipes_stats``: a PIPES_STATS event per peer, with the messages
        queued towards it and from it. EINVAL unless a monitor wants the event, EAGAIN without
        peers (libzmq's ``query_pipes_stats``)."""
        if not self._monitor.wants(Event.PIPES_STATS):
            raise zmq_error(Errno.EINVAL)
        if not self._peers:
            raise zmq_error(Errno.EAGAIN)
        for peer in list(self._peers):
            queued = (len(peer.outbound) if peer.outbound is not None else 0,
                      len(peer.inbound) if peer.inbound is not None else 0)
            self._monitor.emit_values(Event.PIPES_STATS, queued, peer.endpoint or "", peer.bound)

    def close(self) -> None:
        """The socket closed: refuse new peers and stop reading from the remaining ones."""
        self.closed = True
        for peer in list(self._peers):
            if peer.inbound is not None:
                peer.inbound.close_reader()

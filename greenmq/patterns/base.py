"""What every socket type provides to the socket: where a message goes and where one comes from."""

from __future__ import annotations

from typing import Any, Callable

from .._pipe import Peer, Pipe
from ..constants import Errno
from ..error import zmq_error
from .strategies import recv_each, send_each


class Pattern:
    """Base class for a socket type's routing rules.

    ``attach``/``detach`` are told about peers as they come and go;
    ``send``/``recv`` never block: they return False/None when the socket
    would have to wait. ``sends``/``receives`` say which pipes a peer needs.
    ``wake_readers`` wakes whoever waits to receive on the socket, for types
    that make messages of their own (XPUB's subscription notices).

    Sending follows libzmq's rule for multipart messages: the first frame
    decides. :meth:`check_send` refuses it (EFSM, ENOTSUP, EHOSTUNREACH) and
    :meth:`room_for` says whether the socket must wait for room; once the
    first frame is accepted the rest never waits, and the whole message is
    sent with ``send(msg, over_hwm=True)``.
    """

    sends = True
    receives = True
    # STREAM speaks raw TCP (greenmq._connection.raw_engine) instead of ZMTP.
    raw = False
    # PUB/XPUB: SUBSCRIBE/CANCEL from peers arrive in the inbound pipe, and the
    # pattern takes them at once (inbound_activated) so that a send sees them.
    takes_subscriptions = False
    # PUB/XPUB: one message goes to many pipes; engines may take it encoded once (WirePipe).
    fans_out = False
    # REQ/REP: message_pending is called (the socket skips the calls for other types).
    wants_message_pending = False
    # SERVER, PEER, DISH: a received message comes with a routing id or a group (last_address),
    # which the socket puts on the Frame of recv(copy=False).
    carries_address = False

    def __init__(self, wake_readers: Callable[[], None]):
        self.wake_readers = wake_readers

    def attach(self, peer: Peer) -> bool:
        """Take a new peer; return False to refuse it. As libzmq, a refused connection (a
        second PAIR peer) is kept open and ignored, so that the peer does not reconnect in a loop."""
        raise NotImplementedError

    def detach(self, peer: Peer) -> None:
        raise NotImplementedError

    def peer_ready(self, peer: Peer) -> bool:
        """A peer attached before its handshake (connect side) now has its properties.

        Return False to refuse it (ROUTER: its routing id is taken)."""
        return True

    def inbound_activated(self, peer: Peer) -> None:
        """A peer's inbound pipe went non-empty (only for types with ``takes_subscriptions``)."""

    def message_pending(self, drop: Callable[[], None] | None) -> None:
        """The socket hands a received multipart message out one frame at a time: it has
        frames left (``drop`` discards them), or (None) the last one has been taken.

        libzmq's REQ and REP change state at a message's last frame, so they may
        not send (nor report POLLOUT) until then. Called only for a type that sets
        ``wants_message_pending``."""

    def check_send(self, first_frame: Any = None) -> None:
        """Called with the first frame of a message before it is accepted (libzmq checks EFSM,
        ENOTSUP and ROUTER_MANDATORY's EHOSTUNREACH there)."""
        if not self.sends:
            raise zmq_error(Errno.ENOTSUP)

    def room_for(self, first_frame: Any) -> bool:
        """Whether a message starting with ``first_frame`` can be queued now (else the sender waits)."""
        return self.can_send()

    def option_changed(self, option: int, value: Any) -> None:
        """A socket option this pattern may care about was set."""

    def subscription_option(self, subscribe: bool, topic: bytes) -> None:
        """setsockopt(SUBSCRIBE/UNSUBSCRIBE) on a type that takes it (SUB, XSUB, XPUB)."""
        raise zmq_error(Errno.EINVAL)

    def send(self, msg: Any, over_hwm: bool = False) -> bool:
        raise zmq_error(Errno.ENOTSUP)

    def send_addressed(self, msg: Any, routing_id: int, group: bytes, over_hwm: bool = False) -> bool:
        """``send`` of a message that names a routing id (0: none) or a group (b"": none), given
        to ``send(..., routing_id=, group=)`` or on a Frame. Types that route by neither ignore
        them, as libzmq does."""
        return self.send(msg, over_hwm)

    def last_address(self) -> tuple[int, bytes]:
        """The routing id (0: none) and group (b"": none) of the last message ``recv`` returned."""
        return 0, b""

    def topics_count(self) -> int:
        """TOPICS_COUNT: the distinct topics subscribed (PUB, XPUB, SUB, XSUB; EINVAL for others)."""
        raise zmq_error(Errno.EINVAL)

    def join(self, group: bytes) -> None:
        """``Socket.join``: only a DISH has groups (libzmq's ENOTSUP for the others)."""
        raise zmq_error(Errno.ENOTSUP)

    def leave(self, group: bytes) -> None:
        """``Socket.leave``: only a DISH has groups (libzmq's ENOTSUP for the others)."""
        raise zmq_error(Errno.ENOTSUP)

    def recv(self) -> Any:
        raise zmq_error(Errno.ENOTSUP)

    # -- batches (the proxy's fast path: greenmq.proxy via SocketBase.forward) ---------
    # The defaults are recv/send/can_send one message at a time, so they keep every rule
    # of the type; the strategies' types override them to move a batch in one step.

    def recv_many(self, limit: int) -> Any:
        """Up to ``limit`` messages, as successive :meth:`recv` calls would return them
        (a sequence, perhaps empty)."""
        return recv_each(self.recv, limit)

    def room(self, limit: int) -> int:
        """How many of ``limit`` messages :meth:`send_many` would queue now without
        waiting: as many as the type can tell, at least 1 whenever :meth:`can_send`."""
        return 1 if self.can_send() else 0

    def send_many(self, messages: Any) -> int:
        """Queue ``messages`` (no more than :meth:`room` allowed) as successive :meth:`send`
        calls would; returns how many were queued (the rest would have made the sender wait)."""
        return send_each(self.send, messages)

    def source(self) -> Pipe | None:
        """The pipe the last received message came from (for its peer's metadata), or None."""
        return None

    def can_send(self) -> bool:
        return False

    def can_recv(self) -> bool:
        return False

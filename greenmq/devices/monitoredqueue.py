"""``monitored_queue``: a queue between two sockets that reports both directions to a monitor socket."""

from __future__ import annotations

from ..constants import SocketType
from ..proxy import check_socket, RunningProxy
from ..socket import Socket


def monitored_queue(in_socket: Socket, out_socket: Socket, mon_socket: Socket, in_prefix: bytes = b"in",
                    out_prefix: bytes = b"out") -> None:
    """Start a monitored queue device.

    A monitored queue is like a proxy (each direction forwarded in its own
    greenlet), except that every message is also sent to ``mon_socket``
    after it has been forwarded, prefixed with a frame that says which way it
    went: ``in_prefix`` for messages that came in on ``in_socket``,
    ``out_prefix`` for those that came in on ``out_socket``.

    If both sockets are ROUTER sockets, the first two frames (the two
    routing ids) of each message are swapped, so that ROUTER-ROUTER queues
    work -- which :func:`greenmq.proxy` does not do.

    Blocks until the context is terminated (raises :class:`ContextTerminated`).

    Parameters
    ----------
    in_socket : Socket
        One of the sockets to the Queue. Its messages will be prefixed with 'in'.
    out_socket : Socket
        One of the sockets to the Queue. Its messages will be prefixed with 'out'.
        The only difference between in/out socket is this prefix.
    mon_socket : Socket
        This socket sends out every message received by each of the others
        with an in/out prefix specifying which one it was.
    in_prefix : bytes
        Prefix added to broadcast messages from in_socket.
    out_prefix : bytes
        Prefix added to broadcast messages from out_socket.
    """
    in_socket = check_socket(in_socket, "in_socket")
    out_socket = check_socket(out_socket, "out_socket")
    mon_socket = check_socket(mon_socket, "mon_socket")
    prefixes = []
    for name, prefix in (("in_prefix", in_prefix), ("out_prefix", out_prefix)):
        try:
            prefixes.append(memoryview(prefix).tobytes())
        except TypeError:
            raise TypeError(f"{name} must be bytes-like, not {type(prefix).__name__}") from None
    swap_ids = in_socket.socket_type == SocketType.ROUTER and out_socket.socket_type == SocketType.ROUTER
    RunningProxy(in_socket, out_socket, mon_socket, capture_prefixes=tuple(prefixes), swap_ids=swap_ids).run()


__all__ = ["monitored_queue"]

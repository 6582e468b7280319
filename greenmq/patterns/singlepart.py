"""The one-frame rule of the thread-safe socket types (CLIENT, SERVER, RADIO, DISH, SCATTER,
GATHER, CHANNEL, PEER), as libzmq applies it.

Their messages have exactly one frame: sending more (``SNDMORE``, or
``send_multipart`` of several frames) is ``EINVAL``, and a multipart message
that arrives from a peer is dropped whole. RADIO and DISH carry their group
in a frame of its own on the wire; their modules handle that shape.
"""

from typing import Any, Callable

from ..constants import Errno
from ..error import zmq_error
from .base import Pattern


def outgoing(msg: Any) -> Any:
    """``msg`` if it is one frame; EINVAL otherwise."""
    if msg.__class__ is bytes or len(msg) == 1:
        return msg
    raise zmq_error(Errno.EINVAL)


def next_single(receive: Callable[[], Any]) -> Any:
    """The next one-frame message that ``receive`` gives (or None), dropping multipart ones."""
    while True:
        msg = receive()
        if msg is None or msg.__class__ is bytes or len(msg) == 1:
            return msg


def body_of(msg: Any) -> Any:
    """The one frame of a one-frame message (``bytes``, or a view from ``copy=False``)."""
    return msg if msg.__class__ is bytes else msg[0]


def as_single(body: Any) -> Any:
    """A frame as a one-frame message (a view goes in a list; see greenmq.patterns.message)."""
    return body if body.__class__ is bytes else [body]


class SinglePart(Pattern):
    """Base of the thread-safe types: the first frame of a ``SNDMORE`` message is refused."""

    def check_send(self, first_frame: Any = None) -> None:
        if not self.sends:
            raise zmq_error(Errno.ENOTSUP)
        raise zmq_error(Errno.EINVAL)

"""The exceptions of the public API, shaped like pyzmq's ``zmq.error``.

A failed call raises :class:`ZMQError` whose ``errno`` is libzmq's error
number; the three errors a program most often handles on their own get a
subclass (:class:`Again`, :class:`ContextTerminated`,
:class:`InterruptedSystemCall`), exactly as pyzmq maps them.
"""

from __future__ import annotations

import errno as _errno
import os

from .constants import Errno

_LIBZMQ_MESSAGES: dict[int, str] = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
    Errno.ENOTSUP: "Operation not supported",
}


def strerror(errnum: int) -> str:
    """The message libzmq gives for an error number."""
    message = _LIBZMQ_MESSAGES.get(errnum)
    if message is None:
        message = os.strerror(errnum)
    return message


class ZMQBaseError(Exception):
    """Base of every greenmq exception."""


class ZMQError(ZMQBaseError):
    """An error from a socket or context call, carrying libzmq's ``errno``."""

    # Always set by __init__ (EINVAL when no errno is given), so never None, unlike pyzmq's.
    errno: int
    strerror: str

    def __init__(self, errno: int | None = None, msg: str | None = None) -> None:
        if errno is None:
            errno = Errno.EINVAL
        self.errno = errno
        self.strerror = msg if msg is not None else strerror(errno)
        super().__init__(self.strerror)

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strerror!r})"


class Again(ZMQError):
    """EAGAIN: the call would block (``NOBLOCK``) or its timeout expired."""

    def __init__(self, errno: int = Errno.EAGAIN, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class ContextTerminated(ZMQError):
    """ETERM: the socket's context was terminated while the call waited."""

    def __init__(self, errno: int = Errno.ETERM, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):
    """EINTR."""

    # OSError (a base through InterruptedError) declares both Optional; ZMQError's always hold values.
    errno: int
    strerror: str

    def __init__(self, errno: int = _errno.EINTR, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class NotDone(ZMQBaseError):
    """Raised by :meth:`MessageTracker.wait` when the timeout expires."""


class ZMQBindError(ZMQBaseError):
    """``bind_to_random_port`` found no free port."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq than the one emulated."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        self.min_version = min_version
        self.msg = msg
        super().__init__(f"{msg} requires libzmq >= {min_version}")


_SUBCLASS_BY_ERRNO: dict[int, type[ZMQError]] = {
    Errno.EAGAIN: Again,
    Errno.ETERM: ContextTerminated,
    _errno.EINTR: InterruptedSystemCall,
}


def zmq_error(errnum: int, addr: str | None = None) -> ZMQError:
    """Build the exception pyzmq would raise for ``errnum`` (optionally about an endpoint)."""
    cls = _SUBCLASS_BY_ERRNO.get(errnum, ZMQError)
    message = strerror(errnum)
    if addr is not None:
        message = f"{message} (addr={addr!r})"
    return cls(errnum, message)

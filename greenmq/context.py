"""``Context``: the owner of sockets, the inproc namespace, and termination.

There is no I/O thread: the gevent hub does that work, so ``io_threads`` is
accepted and ignored. ``term()`` follows libzmq: every blocked call on the
context's sockets raises :class:`ContextTerminated`, and ``term()`` returns
once every socket has been closed and its lingering messages are sent (or its
linger period is over).
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Callable, TypeVar

from ._socket.registry import SocketRegistry
from .constants import ContextOption, Errno, SocketOption
from ._shadow import Shadowable
from .error import ZMQError, zmq_error
from .socket import Socket

_CONTEXT_DEFAULTS: dict[int, int] = {
    ContextOption.IO_THREADS: 1,
    ContextOption.MAX_SOCKETS: 1023,
    ContextOption.SOCKET_LIMIT: 65535,
    ContextOption.THREAD_SCHED_POLICY: -1,
    ContextOption.MAX_MSGSZ: 2**31 - 1,
    ContextOption.MSG_T_SIZE: 64,
    ContextOption.THREAD_NAME_PREFIX: 0,
}
_READ_ONLY = (ContextOption.SOCKET_LIMIT, ContextOption.MSG_T_SIZE)
_C = TypeVar("_C", bound="Context")
_S = TypeVar("_S", bound=Socket)



class Context(Shadowable, unknown_address_errno=Errno.EFAULT):
    """A greenmq context: creates sockets with :meth:`socket`; ``with Context() as ctx:`` destroys it at exit.

    Socket options set on the context (``ctx.linger = 0`` or
    ``ctx.setsockopt(zmq.LINGER, 0)``) become defaults of the sockets it creates
    afterwards, as in pyzmq.
    """

    # Per object, not shared with shadows (the rest of the state is, in __dict__: see shadow()).
    __slots__ = ("_shadow", "_shadow_obj", "_terminated")
    _instance = None
    _instance_pid = None
    _instance_lock = threading.Lock()
    _socket_class = Socket
    _repr_cls = "greenmq.Context"

    def __init__(self, io_threads: Any = 1, shadow: Any = 0, **kwargs: Any) -> None:
        """A new context -- or, given a context (as ``io_threads`` or ``shadow``) or a context's
        :attr:`underlying` address (as ``shadow``), a shadow of that context (see :meth:`shadow`)."""
        self._shadow = False
        self._shadow_obj: Any = None
        self._terminated = False  # term() or destroy() was called on this object
        if isinstance(io_threads, Context):
            shadow, io_threads = io_threads, 1
        if not (isinstance(shadow, int) and shadow == 0):
            self._share(shadow)
            return
        if not isinstance(io_threads, int):
            raise TypeError(f"io_threads must be an int, got {io_threads!r}")
        if io_threads < 0:
            raise zmq_error(Errno.EINVAL)
        self._options: dict[int, int] = dict(_CONTEXT_DEFAULTS)
        self._options[ContextOption.IO_THREADS] = io_threads
        # The context's sockets and inproc names; sockets register themselves here.
        self.registry = SocketRegistry()
        self.sockopts: dict[int, Any] = {}

    def __repr__(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_repr_cls") or f"{cls.__module__}.{cls.__qualname__}"
        count = len(self.registry.sockets())
        sockets = f"{count} socket{'s' if count > 1 else ''}" if count else ""
        closed = " closed" if self.closed else ""
        return f"<{name}({sockets}) at {id(self):#x}{closed}>"

    def __dir__(self) -> list[str]:
        """The attributes, and the context options that can be read as attributes (``ctx.IO_THREADS``)."""
        return sorted({*super().__dir__(), *ContextOption.__members__})

    @classmethod
    def instance(cls: type[_C], io_threads: int = 1) -> _C:
        """The process-wide shared context (a new one after a fork or once it is closed)."""
        if cls._instance is None or cls._instance_pid != os.getpid() or cls._instance.closed:
            with cls._instance_lock:
                if cls._instance is None or cls._instance_pid != os.getpid() or cls._instance.closed:
                    cls._instance = cls(io_threads=io_threads)
                    cls._instance_pid = os.getpid()
        return cls._instance

    @property
    def closed(self) -> bool:
        return self.registry.closed

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *args: Any) -> None:
        for sock in self.registry.sockets():
            if not sock.closed:
                warnings.warn(f"Destroying context with unclosed socket {sock}", ResourceWarning,
                              stacklevel=2, source=sock)
        self.destroy()

    # -- sockets -----------------------------------------------------------------

    def socket(self, socket_type: int, socket_class: Callable[..., _S] | None = None, **kwargs: Any) -> Any:
        """Create a socket of ``socket_type`` (``zmq.PUSH`` ...) in this context."""
        if not isinstance(socket_type, int):
            raise TypeError(f"socket_type must be an int, not {socket_type!r}")
        if self.closed:
            # pyzmq: the object that terminated the context knows it is closed (ENOTSUP); through
            # another object on it the call reaches libzmq, which says EFAULT for a terminated context.
            raise zmq_error(Errno.ENOTSUP if self._terminated else Errno.EFAULT)
        self.registry.check_open()
        self.registry.check_room(self._options[ContextOption.MAX_SOCKETS])
        cls = socket_class or self._socket_class
        sock = cls(self, socket_type, **kwargs)
        for option, value in self.sockopts.items():
            try:
                sock.setsockopt(option, value)
            except ZMQError:
                # Defaults that do not apply to this socket type are skipped, like pyzmq.
                pass
        return sock

    # -- options -----------------------------------------------------------------

    def set(self, option: int, value: int) -> None:
        """Set a context option (``zmq_ctx_set``)."""
        self.registry.check_open()
        if option not in _CONTEXT_DEFAULTS or option in _READ_ONLY:
            raise zmq_error(Errno.EINVAL)
        if not isinstance(value, int) or value < -1:
            raise zmq_error(Errno.EINVAL)
        if option == ContextOption.MAX_SOCKETS and value < 1:
            raise zmq_error(Errno.EINVAL)  # libzmq: a context holds at least one socket
        self._options[option] = value

    def get(self, option: int) -> int:
        """Get a context option (``zmq_ctx_get``)."""
        if self.closed:
            raise zmq_error(Errno.EFAULT)
        if option not in _CONTEXT_DEFAULTS:
            raise zmq_error(Errno.EINVAL)
        return self._options[option]

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a default option for sockets created later."""
        self.sockopts[option] = value

    def getsockopt(self, option: int) -> Any:
        """The default set with :meth:`setsockopt`."""
        return self.sockopts[option]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        if upper in ContextOption.__members__:
            try:
                return self.get(ContextOption[upper])
            except ZMQError as error:
                # As pyzmq: an option that cannot be read is no attribute (what hasattr() and mocks expect).
                if error.errno in (Errno.EINVAL, Errno.EFAULT):
                    raise AttributeError(f"{name} attribute is write-only") from None
                raise
        if upper in SocketOption.__members__:
            try:
                return self.sockopts[SocketOption[upper]]
            except KeyError:
                raise AttributeError(name) from None
        raise AttributeError(f"Context has no such option: {upper}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in ("sockopts", "registry") or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        upper = name.upper()
        if upper in ContextOption.__members__:
            self.set(ContextOption[upper], value)
        elif upper in SocketOption.__members__:
            self.sockopts[SocketOption[upper]] = value
        else:
            raise AttributeError(f"Context has no such option: {upper}")

    def __delattr__(self, name: str) -> None:
        upper = name.upper()
        if upper in SocketOption.__members__:
            self.sockopts.pop(SocketOption[upper], None)
        else:
            object.__delattr__(self, name)

    # -- termination ---------------------------------------------------------------

    def shutdown(self) -> None:
        """Make every blocking call on this context's sockets raise ContextTerminated, without waiting."""
        if not self.closed:
            self.registry.interrupt_all()

    def term(self) -> None:
        """Terminate: interrupt blocked calls, wait for every socket to be closed and for lingering messages."""
        self._terminated = True
        if self.closed:
            return
        self.shutdown()
        self.registry.wait_until_closed()

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket of the context (with ``linger`` if given), then :meth:`term`."""
        self._terminated = True
        if self.closed:
            return
        for sock in self.registry.sockets():
            if not sock.closed:
                sock.close(linger=linger)
        self.term()

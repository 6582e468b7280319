"""``Socket``: pyzmq's socket API, blocking cooperatively on the gevent hub.

This module is the public face: options as methods and attributes,
endpoints, the string/JSON/pickle forms of send and receive, polling and
monitoring. What moves messages -- the one send/receive core with libzmq's
rule for multipart messages, and the socket's parts below it -- is
:class:`greenmq._socket.base.SocketBase`, which :class:`Socket` extends as
pyzmq's ``zmq.Socket`` extends its backend socket.
"""

from __future__ import annotations

import errno
import json
import operator
import pickle
import random
from typing import Any, Callable, TypeVar

from ._connection.endpoint import IPC_PATH_MAX, split as split_endpoint
from ._socket import options as _options
from ._shadow import Shadowable
from ._socket.base import SocketBase
from .constants import Errno, Event as MonitorEvent, PollEvent, ReconnectStop, SocketOption, SocketType
from .error import ZMQBindError, ZMQError, zmq_error
from .frame import COPY_THRESHOLD, MessageTracker
from .poll import zmq_poll

_S = TypeVar("_S", bound="Socket")

IPC_PATH_MAX_LEN = IPC_PATH_MAX  # pyzmq's name: the longest ipc path (sizeof(sockaddr_un.sun_path) - 1)

# Setting these as attributes subscribes, as in pyzmq, although Socket has methods of those names.
_SUBSCRIPTION_ATTRIBUTES = {"subscribe": SocketOption.SUBSCRIBE, "unsubscribe": SocketOption.UNSUBSCRIBE}


class SocketContext:
    """What ``bind``/``connect`` return: usable as a context manager that undoes the call."""

    def __init__(self, socket: Socket, kind: str, addr: str):
        self.socket = socket
        self.kind = kind
        self.addr = addr

    def __repr__(self) -> str:
        return f"<SocketContext({self.kind}={self.addr!r})>"

    def __enter__(self) -> Socket:
        return self.socket

    def __exit__(self, *args: Any) -> None:
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.addr)
        elif self.kind == "connect":
            self.socket.disconnect(self.addr)


class Socket(SocketBase, Shadowable, unknown_address_errno=Errno.ENOTSOCK):
    """A ZeroMQ socket, with pyzmq's API, blocking cooperatively on the gevent hub.

    Create sockets with :meth:`Context.socket`. Options are read and written
    with :meth:`getsockopt`/:meth:`setsockopt` (aliases :meth:`get`/:meth:`set`)
    or as attributes: ``sock.linger = 0``, ``sock.rcvhwm``. The attributes are
    properties generated from the option table; ``__setattr__`` only rejects
    unknown names (and, as in pyzmq, takes ``sock.subscribe = topic`` for the
    option, not for a new method), and the send/recv fast paths never assign
    to the socket.
    """

    # Per object, not shared with shadows (everything else is, see shadow()).
    __slots__ = ("_shadow", "_shadow_obj", "copy_threshold")
    _monitor_socket: Socket | None = None
    _repr_cls = "greenmq.Socket"

    def __init__(self, ctx_or_socket: Any = None, socket_type: int = 0, *, shadow: Any = 0,
                 copy_threshold: int | None = None):
        """A new socket of ``socket_type`` in the context ``ctx_or_socket`` -- or, given a socket (as
        ``ctx_or_socket`` or ``shadow``) or a socket's :attr:`underlying` address (as ``shadow``),
        a shadow of that socket (see :meth:`shadow`). ``copy_threshold`` (default
        ``COPY_THRESHOLD``) is this object's own, a shadow's too, as in pyzmq."""
        self.copy_threshold = COPY_THRESHOLD if copy_threshold is None else copy_threshold
        self._shadow = False
        self._shadow_obj: Any = None
        if isinstance(ctx_or_socket, Socket):
            shadow, ctx_or_socket = ctx_or_socket, None
        if not (isinstance(shadow, int) and shadow == 0):
            self._share(shadow)
            return
        if ctx_or_socket is None:
            raise TypeError("context must be specified")
        super().__init__(ctx_or_socket, socket_type, copy_threshold=copy_threshold)

    def __repr__(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_repr_cls") or f"{cls.__module__}.{cls.__qualname__}"
        state = " closed" if self._closed else ""
        return f"<{name}(greenmq.{self.socket_type.name}) at {id(self):#x}{state}>"

    # -- pyzmq conveniences --------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, linger: int | None = None) -> None:
        """Close the socket (see SocketBase.close); through a shadow, the socket it shadows is closed,
        the object the context knows."""
        if self._shadow:
            self._shadow_obj.close(linger)
        else:
            super().close(linger)

    @property
    def type(self) -> int:
        socket_type: int = self.__dict__.get("type", self.socket_type)
        return socket_type

    @type.setter
    def type(self, value: Any) -> None:
        # pyzmq keeps ``type`` as a plain attribute, which a program (or a test's fake) may overwrite;
        # the socket's real type (getsockopt(TYPE)) stays.
        self.__dict__["type"] = value

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        if upper == "HWM":
            return self.get_hwm()
        option = SocketOption.__members__.get(upper)
        if option is None:
            raise AttributeError(f"Socket has no such option: {upper}")
        try:
            return self.getsockopt(option)
        except ZMQError as error:
            if error.errno == Errno.EINVAL:
                raise AttributeError(f"{name} attribute is write-only") from None
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        # As in pyzmq: attributes the class defines (options included) can be set,
        # anything else is taken for a misspelt option.
        if name[0] == "_" or name in self.__dict__:
            object.__setattr__(self, name, value)
            return
        subscription = _SUBSCRIPTION_ATTRIBUTES.get(name.lower())
        if subscription is not None:
            self.setsockopt(subscription, value.encode("utf-8") if isinstance(value, str) else value)
        elif hasattr(type(self), name):
            object.__setattr__(self, name, value)
        elif name.upper() in SocketOption.__members__:  # an option in any case (sock.Linger), as in pyzmq
            self.set(SocketOption[name.upper()], value)
        else:
            raise AttributeError(f"Socket has no such option: {name.upper()}")

    def get_hwm(self) -> int:
        """The send high-water mark (pyzmq's ``hwm`` reads SNDHWM)."""
        hwm: int = self.getsockopt(SocketOption.SNDHWM)
        return hwm

    def set_hwm(self, value: int) -> None:
        """Set both SNDHWM and RCVHWM."""
        self.setsockopt(SocketOption.SNDHWM, value)
        self.setsockopt(SocketOption.RCVHWM, value)

    hwm = property(get_hwm, set_hwm)

    # -- options ---------------------------------------------------------------

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option (libzmq's number); see ``zmq_setsockopt``."""
        self._check_usable()
        spec, value = _options.setting(option, value, self.socket_type)
        if option in (SocketOption.SUBSCRIBE, SocketOption.UNSUBSCRIBE):
            self._pattern.subscription_option(option == SocketOption.SUBSCRIBE, value)
            return
        self._settings.set(spec.option, value)
        self._pattern.option_changed(spec.option, value)

    def getsockopt(self, option: int) -> Any:
        """Get a socket option (libzmq's number); see ``zmq_getsockopt``."""
        self._check_usable()
        spec = _options.lookup(option)
        if not spec.readable:
            raise zmq_error(Errno.EINVAL)
        if option == SocketOption.RCVMORE:
            return 0 if self._recv_parts is None else 1
        if option == SocketOption.EVENTS:
            return self._observed_events()
        if option == SocketOption.FD:
            return self._readiness_fileno()
        if option == SocketOption.TOPICS_COUNT:
            return self._pattern.topics_count()
        return self._settings.get(spec.option)

    set = setsockopt
    get = getsockopt

    def setsockopt_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        """Set a bytes option from a str."""
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}: {optval!r}")
        self.setsockopt(option, optval.encode(encoding))

    def getsockopt_string(self, option: int, encoding: str = "utf-8") -> str:
        """Get a bytes option as a str."""
        if _options.value_kind(option) != _options.BYTES:
            raise TypeError(f"option {option} will not return a string to be decoded")
        value: bytes = self.getsockopt(option)
        return value.decode(encoding)

    set_string = setsockopt_unicode = setsockopt_string
    get_string = getsockopt_unicode = getsockopt_string

    def subscribe(self, topic: str | bytes) -> None:
        """Subscribe to messages whose first frame starts with ``topic`` (str is encoded as utf-8)."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.SUBSCRIBE, topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        """Undo one :meth:`subscribe` of ``topic``."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.UNSUBSCRIBE, topic)

    # -- groups (DISH) ----------------------------------------------------------

    def join(self, group: str | bytes) -> None:
        """Join a RADIO/DISH group (DISH only: ``ENOTSUP`` otherwise). ``EINVAL`` for a group of
        more than 255 bytes or one joined already, as libzmq; str is encoded as UTF-8."""
        self._check_usable()
        self._pattern.join(_group_argument(group))

    def leave(self, group: str | bytes) -> None:
        """Leave a group joined before (``EINVAL`` otherwise, as libzmq)."""
        self._check_usable()
        self._pattern.leave(_group_argument(group))

    # -- endpoints ---------------------------------------------------------------

    def _endpoint_text(self, addr: str | bytes, check_type: bool = True) -> str:
        """``addr`` as str, with pyzmq's TypeError, once the socket is known to be usable."""
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        elif check_type and not isinstance(addr, str):
            raise TypeError(f"Expected addr to be str, got addr={addr!r}")
        self._check_usable(addr if check_type else None)
        return addr

    def bind(self, addr: str | bytes) -> SocketContext:
        """Accept connections on an endpoint (``tcp://``, ``ipc://``, ``inproc://``).

        Returns a context manager that unbinds the concrete endpoint (the one
        in ``LAST_ENDPOINT``, so ``tcp://host:*`` works) on exit.
        """
        addr = self._endpoint_text(addr)
        try:
            endpoint = self._endpoints.bind(addr, self._settings.snapshot(self._pattern))
        except ZMQError as error:
            if error.errno == errno.ENAMETOOLONG and addr.startswith("ipc://"):
                raise _ipc_path_too_long(addr) from None
            raise
        self._settings.record_endpoint(endpoint)
        return SocketContext(self, "bind", endpoint)

    def bind_to_random_port(self, addr: str, min_port: int = 49152, max_port: int = 65536,
                            max_tries: int = 100) -> int:
        """Bind to a random port of ``addr`` (``tcp://host``); return the port."""
        if min_port == 49152 and max_port == 65536:
            self.bind(f"{addr}:*")
            return int(self._settings[SocketOption.LAST_ENDPOINT].decode().rsplit(":", 1)[1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as error:
                if error.errno in (Errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            return port
        raise ZMQBindError("Could not bind socket to random port.")

    def unbind(self, addr: str | bytes) -> None:
        """Stop listening on an endpoint bound earlier (the concrete one from LAST_ENDPOINT)."""
        addr = self._endpoint_text(addr, check_type=False)
        self._endpoints.unbind(addr, self._settings[SocketOption.LINGER], bool(self._settings[SocketOption.IPV6]))
        self._endpoint_undone()

    def connect(self, addr: str | bytes) -> SocketContext:
        """Connect to an endpoint; returns at once, the connection is made (and remade) in the background."""
        addr = self._endpoint_text(addr)
        try:
            self._endpoints.connect(addr, self._settings.snapshot(self._pattern, connecting=True))
        except ZMQError as error:
            if error.errno == errno.ENAMETOOLONG and addr.startswith("ipc://"):
                raise _ipc_path_too_long(addr) from None
            raise
        self._settings.record_endpoint(addr)
        return SocketContext(self, "connect", addr)

    def connect_peer(self, addr: str | bytes) -> int:
        """PEER only (``ENOTSUP`` otherwise): connect, and return the routing id of the new peer
        at once, so that messages to it queue until the connection is made (``zmq_connect_peer``).
        That cannot work with ``IMMEDIATE``, which makes it ``EFAULT``, as in libzmq."""
        self._check_usable()
        if self.socket_type != SocketType.PEER:
            raise zmq_error(Errno.ENOTSUP)
        if self._settings[SocketOption.IMMEDIATE]:
            raise zmq_error(Errno.EFAULT)
        self.connect(addr)
        routing_id: int = self._pattern.newest_routing_id
        return routing_id

    def disconnect(self, addr: str | bytes) -> None:
        """Undo a ``connect``: the peer is dropped at once; what was queued for it is still sent
        within LINGER, the socket connecting meanwhile (as libzmq)."""
        addr = self._endpoint_text(addr, check_type=False)
        self._endpoints.disconnect(addr, self._settings[SocketOption.LINGER])
        self._endpoint_undone()

    def _endpoint_undone(self) -> None:
        """RECONNECT_STOP_AFTER_DISCONNECT, as libzmq: once the socket has undone an endpoint with
        the bit set, its ipc connections stop retrying a refused connect."""
        if self._settings[SocketOption.RECONNECT_STOP] & ReconnectStop.AFTER_DISCONNECT:
            self._port.disconnected = True

    # -- the string, JSON, pickle and serializer forms ---------------------------------

    def send_string(self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8",
                    **kwargs: Any) -> MessageTracker | None:
        """Send a str, encoded (utf-8 by default)."""
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags=flags, copy=copy, **kwargs)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> MessageTracker | None:
        """Send a Python object as a JSON message."""
        send_kwargs = {key: kwargs.pop(key) for key in ("routing_id", "group") if key in kwargs}
        return self.send(json.dumps(obj, **kwargs).encode("utf8"), flags, **send_kwargs)

    def send_pyobj(self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL,
                   **kwargs: Any) -> MessageTracker | None:
        """Send a Python object pickled."""
        return self.send(pickle.dumps(obj, protocol), flags=flags, **kwargs)

    def send_serialized(self, msg: Any, serialize: Callable[[Any], list[Any]], flags: int = 0, copy: bool = True,
                        **kwargs: Any) -> MessageTracker | None:
        """Send ``serialize(msg)`` (a list of frames) as one multipart message."""
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive the next frame into ``buffer`` (any writable, C-contiguous buffer) instead of a new object.

        At most ``nbytes`` bytes are written (0: the buffer's size); the rest of a longer frame is
        discarded, as libzmq's ``zmq_recv`` does. Returns the frame's full size, so a result above
        the size asked for means the frame was truncated. Frames of a multipart message come one
        call at a time (see RCVMORE); ``flags`` are :meth:`recv`'s. A buffer that cannot be written
        raises BufferError, a bad ``nbytes`` ValueError, both before anything is received.
        """
        view = memoryview(buffer)
        if view.readonly:
            raise BufferError("memoryview: underlying buffer is not writable")
        if not view.c_contiguous:
            raise BufferError("memoryview: underlying buffer is not C-contiguous")
        size = view.nbytes
        nbytes = operator.index(nbytes)
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes} must not be negative")
        if nbytes > size:
            raise ValueError(f"nbytes={nbytes} too big for memoryview of {size}B")
        frame = self.recv(flags)
        count = min(len(frame), nbytes or size)
        view.cast("B")[:count] = memoryview(frame)[:count]
        return len(frame)

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        """Receive a frame and decode it (utf-8 by default)."""
        return self.recv(flags=flags).decode(encoding)

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive a JSON message and return the Python object."""
        return json.loads(self.recv(flags), **kwargs)

    def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive a pickled Python object (only from peers you trust)."""
        return pickle.loads(self.recv(flags))

    def recv_serialized(self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True) -> Any:
        """Receive a multipart message and return ``deserialize(frames)``."""
        return deserialize(self.recv_multipart(flags, copy=copy))

    # -- polling ---------------------------------------------------------------------

    def fileno(self) -> int:
        """The ``ZMQ_FD`` descriptor, for event loops: readable when the socket's readiness
        may have changed; then read ``EVENTS`` (edge-triggered: consume what ``EVENTS``
        reports before waiting again). Made on first use; closed with the socket."""
        fd: int = self.getsockopt(SocketOption.FD)
        return fd

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait until the socket can receive (``POLLIN``) and/or send (``POLLOUT``).

        ``timeout`` is in milliseconds (None or -1: forever). Returns the events
        that are ready (0 on timeout).
        """
        if self._closed:
            raise zmq_error(Errno.ENOTSUP)
        ready = zmq_poll([(self, flags)], timeout)
        return ready[0][1] if ready else 0

    # -- monitoring ------------------------------------------------------------------

    def monitor(self, addr: str | None, events: int = MonitorEvent.ALL) -> None:
        """Publish this socket's events on an inproc PAIR bound at ``addr`` (``zmq_socket_monitor``);
        ``addr`` None stops monitoring."""
        self.monitor_versioned(addr, events, 1, SocketType.PAIR)

    def monitor_versioned(self, addr: str | None, events: int = MonitorEvent.ALL_V2, version: int = 2,
                          type: int = SocketType.PAIR) -> None:
        """libzmq's draft ``zmq_socket_monitor_versioned`` (pyzmq has no such method): publish
        ``events`` in format ``version`` on an inproc socket of ``type`` (PAIR, PUB or PUSH; a
        PUB's topic is the event's first frame) bound at ``addr``; None stops monitoring.

        Version 2 frames: the event (64-bit native), the number of values (64-bit), each value
        (64-bit), the local endpoint, the remote endpoint. ``EINVAL`` for a version other than 1
        or 2, events above 16 bits with version 1, or another socket type."""
        self._check_usable()
        if addr is None:
            self._monitor.stop()
            return
        if split_endpoint(addr)[0] != "inproc":
            raise zmq_error(Errno.EPROTONOSUPPORT, addr)
        self._monitor.start(self.context, addr, events, version, type)

    def monitor_pipes_stats(self) -> None:
        """libzmq's draft ``zmq_socket_monitor_pipes_stats``: a ``PIPES_STATS`` event (version 2)
        for each peer, its values the messages queued towards the peer and from it. ``EINVAL``
        unless a monitor wants ``PIPES_STATS``, ``EAGAIN`` when there is no peer."""
        self._check_usable()
        self._port.pipes_stats()

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None) -> Socket:
        """Start monitoring and return a connected PAIR socket that receives the events; while that
        socket is open, later calls return it again (as pyzmq: one monitor socket per socket)."""
        if self._monitor_socket is not None and not self._monitor_socket.closed:
            return self._monitor_socket
        if addr is None:
            addr = f"inproc://monitor.s-{id(self)}"
        self.monitor(addr, MonitorEvent.ALL if events is None else events)
        self._monitor_socket = self.context.socket(SocketType.PAIR)
        self._monitor_socket.connect(addr)
        return self._monitor_socket

    def disable_monitor(self) -> None:
        """Stop monitoring."""
        self._monitor_socket = None
        self.monitor(None)


def _group_argument(group: str | bytes) -> bytes:
    """A group given to ``join``/``leave``: a C string to libzmq, so it ends at a NUL."""
    if isinstance(group, str):
        group = group.encode("utf-8")
    elif not isinstance(group, bytes):
        raise TypeError(f"expected str or bytes, got: {group!r}")
    return group.partition(b"\0")[0]


def _ipc_path_too_long(addr: str) -> ZMQError:
    """ENAMETOOLONG for an ipc ``addr``, with pyzmq's explanation: which path, and the limit."""
    path = addr[len("ipc://"):]
    return ZMQError(errno.ENAMETOOLONG, f'ipc path "{path}" is longer than {IPC_PATH_MAX_LEN} characters '
                                 f"(sizeof(sockaddr_un.sun_path)); zmq.IPC_PATH_MAX_LEN holds the limit "
                                 f"(addr={addr!r})")


def _option_property(option: SocketOption) -> property:
    def getter(self: Socket) -> Any:
        try:
            return self.getsockopt(option)
        except ZMQError as error:
            if error.errno == Errno.EINVAL:
                raise AttributeError(f"{option.name.lower()} attribute is write-only") from None
            raise

    def setter(self: Socket, value: Any) -> None:
        self.setsockopt(option, value)

    return property(getter, setter, doc=f"The {option.name} socket option.")


for _name, _option in SocketOption.__members__.items():
    for _attr in (_name.lower(), _name):
        if not hasattr(Socket, _attr):
            setattr(Socket, _attr, _option_property(_option))
del _name, _option, _attr

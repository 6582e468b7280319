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
import pickle
import random
from typing import Any, Callable, TypeVar

from ._connection.endpoint import split as split_endpoint
from ._socket import options as _options
from ._socket.base import SocketBase
from .constants import Errno, Event as MonitorEvent, PollEvent, SocketOption, SocketType
from .error import ZMQBindError, ZMQError, zmq_error
from .frame import MessageTracker
from .poll import zmq_poll

_S = TypeVar("_S", bound="Socket")


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


class Socket(SocketBase):
    """A ZeroMQ socket, with pyzmq's API, blocking cooperatively on the gevent hub.

    Create sockets with :meth:`Context.socket`. Options are read and written
    with :meth:`getsockopt`/:meth:`setsockopt` (aliases :meth:`get`/:meth:`set`)
    or as attributes: ``sock.linger = 0``, ``sock.rcvhwm``. The attributes are
    properties generated from the option table; ``__setattr__`` only rejects
    unknown names, and the send/recv fast paths never assign to the socket.
    """

    _monitor_socket: Socket | None = None

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<greenmq.Socket(greenmq.{self.socket_type.name}) at {id(self):#x}{state}>"

    # -- pyzmq conveniences --------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def type(self) -> int:
        socket_type: int = self.socket_type
        return socket_type

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
        if name[0] == "_" or name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
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
        spec = _options.lookup(option)
        value = _options.validate(spec, value, self.socket_type)
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
        spec = _options.lookup(option)
        if spec.kind != _options.BYTES:
            raise TypeError(f"option {option} will not return a string to be decoded")
        value: bytes = self.getsockopt(option)
        return value.decode(encoding)

    set_string = setsockopt_string
    get_string = getsockopt_string

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
        endpoint = self._endpoints.bind(addr, self._settings.snapshot(self._pattern))
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

    def connect(self, addr: str | bytes) -> SocketContext:
        """Connect to an endpoint; returns at once, the connection is made (and remade) in the background."""
        addr = self._endpoint_text(addr)
        self._endpoints.connect(addr, self._settings.snapshot(self._pattern, connecting=True))
        self._settings.record_endpoint(addr)
        return SocketContext(self, "connect", addr)

    def disconnect(self, addr: str | bytes) -> None:
        """Undo a ``connect``: the peer is dropped at once; what was queued for it is still sent
        within LINGER, the socket connecting meanwhile (as libzmq)."""
        addr = self._endpoint_text(addr, check_type=False)
        self._endpoints.disconnect(addr, self._settings[SocketOption.LINGER])

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
        self._check_usable()
        if addr is None:
            self._monitor.stop()
            return
        if split_endpoint(addr)[0] != "inproc":
            raise zmq_error(Errno.EPROTONOSUPPORT, addr)
        self._monitor.start(self.context, addr, events)

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None) -> Socket:
        """Start monitoring and return a connected PAIR socket that receives the events."""
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

"""A socket's endpoints: what ``bind()`` and ``connect()`` made, and undoing them.

A tcp or ipc bind is a :class:`~greenmq._connection.listener.Listener`, a
tcp or ipc connect a :class:`~greenmq._connection.session.ConnectSession`
(several connects to one endpoint are several sessions, as in libzmq), a
udp bind or connect a :mod:`~greenmq._connection.udp` receiver or sender, and
inproc names live in the context's
:class:`~greenmq._connection.inproc.InprocNamespace`. Each gets the
socket's :class:`~greenmq._socket.port.SocketPort` and the options snapshot
taken at that moment.
"""

from __future__ import annotations

import errno
from typing import Any

import gevent

from .._connection import endpoint as _endpoint, tcp_ipc, udp
from .._connection.listener import Listener
from .._connection.session import ConnectSession
from ..error import ZMQError, zmq_error
from .port import SocketPort
from .settings import EndpointOptions


class Endpoints:
    """The bound and connected endpoints of one socket."""

    def __init__(self, port: SocketPort, registry: Any, socket_type: Any):
        self._port = port
        self._registry = registry  # the context's: inproc names, and lingering greenlets
        self._socket_type = socket_type
        self._listeners: dict[str, Listener] = {}  # concrete endpoint -> listener
        self._sessions: dict[str, list[ConnectSession]] = {}  # endpoint -> sessions
        self._inproc_names: dict[str, str] = {}  # endpoint -> inproc name
        self._udp: dict[str, list[Any]] = {}  # endpoint -> its udp receivers or senders

    def parse(self, addr: str, name_address: bool = True) -> tuple:
        """``transport://address`` → (transport, address), with libzmq's errors."""
        return _endpoint.split(addr, self._socket_type, name_address=name_address)

    def bind(self, addr: str, options: EndpointOptions) -> str:
        """Bind ``addr``; returns the concrete endpoint (``tcp://127.0.0.1:*`` gets its port)."""
        transport, address = self.parse(addr)
        if transport == "inproc":
            self._registry.inproc.bind(self._port, address, addr, options)
            self._inproc_names[addr] = address
            return addr
        if transport == "udp":
            udp.check_role(self._socket_type, True, addr)
            receiver = udp.UdpReceiver(self._port, options, address, addr)
            self._udp.setdefault(receiver.endpoint, []).append(receiver)
            return receiver.endpoint
        listener = Listener(self._port, options, transport, address)
        self._listeners[listener.endpoint] = listener
        return listener.endpoint

    def connect(self, addr: str, options: EndpointOptions) -> None:
        transport, address = self.parse(addr)
        if transport == "inproc":
            self._registry.inproc.connect(self._port, address, addr, options)
            return
        if transport == "udp":
            udp.check_role(self._socket_type, False, addr)
            self._udp.setdefault(addr, []).append(udp.UdpSender(self._port, options, address, addr))
            return
        tcp_ipc.check_connect(transport, address, addr)
        session = ConnectSession(self._port, options, transport, address, addr)
        self._sessions.setdefault(addr, []).append(session)
        session.greenlet.rawlink(lambda _greenlet: self._session_ended(addr, session))

    def _session_ended(self, addr: str, session: ConnectSession) -> None:
        """A session that RECONNECT_STOP ended is no endpoint any more (``disconnect`` then
        says ENOENT), as libzmq's connecter terminates its endpoint."""
        sessions = self._sessions.get(addr)
        if session.stopped and sessions and session in sessions:
            sessions.remove(session)
            if not sessions:
                del self._sessions[addr]

    def unbind(self, addr: str, linger: int, ipv6: bool) -> None:
        """Stop listening on an endpoint bound earlier (the concrete one from LAST_ENDPOINT)."""
        transport, address = self.parse(addr, name_address=False)
        if transport == "inproc":
            if self._inproc_names.pop(addr, None) is None:
                raise zmq_error(errno.ENOENT)
            self._registry.inproc.unbind(self._port, address)
            return
        if transport == "udp":
            self._end_udp(addr, linger)
            return
        listener = self._listeners.pop(addr, None)
        resolved = self._resolved(transport, address, ipv6)
        if listener is None and resolved is not None:
            listener = self._listeners.pop(resolved, None)
        if listener is None:
            raise zmq_error(errno.ENOENT)
        self._registry.linger(listener.close(linger))

    @staticmethod
    def _resolved(transport: str, address: str, ipv6: bool) -> str | None:
        """The concrete form of a bind address (host names resolved), or None."""
        if transport != "tcp":
            return None
        try:
            resolved = _endpoint.parse_tcp_bind(address, "", ipv6)
        except ZMQError:
            return None
        return None if resolved.port == 0 else resolved.uri()

    def disconnect(self, addr: str, linger: int) -> None:
        """Undo a ``connect``: the peer is dropped at once, its queue flushed within ``linger``."""
        transport, _ = self.parse(addr, name_address=False)
        if transport == "inproc":
            self._registry.inproc.disconnect(self._port, addr)
            return
        if transport == "udp":
            self._end_udp(addr, linger)
            return
        sessions = self._sessions.pop(addr, None)
        if not sessions:
            raise zmq_error(errno.ENOENT)
        self._registry.linger([session.disconnect(linger) for session in sessions])

    def _end_udp(self, addr: str, linger: int) -> None:
        ends = self._udp.pop(addr, None)
        if not ends:
            raise zmq_error(errno.ENOENT)
        self._registry.linger([end.close(linger) for end in ends])

    def close(self, linger: int) -> list[gevent.Greenlet]:
        """The socket closes: end every endpoint; returns the greenlets still flushing messages."""
        lingering: list[gevent.Greenlet] = [end.close(linger) for ends in self._udp.values() for end in ends]
        self._udp.clear()
        for listener in self._listeners.values():
            lingering.extend(listener.close(linger))
        self._listeners.clear()
        for sessions in self._sessions.values():
            for session in sessions:
                lingering.append(session.close(linger))
        self._sessions.clear()
        self._registry.inproc.forget(self._port)
        return lingering

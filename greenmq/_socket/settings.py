"""A socket's option values, and the snapshot of them that each endpoint keeps.

:class:`SocketSettings` holds the values ``setsockopt`` stored, applies
libzmq's side effects between options (IPV6 and IPV4ONLY mirror each other,
the security options move MECHANISM, METADATA accumulates), and answers
``getsockopt``.

:class:`EndpointOptions` is libzmq's model of options in the connection
layer: when ``bind()`` or ``connect()`` makes an endpoint, the socket copies
what the endpoint's sessions, engines and transports need into one
read-only object. Setting an option afterwards changes later endpoints only,
as in libzmq, and the connection side never reads the live socket. (One
exception in libzmq is not followed yet: since 4.2 it applies SNDHWM and
RCVHWM to the pipes of existing connections too; greenmq's pipes keep the
marks they were made with.)
"""

from __future__ import annotations

from typing import Any

from ..constants import SocketOption as O, SocketType
from ..zmtp.security import SecurityConfig
from ..zmtp.sockettypes import WIRE_NAMES
from . import options as _options, security_options as _security

# The socket types that libzmq lets send HELLO_MSG, receive DISCONNECT_MSG, receive HICCUP_MSG.
_HELLO_TYPES = (SocketType.CLIENT, SocketType.DEALER, SocketType.PEER, SocketType.ROUTER, SocketType.SERVER)
_DISCONNECT_TYPES = (SocketType.PEER, SocketType.ROUTER, SocketType.SERVER)
_HICCUP_TYPES = (SocketType.CLIENT, SocketType.DEALER, SocketType.PEER)
# The socket types on which libzmq honours CONFLATE.
_CONFLATING_TYPES = (SocketType.PUSH, SocketType.PULL, SocketType.PUB, SocketType.SUB, SocketType.DEALER)


class EndpointOptions:
    """What one endpoint's connections know of their socket, fixed when the endpoint is made."""

    socket_type: SocketType
    wire_type: bytes  # the Socket-Type a handshake announces
    routing_id: bytes  # the ROUTING_ID we announce (Identity)
    metadata: list[tuple[str, bytes]]  # ZMQ_METADATA properties
    max_message_size: int
    handshake_ivl: int  # milliseconds, as the option; so are the others below
    heartbeat_ivl: int
    heartbeat_timeout: int
    heartbeat_ttl: int
    reconnect_ivl: int
    reconnect_ivl_max: int
    reconnect_stop: int  # RECONNECT_STOP bits (constants.ReconnectStop)
    connect_timeout: int
    immediate: bool
    ipv6: bool
    backlog: int
    sndbuf: int
    rcvbuf: int
    tos: int
    tcp_keepalive: int
    tcp_keepalive_cnt: int
    tcp_keepalive_idle: int
    tcp_keepalive_intvl: int
    tcp_maxrt: int  # milliseconds, 0: the system's default
    use_fd: int  # a listening socket's file descriptor for bind, or -1
    bindtodevice: bytes  # b"": none
    socks_proxy: bytes  # b"": connect directly
    socks_username: bytes  # b"": no SOCKS authentication
    socks_password: bytes
    sndhwm: int
    rcvhwm: int
    conflate: bool  # CONFLATE, where the socket type honours it
    stream_notify: bool
    security: SecurityConfig
    raw: bool  # STREAM: raw TCP, no ZMTP
    takes_subscriptions: bool  # PUB/XPUB: SUBSCRIBE/CANCEL from peers go to the socket
    fans_out: bool  # PUB/XPUB: pipes to engines may carry messages encoded once (WirePipe)
    connect_routing_id: bytes | None  # CONNECT_ROUTING_ID for this connect's peer
    router_notify: int  # ROUTER_NOTIFY bits: an empty message from a peer when it connects, disconnects
    hello_msg: bytes  # sent first on each connection (b"": none, or not for this socket type)
    disconnect_msg: bytes  # received from an accepted peer whose connection ended (b"": none)
    hiccup_msg: bytes  # received from a connected peer whose connection ended (b"": none)
    multicast_loop: bool  # udp multicast: a RADIO's datagrams loop back to this host
    multicast_hops: int  # udp multicast: the datagrams' TTL

    def __init__(self, **values: Any):
        # One update rather than an attribute at a time: an endpoint is made on every connect.
        if values.keys() != _ENDPOINT_FIELDS:
            raise TypeError(f"endpoint options differ from the fields: {sorted(values.keys() ^ _ENDPOINT_FIELDS)}")
        self.__dict__.update(values)

    def handshake(self) -> dict[str, Any]:
        """The keyword arguments of :class:`~greenmq.zmtp.ZmtpConnection` for this endpoint."""
        return {"socket_type": self.wire_type, "identity": self.routing_id, "metadata": self.metadata,
                "max_message_size": self.max_message_size, "security": self.security, "hello": self.hello_msg}


_ENDPOINT_FIELDS = frozenset(EndpointOptions.__annotations__)


# The endpoint fields that are an option's value as stored, and their options.
_COPIED_OPTIONS = (
    ("routing_id", O.ROUTING_ID), ("max_message_size", O.MAXMSGSIZE), ("handshake_ivl", O.HANDSHAKE_IVL),
    ("heartbeat_ivl", O.HEARTBEAT_IVL), ("heartbeat_timeout", O.HEARTBEAT_TIMEOUT),
    ("heartbeat_ttl", O.HEARTBEAT_TTL), ("reconnect_ivl", O.RECONNECT_IVL),
    ("reconnect_ivl_max", O.RECONNECT_IVL_MAX), ("reconnect_stop", O.RECONNECT_STOP),
    ("connect_timeout", O.CONNECT_TIMEOUT), ("backlog", O.BACKLOG), ("sndbuf", O.SNDBUF), ("rcvbuf", O.RCVBUF),
    ("tos", O.TOS), ("tcp_keepalive", O.TCP_KEEPALIVE), ("tcp_keepalive_cnt", O.TCP_KEEPALIVE_CNT),
    ("tcp_keepalive_idle", O.TCP_KEEPALIVE_IDLE), ("tcp_keepalive_intvl", O.TCP_KEEPALIVE_INTVL),
    ("tcp_maxrt", O.TCP_MAXRT), ("use_fd", O.USE_FD), ("bindtodevice", O.BINDTODEVICE),
    ("socks_proxy", O.SOCKS_PROXY), ("socks_username", O.SOCKS_USERNAME), ("socks_password", O.SOCKS_PASSWORD),
    ("sndhwm", O.SNDHWM), ("rcvhwm", O.RCVHWM), ("multicast_hops", O.MULTICAST_HOPS),
)


def _new_socket_values(socket_type: SocketType) -> dict[Any, Any]:
    """The option values of a new socket of ``socket_type``."""
    values: dict[Any, Any] = {spec.option: spec.default for spec in _options.OPTIONS.values()}
    values[O.TYPE] = socket_type
    if socket_type == SocketType.DISH:
        values[O.LINGER] = 0  # libzmq's DISH does not wait to send its joins on close
    _security.defaults(values)
    return values


# A new socket copies its type's defaults (all immutable values) from here: sockets are made often.
_NEW_SOCKET_VALUES = {socket_type: _new_socket_values(socket_type) for socket_type in SocketType}


class SocketSettings:
    """The option values of one socket (see the module docstring)."""

    __slots__ = ("socket_type", "_values", "_metadata", "rcvtimeo", "sndtimeo")

    def __init__(self, socket_type: SocketType):
        self.socket_type = socket_type
        self._values: dict[Any, Any] = dict(_NEW_SOCKET_VALUES[socket_type])
        self._metadata: list[tuple[str, bytes]] = []
        # Read on every blocking wait: kept as plain attributes.
        self.rcvtimeo = -1
        self.sndtimeo = -1

    def __getitem__(self, option: O) -> Any:
        """The stored value of an option (what the socket itself reads: LINGER, LAST_ENDPOINT ...)."""
        return self._values[option]

    def set(self, option: O, value: Any) -> None:
        """Store an already validated value, with libzmq's side effects on other options."""
        if option in _security.OPTIONS:
            _security.set_option(self._values, option, value)
            return
        if option == O.METADATA:
            name, _, data = value.partition(b":")
            self._metadata.append((name.decode("ascii"), data))
            return
        if option == O.IPV4ONLY:
            self._values[O.IPV6] = 1 - value
        elif option == O.IPV6:
            self._values[O.IPV4ONLY] = 1 - value
        elif option == O.RCVTIMEO:
            self.rcvtimeo = value
        elif option == O.SNDTIMEO:
            self.sndtimeo = value
        elif option == O.ZAP_ENFORCE_DOMAIN:
            value = int(value != 0)
        self._values[option] = value

    def get(self, option: O) -> Any:
        """What ``getsockopt`` returns for a stored option."""
        if option in _security.OPTIONS:
            return _security.get_option(self._values, option)
        return self._values[option]

    def record_endpoint(self, endpoint: str) -> None:
        """LAST_ENDPOINT: the endpoint of the latest bind or connect."""
        self._values[O.LAST_ENDPOINT] = endpoint.encode()

    def conflates(self) -> bool:
        """CONFLATE is set and applies to this socket type (libzmq ignores it on the others)."""
        return bool(self._values[O.CONFLATE]) and self.socket_type in _CONFLATING_TYPES

    def snapshot(self, pattern: Any, connecting: bool = False) -> EndpointOptions:
        """The options a new endpoint keeps. A connect also uses up CONNECT_ROUTING_ID, which
        names the peer of the next connect only."""
        values = self._values
        connect_routing_id = None
        if connecting:
            connect_routing_id = values[O.CONNECT_ROUTING_ID] or None
            values[O.CONNECT_ROUTING_ID] = b""
        socket_type = self.socket_type
        fields = {name: values[option] for name, option in _COPIED_OPTIONS}
        return EndpointOptions(
            **fields,
            socket_type=socket_type,
            wire_type=WIRE_NAMES[socket_type],
            metadata=list(self._metadata),
            immediate=bool(values[O.IMMEDIATE]),
            ipv6=bool(values[O.IPV6]),
            conflate=self.conflates(),
            stream_notify=bool(values[O.STREAM_NOTIFY]),
            security=_security.config(values),
            raw=pattern.raw,
            takes_subscriptions=pattern.takes_subscriptions,
            fans_out=pattern.fans_out,
            connect_routing_id=connect_routing_id,
            router_notify=values[O.ROUTER_NOTIFY] if socket_type == SocketType.ROUTER else 0,
            hello_msg=values[O.HELLO_MSG] if socket_type in _HELLO_TYPES else b"",
            disconnect_msg=values[O.DISCONNECT_MSG] if socket_type in _DISCONNECT_TYPES else b"",
            hiccup_msg=values[O.HICCUP_MSG] if socket_type in _HICCUP_TYPES else b"",
            multicast_loop=bool(values[O.MULTICAST_LOOP]),
        )

"""Parsing ``transport://address`` endpoints the way libzmq does.

Errors are libzmq's: no ``://`` or a malformed address → EINVAL, an unknown
transport → EPROTONOSUPPORT, an IPv6 address on a socket without ``IPV6`` →
ENODEV (bind) or EINVAL (connect, libzmq rejects it at resolve time). A bind
address or a connect's source address may name a network interface
(:mod:`~greenmq._connection.interfaces`).
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import socket as _pysocket
import tempfile

from ..constants import ENODEV, Errno, SocketType
from ..error import zmq_error
from .interfaces import interface_address

TRANSPORTS = ("tcp", "ipc", "inproc", "udp")


_UDP_SOCKET_TYPES = (SocketType.RADIO, SocketType.DISH, SocketType.DGRAM)
# sun_path holds 108 bytes including the terminating NUL.
IPC_PATH_MAX = 107


def split(endpoint: str, socket_type: int | None = None, name_address: bool = True) -> tuple[str, str]:
    """``tcp://host:port`` → ("tcp", "host:port"), with libzmq's errors.

    pyzmq names the address in bind/connect errors but not in unbind/disconnect
    errors: ``name_address`` chooses.
    """
    shown = endpoint if name_address else None
    transport, sep, address = endpoint.partition("://")
    if not sep or not transport:
        raise zmq_error(Errno.EINVAL, shown)
    if transport == "udp" and socket_type is not None and socket_type not in _UDP_SOCKET_TYPES:
        raise zmq_error(Errno.ENOCOMPATPROTO, shown)
    if transport not in TRANSPORTS:
        raise zmq_error(Errno.EPROTONOSUPPORT, shown)
    if not address:
        raise zmq_error(Errno.EINVAL, shown)
    return transport, address


class TcpAddress:
    """A resolved tcp host/port pair: ``family``, ``host`` (literal IP), ``port``; for a connect
    with a source address, that address (another :class:`TcpAddress`) as ``source``."""

    __slots__ = ("family", "host", "port", "source")

    def __init__(self, family, host, port, source=None):
        self.family = family
        self.host = host
        self.port = port
        self.source = source

    def sockaddr(self):
        return (self.host, self.port)

    def uri(self, port=None):
        host = f"[{self.host}]" if self.family == _pysocket.AF_INET6 else self.host
        return f"tcp://{host}:{self.port if port is None else port}"


def _split_host_port(address, endpoint):
    host, sep, port = address.rpartition(":")
    if not sep or not host:
        raise zmq_error(Errno.EINVAL, endpoint)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _parse_port(port, endpoint, wildcard_ok):
    if port in ("*", "0"):
        if wildcard_ok:
            return 0
        raise zmq_error(Errno.EINVAL, endpoint)
    if not (port.isascii() and port.isdigit()):  # str.isdigit() also takes "²" and other scripts' digits
        raise zmq_error(Errno.EINVAL, endpoint)
    number = int(port)
    if not 0 < number < 65536:
        raise zmq_error(Errno.EINVAL, endpoint)
    return number


@functools.lru_cache(maxsize=256)
def _literal(host):
    """The address ``host`` spells (an IPv6 one may carry a ``%scope``), or None for a name.
    Cached: a program reconnects to the same few hosts, and parsing costs a few microseconds."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _resolve(host, endpoint, ipv6, errnum, resolver, interfaces):
    """A literal address, else (for ``interfaces``) an interface's address, else what
    ``resolver`` finds (None: no name lookup)."""
    literal = _literal(host)
    if literal is not None:
        if literal.version == 6 and not ipv6:
            raise zmq_error(errnum, endpoint)
        family = _pysocket.AF_INET6 if literal.version == 6 else _pysocket.AF_INET
        return family, host
    if interfaces:
        found = interface_address(host, ipv6)
        if found is not None:
            return found
    if resolver is None:
        raise zmq_error(errnum, endpoint)
    try:
        infos = resolver(host, None, _pysocket.AF_UNSPEC, _pysocket.SOCK_STREAM)
    except OSError:
        raise zmq_error(errnum, endpoint) from None
    for family, _, _, _, sockaddr in infos:
        if family == _pysocket.AF_INET or (family == _pysocket.AF_INET6 and ipv6):
            return family, sockaddr[0]
    raise zmq_error(errnum, endpoint)


def _local_address(address, endpoint, ipv6, errnum, resolver):
    """A local address: ``*`` is every interface (IPv6 too when ``ipv6``), port ``*`` is ephemeral,
    and a host may be an interface name (``eth0``)."""
    host, port = _split_host_port(address, endpoint)
    number = _parse_port(port, endpoint, wildcard_ok=True)
    if host == "*":
        if ipv6:
            return TcpAddress(_pysocket.AF_INET6, "::", number)
        return TcpAddress(_pysocket.AF_INET, "0.0.0.0", number)
    family, literal = _resolve(host, endpoint, ipv6, errnum, resolver, interfaces=True)
    return TcpAddress(family, literal, number)


def parse_tcp_bind(address, endpoint, ipv6, resolver=_pysocket.getaddrinfo):
    """Resolve a bind address (see :func:`_local_address`); ENODEV for a host that is neither
    an address, an interface nor a name that resolves."""
    return _local_address(address, endpoint, ipv6, ENODEV, resolver)


def check_tcp_connect(address, endpoint):
    """Validate a connect address syntactically (resolution happens at each attempt), as
    libzmq's ``connect()`` does: a ``source;`` part must not be empty, and is only looked
    at when connecting (a source that does not resolve makes every attempt fail)."""
    source = None
    if ";" in address:
        source, address = address.split(";", 1)
        if not source:
            raise zmq_error(Errno.EINVAL, endpoint)
    host, port = _split_host_port(address, endpoint)
    _parse_port(port, endpoint, wildcard_ok=False)
    if not host or host == "*":
        raise zmq_error(Errno.EINVAL, endpoint)
    return address, source


def resolve_tcp_connect(address, endpoint, ipv6, resolver):
    """Resolve ``host:port`` (and an optional ``source;``) for one connection attempt.

    The source is resolved as libzmq does: an address, ``*`` or an interface name,
    never a DNS name; its port may be ``*`` or 0.
    """
    address, source = check_tcp_connect(address, endpoint)
    host, port = _split_host_port(address, endpoint)
    family, literal = _resolve(host, endpoint, ipv6, Errno.EINVAL, resolver, interfaces=False)
    source_addr = None
    if source is not None:
        source_addr = _local_address(source, endpoint, ipv6, Errno.EINVAL, None)
    return TcpAddress(family, literal, int(port), source_addr)


def socks_target(address, endpoint, ipv6):
    """What a SOCKS proxy is asked to connect to: ``(host, port, source)`` of a connect address,
    the host unresolved (a name is the proxy's to resolve) and without the brackets of an IPv6
    literal; ``source`` as in :func:`resolve_tcp_connect`, or None."""
    address, source = check_tcp_connect(address, endpoint)
    host, port = _split_host_port(address, endpoint)
    source_addr = None if source is None else _local_address(source, endpoint, ipv6, Errno.EINVAL, None)
    return host, int(port), source_addr


class UdpAddress:
    """A resolved udp endpoint, libzmq's ``[source;]host:port``: ``target`` is where a RADIO
    sends (for a multicast DISH, the group it joins), ``local`` what a DISH binds (a multicast
    DISH binds the wildcard address on the group's port; a multicast source names the
    interface to use), ``interface`` the source's interface index (0: any; -1: the source
    is not an interface name), all for sockets of ``family``."""

    __slots__ = ("family", "target", "local", "multicast", "interface")

    def __init__(self, family, target, local, multicast, interface):
        self.family = family
        self.target = target
        self.local = local
        self.multicast = multicast
        self.interface = interface


def _wildcard(ipv6):
    return (_pysocket.AF_INET6, "::") if ipv6 else (_pysocket.AF_INET, "0.0.0.0")


def _udp_source(source, endpoint, ipv6):
    """A multicast source: ``*``, an address or an interface name (no DNS), and its interface index."""
    if source == "*":
        return (*_wildcard(ipv6), 0)
    family, host = _resolve(source, endpoint, ipv6, Errno.EINVAL, None, interfaces=True)
    try:
        index = _pysocket.if_nametoindex(source)
    except OSError:
        index = -1
    return family, host, index


def parse_udp(address, endpoint, bind, ipv6, resolver=_pysocket.getaddrinfo):
    """Resolve a udp address as libzmq's ``udp_address_t`` does.

    A unicast address is what a DISH binds (``*`` is every interface) or a
    RADIO sends to; a multicast one is the group, on the port given; a
    ``source;`` part is only allowed with a multicast group, and names the
    interface. A bind's port may be ``*`` or 0 (any free port).
    """
    errnum = ENODEV if bind else Errno.EINVAL
    source = None
    if ";" in address:
        source, address = address.rsplit(";", 1)
        if not source:
            raise zmq_error(Errno.EINVAL, endpoint)
    host, port_text = _split_host_port(address, endpoint)
    port = _parse_port(port_text, endpoint, wildcard_ok=bind)
    if bind and host == "*":
        family, host = _wildcard(ipv6)
    else:
        family, host = _resolve(host, endpoint, ipv6, errnum, resolver, interfaces=bind)
    multicast = ipaddress.ip_address(host.split("%")[0]).is_multicast
    interface = 0
    if source is not None:
        source_family, source_host, interface = _udp_source(source, endpoint, ipv6)
        if not multicast or _literal(source_host).is_multicast or source_family != family:
            raise zmq_error(Errno.EINVAL, endpoint)
        local = (source_host, port)
    elif multicast or not bind:
        local = (_wildcard(family == _pysocket.AF_INET6)[1], port)
    else:
        local = (host, port)
    if family == _pysocket.AF_INET6 and multicast and interface < 0:
        raise zmq_error(ENODEV, endpoint)  # IPv6 joins a group by interface index, not address
    return UdpAddress(family, (host, port), local, multicast, interface)


def ipc_path(address, endpoint=None):
    """The OS path for an ipc address: ``@name`` is Linux's abstract namespace.

    A path too long for ``sun_path`` is ENAMETOOLONG, as in libzmq.
    """
    path = "\0" + address[1:] if address.startswith("@") else address
    if len(path.encode()) > IPC_PATH_MAX:
        raise zmq_error(errno.ENAMETOOLONG, endpoint)
    return path


def ipc_bind_path(address):
    """For ``ipc://*`` a fresh path in a private temporary directory, else the given path."""
    if address == "*":
        directory = tempfile.mkdtemp(prefix="greenmq-")
        return os.path.join(directory, "socket"), directory
    return address, None

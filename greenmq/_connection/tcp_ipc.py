"""Listening and connecting for the stream transports, tcp and ipc, on gevent sockets.

Binding happens synchronously so that ``bind()`` raises EADDRINUSE and friends
at once, like libzmq; accepting and connecting happen in greenlets.
"""

import errno
import os
import socket as _pysocket
import struct

from gevent import socket as gsocket

from ..constants import Errno
from ..error import zmq_error
from . import endpoint as ep, socks


# Linux's TCP_USER_TIMEOUT, what libzmq sets for TCP_MAXRT (Python names it from 3.6 on Linux).
_TCP_USER_TIMEOUT = getattr(_pysocket, "TCP_USER_TIMEOUT", None)
_SO_BINDTODEVICE = getattr(_pysocket, "SO_BINDTODEVICE", None)  # Linux's
_IP_FAMILIES = (_pysocket.AF_INET, _pysocket.AF_INET6)


def _set_tos(sock, tos, family):
    """TOS: IPv4's type of service and, for an IPv6 socket, its traffic class (as libzmq)."""
    sock.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_TOS, tos)
    if family == _pysocket.AF_INET6 and hasattr(_pysocket, "IPV6_TCLASS"):
        try:
            sock.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_TCLASS, tos)
        except OSError:
            pass  # libzmq ignores a system without it too


def _set_buffers(sock, options):
    for value, opt in ((options.sndbuf, _pysocket.SO_SNDBUF), (options.rcvbuf, _pysocket.SO_RCVBUF)):
        if value >= 0:
            sock.setsockopt(_pysocket.SOL_SOCKET, opt, value)


def _prepare(sock, options, family):
    """Before a socket binds or connects: TOS, BINDTODEVICE and the buffer sizes (as libzmq's
    ``tcp_open_socket``)."""
    if family in _IP_FAMILIES:
        if options.tos:
            _set_tos(sock, options.tos, family)
        if options.bindtodevice:
            if _SO_BINDTODEVICE is None:
                raise OSError(errno.ENOTSUP, "this system has no SO_BINDTODEVICE")
            sock.setsockopt(_pysocket.SOL_SOCKET, _SO_BINDTODEVICE, options.bindtodevice)
    _set_buffers(sock, options)


def _tune(sock, options, family):
    """Once connected (or accepted): TCP_NODELAY, the keepalive options and TCP_MAXRT, as
    libzmq's ``tune_tcp_*``."""
    if family not in _IP_FAMILIES:
        return
    sock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, 1)
    if options.tcp_keepalive != -1:
        sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_KEEPALIVE, options.tcp_keepalive)
        for value, opt in ((options.tcp_keepalive_cnt, "TCP_KEEPCNT"), (options.tcp_keepalive_idle, "TCP_KEEPIDLE"),
                           (options.tcp_keepalive_intvl, "TCP_KEEPINTVL")):
            if value != -1 and hasattr(_pysocket, opt):
                sock.setsockopt(_pysocket.IPPROTO_TCP, getattr(_pysocket, opt), value)
    if options.tcp_maxrt > 0 and _TCP_USER_TIMEOUT is not None:
        sock.setsockopt(_pysocket.IPPROTO_TCP, _TCP_USER_TIMEOUT, options.tcp_maxrt)


def _os_error_to_zmq(error, endpoint):
    code = error.errno if error.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES, errno.ENOENT,
                                          errno.ENODEV, errno.EPERM) else Errno.EINVAL
    return zmq_error(code, endpoint)


class ListeningSocket:
    """A listening OS socket plus what is needed to report and undo the bind.

    With ``USE_FD`` the socket is the application's, already bound and listening (systemd's
    socket activation): the endpoint's address is not used, as in libzmq, and the socket is
    closed with the endpoint.
    """

    def __init__(self, transport, address, options):
        self.transport = transport
        self.options = options
        self._unlink = None
        self._tempdir = None
        endpoint = f"{transport}://{address}"
        if options.use_fd != -1:
            self.sock = self._adopt(options.use_fd, endpoint)
            return
        if transport == "tcp":
            addr = ep.parse_tcp_bind(address, endpoint, options.ipv6)
            self.family = addr.family
            sock = gsocket.socket(addr.family, _pysocket.SOCK_STREAM)
            try:
                sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
                if addr.family == _pysocket.AF_INET6:
                    sock.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)
                _prepare(sock, options, addr.family)
                sock.bind(addr.sockaddr())
            except OSError as error:
                sock.close()
                raise _os_error_to_zmq(error, endpoint) from None
            self.last_endpoint = addr.uri(sock.getsockname()[1])
        else:
            path, self._tempdir = ep.ipc_bind_path(address)
            os_path = ep.ipc_path(path, endpoint)
            self.family = _pysocket.AF_UNIX
            sock = gsocket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
            if not os_path.startswith("\0"):
                # libzmq replaces a stale (or live) socket file at the same path.
                try:
                    os.unlink(os_path)
                except OSError:
                    pass
                self._unlink = os_path
            try:
                _prepare(sock, options, _pysocket.AF_UNIX)
                sock.bind(os_path)
            except OSError as error:
                sock.close()
                self._unlink = None
                raise _os_error_to_zmq(error, endpoint) from None
            self.last_endpoint = f"ipc://{path}"
        sock.listen(max(options.backlog, 1))
        self.sock = sock

    def _adopt(self, fd, endpoint):
        """USE_FD: take over a listening socket; LAST_ENDPOINT is the address it is bound to."""
        try:
            sock = gsocket.socket(fileno=fd)
        except OSError as error:
            raise zmq_error(error.errno or Errno.EINVAL, endpoint) from None
        try:
            name = sock.getsockname()
            listening = sock.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_ACCEPTCONN)
        except OSError as error:
            sock.detach()  # the descriptor stays the application's
            raise zmq_error(error.errno or Errno.EINVAL, endpoint) from None
        if not listening:
            # Accepting on it would fail on every attempt; the application should hear it now.
            sock.detach()
            raise zmq_error(Errno.EINVAL, endpoint)
        self.family = sock.family
        if sock.family == _pysocket.AF_UNIX:
            path = name.decode(errors="replace") if isinstance(name, bytes) else name
            self.last_endpoint = "ipc://" + ("@" + path[1:] if path.startswith("\0") else path)
        else:
            self.last_endpoint = ep.TcpAddress(sock.family, name[0], name[1]).uri()
        return sock

    def accept(self):
        """Wait for a connection; returns (socket, peer address text)."""
        conn, addr = self.sock.accept()
        options = self.options
        try:
            # What the listening socket had, again: TCP inherits it, ipc does not (libzmq sets TOS here too).
            if self.family in _IP_FAMILIES and options.tos:
                _set_tos(conn, options.tos, self.family)
            _set_buffers(conn, options)
            _tune(conn, options, self.family)
        except OSError:
            conn.close()
            raise
        if self.family == _pysocket.AF_UNIX:
            return conn, ipc_peer_address(conn)
        return conn, addr[0]

    def close(self):
        """Close the listening socket and free its address now. gevent defers closing a descriptor
        that a greenlet still waits on (the accept loop, killed but not yet run) to a later turn
        of the hub; shutting it down first takes it out of the listening state at once, so the
        port can be bound again right after ``close()`` or ``unbind()`` returns."""
        try:
            self.sock.shutdown(_pysocket.SHUT_RDWR)
        except OSError:
            pass  # not connected (an ipc listener on some systems): nothing to take back
        self.sock.close()
        if self._unlink:
            try:
                os.unlink(self._unlink)
            except OSError:
                pass
        if self._tempdir:
            try:
                os.rmdir(self._tempdir)
            except OSError:
                pass


def check_connect(transport, address, endpoint):
    """Validate a connect endpoint at ``connect()`` time (EINVAL on bad syntax)."""
    if transport == "tcp":
        ep.check_tcp_connect(address, endpoint)
    else:
        ep.ipc_path(address, endpoint)


def _connect_tcp(addr, options, timeout):
    """One OS connection to ``addr`` (from its source address, if any), prepared and tuned."""
    sock = gsocket.socket(addr.family, _pysocket.SOCK_STREAM)
    try:
        _prepare(sock, options, addr.family)
        if addr.source is not None:
            # As libzmq: connections to several servers may share one source port.
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            sock.bind(addr.source.sockaddr())
        sock.settimeout(timeout)
        sock.connect(addr.sockaddr())
        sock.settimeout(None)
        _tune(sock, options, addr.family)
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_through_proxy(address, endpoint, options, timeout):
    """SOCKS_PROXY: connect to the proxy (``host:port``, optionally with libzmq's ``source;``,
    else from the endpoint's source), then ask it for the endpoint's host and port; the peer
    address is the proxy's."""
    proxy = options.socks_proxy.decode()
    addr = ep.resolve_tcp_connect(proxy, proxy, options.ipv6, gsocket.getaddrinfo)
    host, port, source = ep.socks_target(address, endpoint, options.ipv6)
    if addr.source is None:
        addr.source = source  # the endpoint's source address, for the connection to the proxy
    sock = _connect_tcp(addr, options, timeout)
    try:
        socks.connect(sock, host, port, options.socks_username, options.socks_password,
                      options.handshake_ivl / 1000.0 if options.handshake_ivl > 0 else None)
    except BaseException:
        sock.close()
        raise
    return sock, addr.host


def open_connection(transport, address, options, timeout):
    """Connect one OS socket (blocking the calling greenlet); returns (socket, peer address)."""
    endpoint = f"{transport}://{address}"
    if transport == "tcp":
        if options.socks_proxy:
            return _connect_through_proxy(address, endpoint, options, timeout)
        addr = ep.resolve_tcp_connect(address, endpoint, options.ipv6, gsocket.getaddrinfo)
        return _connect_tcp(addr, options, timeout), addr.host
    sock = gsocket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
    try:
        _prepare(sock, options, _pysocket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(ep.ipc_path(address))
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock, ipc_peer_address(sock)


_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def ipc_peer_address(sock):
    """What libzmq calls the address of an ipc peer: ``localhost:UID:GID:PID`` of the process
    at the other end (SO_PEERCRED), which ZAP handlers and ``Peer-Address`` see; "" where the
    system cannot tell."""
    option = getattr(_pysocket, "SO_PEERCRED", None)
    if option is None:
        return ""
    try:
        pid, uid, gid = _CREDENTIALS.unpack(sock.getsockopt(_pysocket.SOL_SOCKET, option, _CREDENTIALS.size))
    except OSError:
        return ""
    return f"localhost:{uid}:{gid}:{pid}"

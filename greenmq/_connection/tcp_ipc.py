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
from . import endpoint as ep


def _tune(sock, options, family):
    """Apply the endpoint's TCP and buffer options to a new connection (as libzmq's tune_tcp_*)."""
    if family in (_pysocket.AF_INET, _pysocket.AF_INET6):
        sock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, 1)
        if options.tcp_keepalive != -1:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_KEEPALIVE, options.tcp_keepalive)
            for value, opt in ((options.tcp_keepalive_cnt, "TCP_KEEPCNT"), (options.tcp_keepalive_idle, "TCP_KEEPIDLE"),
                               (options.tcp_keepalive_intvl, "TCP_KEEPINTVL")):
                if value != -1 and hasattr(_pysocket, opt):
                    sock.setsockopt(_pysocket.IPPROTO_TCP, getattr(_pysocket, opt), value)
        if options.tos and family == _pysocket.AF_INET:
            sock.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_TOS, options.tos)
    for value, opt in ((options.sndbuf, _pysocket.SO_SNDBUF), (options.rcvbuf, _pysocket.SO_RCVBUF)):
        if value >= 0:
            sock.setsockopt(_pysocket.SOL_SOCKET, opt, value)


def _os_error_to_zmq(error, endpoint):
    code = error.errno if error.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES,
                                          errno.ENOENT, errno.ENAMETOOLONG) else Errno.EINVAL
    if code == errno.ENAMETOOLONG:
        code = Errno.EINVAL
    return zmq_error(code, endpoint)


class ListeningSocket:
    """A listening OS socket plus what is needed to report and undo the bind."""

    def __init__(self, transport, address, options):
        self.transport = transport
        self.options = options
        self._unlink = None
        self._tempdir = None
        endpoint = f"{transport}://{address}"
        if transport == "tcp":
            addr = ep.parse_tcp_bind(address, endpoint, options.ipv6)
            self.family = addr.family
            sock = gsocket.socket(addr.family, _pysocket.SOCK_STREAM)
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if addr.family == _pysocket.AF_INET6:
                sock.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)
            try:
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
                sock.bind(os_path)
            except OSError as error:
                sock.close()
                self._unlink = None
                raise _os_error_to_zmq(error, endpoint) from None
            self.last_endpoint = f"ipc://{path}"
        sock.listen(max(options.backlog, 1))
        self.sock = sock

    def accept(self):
        """Wait for a connection; returns (socket, peer address text)."""
        conn, addr = self.sock.accept()
        _tune(conn, self.options, self.family)
        if self.family == _pysocket.AF_UNIX:
            return conn, ipc_peer_address(conn)
        return conn, addr[0]

    def close(self):
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


def open_connection(transport, address, options, timeout):
    """Connect one OS socket (blocking the calling greenlet); returns (socket, peer address)."""
    endpoint = f"{transport}://{address}"
    if transport == "tcp":
        addr = ep.resolve_tcp_connect(address, endpoint, options.ipv6, gsocket.getaddrinfo)
        sock = gsocket.socket(addr.family, _pysocket.SOCK_STREAM)
        try:
            if addr.source is not None:
                sock.bind(addr.source.sockaddr())
            sock.settimeout(timeout)
            sock.connect(addr.sockaddr())
            sock.settimeout(None)
            _tune(sock, options, addr.family)
        except BaseException:
            sock.close()
            raise
        return sock, addr.host
    sock = gsocket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
    try:
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

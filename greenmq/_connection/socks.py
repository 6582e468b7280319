"""The client side of SOCKS5 (RFC 1928), for ``SOCKS_PROXY``, as libzmq's ``socks_connecter``.

On a connection to the proxy: a greeting offering one method -- no
authentication, or username/password (RFC 1929) when ``SOCKS_USERNAME`` is
set -- then, if the proxy picked username/password, the credentials, then a
CONNECT request. The destination goes as an IPv4 or IPv6 address when it is
one, else as a domain name for the proxy to resolve. When the proxy grants the
request, the connection carries ZMTP from there on. Anything else -- a refusal,
a reply that breaks the protocol, the proxy hanging up -- is a
:class:`SocksError` and the session tries again later, as libzmq does.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

import gevent

VERSION = 0x05
NO_AUTHENTICATION = 0x00
USERNAME_PASSWORD = 0x02
CONNECT = 0x01
AUTH_VERSION = 0x01  # RFC 1929's sub-negotiation version
ATYP_IPV4 = 0x01
ATYP_DOMAIN = 0x03
ATYP_IPV6 = 0x04
_ADDRESS_SIZES = {ATYP_IPV4: 4, ATYP_IPV6: 16}


class SocksError(OSError):
    """The SOCKS proxy refused, or did not speak SOCKS5 as expected."""


def _recv_exactly(sock: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SocksError("the SOCKS proxy closed the connection")
        data += chunk
    return data


def _credentials(username: bytes, password: bytes) -> bytes:
    return bytes((AUTH_VERSION, len(username))) + username + bytes((len(password),)) + password


def encode_request(host: str, port: int) -> bytes:
    """A CONNECT request for ``host:port``."""
    try:
        literal = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        name = host.encode()
        if not 0 < len(name) <= 255:
            raise SocksError(f"a SOCKS destination name must have 1 to 255 bytes: {host!r}") from None
        address = bytes((ATYP_DOMAIN, len(name))) + name
    else:
        address = bytes((ATYP_IPV4 if literal.version == 4 else ATYP_IPV6,)) + literal.packed
    return bytes((VERSION, CONNECT, 0x00)) + address + struct.pack("!H", port)


def _read_reply(sock: Any) -> None:
    version, reply, reserved, address_type = _recv_exactly(sock, 4)
    if version != VERSION or reserved != 0:
        raise SocksError("the SOCKS proxy sent a malformed reply")
    if address_type == ATYP_DOMAIN:
        size = _recv_exactly(sock, 1)[0]
    elif address_type in _ADDRESS_SIZES:
        size = _ADDRESS_SIZES[address_type]
    else:
        raise SocksError(f"the SOCKS proxy sent an unknown address type {address_type}")
    _recv_exactly(sock, size + 2)  # the proxy's bound address and port: not needed
    if reply != 0:
        raise SocksError(f"the SOCKS proxy refused the connection (reply {reply})")


def connect(sock: Any, host: str, port: int, username: bytes, password: bytes, timeout: float | None) -> None:
    """Ask the proxy at the other end of ``sock`` to connect to ``host:port``; raises
    :class:`SocksError` (or ``OSError``) if it does not, or not within ``timeout`` seconds."""
    method = USERNAME_PASSWORD if username else NO_AUTHENTICATION
    with gevent.Timeout(timeout, SocksError("the SOCKS proxy did not answer in time")):
        sock.sendall(bytes((VERSION, 1, method)))
        version, chosen = _recv_exactly(sock, 2)
        if version != VERSION or chosen not in (NO_AUTHENTICATION, USERNAME_PASSWORD):
            raise SocksError(f"the SOCKS proxy accepts none of our methods (it chose {chosen})")
        if chosen == USERNAME_PASSWORD:
            sock.sendall(_credentials(username, password))
            version, status = _recv_exactly(sock, 2)
            if version != AUTH_VERSION or status != 0:
                raise SocksError("the SOCKS proxy refused our username and password")
        sock.sendall(encode_request(host, port))
        _read_reply(sock)

"""Network interface names in tcp endpoints: ``tcp://eth0:5555`` binds to eth0's address.

libzmq looks the name up among the interfaces' addresses (``getifaddrs``)
and takes the first one of the family the socket uses: IPv4, or IPv6 when
the socket has ``IPV6`` set. An unknown interface, or one without an
address of that family, is ENODEV. Here the IPv4 address comes from the
``SIOCGIFADDR`` ioctl and the IPv6 one from ``/proc/net/if_inet6``, both
Linux's; elsewhere no name resolves, and such endpoints stay ENODEV.
"""

from __future__ import annotations

import socket as _pysocket
import struct
import sys

# From <linux/sockios.h>: the interface's primary IPv4 address.
SIOCGIFADDR = 0x8915
IF_INET6 = "/proc/net/if_inet6"
# struct ifreq: the name (IFNAMSIZ bytes), then a union the size of a struct sockaddr and more.
_IFNAMSIZ = 16
_IFREQ_SIZE = 40


def _ipv4_address(name: str) -> str | None:
    encoded = name.encode()
    if not sys.platform.startswith("linux") or not encoded or len(encoded) >= _IFNAMSIZ or b"\0" in encoded:
        return None
    import fcntl  # here, not above: Windows has no fcntl

    request = struct.pack(f"{_IFREQ_SIZE}s", encoded)
    with _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_DGRAM) as probe:
        try:
            answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
        except OSError:  # ENODEV: no such interface; EADDRNOTAVAIL: it has no IPv4 address
            return None
    # The answer's sockaddr_in starts after the name: family (2 bytes), port (2), address (4).
    return _pysocket.inet_ntoa(answer[_IFNAMSIZ + 4:_IFNAMSIZ + 8])


def _ipv6_address(name: str) -> str | None:
    """The interface's first IPv6 address; a link-local one carries its scope (``fe80::1%eth0``)."""
    try:
        with open(IF_INET6) as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    for line in lines:
        # address (32 hex digits), interface index, prefix length, scope, flags, name
        fields = line.split()
        if len(fields) == 6 and fields[5] == name:
            address = _pysocket.inet_ntop(_pysocket.AF_INET6, bytes.fromhex(fields[0]))
            link_local = int(fields[3], 16) == 0x20
            return f"{address}%{name}" if link_local else address
    return None


def interface_address(name: str, ipv6: bool) -> tuple[int, str] | None:
    """``(family, address)`` of interface ``name`` for a socket with or without IPV6; None if
    there is no such interface or it has no address of that family."""
    if ipv6:
        address = _ipv6_address(name)
        return None if address is None else (_pysocket.AF_INET6, address)
    address = _ipv4_address(name)
    return None if address is None else (_pysocket.AF_INET, address)

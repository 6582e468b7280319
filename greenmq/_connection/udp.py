"""udp: RADIO and DISH over datagrams, as libzmq's udp engine carries them.

Only a DISH binds a udp endpoint and only a RADIO connects one (anything
else is ENOCOMPATPROTO). There is no handshake and no connection: a bind
opens a :class:`UdpReceiver`, a connect a :class:`UdpSender`, each with one
peer attached to the socket for as long as the endpoint exists, and no
monitor events (libzmq emits none for udp either).

A datagram is one octet giving the group's length, the group, then the
body. As libzmq:

* a RADIO's peer over udp gets every group (no JOIN comes back), and the
  DISH filters by the groups it joined;
* a datagram over 8192 octets (:data:`MAX_DATAGRAM`) is not sent, and a
  longer one received is cut to 8192 octets by the read;
* a received datagram whose group does not fit in it is dropped, and so is
  one that arrives while the DISH's queue is full (reading resumes when
  there is room);
* a multicast group address is joined by the DISH (on the source
  interface of ``udp://iface;group:port``, else any) and sent to by the
  RADIO with MULTICAST_LOOP and MULTICAST_HOPS.

greenmq adds one rule: a message whose group is 128 octets or longer is
never sent over udp (it is dropped, as an oversized datagram is). libzmq
reads the length octet as a signed char and aborts its process on such a
datagram, so a greenmq RADIO must not send one; a greenmq DISH accepts any
group length up to 255 and survives any datagram.
"""

from __future__ import annotations

import logging
import socket as _pysocket
import struct
from typing import Any

import gevent
from gevent import socket as _gsocket
from gevent.event import Event

from ..constants import Errno, SocketType
from ..error import zmq_error
from .endpoint import UdpAddress, parse_udp

log = logging.getLogger("greenmq")

MAX_DATAGRAM = 8192  # libzmq's MAX_UDP_MSG: its send and receive buffers
MAX_UDP_GROUP = 127  # longer groups make a libzmq DISH abort: never sent


def check_role(socket_type: int, binding: bool, endpoint: str) -> None:
    """libzmq's pairing: a DISH binds, a RADIO connects; ENOCOMPATPROTO otherwise."""
    if socket_type != (SocketType.DISH if binding else SocketType.RADIO):
        raise zmq_error(Errno.ENOCOMPATPROTO, endpoint)


def encode(group: bytes, body: Any) -> bytes | None:
    """The datagram for one message, or None if it must not be sent (see the module docstring)."""
    if len(group) > MAX_UDP_GROUP or 1 + len(group) + len(body) > MAX_DATAGRAM:
        return None
    return b"".join((bytes((len(group),)), group, body))


def decode(datagram: bytes) -> list[bytes] | None:
    """``[group, body]`` from a datagram, or None if it is empty or its group does not fit."""
    if not datagram:
        return None
    end = 1 + datagram[0]
    if end > len(datagram):
        return None
    return [datagram[1:end], datagram[end:]]


def _open(address: UdpAddress, options: Any, endpoint: str) -> Any:
    sock = _gsocket.socket(address.family, _pysocket.SOCK_DGRAM)
    try:
        if options.bindtodevice:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_BINDTODEVICE, options.bindtodevice)
        if options.sndbuf >= 0:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_SNDBUF, options.sndbuf)
        if options.rcvbuf >= 0:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_RCVBUF, options.rcvbuf)
    except OSError as error:
        sock.close()
        raise zmq_error(error.errno or Errno.EINVAL, endpoint) from None
    return sock


def _membership(address: UdpAddress) -> tuple[int, int, bytes]:
    """(level, option, value) of the setsockopt that joins the DISH to its multicast group."""
    group = address.target[0]
    if address.family == _pysocket.AF_INET6:
        request = _pysocket.inet_pton(_pysocket.AF_INET6, group) + struct.pack("@I", address.interface)
        return _pysocket.IPPROTO_IPV6, _pysocket.IPV6_JOIN_GROUP, request
    request = _pysocket.inet_aton(group) + _pysocket.inet_aton(address.local[0])
    return _pysocket.IPPROTO_IP, _pysocket.IP_ADD_MEMBERSHIP, request


def _multicast_sending(sock: Any, address: UdpAddress, options: Any) -> None:
    """A RADIO sending to a group: loop back or not, the TTL, and the source's interface."""
    if address.family == _pysocket.AF_INET6:
        level = _pysocket.IPPROTO_IPV6
        sock.setsockopt(level, _pysocket.IPV6_MULTICAST_LOOP, int(options.multicast_loop))
        sock.setsockopt(level, _pysocket.IPV6_MULTICAST_HOPS, options.multicast_hops)
        if address.interface > 0:
            sock.setsockopt(level, _pysocket.IPV6_MULTICAST_IF, address.interface)
        return
    level = _pysocket.IPPROTO_IP
    sock.setsockopt(level, _pysocket.IP_MULTICAST_LOOP, int(options.multicast_loop))
    sock.setsockopt(level, _pysocket.IP_MULTICAST_TTL, options.multicast_hops)
    if address.local[0] != "0.0.0.0":
        sock.setsockopt(level, _pysocket.IP_MULTICAST_IF, _pysocket.inet_aton(address.local[0]))


class UdpReceiver:
    """A DISH's bound udp endpoint: each datagram goes into its peer's inbound pipe as
    ``[group, body]``, the shape a DISH receives over tcp too."""

    def __init__(self, port: Any, options: Any, address: str, endpoint: str):
        self.port = port
        resolved = parse_udp(address, endpoint, True, options.ipv6)
        sock = self._sock = _open(resolved, options, endpoint)
        try:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if resolved.multicast:
                # Several DISHes of one host may join a group on one port: each gets every datagram.
                sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEPORT, 1)
            # A multicast DISH binds the wildcard address on the group's port; its source only
            # names the interface that joins the group.
            wildcard = "::" if resolved.family == _pysocket.AF_INET6 else "0.0.0.0"
            sock.bind((wildcard, resolved.local[1]) if resolved.multicast else resolved.local)
            if resolved.multicast:
                sock.setsockopt(*_membership(resolved))
        except OSError as error:
            sock.close()
            raise zmq_error(error.errno or Errno.EINVAL, endpoint) from None
        bound_port = sock.getsockname()[1]
        # A wildcard port is reported as the one the system chose (libzmq repeats the endpoint as given).
        head, _, port_text = endpoint.rpartition(":")
        self.endpoint = endpoint if port_text not in ("*", "0") else f"{head}:{bound_port}"
        self._room = Event()
        # No handshake: the DISH never sends this peer its joins (its metadata stays None).
        self.peer = port.new_peer(self.endpoint, options, inbound_room=self._room.set, bound=True)
        port.attach(self.peer)
        self.greenlet = gevent.spawn(self._receive)

    def _receive(self) -> None:
        inbound = self.peer.inbound
        sock = self._sock
        room = self._room
        while inbound is not None and not inbound.reader_closed:
            try:
                datagram = sock.recv(MAX_DATAGRAM)
            except OSError as error:
                if sock.fileno() < 0:
                    return  # closed by close()
                log.debug("greenmq: udp receive on %s failed: %s", self.endpoint, error)
                continue
            msg = decode(datagram)
            if msg is None:
                continue
            room.clear()
            if not inbound.try_write(msg):
                room.wait()  # the datagram is dropped, as by libzmq; read on once there is room

    def close(self, linger: int) -> gevent.Greenlet:
        """Stop receiving at once (there is nothing to flush); what was received stays readable."""
        self.greenlet.kill(block=False)
        self._sock.close()
        self.port.detach(self.peer)
        return self.greenlet


class UdpSender:
    """A RADIO's connected udp endpoint: sends each message queued for its peer as a datagram."""

    def __init__(self, port: Any, options: Any, address: str, endpoint: str):
        self.port = port
        self.endpoint = endpoint
        resolved = parse_udp(address, endpoint, False, options.ipv6)
        self._target = resolved.target
        sock = self._sock = _open(resolved, options, endpoint)
        if resolved.multicast:
            try:
                _multicast_sending(sock, resolved, options)
            except OSError as error:
                sock.close()
                raise zmq_error(error.errno or Errno.EINVAL, endpoint) from None
        self._ready = Event()
        self._closing = False
        peer = self.peer = port.new_peer(endpoint, options, outbound_ready=self._ready.set)
        peer.all_groups = True
        port.attach(peer)
        self.greenlet = gevent.spawn(self._send)
        self.greenlet.link(self._closed)

    def _send(self) -> None:
        outbound = self.peer.outbound
        if outbound is None:
            return
        ready = self._ready
        while True:
            ready.clear()
            msg = outbound.read()
            if msg is None:
                if self._closing or outbound.reader_closed:
                    return
                ready.wait()
                continue
            group, body = msg
            datagram = encode(bytes(group), body)
            if datagram is None:
                log.debug("greenmq: udp %s: a message for group %r is not sent (too long)", self.endpoint, group)
                continue
            try:
                self._sock.sendto(datagram, self._target)
            except OSError as error:  # unreachable, say: the datagram is lost, as udp's are
                log.debug("greenmq: udp send to %s failed: %s", self.endpoint, error)

    def _closed(self, _greenlet: gevent.Greenlet) -> None:
        self._sock.close()
        if self.peer.outbound is not None:
            self.peer.outbound.close_reader()  # what was not sent in time is dropped

    def close(self, linger: int) -> gevent.Greenlet:
        """The socket stops using this peer at once; what is queued is still sent for up to
        ``linger`` ms (-1: until all is sent), as for a tcp connect."""
        self._closing = True
        self.port.detach(self.peer, close_pipes=False)
        if linger == 0:
            self.greenlet.kill(block=False)
            return self.greenlet
        self._ready.set()
        if linger > 0:
            gevent.spawn_later(linger / 1000.0, self.greenlet.kill, block=False)
        return self.greenlet

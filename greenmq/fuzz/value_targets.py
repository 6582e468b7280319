"""Fuzz targets for values users hand greenmq: Z85 text, endpoint strings, socket option values.

These errors are pyzmq's API: ``ValueError`` for bad Z85, ``ZMQError`` for a bad
endpoint, and for ``setsockopt`` ``ZMQError`` (EINVAL), ``TypeError`` and
``OverflowError`` as pyzmq raises them. Nothing else may escape, and a socket
must stay usable whatever was set on it.
"""

from __future__ import annotations

import socket as _pysocket
import struct
from typing import Any

import gevent

from ..constants import OPTION_TYPES, Flag, SocketOption, SocketType
from ..context import Context
from ..error import ZMQError
from ..utils import z85
from .._connection import endpoint
from .script import Script, build
from .target import InvariantBroken, Target, open_fds, register


@register
class Z85Target(Target):
    """Z85 decode and encode, each the other's inverse."""

    name = "z85"
    summary = "z85.decode on any text (bytes, str); round trips encode(decode(t)) == t and decode(encode(b)) == b"
    errors = (ValueError,)
    max_len = 320  # keys are 40 characters; longer text only repeats the same loop

    def seeds(self) -> list[bytes]:
        return [z85.encode(bytes(range(32))), z85.encode(b"\xff" * 8), b"HelloWorld", b"%nSc0" * 3]

    def run(self, data: bytes) -> None:
        raw = data[:len(data) - len(data) % 4]
        if z85.decode(z85.encode(raw)) != raw:
            raise InvariantBroken("decode(encode(b)) != b")
        try:
            text = data.decode("latin-1")
            if z85.decode(text) != z85.decode(data):
                raise InvariantBroken("decoding str and bytes disagree")
        except ValueError:
            pass
        decoded = z85.decode(data)
        if z85.encode(decoded) != data:
            raise InvariantBroken("encode(decode(t)) != t")


def _offline_resolver(host: str, port: Any, family: int, kind: int) -> list[Any]:
    """Stands in for getaddrinfo: the fuzzer looks no name up ("localhost" is the one name it knows)."""
    if host == "localhost":
        return [(_pysocket.AF_INET, kind, 0, "", ("127.0.0.1", 0))]
    raise _pysocket.gaierror(_pysocket.EAI_NONAME, "not looked up while fuzzing")


@register
class EndpointTarget(Target):
    """``transport://address`` parsing for bind and connect, without touching the network."""

    name = "endpoint"
    summary = "endpoint split, tcp bind/connect/SOCKS parsing and ipc paths on any text; a bind address re-parses"
    errors = (ZMQError,)
    max_len = 512

    def seeds(self) -> list[bytes]:
        return [b"tcp://127.0.0.1:5555", b"tcp://*:*", b"tcp://[::1]:80", b"tcp://lo:9000",
                b"tcp://127.0.0.1:0;localhost:7", b"ipc:///tmp/x", b"ipc://@abstract", b"inproc://name",
                b"udp://1.2.3.4:5", b"tcp://[fe80::1%lo]:5"]

    def run(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        ipv6 = bool(data[-1:] and data[-1] & 1)
        transport, address = endpoint.split(text, SocketType.PUSH)
        if transport == "ipc":
            endpoint.ipc_path(address, text)
        elif transport == "tcp":
            self._tcp(address, text, ipv6)

    def _tcp(self, address: str, text: str, ipv6: bool) -> None:
        try:
            endpoint.check_tcp_connect(address, text)
        except ZMQError:
            pass
        else:
            port = address.rpartition(":")[2]
            if not (port.isascii() and port.isdigit()):
                raise InvariantBroken(f"port {port!r} accepted: libzmq takes ASCII decimal digits only")
        for parse in (lambda: self._bind(address, text, ipv6), lambda: endpoint.check_tcp_connect(address, text),
                      lambda: endpoint.resolve_tcp_connect(address, text, ipv6, _offline_resolver),
                      lambda: endpoint.socks_target(address, text, ipv6)):
            try:
                parse()
            except ZMQError:
                pass

    def _bind(self, address: str, text: str, ipv6: bool) -> None:
        bound = endpoint.parse_tcp_bind(address, text, ipv6, _offline_resolver)
        uri = bound.uri(bound.port or 1)
        again = endpoint.parse_tcp_bind(endpoint.split(uri)[1], uri, ipv6, _offline_resolver)
        if (again.family, again.host, again.port) != (bound.family, bound.host, bound.port or 1):
            raise InvariantBroken(f"{text!r} binds to {uri}, which parses as {again.uri()}")


# Socket types the options target makes (the draft types raise NotImplementedError by design).
OPTION_SOCKET_TYPES = (SocketType.PAIR, SocketType.PUB, SocketType.SUB, SocketType.REQ, SocketType.REP,
                       SocketType.DEALER, SocketType.ROUTER, SocketType.PULL, SocketType.PUSH, SocketType.XPUB,
                       SocketType.XSUB, SocketType.STREAM)
ALL_OPTIONS = tuple(SocketOption)
# Inputs between two checks that closed sockets gave their descriptors back.
FD_CHECK_EVERY = 64
FD_TOLERANCE = 16
INTERESTING_INTS = (0, 1, -1, 2, 255, 256, 2**31 - 1, -2**31, 2**31, 2**63 - 1, -2**63, 2**63, 2**64, -2**64)


def _value(kind: int, payload: bytes) -> Any:
    """A Python value of one of the types a program might pass: ints of any size, bytes, str, others."""
    choice = kind % 10
    if choice == 0:
        return INTERESTING_INTS[payload[0] % len(INTERESTING_INTS)] if payload else 0
    if choice == 1:
        return int.from_bytes(payload[:9], "big", signed=True)
    if choice == 2:
        return payload
    if choice == 3:
        return payload.decode("utf-8", "replace")
    if choice == 4:
        return struct.unpack(">d", payload[:8].ljust(8, b"\0"))[0]
    if choice == 5:
        return bool(payload[:1] and payload[0] & 1)
    if choice == 6:
        return None
    if choice == 7:
        return bytearray(payload)
    if choice == 8:
        return [payload]
    return int.from_bytes(payload[:2], "big")


@register
class OptionsTarget(Target):
    """``setsockopt`` with any value of any type on every socket type; the socket must stay usable."""

    name = "options"
    summary = ("setsockopt/set/setsockopt_string/attributes with arbitrary values on each socket type: only "
               "ZMQError, TypeError, ValueError, OverflowError; afterwards every option reads and a PAIR still talks")
    errors = ()  # the allowed errors are caught per call: the health check after them must run
    interruptible = False
    time_bound = 5.0
    memory_slack = 1024 * 1024
    ALLOWED = (ZMQError, TypeError, ValueError, OverflowError)

    def __init__(self) -> None:
        self.context = Context()
        self.count = 0
        self.fds = open_fds()

    def close(self) -> None:
        self.context.destroy(linger=0)

    def seeds(self) -> list[bytes]:
        linger = ALL_OPTIONS.index(SocketOption.LINGER)
        routing_id = ALL_OPTIONS.index(SocketOption.ROUTING_ID)
        subscribe = ALL_OPTIONS.index(SocketOption.SUBSCRIBE)
        hwm = ALL_OPTIONS.index(SocketOption.SNDHWM)
        return [build((0,), [(linger, b"\x09\x00\x64"), (routing_id, b"\x02peer"), (hwm, b"\x00\x05")]),
                build((2,), [(subscribe, b"\x02topic"), (subscribe, b"\x03text"), (linger, b"\x04\x40")]),
                build((6,), [(0xFF, b"\x01\x00\x00\x00\x01"), (routing_id, b"\x00\x07")])]

    def run(self, data: bytes) -> None:
        script = Script(data)
        socket_type = OPTION_SOCKET_TYPES[script.byte() % len(OPTION_SOCKET_TYPES)]
        sock = self.context.socket(socket_type)
        try:
            sock.linger = 0
            for opcode, payload in script.ops():
                option = ALL_OPTIONS[opcode] if opcode < len(ALL_OPTIONS) else opcode * 7
                way = payload[0] >> 4 if payload else 0
                value = _value(payload[0] if payload else 0, payload[1:])
                try:
                    if way == 1:
                        sock.set(option, value)
                    elif way == 2 and isinstance(value, str):
                        sock.setsockopt_string(option, value)
                    elif way in (3, 4) and option in ALL_OPTIONS:
                        name = SocketOption(option).name  # sock.linger, and sock.Linger as pyzmq takes it
                        setattr(sock, name.lower() if way == 3 else name.title(), value)
                    else:
                        sock.setsockopt(option, value)
                except self.ALLOWED:
                    pass
            self._check_usable(sock, socket_type)
        finally:
            sock.close(linger=0)
            # A socket's ZMQ_FD descriptor is closed two turns of the hub's loop after the socket
            # (readiness_fd says why); inputs that never block would never let the loop turn.
            gevent.idle()
            gevent.idle()
        if self.count % FD_CHECK_EVERY == 0 and open_fds() > self.fds + FD_TOLERANCE:
            raise InvariantBroken(f"descriptors leak: {self.fds} open at the start, {open_fds()} now")

    def _check_usable(self, sock: Any, socket_type: SocketType) -> None:
        for option in ALL_OPTIONS:
            try:
                value = sock.getsockopt(option)
            except ZMQError:
                continue
            kind = OPTION_TYPES.get(option)
            expected = bytes if kind is not None and kind.name == "bytes" else int
            if not isinstance(value, expected):
                raise InvariantBroken(f"getsockopt({option.name}) gave {value!r} after fuzzed options")
        self.count += 1
        address = f"inproc://fuzz-options-{self.count}"
        sock.bind(address)
        if socket_type != SocketType.PAIR:
            sock.unbind(address)
            return
        peer = self.context.socket(SocketType.PAIR)
        try:
            peer.linger = 0
            peer.connect(address)
            with gevent.Timeout(5, InvariantBroken("a PAIR with fuzzed options no longer talks")):
                peer.send(b"ping")
                if not sock.poll(5000) or sock.recv(Flag.NOBLOCK) != b"ping":
                    raise InvariantBroken("a PAIR with fuzzed options did not receive")
                sock.send(b"pong", Flag.NOBLOCK)
                if not peer.poll(5000) or peer.recv(Flag.NOBLOCK) != b"pong":
                    raise InvariantBroken("a PAIR with fuzzed options did not send")
        finally:
            peer.close(linger=0)

"""The socket option table: one row per option, serving get/set, attributes and docs.

A row names the option (libzmq's number), its value kind (``int``, ``int64``,
``bytes``), its default, how a value is checked, and whether it can be read or
written. Values are validated the way pyzmq + libzmq do it: a value of the
wrong Python type raises ``TypeError`` with pyzmq's message, an out-of-range
value raises ``ZMQError(EINVAL)``.
"""

from __future__ import annotations

from typing import Any, Callable

from ..constants import OPTION_TYPES, Errno, SocketOption as O, SocketType as T
from ..error import zmq_error

INT = "int"
INT64 = "int64"
BYTES = "bytes"
FILENO = "fd"  # an OS descriptor: an int on POSIX (ZMQ_FD)


class OptionSpec:
    """How one socket option behaves."""

    __slots__ = ("option", "kind", "default", "check", "readable", "writable", "socket_types")

    def __init__(self, option: O, kind: str, default: Any, check: Callable[[Any], bool] | None = None,
                 readable: bool = True, writable: bool = True, socket_types: tuple[T, ...] | None = None):
        self.option = option
        self.kind = kind
        self.default = default
        self.check = check
        self.readable = readable
        self.writable = writable
        # Socket types the option applies to (None: all); libzmq answers EINVAL for the others.
        self.socket_types = socket_types


def at_least(minimum):
    return lambda value: value >= minimum


def boolean(value):
    return value in (0, 1)


def routing_id(value):
    return 0 < len(value) <= 255


def one_to_255(value):
    # pyzmq hands libzmq a non-NULL pointer even for b"", which libzmq refuses.
    return 0 < len(value) <= 255


def metadata_property(value):
    name, sep, _ = value.partition(b":")
    return bool(sep) and name[:2].upper() == b"X-" and 2 < len(name) <= 255


_ROWS: list[tuple[Any, ...]] = [
    # option, kind, default, check, readable, writable, socket types
    (O.AFFINITY, INT64, 0, at_least(0)),
    (O.ROUTING_ID, BYTES, b"", routing_id),
    (O.SUBSCRIBE, BYTES, None, None, False, True, (T.SUB, T.XPUB)),
    (O.UNSUBSCRIBE, BYTES, None, None, False, True, (T.SUB, T.XPUB)),
    (O.XPUB_VERBOSE, INT, 0, at_least(0), False, True, (T.XPUB,)),
    (O.XPUB_VERBOSER, INT, 0, at_least(0), False, True, (T.XPUB,)),
    (O.XPUB_MANUAL, INT, 0, at_least(0), False, True, (T.XPUB,)),
    (O.XPUB_NODROP, INT, 0, at_least(0), False, True, (T.PUB, T.XPUB, T.RADIO)),
    (O.XPUB_WELCOME_MSG, BYTES, None, None, False, True, (T.XPUB,)),
    (O.XPUB_MANUAL_LAST_VALUE, INT, 0, at_least(0), False, True, (T.XPUB,)),
    # libzmq's PUB takes it too (its xpub_t reads subscriptions); a SUB does not.
    (O.ONLY_FIRST_SUBSCRIBE, INT, 0, at_least(0), False, True, (T.PUB, T.XPUB, T.XSUB)),
    (O.INVERT_MATCHING, INT, 0, at_least(0), True, True, (T.PUB, T.XPUB, T.SUB)),
    (O.RATE, INT, 100, at_least(1)),
    (O.RECOVERY_IVL, INT, 10000, at_least(0)),
    (O.SNDBUF, INT, -1, at_least(-1)),
    (O.RCVBUF, INT, -1, at_least(-1)),
    (O.RCVMORE, INT, 0, None, True, False),
    (O.EVENTS, INT, 0, None, True, False),
    (O.FD, FILENO, None, None, True, False),
    (O.TYPE, INT, None, None, True, False),
    (O.LINGER, INT, -1, at_least(-1)),
    (O.RECONNECT_IVL, INT, 100, at_least(-1)),
    (O.BACKLOG, INT, 100, at_least(0)),
    (O.RECONNECT_IVL_MAX, INT, 0, at_least(0)),
    # ReconnectStop bits; libzmq stores any int and reads it back as given.
    (O.RECONNECT_STOP, INT, 0),
    (O.MAXMSGSIZE, INT64, -1, at_least(-1)),
    (O.SNDHWM, INT, 1000, at_least(0)),
    (O.RCVHWM, INT, 1000, at_least(0)),
    (O.MULTICAST_HOPS, INT, 1, at_least(1)),
    (O.RCVTIMEO, INT, -1, at_least(-1)),
    (O.SNDTIMEO, INT, -1, at_least(-1)),
    (O.IPV4ONLY, INT, 1, boolean),
    (O.LAST_ENDPOINT, BYTES, b"", None, True, False),
    (O.TCP_KEEPALIVE, INT, -1, lambda v: v in (-1, 0, 1)),
    (O.TCP_KEEPALIVE_CNT, INT, -1, at_least(-1)),
    (O.TCP_KEEPALIVE_IDLE, INT, -1, at_least(-1)),
    (O.TCP_KEEPALIVE_INTVL, INT, -1, at_least(-1)),
    (O.IMMEDIATE, INT, 0, boolean),
    (O.IPV6, INT, 0, boolean),
    (O.MECHANISM, INT, 0, None, True, False),
    (O.HANDSHAKE_IVL, INT, 30000, at_least(0)),
    (O.TOS, INT, 0, at_least(0)),
    (O.HEARTBEAT_IVL, INT, 0, at_least(0)),
    (O.HEARTBEAT_TTL, INT, 0, lambda v: 0 <= v <= 6553599),
    (O.HEARTBEAT_TIMEOUT, INT, -1, at_least(-1)),
    (O.CONNECT_TIMEOUT, INT, 0, at_least(0)),
    (O.THREAD_SAFE, INT, 0, None, True, False),
    (O.METADATA, BYTES, None, metadata_property, False, True),
    # libzmq's REP is built on its ROUTER and takes the ROUTER options; its flag
    # options accept any value >= 0 (non-zero meaning on).
    (O.ROUTER_MANDATORY, INT, 0, at_least(0), False, True, (T.ROUTER, T.REP)),
    (O.ROUTER_HANDOVER, INT, 0, at_least(0), False, True, (T.ROUTER, T.REP)),
    (O.PROBE_ROUTER, INT, 0, at_least(0), False, True, (T.ROUTER, T.REP, T.DEALER, T.REQ)),
    (O.REQ_CORRELATE, INT, 0, at_least(0), False, True, (T.REQ,)),
    (O.REQ_RELAXED, INT, 0, at_least(0), False, True, (T.REQ,)),
    (O.CONNECT_ROUTING_ID, BYTES, b"", len, False, True, (T.ROUTER, T.REP, T.STREAM)),
    (O.STREAM_NOTIFY, INT, 1, boolean, False, True, (T.STREAM,)),
    # libzmq's draft options. ROUTER_NOTIFY is readable on every type, set on ROUTER only.
    (O.ROUTER_NOTIFY, INT, 0, lambda v: 0 <= v <= 3, True, True, (T.ROUTER,)),
    # Sent first on each connection (CLIENT, DEALER, PEER, ROUTER, SERVER), received when an accepted
    # connection ends (PEER, ROUTER, SERVER) or a connected one does (CLIENT, DEALER, PEER); b"": none.
    (O.HELLO_MSG, BYTES, b"", None, False, True),
    (O.DISCONNECT_MSG, BYTES, b"", None, False, True),
    (O.HICCUP_MSG, BYTES, b"", None, False, True),
    # Accepted and checked as libzmq does, and read back; greenmq's reader and writer size their
    # batches themselves (greenmq._connection.reader, .writer), so these change nothing.
    (O.TOPICS_COUNT, INT, 0, None, True, False, (T.PUB, T.XPUB, T.SUB, T.XSUB)),
    (O.IN_BATCH_SIZE, INT, 8192, at_least(1)),
    (O.OUT_BATCH_SIZE, INT, 8192, at_least(1)),
    # Security: values are checked and applied by greenmq._socket.security_options.
    (O.PLAIN_SERVER, INT, 0, boolean),
    (O.PLAIN_USERNAME, BYTES, b"", one_to_255),
    (O.PLAIN_PASSWORD, BYTES, b"", one_to_255),
    (O.CURVE_SERVER, INT, 0, boolean),
    # Keys are kept raw; libzmq's unset keys are 32 zero bytes.
    (O.CURVE_PUBLICKEY, BYTES, bytes(32)),
    (O.CURVE_SECRETKEY, BYTES, bytes(32)),
    (O.CURVE_SERVERKEY, BYTES, bytes(32)),
    (O.ZAP_DOMAIN, BYTES, b"", one_to_255),
    # Any int, kept as 0 or 1 (libzmq's relaxed boolean).
    (O.ZAP_ENFORCE_DOMAIN, INT, 0),
    (O.CONFLATE, INT, 0, boolean),
    # Stored for libzmq's transports greenmq lacks (PGM, UDP, Windows loopback), as libzmq stores them.
    (O.MULTICAST_MAXTPDU, INT, 1500, at_least(1)),
    (O.MULTICAST_LOOP, INT, 1, boolean),
    (O.LOOPBACK_FASTPATH, INT, 0, boolean),
    # The tcp transport's OS-level options (greenmq._connection.tcp_ipc); lengths as libzmq checks them.
    (O.TCP_MAXRT, INT, 0, at_least(0)),
    (O.USE_FD, INT, -1, at_least(-1)),
    (O.BINDTODEVICE, BYTES, b"", lambda v: 0 < len(v) <= 16),
    (O.SOCKS_PROXY, BYTES, b"", len),
    (O.SOCKS_USERNAME, BYTES, b"", lambda v: len(v) <= 255),
    (O.SOCKS_PASSWORD, BYTES, b"", lambda v: len(v) <= 255),
]

OPTIONS = {row[0]: OptionSpec(*row) for row in _ROWS}


def lookup(option: int) -> OptionSpec:
    """The spec of a known option, else ZMQError(EINVAL) as libzmq gives for unknown numbers."""
    spec = OPTIONS.get(option)
    if spec is None:
        raise zmq_error(Errno.EINVAL)
    return spec


def value_kind(option: int) -> str:
    """What an option's value is (``int``, ``int64``, ``bytes``): the table's kind, else the one
    pyzmq gives the option (``SocketOption._opt_type``), else ``int`` as pyzmq assumes for numbers
    it does not know."""
    spec = OPTIONS.get(option)
    if spec is not None:
        return spec.kind
    try:
        opt_type = OPTION_TYPES.get(O(option))
    except ValueError:
        return INT
    return INT if opt_type is None else opt_type.value


def setting(option: int, value: Any, socket_type: int) -> tuple[OptionSpec, Any]:
    """``setsockopt``'s checks: the option's spec and the value to store. As in pyzmq the value's
    type is checked first, so that a value of the wrong type is a TypeError even for an option
    greenmq does not know (which is then ZMQError(EINVAL))."""
    spec = OPTIONS.get(option)
    if spec is None:
        _checked_type(value_kind(option), value, str(option))
        raise zmq_error(Errno.EINVAL)
    return spec, validate(spec, value, socket_type)


def _checked_type(kind: str, value: Any, name: str) -> Any:
    """``value`` if its Python type suits an option of ``kind``; TypeError/OverflowError with pyzmq's messages."""
    if isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    if kind == BYTES:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got: {value!r}")
        return value
    if not isinstance(value, int):
        raise TypeError(f"expected int, got: {value!r}")
    limit = 2**63 if kind == INT64 else 2**31
    if not -limit <= value < limit:
        raise OverflowError(f"value {value} does not fit the {kind} option {name}")
    return int(value)


def validate(spec: OptionSpec, value: Any, socket_type: int | None = None) -> Any:
    """Check a value for ``setsockopt`` on a socket of ``socket_type``; returns the value to store."""
    value = _checked_type(spec.kind, value, spec.option.name)
    if not spec.writable:
        raise zmq_error(Errno.EINVAL)
    if spec.socket_types is not None and socket_type not in spec.socket_types:
        raise zmq_error(Errno.EINVAL)
    if spec.check is not None and not spec.check(value):
        raise zmq_error(Errno.EINVAL)
    return value

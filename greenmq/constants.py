"""libzmq's constants, as pyzmq exposes them.

The values come from libzmq's ``zmq.h`` (4.3.6); the grouping into ``IntEnum``
classes follows pyzmq so that ``zmq.SocketType.PUSH`` and ``zmq.PUSH`` both work.
Every member is also exported at module level by ``greenmq/__init__.py``.
"""

from __future__ import annotations

import errno as _errno
from enum import Enum, IntEnum, IntFlag
from typing import TYPE_CHECKING

HAUSNUMERO = 156384712


class SocketType(IntEnum):
    """Socket types (``zmq_socket``)."""

    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20
    # Deprecated aliases kept by libzmq.
    XREQ = 5
    XREP = 6


class _OptType(Enum):
    """The kind of value a socket option takes, as pyzmq names it (``SocketOption.X._opt_type``)."""

    int = "int"
    int64 = "int64"
    bytes = "bytes"
    fd = "fd"


class SocketOption(IntEnum):
    """Socket options (``zmq_setsockopt``/``zmq_getsockopt``); ``._opt_type`` says what value each takes."""

    @property
    def _opt_type(self) -> _OptType:
        return OPTION_TYPES.get(self, _OptType.int)

    HWM = 1
    AFFINITY = 4
    ROUTING_ID = 5
    SUBSCRIBE = 6
    UNSUBSCRIBE = 7
    RATE = 8
    RECOVERY_IVL = 9
    SNDBUF = 11
    RCVBUF = 12
    RCVMORE = 13
    FD = 14
    EVENTS = 15
    TYPE = 16
    LINGER = 17
    RECONNECT_IVL = 18
    BACKLOG = 19
    RECONNECT_IVL_MAX = 21
    MAXMSGSIZE = 22
    SNDHWM = 23
    RCVHWM = 24
    MULTICAST_HOPS = 25
    RCVTIMEO = 27
    SNDTIMEO = 28
    IPV4ONLY = 31
    LAST_ENDPOINT = 32
    ROUTER_MANDATORY = 33
    TCP_KEEPALIVE = 34
    TCP_KEEPALIVE_CNT = 35
    TCP_KEEPALIVE_IDLE = 36
    TCP_KEEPALIVE_INTVL = 37
    TCP_ACCEPT_FILTER = 38
    IMMEDIATE = 39
    XPUB_VERBOSE = 40
    ROUTER_RAW = 41
    IPV6 = 42
    MECHANISM = 43
    PLAIN_SERVER = 44
    PLAIN_USERNAME = 45
    PLAIN_PASSWORD = 46
    CURVE_SERVER = 47
    CURVE_PUBLICKEY = 48
    CURVE_SECRETKEY = 49
    CURVE_SERVERKEY = 50
    PROBE_ROUTER = 51
    REQ_CORRELATE = 52
    REQ_RELAXED = 53
    CONFLATE = 54
    ZAP_DOMAIN = 55
    ROUTER_HANDOVER = 56
    TOS = 57
    IPC_FILTER_PID = 58
    IPC_FILTER_UID = 59
    IPC_FILTER_GID = 60
    CONNECT_ROUTING_ID = 61
    GSSAPI_SERVER = 62
    GSSAPI_PRINCIPAL = 63
    GSSAPI_SERVICE_PRINCIPAL = 64
    GSSAPI_PLAINTEXT = 65
    HANDSHAKE_IVL = 66
    SOCKS_PROXY = 68
    XPUB_NODROP = 69
    BLOCKY = 70
    XPUB_MANUAL = 71
    XPUB_WELCOME_MSG = 72
    STREAM_NOTIFY = 73
    INVERT_MATCHING = 74
    HEARTBEAT_IVL = 75
    HEARTBEAT_TTL = 76
    HEARTBEAT_TIMEOUT = 77
    XPUB_VERBOSER = 78
    CONNECT_TIMEOUT = 79
    TCP_MAXRT = 80
    THREAD_SAFE = 81
    MULTICAST_MAXTPDU = 84
    VMCI_BUFFER_SIZE = 85
    VMCI_BUFFER_MIN_SIZE = 86
    VMCI_BUFFER_MAX_SIZE = 87
    VMCI_CONNECT_TIMEOUT = 88
    USE_FD = 89
    GSSAPI_PRINCIPAL_NAMETYPE = 90
    GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
    BINDTODEVICE = 92
    ZAP_ENFORCE_DOMAIN = 93
    LOOPBACK_FASTPATH = 94
    METADATA = 95
    MULTICAST_LOOP = 96
    ROUTER_NOTIFY = 97
    XPUB_MANUAL_LAST_VALUE = 98
    SOCKS_USERNAME = 99
    SOCKS_PASSWORD = 100
    IN_BATCH_SIZE = 101
    OUT_BATCH_SIZE = 102
    WSS_KEY_PEM = 103
    WSS_CERT_PEM = 104
    WSS_TRUST_PEM = 105
    WSS_HOSTNAME = 106
    WSS_TRUST_SYSTEM = 107
    ONLY_FIRST_SUBSCRIBE = 108
    RECONNECT_STOP = 109
    HELLO_MSG = 110
    DISCONNECT_MSG = 111
    PRIORITY = 112
    BUSY_POLL = 113
    HICCUP_MSG = 114
    XSUB_VERBOSE_UNSUBSCRIBE = 115
    TOPICS_COUNT = 116
    NORM_MODE = 117
    NORM_UNICAST_NACK = 118
    NORM_BUFFER_SIZE = 119
    NORM_SEGMENT_SIZE = 120
    NORM_BLOCK_SIZE = 121
    NORM_NUM_PARITY = 122
    NORM_NUM_AUTOPARITY = 123
    NORM_PUSH = 124
    # Deprecated aliases.
    IDENTITY = 5
    CONNECT_RID = 61
    DELAY_ATTACH_ON_CONNECT = 39
    FAIL_UNROUTABLE = 33
    ROUTER_BEHAVIOR = 33


# libzmq's value types of the options that do not take a plain int (zmq_setsockopt(3)).
OPTION_TYPES = {
    **dict.fromkeys((SocketOption.AFFINITY, SocketOption.MAXMSGSIZE, SocketOption.VMCI_BUFFER_SIZE,
                     SocketOption.VMCI_BUFFER_MIN_SIZE, SocketOption.VMCI_BUFFER_MAX_SIZE), _OptType.int64),
    SocketOption.FD: _OptType.fd,
    **dict.fromkeys((
        SocketOption.ROUTING_ID, SocketOption.SUBSCRIBE, SocketOption.UNSUBSCRIBE, SocketOption.LAST_ENDPOINT,
        SocketOption.TCP_ACCEPT_FILTER, SocketOption.PLAIN_USERNAME, SocketOption.PLAIN_PASSWORD,
        SocketOption.CURVE_PUBLICKEY, SocketOption.CURVE_SECRETKEY, SocketOption.CURVE_SERVERKEY,
        SocketOption.ZAP_DOMAIN, SocketOption.CONNECT_ROUTING_ID, SocketOption.GSSAPI_PRINCIPAL,
        SocketOption.GSSAPI_SERVICE_PRINCIPAL, SocketOption.SOCKS_PROXY, SocketOption.XPUB_WELCOME_MSG,
        SocketOption.BINDTODEVICE, SocketOption.METADATA, SocketOption.SOCKS_USERNAME, SocketOption.SOCKS_PASSWORD,
        SocketOption.WSS_KEY_PEM, SocketOption.WSS_CERT_PEM, SocketOption.WSS_TRUST_PEM, SocketOption.WSS_HOSTNAME,
        SocketOption.HELLO_MSG, SocketOption.DISCONNECT_MSG, SocketOption.HICCUP_MSG,
    ), _OptType.bytes),
}


class ContextOption(IntEnum):
    """Context options (``zmq_ctx_set``/``zmq_ctx_get``)."""

    IO_THREADS = 1
    MAX_SOCKETS = 2
    SOCKET_LIMIT = 3
    THREAD_PRIORITY = 3
    THREAD_SCHED_POLICY = 4
    MAX_MSGSZ = 5
    MSG_T_SIZE = 6
    THREAD_AFFINITY_CPU_ADD = 7
    THREAD_AFFINITY_CPU_REMOVE = 8
    THREAD_NAME_PREFIX = 9


class Flag(IntFlag):
    """Send/recv flags."""

    DONTWAIT = 1
    SNDMORE = 2
    NOBLOCK = 1


class PollEvent(IntFlag):
    """Poll event bits (``zmq_poll``)."""

    POLLIN = 1
    POLLOUT = 2
    POLLERR = 4
    POLLPRI = 8


class MessageOption(IntEnum):
    """Options of a message (``zmq_msg_get``)."""

    MORE = 1
    SRCFD = 2
    SHARED = 3


class SecurityMechanism(IntEnum):
    """Values of the MECHANISM option."""

    NULL = 0
    PLAIN = 1
    CURVE = 2
    GSSAPI = 3


class DeviceType(IntEnum):
    """Device kinds for ``zmq.device``."""

    STREAMER = 1
    FORWARDER = 2
    QUEUE = 3


class Event(IntFlag):
    """Socket monitor events (``zmq_socket_monitor``), and the HANDSHAKE_FAILED_PROTOCOL values.

    Members are in pyzmq's order, so that reprs of combined flags read as pyzmq's. The protocol
    errors are Event members as in pyzmq (``zmq.PROTOCOL_ERROR_ZAP_BAD_VERSION`` is one); greenmq's
    protocol layer raises with the same numbers under shorter names, ``ProtocolError``.
    """

    PROTOCOL_ERROR_WS_UNSPECIFIED = 0x30000000
    PROTOCOL_ERROR_ZMTP_UNSPECIFIED = 0x10000000
    PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND = 0x10000001
    PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE = 0x10000002
    PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE = 0x10000003
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    PROTOCOL_ERROR_ZMTP_INVALID_METADATA = 0x10000018
    PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC = 0x11000001
    PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH = 0x11000002
    PROTOCOL_ERROR_ZAP_UNSPECIFIED = 0x20000000
    PROTOCOL_ERROR_ZAP_MALFORMED_REPLY = 0x20000001
    PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID = 0x20000002
    PROTOCOL_ERROR_ZAP_BAD_VERSION = 0x20000003
    PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE = 0x20000004
    PROTOCOL_ERROR_ZAP_INVALID_METADATA = 0x20000005
    CONNECTED = 0x0001
    CONNECT_DELAYED = 0x0002
    CONNECT_RETRIED = 0x0004
    LISTENING = 0x0008
    BIND_FAILED = 0x0010
    ACCEPTED = 0x0020
    ACCEPT_FAILED = 0x0040
    CLOSED = 0x0080
    CLOSE_FAILED = 0x0100
    DISCONNECTED = 0x0200
    MONITOR_STOPPED = 0x0400
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800
    HANDSHAKE_SUCCEEDED = 0x1000
    HANDSHAKE_FAILED_PROTOCOL = 0x2000
    HANDSHAKE_FAILED_AUTH = 0x4000
    # The events of libzmq's version 1 monitor; ALL is its old name.
    ALL_V1 = 0xFFFF
    ALL = 0xFFFF
    # Version 2 (draft ``zmq_socket_monitor_versioned``) adds the pipe statistics.
    PIPES_STATS = 0x10000
    ALL_V2 = 0x1FFFF


class ProtocolError(IntEnum):
    """Values of HANDSHAKE_FAILED_PROTOCOL monitor events."""

    ZMTP_UNSPECIFIED = 0x10000000
    ZMTP_UNEXPECTED_COMMAND = 0x10000001
    ZMTP_INVALID_SEQUENCE = 0x10000002
    ZMTP_KEY_EXCHANGE = 0x10000003
    ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    ZMTP_INVALID_METADATA = 0x10000018
    ZMTP_CRYPTOGRAPHIC = 0x11000001
    ZMTP_MECHANISM_MISMATCH = 0x11000002
    ZAP_UNSPECIFIED = 0x20000000
    ZAP_MALFORMED_REPLY = 0x20000001
    ZAP_BAD_REQUEST_ID = 0x20000002
    ZAP_BAD_VERSION = 0x20000003
    ZAP_INVALID_STATUS_CODE = 0x20000004
    ZAP_INVALID_METADATA = 0x20000005


class ReconnectStop(IntEnum):
    """Bits of the RECONNECT_STOP option."""

    CONN_REFUSED = 1
    HANDSHAKE_FAILED = 2
    AFTER_DISCONNECT = 4


class RouterNotify(IntEnum):
    """Bits of the ROUTER_NOTIFY option."""

    CONNECT = 1
    DISCONNECT = 2


class Errno(IntEnum):
    """Error numbers: the system's where it has them, libzmq's own above HAUSNUMERO."""

    EAGAIN = _errno.EAGAIN
    EFAULT = _errno.EFAULT
    EINVAL = _errno.EINVAL
    ENOTSUP = _errno.ENOTSUP
    EPROTONOSUPPORT = _errno.EPROTONOSUPPORT
    ENOBUFS = _errno.ENOBUFS
    ENETDOWN = _errno.ENETDOWN
    EADDRINUSE = _errno.EADDRINUSE
    EADDRNOTAVAIL = _errno.EADDRNOTAVAIL
    ECONNREFUSED = _errno.ECONNREFUSED
    EINPROGRESS = _errno.EINPROGRESS
    ENOTSOCK = _errno.ENOTSOCK
    EMSGSIZE = _errno.EMSGSIZE
    EAFNOSUPPORT = _errno.EAFNOSUPPORT
    ENETUNREACH = _errno.ENETUNREACH
    ECONNABORTED = _errno.ECONNABORTED
    ECONNRESET = _errno.ECONNRESET
    ENOTCONN = _errno.ENOTCONN
    ETIMEDOUT = _errno.ETIMEDOUT
    EHOSTUNREACH = _errno.EHOSTUNREACH
    ENETRESET = _errno.ENETRESET
    EFSM = HAUSNUMERO + 51
    ENOCOMPATPROTO = HAUSNUMERO + 52
    ETERM = HAUSNUMERO + 53
    EMTHREAD = HAUSNUMERO + 54


# Plain-integer errno values that pyzmq also exposes at module level.
ENOENT = _errno.ENOENT
EINTR = _errno.EINTR
ENODEV = _errno.ENODEV

# Everything that becomes a module-level name (``zmq.PUSH``, ``zmq.LINGER`` ...).
_ENUMS: tuple[type[IntEnum] | type[IntFlag], ...] = (
    SocketType,
    SocketOption,
    ContextOption,
    Flag,
    PollEvent,
    MessageOption,
    SecurityMechanism,
    DeviceType,
    Errno,
)


def _module_names() -> dict[str, int]:
    """Every enum member under its pyzmq module-level name, plus pyzmq's plain-integer constants."""
    names: dict[str, int] = {}
    for enum_class in _ENUMS:
        for name, member in enum_class.__members__.items():
            names.setdefault(name, member)
    for name, member in Event.__members__.items():
        # pyzmq: monitor events are EVENT_*, protocol errors keep their own name.
        names.setdefault(name if name.startswith("PROTOCOL_ERROR_") else "EVENT_" + name, member)
    for name, member in ReconnectStop.__members__.items():
        names.setdefault("RECONNECT_STOP_" + name, member)
    for name, member in RouterNotify.__members__.items():
        names.setdefault("NOTIFY_" + name, member)
    names.update(
        HAUSNUMERO=HAUSNUMERO,
        ENOENT=ENOENT,
        EINTR=EINTR,
        ENODEV=ENODEV,
        MORE=MessageOption.MORE,
        IO_THREADS_DFLT=1,
        MAX_SOCKETS_DFLT=1023,
        THREAD_PRIORITY_DFLT=-1,
        THREAD_SCHED_POLICY_DFLT=-1,
        POLLITEMS_DFLT=16,
        GROUP_MAX_LENGTH=255,
    )
    return names


MODULE_NAMES = _module_names()
globals().update(MODULE_NAMES)
__all__ = [
    "ContextOption", "DeviceType", "Errno", "Event", "Flag", "MessageOption", "PollEvent", "ProtocolError",
    "ReconnectStop", "RouterNotify", "SecurityMechanism", "SocketOption", "SocketType", *MODULE_NAMES,
]

if TYPE_CHECKING:

    def __getattr__(name: str) -> int:
        """For type checkers only: the names added from MODULE_NAMES above (``PUSH`` ...) are ints,
        which they cannot see being set through globals()."""

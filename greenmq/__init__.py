"""greenmq: ZeroMQ in pure Python on gevent, with pyzmq's API.

``import greenmq as zmq`` is meant to be the only change a pyzmq or
``zmq.green`` program needs. Sockets block cooperatively on the gevent hub and
speak ZMTP 3.x on the wire, so they talk to libzmq (pyzmq, czmq, JeroMQ, NetMQ)
peers over tcp and ipc, and to each other over inproc as well.
"""

from __future__ import annotations

import sys
from typing import Any

from . import constants
from .constants import MODULE_NAMES as _MODULE_NAMES
from .constants import (
    ContextOption,
    DeviceType,
    Errno,
    Event,
    Flag,
    MessageOption,
    PollEvent,
    ProtocolError,
    ReconnectStop,
    RouterNotify,
    SecurityMechanism,
    SocketOption,
    SocketType,
)
from .context import Context
from .zmtp.keys import curve_keypair, curve_public
from .error import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)
from .frame import COPY_THRESHOLD, Frame, Message, MessageTracker
from .frame import FINISHED_TRACKER as _FINISHED_TRACKER  # noqa: F401 -- pyzmq's zmq._FINISHED_TRACKER
from .poll import Poller, select, zmq_poll
from .proxy import device, proxy, proxy_steerable
from .socket import IPC_PATH_MAX_LEN, Socket, SocketContext
from .utils.stopwatch import Stopwatch
from .version import (
    __revision__,
    __version__,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)
from .zmtp import crypto as _crypto

globals().update(_MODULE_NAMES)

def zmq_errno() -> int:
    """libzmq's errno of the last call; greenmq raises instead, so this is always 0."""
    return 0


def __getattr__(name: str) -> Any:  # Any: how type checkers resolve pyzmq's constants too
    # ``greenmq.devices`` without importing it first, like a submodule that was imported.
    if name == "devices":
        import importlib

        return importlib.import_module(".devices", __name__)
    if name == "green":
        # pyzmq's ``zmq.green`` is its gevent flavour; greenmq is that flavour throughout, so
        # ``from greenmq import green`` (and ``zmq.green`` under greenmq.monkey) is greenmq itself.
        return sys.modules[__name__]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CAPABILITIES = {"ipc": True, "curve": _crypto.AVAILABLE, "draft": True}

# pyzmq's: whether the draft API is there. greenmq has the newer socket types (CLIENT, SERVER,
# RADIO, DISH, SCATTER, GATHER, CHANNEL, PEER) stable and always on.
DRAFT_API = True


def has(capability: str) -> bool:
    """Whether a transport or mechanism is available (``zmq_has``): ``"ipc"``, ``"curve"``,
    ``"draft"`` ...

    ``"curve"`` is true when PyNaCl (the ``curve`` extra) is installed; ``"draft"`` always
    (the thread-safe socket types and their API)."""
    return _CAPABILITIES.get(capability, False)


__all__ = [
    "COPY_THRESHOLD", "DRAFT_API", "Again", "Context", "ContextOption", "ContextTerminated", "DeviceType", "Errno",
    "Event",
    "Flag", "Frame", "IPC_PATH_MAX_LEN", "InterruptedSystemCall", "Message", "MessageOption", "MessageTracker",
    "NotDone", "PollEvent", "Poller", "ProtocolError", "ReconnectStop", "RouterNotify", "SecurityMechanism",
    "Socket", "SocketContext", "SocketOption", "SocketType", "Stopwatch", "ZMQBaseError", "ZMQBindError",
    "ZMQError", "ZMQVersionError", "constants", "curve_keypair", "curve_public", "device", "has", "proxy",
    "proxy_steerable", "pyzmq_version", "pyzmq_version_info", "select", "strerror", "zmq_errno", "zmq_poll",
    "zmq_version", "zmq_version_info", "__revision__", "__version__",
]
# Written as a literal first, so that type checkers see the explicit exports; then pyzmq's constants.
__all__ += sorted(_MODULE_NAMES)

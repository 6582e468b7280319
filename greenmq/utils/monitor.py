"""Reading socket monitor events (pyzmq's ``zmq.utils.monitor``).

A monitor socket (``Socket.get_monitor_socket()``, or a PAIR connected to the
address given to ``Socket.monitor()``) receives each event as libzmq's version 1
format, two frames: six bytes -- the event number (16 bits) and its value (32
bits), native byte order, no padding -- then the endpoint. greenmq publishes
only that format, as pyzmq's ``Socket.monitor`` asks libzmq for.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

from ..constants import Event

if TYPE_CHECKING:
    from ..socket import Socket

__all__ = ["parse_monitor_message", "recv_monitor_message"]

# Signed, as pyzmq reads them: the numbers are the same for every event libzmq defines.
_HEADER = struct.Struct("=hi")


class _MonitorMessage(TypedDict):
    event: int
    value: int
    endpoint: bytes


def parse_monitor_message(msg: Sequence[bytes]) -> _MonitorMessage:
    """Decode one monitor event, as received with ``recv_multipart()``.

    Returns a dict with the keys ``event`` (an ``Event``), ``value`` (also an
    ``Event``, as pyzmq gives it: for most events a plain number, such as a
    file descriptor, an errno or a protocol error) and ``endpoint`` (bytes).
    Raises RuntimeError if ``msg`` is not a monitor event.
    """
    if len(msg) != 2 or len(msg[0]) != _HEADER.size:
        raise RuntimeError(f"Invalid event message format: {msg}")
    event, value = _HEADER.unpack(msg[0])
    return {"event": Event(event), "value": Event(value), "endpoint": msg[1]}


def recv_monitor_message(socket: Socket, flags: int = 0) -> _MonitorMessage:
    """Receive one event from a monitor socket and decode it (see :func:`parse_monitor_message`).

    ``flags`` are ``recv`` flags: with ``NOBLOCK``, ``zmq.Again`` when no event is waiting.
    """
    return parse_monitor_message(socket.recv_multipart(flags))

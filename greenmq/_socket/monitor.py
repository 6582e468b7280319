"""Socket monitoring (``zmq_socket_monitor`` and the draft ``zmq_socket_monitor_versioned``).

Events are published without blocking on an inproc socket the monitor binds
(a PAIR, or a PUB or PUSH with the versioned call): a monitor whose reader
fell behind by its high-water mark misses events, as with libzmq.

Version 1 is two frames: 6 bytes (the event number as a native 16-bit
integer, then its value as a native 32-bit integer) and the endpoint.
Version 2 (libzmq's ``monitor_event``) is the event as a native 64-bit
integer, the number of values (64-bit), each value (64-bit), then the local
and the remote endpoint. greenmq knows an event's endpoint as the socket's
own: a bind is the local one and a connect the remote one; the other is
empty (libzmq gives a connection's concrete address there).
"""

from __future__ import annotations

import struct
from typing import Any

from ..constants import Errno, Event, Flag, SocketType
from ..error import ZMQError, zmq_error

_EVENT = struct.Struct("=HI")
_U64 = struct.Struct("=Q")
_DONTWAIT = int(Flag.DONTWAIT)
MONITOR_TYPES = (SocketType.PAIR, SocketType.PUB, SocketType.PUSH)


class MonitorPublisher:
    """The monitor sockets of one socket, with the events and the format each wants."""

    __slots__ = ("_monitors",)

    def __init__(self) -> None:
        self._monitors: list[tuple[Any, int, int]] = []

    def start(self, context: Any, addr: str, events: int, version: int = 1,
              socket_type: int = SocketType.PAIR) -> None:
        """Publish ``events`` in format ``version`` on a socket of ``socket_type`` bound at ``addr``
        (replacing any monitor running); EINVAL as libzmq for what it refuses."""
        events = int(events) & (2**64 - 1)  # libzmq's uint64_t: -1 is every event
        if version not in (1, 2) or (version == 1 and events >> 16) or socket_type not in MONITOR_TYPES:
            raise zmq_error(Errno.EINVAL)
        self.stop()
        monitor = context.socket(socket_type)
        monitor.linger = 0
        try:
            monitor.bind(addr)
        except ZMQError:
            monitor.close()
            raise
        self._monitors.append((monitor, events, version))

    def wants(self, event: int) -> bool:
        """Whether some monitor asked for ``event`` (libzmq's check for PIPES_STATS)."""
        return any(mask & event for _, mask, _ in self._monitors)

    def emit(self, event: int, value: int, endpoint: str, bound: bool = False) -> None:
        """Report one event to every monitor that asked for it. ``endpoint`` is the socket's bind
        (``bound``) or connect endpoint the event is about."""
        if self._monitors:
            self._publish(event, (value,), endpoint, bound)

    def emit_values(self, event: int, values: tuple[int, ...], endpoint: str, bound: bool) -> None:
        """An event with several values (version 2 only: PIPES_STATS)."""
        if self._monitors:
            self._publish(event, values, endpoint, bound)

    def _publish(self, event: int, values: tuple[int, ...], endpoint: str, bound: bool) -> None:
        frames_of: dict[int, list[bytes]] = {}
        for monitor, mask, version in list(self._monitors):
            if not mask & event or monitor.closed:
                continue
            frames = frames_of.get(version)
            if frames is None:
                frames = frames_of[version] = _frames(version, event, values, endpoint, bound)
            try:
                monitor.send_multipart(frames, _DONTWAIT)
            except ZMQError:
                pass  # the monitor's reader fell behind: the event is lost, as in libzmq

    def stop(self) -> None:
        """Send MONITOR_STOPPED to monitors that want it and close them."""
        if not self._monitors:
            return
        self._publish(Event.MONITOR_STOPPED, (0,), "", False)
        monitors, self._monitors = self._monitors, []
        for monitor, _, _ in monitors:
            monitor.close()


def _frames(version: int, event: int, values: tuple[int, ...], endpoint: str, bound: bool) -> list[bytes]:
    address = endpoint.encode()
    if version == 1:
        return [_EVENT.pack(int(event), int(values[0]) & 0xFFFFFFFF), address]
    local, remote = (address, b"") if bound else (b"", address)
    return [_U64.pack(int(event)), _U64.pack(len(values)),
            *(_U64.pack(int(value) & (2**64 - 1)) for value in values), local, remote]

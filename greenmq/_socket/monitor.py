"""Socket monitoring (``zmq_socket_monitor``): events published on an inproc PAIR.

Each event is the two frames libzmq sends: 6 bytes (the event number as a
native 16-bit integer, then its value as a native 32-bit integer) and the
endpoint. Events are published without blocking: a monitor whose reader
fell behind by its high-water mark misses events, as with libzmq.
"""

from __future__ import annotations

import struct
from typing import Any

from ..constants import Event, Flag, SocketType
from ..error import ZMQError

_EVENT = struct.Struct("=HI")
_DONTWAIT = int(Flag.DONTWAIT)


class MonitorPublisher:
    """The monitor sockets of one socket, with the events each wants."""

    __slots__ = ("_monitors",)

    def __init__(self) -> None:
        self._monitors: list[tuple[Any, int]] = []

    def start(self, context: Any, addr: str, events: int) -> None:
        """Publish ``events`` on a PAIR bound at ``addr`` (replacing any monitor running)."""
        self.stop()
        monitor = context.socket(SocketType.PAIR)
        monitor.linger = 0
        monitor.bind(addr)
        self._monitors.append((monitor, int(events)))

    def emit(self, event: int, value: int, endpoint: str) -> None:
        """Report one event to every monitor that asked for it."""
        if not self._monitors:
            return
        self._publish(event, [_EVENT.pack(int(event), int(value) & 0xFFFFFFFF), endpoint.encode()])

    def _publish(self, event: int, frames: list) -> None:
        for monitor, mask in list(self._monitors):
            if mask & event and not monitor.closed:
                try:
                    monitor.send_multipart(frames, _DONTWAIT)
                except ZMQError:
                    pass  # the monitor's reader fell behind: the event is lost, as in libzmq

    def stop(self) -> None:
        """Send MONITOR_STOPPED to monitors that want it and close them."""
        if not self._monitors:
            return
        self._publish(Event.MONITOR_STOPPED, [_EVENT.pack(Event.MONITOR_STOPPED, 0), b""])
        monitors, self._monitors = self._monitors, []
        for monitor, _ in monitors:
            monitor.close()

"""MonitoredQueue devices (pyzmq's ``zmq.devices.monitoredqueuedevice``)."""

from __future__ import annotations

from ..constants import SocketType
from .monitoredqueue import monitored_queue
from .proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy


class MonitoredQueueBase(ProxyBase):
    """Base class for overriding methods: runs :func:`monitored_queue` with the two prefixes."""

    _in_prefix = b""
    _out_prefix = b""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB, in_prefix: bytes = b"in",
                 out_prefix: bytes = b"out") -> None:
        ProxyBase.__init__(self, in_type=in_type, out_type=out_type, mon_type=mon_type)
        self._in_prefix = in_prefix
        self._out_prefix = out_prefix

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        monitored_queue(ins, outs, mons, self._in_prefix, self._out_prefix)


class MonitoredQueue(MonitoredQueueBase, Proxy):
    """Class for running :func:`monitored_queue` in the foreground.

    See :class:`Device` for most of the spec. MonitoredQueue differs from
    Proxy only in that it adds a prefix frame to the messages sent on the
    monitor socket, a different one for each direction: ``in_prefix`` for
    messages that arrived on the in-socket, ``out_prefix`` for those that
    arrived on the out-socket. It also supports ROUTER on both sides, which
    :func:`greenmq.proxy` does not.
    """


class ThreadMonitoredQueue(MonitoredQueueBase, ThreadProxy):
    """Run :func:`monitored_queue` in a background greenlet (not an OS thread). See :class:`MonitoredQueue`."""


class ProcessMonitoredQueue(MonitoredQueueBase, ProcessProxy):
    """Run :func:`monitored_queue` in a forked process. See :class:`MonitoredQueue`."""


__all__ = ["MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue"]

"""Devices run in the background, as in pyzmq's ``zmq.devices``.

A device owns its sockets: you give it socket *types*, queue up options,
binds and connects (``setsockopt_in``, ``bind_out``, ``connect_mon`` ...),
and the sockets are created, configured and proxied when it runs.

greenmq keeps pyzmq's class names so existing code works unchanged, but its
background runner is a greenlet: ``ThreadDevice``, ``ThreadProxy``,
``ThreadProxySteerable`` and ``ThreadMonitoredQueue`` run in a greenlet on
the hub of the thread that calls ``start()``. ``ProcessDevice`` and friends
fork a child process whose device runs on a fresh hub.
"""

from .basedevice import Device, ProcessDevice, ThreadDevice
from .monitoredqueue import monitored_queue
from .monitoredqueuedevice import MonitoredQueue, ProcessMonitoredQueue, ThreadMonitoredQueue
from .proxydevice import ProcessProxy, Proxy, ThreadProxy
from .proxysteerabledevice import ProcessProxySteerable, ProxySteerable, ThreadProxySteerable

__all__ = [
    "Device", "ThreadDevice", "ProcessDevice",
    "Proxy", "ThreadProxy", "ProcessProxy",
    "ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable",
    "monitored_queue",
    "MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue",
]

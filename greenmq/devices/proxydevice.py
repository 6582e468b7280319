"""Proxy devices: a device with a third (capture) socket (pyzmq's ``zmq.devices.proxydevice``)."""

from ..constants import SocketType
from ..proxy import proxy
from .basedevice import Device, ProcessDevice, ThreadDevice


class ProxyBase:
    """Base class for overriding methods: adds the monitor (capture) socket."""

    def __init__(self, in_type, out_type, mon_type=SocketType.PUB):
        Device.__init__(self, in_type=in_type, out_type=out_type)
        self.mon_type = mon_type
        self._mon_binds = []
        self._mon_connects = []
        self._mon_sockopts = []

    def bind_mon(self, addr):
        """Enqueue ZMQ address for binding on mon_socket. See :meth:`Socket.bind`."""
        self._mon_binds.append(addr)

    def bind_mon_to_random_port(self, addr, *args, **kwargs):
        """Enqueue a random port on the given interface for binding on mon_socket; return the port.

        See :meth:`Socket.bind_to_random_port`.
        """
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_mon(f"{addr}:{port}")
        return port

    def connect_mon(self, addr):
        """Enqueue ZMQ address for connecting on mon_socket. See :meth:`Socket.connect`."""
        self._mon_connects.append(addr)

    def setsockopt_mon(self, opt, value):
        """Enqueue ``setsockopt(opt, value)`` for mon_socket. See :meth:`Socket.setsockopt`."""
        self._mon_sockopts.append((opt, value))

    def _setup_sockets(self):
        ins, outs = super()._setup_sockets()
        mons = self._context.socket(self.mon_type)
        self._sockets.append(mons)
        for opt, value in self._mon_sockopts:
            mons.setsockopt(opt, value)
        for iface in self._mon_binds:
            mons.bind(iface)
        for iface in self._mon_connects:
            mons.connect(iface)
        return ins, outs, mons

    def run_device(self):
        ins, outs, mons = self._setup_sockets()
        proxy(ins, outs, mons)


class Proxy(ProxyBase, Device):
    """A Proxy device, run in the foreground.

    See :class:`Device` for most of the spec. This subclass adds a
    ``<method>_mon`` version of each ``<method>_{in|out}`` method, for
    configuring the monitor socket.

    A Proxy is a 3-socket device that functions just like a QUEUE, except each
    message is also sent out on the monitor socket. A PUB socket is the most
    logical choice for the mon_socket (and the default ``mon_type``), but it is
    not required.
    """


class ThreadProxy(ProxyBase, ThreadDevice):
    """Proxy in a background greenlet (not an OS thread). See :class:`Proxy` and :class:`ThreadDevice`."""


class ProcessProxy(ProxyBase, ProcessDevice):
    """Proxy in a forked process. See :class:`Proxy` and :class:`ProcessDevice`."""


__all__ = ["Proxy", "ThreadProxy", "ProcessProxy"]

"""Proxy devices: a device with a third (capture) socket (pyzmq's ``zmq.devices.proxydevice``)."""

from __future__ import annotations

from ..constants import SocketType
from ..proxy import proxy
from ..socket import Socket
from .basedevice import Device, ProcessDevice, ThreadDevice


class ProxyBase(Device):
    """Base class for overriding methods: adds the monitor (capture) socket.

    A mixin placed before a Device class (``Proxy(ProxyBase, Device)``); it
    derives from Device itself only so that type checkers know what it extends
    (the method resolution order of the classes below is the same either way).
    """

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB) -> None:
        Device.__init__(self, in_type=in_type, out_type=out_type)
        self.mon_type = mon_type
        self._mon_binds: list[str] = []
        self._mon_connects: list[str] = []
        self._mon_sockopts: list[tuple[int, int | bytes]] = []

    def bind_mon(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on mon_socket. See :meth:`Socket.bind`."""
        self._mon_binds.append(addr)

    def bind_mon_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on mon_socket; return the port.

        See :meth:`Socket.bind_to_random_port`.
        """
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_mon(f"{addr}:{port}")
        return port

    def connect_mon(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on mon_socket. See :meth:`Socket.connect`."""
        self._mon_connects.append(addr)

    def setsockopt_mon(self, opt: int, value: int | bytes) -> None:
        """Enqueue ``setsockopt(opt, value)`` for mon_socket. See :meth:`Socket.setsockopt`."""
        self._mon_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Socket, ...]:
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

    def run_device(self) -> None:
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

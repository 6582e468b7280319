"""Steerable proxy devices: a proxy with a control socket (pyzmq's ``zmq.devices.proxysteerabledevice``)."""

from __future__ import annotations

from ..constants import SocketType
from ..proxy import proxy_steerable
from ..socket import Socket
from .proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy


class ProxySteerableBase(ProxyBase):
    """Base class for overriding methods: adds the control socket.

    A mixin placed before a Proxy class; it derives from ProxyBase for type
    checkers, as ProxyBase derives from Device.
    """

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB,
                 ctrl_type: int | None = None) -> None:
        super().__init__(in_type=in_type, out_type=out_type, mon_type=mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl_binds: list[str] = []
        self._ctrl_connects: list[str] = []
        self._ctrl_sockopts: list[tuple[int, int | bytes]] = []

    def bind_ctrl(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on ctrl_socket. See :meth:`Socket.bind`."""
        self._ctrl_binds.append(addr)

    def bind_ctrl_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on ctrl_socket; return the port.

        See :meth:`Socket.bind_to_random_port`.
        """
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_ctrl(f"{addr}:{port}")
        return port

    def connect_ctrl(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on ctrl_socket. See :meth:`Socket.connect`."""
        self._ctrl_connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: int | bytes) -> None:
        """Enqueue ``setsockopt(opt, value)`` for ctrl_socket. See :meth:`Socket.setsockopt`."""
        self._ctrl_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Socket, ...]:
        ins, outs, mons = super()._setup_sockets()
        # A ctrl_type of None fails in Context.socket with pyzmq's TypeError.
        ctrls = self._context.socket(self.ctrl_type)  # type: ignore[arg-type]
        self._sockets.append(ctrls)
        for opt, value in self._ctrl_sockopts:
            ctrls.setsockopt(opt, value)
        for iface in self._ctrl_binds:
            ctrls.bind(iface)
        for iface in self._ctrl_connects:
            ctrls.connect(iface)
        return ins, outs, mons, ctrls

    def run_device(self) -> None:
        ins, outs, mons, ctrls = self._setup_sockets()
        proxy_steerable(ins, outs, mons, ctrls)


class ProxySteerable(ProxySteerableBase, Proxy):
    """A steerable proxy device, run in the foreground.

    See :class:`Proxy` for most of the spec. Commands received on the control
    socket steer it (see :func:`greenmq.proxy_steerable`): ``PAUSE`` suspends
    forwarding, ``RESUME`` resumes it, ``TERMINATE`` ends the device
    smoothly (its sockets are closed), ``STATISTICS`` asks for counters.

    This subclass adds a ``<method>_ctrl`` version of each
    ``<method>_{in|out}`` method, for configuring the control socket.
    """


class ThreadProxySteerable(ProxySteerableBase, ThreadProxy):
    """ProxySteerable in a background greenlet (not an OS thread). See :class:`ProxySteerable`."""


class ProcessProxySteerable(ProxySteerableBase, ProcessProxy):
    """ProxySteerable in a forked process. See :class:`ProxySteerable`."""


__all__ = ["ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable"]

"""Classes for running greenmq devices in the background (pyzmq's ``zmq.devices.basedevice``).

``ThreadDevice`` keeps pyzmq's name, but runs in a **greenlet** on the hub of
the thread that calls :meth:`~Device.start`, not in an OS thread: a greenmq
socket belongs to one hub, and a greenlet is what a background task is in
gevent. ``ProcessDevice`` forks a child process; in the child the device runs
in a new OS thread with a hub of its own, because the hub inherited from the
parent still holds the parent's watchers and greenlets, which must never run
there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from multiprocessing.context import ForkProcess
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import gevent
from gevent import monkey
from gevent.event import Event

from ..constants import DeviceType, Errno, SocketType
from ..context import Context
from ..error import ZMQBindError, ZMQError
from ..poll import POLLIN, zmq_poll
from ..proxy import proxy
from ..socket import Socket

if TYPE_CHECKING:
    from multiprocessing.popen_fork import Popen

    from gevent._types import _ChildWatcher

_start_new_thread = monkey.get_original("_thread", "start_new_thread")
_allocate_lock = monkey.get_original("_thread", "allocate_lock")


class Device:
    """A greenmq device to be run in the background.

    You do not pass Socket instances to this, but rather Socket types::

        Device(device_type, in_socket_type, out_socket_type)

    For instance::

        dev = Device(zmq.QUEUE, zmq.DEALER, zmq.ROUTER)

    Similar to ``zmq.device``, but socket types instead of sockets themselves
    are passed, and the sockets are created when the device runs, by the
    greenlet (or process) that runs it. As a result, the ``bind_{in|out}``,
    ``connect_{in|out}`` and ``setsockopt_{in|out}`` methods only queue up
    what is done to the sockets then.

    A plain ``Device`` runs in the foreground: :meth:`start` blocks until the
    context is terminated. See :class:`ThreadDevice` and
    :class:`ProcessDevice` for background devices.

    Parameters
    ----------
    device_type : int
        The device type (QUEUE, FORWARDER, STREAMER; all of them proxy).
    in_type, out_type : int
        Socket types, passed later to ``context.socket()``: e.g. ``zmq.PULL``,
        ``zmq.PUSH``. If ``out_type`` is < 0, the in-socket is used for both
        in and out.

    Attributes
    ----------
    daemon : bool
        Passed on to the launcher (a process's ``daemon``). A greenlet never
        keeps a process alive, so for greenlet devices it has no effect.
    context_factory : callable
        Returns the Context the sockets are created in: ``Context.instance``
        by default (``Context`` for process devices, whose child must never
        use a context inherited from the parent). May be set on the instance.
    done : bool
        True once the device has stopped.
    """

    context_factory: Callable[[], Context] = Context.instance
    _context: Context  # the context_factory's Context, from when the device runs

    def __init__(self, device_type: int = DeviceType.QUEUE, in_type: int | None = None,
                 out_type: int | None = None) -> None:
        self.device_type = device_type
        if in_type is None:
            raise TypeError("in_type must be specified")
        if out_type is None:
            raise TypeError("out_type must be specified")
        self.in_type = in_type
        self.out_type = out_type
        self._in_binds: list[str] = []
        self._in_connects: list[str] = []
        self._in_sockopts: list[tuple[int, int | bytes]] = []
        self._out_binds: list[str] = []
        self._out_connects: list[str] = []
        self._out_sockopts: list[tuple[int, int | bytes]] = []
        self._random_addrs: list[str] = []
        self.daemon = True
        self.done = False
        self._done_event = Event()
        self._sockets: list[Socket] = []

    # -- configuration, applied when the device runs ----------------------------------

    def bind_in(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on in_socket. See :meth:`Socket.bind`."""
        self._in_binds.append(addr)

    def bind_in_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on in_socket; return the port.

        See :meth:`Socket.bind_to_random_port`.
        """
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_in(f"{addr}:{port}")
        return port

    def connect_in(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on in_socket. See :meth:`Socket.connect`."""
        self._in_connects.append(addr)

    def setsockopt_in(self, opt: int, value: int | bytes) -> None:
        """Enqueue ``setsockopt(opt, value)`` for in_socket. See :meth:`Socket.setsockopt`."""
        self._in_sockopts.append((opt, value))

    def bind_out(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on out_socket. See :meth:`Socket.bind`."""
        self._out_binds.append(addr)

    def bind_out_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on out_socket; return the port.

        See :meth:`Socket.bind_to_random_port`.
        """
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_out(f"{addr}:{port}")
        return port

    def connect_out(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on out_socket. See :meth:`Socket.connect`."""
        self._out_connects.append(addr)

    def setsockopt_out(self, opt: int, value: int | bytes) -> None:
        """Enqueue ``setsockopt(opt, value)`` for out_socket. See :meth:`Socket.setsockopt`."""
        self._out_sockopts.append((opt, value))

    def _reserve_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """A port that is free now (bound and released at once), and not reserved before."""
        with Context() as ctx, ctx.socket(SocketType.PUSH) as binder:
            binder.linger = 0
            for _ in range(5):
                port: int = binder.bind_to_random_port(addr, *args, **kwargs)
                new_addr = f"{addr}:{port}"
                if new_addr not in self._random_addrs:
                    break
            else:
                raise ZMQBindError("Could not reserve random port.")
            self._random_addrs.append(new_addr)
        return port

    # -- running -----------------------------------------------------------------------

    def _setup_sockets(self) -> tuple[Socket, ...]:
        """Create and configure the device's sockets: in and out (the same socket if out_type < 0).

        Subclasses add sockets of their own after these two."""
        ctx = self.context_factory()
        self._context = ctx
        ins = ctx.socket(self.in_type)
        self._sockets.append(ins)
        if self.out_type < 0:
            outs = ins
        else:
            outs = ctx.socket(self.out_type)
            self._sockets.append(outs)
        # Options first (ROUTING_ID must be set before a connect).
        for opt, value in self._in_sockopts:
            ins.setsockopt(opt, value)
        for opt, value in self._out_sockopts:
            outs.setsockopt(opt, value)
        for iface in self._in_binds:
            ins.bind(iface)
        for iface in self._out_binds:
            outs.bind(iface)
        for iface in self._in_connects:
            ins.connect(iface)
        for iface in self._out_connects:
            outs.connect(iface)
        return ins, outs

    def run_device(self) -> None:
        """The runner method.

        Do not call me directly, instead call ``self.start()``, just like a Thread.
        """
        ins, outs = self._setup_sockets()
        proxy(ins, outs)

    def _close_sockets(self) -> None:
        """Close the sockets the device created."""
        for sock in self._sockets:
            if sock and not sock.closed:
                sock.close()

    def run(self) -> None:
        """Run the device; a terminated context (ETERM) or a closed socket (ENOTSOCK) is a clean stop.

        The sockets are closed however the device ends (also when its greenlet is killed).
        """
        try:
            self.run_device()
        except ZMQError as error:
            if error.errno not in (Errno.ETERM, Errno.ENOTSOCK):
                raise
        finally:
            self.done = True
            self._close_sockets()
            self._done_event.set()

    def start(self) -> None:
        """Start the device. A plain Device runs in the calling greenlet (blocks); subclasses launch it."""
        self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait (cooperatively) until the device has stopped, like ``Thread.join``; at most ``timeout`` seconds."""
        self._done_event.wait(timeout)


class _Launcher(Protocol):
    """What a background device runs in: the part of ``threading.Thread``'s interface that devices use."""

    daemon: bool

    def start(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...


if TYPE_CHECKING:
    _Greenlet = gevent.Greenlet[[], None]  # the stubs' Greenlet is generic; gevent's is not subscriptable
else:
    _Greenlet = gevent.Greenlet


class _GreenletLauncher(_Greenlet):
    """A greenlet with the part of ``threading.Thread``'s interface that devices use."""

    daemon = True

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(target)

    def is_alive(self) -> bool:
        return self.started and not self.dead


class _ForkedProcess(ForkProcess):
    """A forked process that runs its target on a fresh hub in a new OS thread.

    The child inherits the parent's hub with all its watchers (the parent's
    connections) and greenlets; running it would let the child take the
    parent's traffic. So the child's main thread only waits on a real lock
    while the device runs in a thread of its own.
    """

    def run(self) -> None:
        finished = _allocate_lock()
        finished.acquire()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                super(_ForkedProcess, self).run()
            except BaseException as error:  # reported by the child's main thread
                failure.append(error)
            finally:
                finished.release()

        _start_new_thread(main, ())
        finished.acquire()
        if failure:
            raise failure[0]

    _popen: Popen | None  # multiprocessing's handle on the child, made by start(); typeshed omits it
    _exited: Event | None = None

    def start(self) -> None:
        super().start()
        # Once anyone has installed libev's SIGCHLD handling (gevent.subprocess does, and so
        # does this watcher), libev reaps every child, and multiprocessing's own waitpid()
        # then finds nothing. A child watcher receives the exit status instead. It is
        # started before the loop can run again, so it cannot miss the child's exit.
        loop = gevent.get_hub().loop
        popen = self._popen
        if loop.default and popen is not None:  # child watchers exist only on the main thread's loop
            self._exited = exited = Event()
            watcher = loop.child(popen.pid, ref=False)
            watcher.start(self._on_exit, watcher, popen, exited)

    @staticmethod
    def _on_exit(watcher: _ChildWatcher, popen: Popen, exited: Event) -> None:
        watcher.stop()
        if popen.returncode is None:
            popen.returncode = os.waitstatus_to_exitcode(watcher.rstatus)
        exited.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait cooperatively, like ``Process.join``: until the child has exited, or ``timeout`` seconds."""
        popen = self._popen
        if popen is None or popen.returncode is not None:
            super().join(0)  # the checks and bookkeeping of Process.join
            return
        if not zmq_poll([(self.sentinel, POLLIN)], -1 if timeout is None else timeout * 1000):
            return  # timed out
        # The child has exited (its end of the sentinel pipe is closed); reap it.
        if self._exited is not None and popen.poll(os.WNOHANG) is None:
            self._exited.wait()  # libev reaped it: the watcher brings the status
        super().join()


_L = TypeVar("_L", bound=_Launcher)


class BackgroundDevice(Device, Generic[_L]):
    """Base class for launching Devices in background greenlets and processes.

    ``launcher`` is what the device runs in, None until :meth:`start`; its type
    is the parameter (a gevent ``Greenlet`` or a forked ``Process``).
    """

    launcher: _L | None = None
    _launch_class: Callable[..., _L]  # called with target=the device's run method

    def start(self) -> None:
        launcher = self._launch_class(target=self.run)
        launcher.daemon = self.daemon
        self.launcher = launcher
        launcher.start()

    def join(self, timeout: float | None = None) -> None:
        if self.launcher is None:
            raise RuntimeError("cannot join a device before it is started")
        self.launcher.join(timeout=timeout)


class ThreadDevice(BackgroundDevice[_GreenletLauncher]):
    """A Device that runs in a background greenlet (greenmq's ThreadDevice is not an OS thread).

    :meth:`start` spawns the greenlet on the hub of the calling thread, which
    must keep running gevent (any blocking greenmq or gevent call does) for the
    device to work. Stop it by terminating its context, or with
    ``device.launcher.kill()``; either way its sockets are closed.
    ``join(timeout)`` waits cooperatively. See :class:`Device` for the rest.
    """

    _launch_class = _GreenletLauncher


class ProcessDevice(BackgroundDevice[_ForkedProcess]):
    """A Device that runs in a background (forked) process.

    The child creates a new Context (``context_factory = Context``) and runs
    the device on a hub of its own. ``join(timeout)`` waits cooperatively; stop
    the device by terminating the process (``device.launcher.terminate()``).
    See :class:`Device` for the rest.

    The process is always forked (also where Python's default start method is
    not fork), since the device runs what the parent configured. Started from
    the main thread, it is watched with a gevent child watcher so its exit
    status survives gevent's SIGCHLD handling; like ``gevent.subprocess``,
    that makes libev reap the process's children, so an unpatched
    ``os.waitpid`` on another child may then fail with ``ECHILD``.
    """

    _launch_class = _ForkedProcess
    context_factory = Context


__all__ = ["Device", "ThreadDevice", "ProcessDevice"]

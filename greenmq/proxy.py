"""The built-in proxies: :func:`proxy`, :func:`proxy_steerable` and :func:`device`.

libzmq's proxy is one loop in one thread that polls both sockets and forwards
bursts of messages. greenmq runs each direction in its own greenlet instead,
so a send that blocks in one direction (a full pipe, no peer yet) never stops
the other direction or the control socket. Each direction takes messages
only when the proxy is not paused (checked immediately before a non-blocking
receive, with no switch in between, so a processed ``PAUSE`` lets no further
message through). Every receive and send is of a whole multipart message, so
a message is never cut in half, not even when the proxy is interrupted.

A direction forwards in bursts (:meth:`SocketBase.forward`): it takes every
message already queued on its source, up to ``BURST`` and no more than the
destination has room for, and queues them on the destination in one step,
in greenmq's own message form, waking each peer's writer once. When nothing
is queued it waits for ``POLLIN`` on the source, and when the destination is
full for its ``POLLOUT``, without taking anything meanwhile (back-pressure,
as libzmq's proxy); a destination that drops instead of waiting (PUB, XPUB,
ROUTER without ROUTER_MANDATORY) drops as it always does. The capture socket
gets each burst's messages after they were queued on the destination.

A direction whose source or destination is a REQ or REP socket (their state
machines move one message at a time anyway), and ``monitored_queue``'s
ROUTER-to-ROUTER queue (which swaps the routing ids of every message), forward
one message at a time with ``recv_multipart``/``send_multipart`` instead:
each message is then copied to the capture socket before it is sent on.

The calling greenlet waits for the first of its helpers to end: a direction
that failed (``ContextTerminated`` when the context is terminated, any other
``ZMQError``), or the control greenlet after ``TERMINATE``. The other helpers
are then killed and joined before the call returns or raises; the same
happens when the calling greenlet itself is killed or times out. A message a
direction had received but not yet sent at that moment is dropped (sends are
all-or-nothing, so nothing half-sent reaches a peer).
"""

from __future__ import annotations

import struct
from itertools import islice
from typing import Any

import gevent
from gevent.event import Event

from .constants import Errno, Flag, PollEvent, SocketType
from .error import Again, zmq_error
from .poll import zmq_poll
from .socket import Socket

DONTWAIT = int(Flag.DONTWAIT)
POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
# The most messages one burst moves before the direction lets the hub run (libzmq's proxy
# also forwards in bursts of up to 1000).
BURST = 1000
# Types whose state machines the bursts would gain nothing on: forwarded one message at a time.
ONE_AT_A_TIME = frozenset({SocketType.REQ, SocketType.REP})
_STAT = struct.Struct("=Q")  # libzmq copies a native uint64_t into each frame

# Indexes into the eight statistics, in the order of the STATISTICS reply.
FRONTEND_RECV, FRONTEND_SEND, BACKEND_RECV, BACKEND_SEND = 0, 2, 4, 6


def check_socket(sock: Any, name: str, optional: bool = False) -> Any:
    """pyzmq's typed arguments: a Socket (or None where optional); a closed one is EFAULT or ignored."""
    if sock is None and optional:
        return None
    if not isinstance(sock, Socket):
        raise TypeError(
            f"Argument '{name}' has incorrect type (expected greenmq.Socket, got {type(sock).__name__})")
    if sock.closed:
        # pyzmq hands libzmq a NULL handle for a closed socket: EFAULT for the frontend
        # and backend, and no capture/control socket at all for the optional ones.
        if optional:
            return None
        raise zmq_error(Errno.EFAULT)
    return sock


class RunningProxy:
    """One running proxy: its sockets, state, statistics and helper greenlets."""

    def __init__(self, frontend: Socket, backend: Socket, capture: Socket | None = None,
                 control: Socket | None = None, capture_prefixes: tuple[bytes, ...] | None = None,
                 swap_ids: bool = False) -> None:
        self.frontend = frontend
        self.backend = backend
        self.capture = capture
        self.control = control
        # For monitored_queue: a frame prepended to captured messages, per direction.
        self.capture_prefixes = capture_prefixes
        self.swap_ids = swap_ids
        self.stats = [0] * 8
        self.resumed = Event()
        self.resumed.set()
        self.error: BaseException | None = None

    def run(self) -> int:
        """Forward until terminated; return 0 after TERMINATE, raise the first error otherwise."""
        directions = [(self.frontend, self.backend, FRONTEND_RECV, BACKEND_SEND, 0)]
        if self.backend is not self.frontend:
            directions.append((self.backend, self.frontend, BACKEND_RECV, FRONTEND_SEND, 1))
        greenlets: list[gevent.Greenlet[Any, Any]] = [
            gevent.spawn(self._forward_bursts if self._bursts(direction[0], direction[1]) else self._forward,
                         *direction)
            for direction in directions]
        if self.control is not None:
            greenlets.append(gevent.spawn(self._steer, self.control))
        try:
            gevent.wait(greenlets, count=1)
        finally:
            gevent.killall(greenlets)
        if self.error is not None:
            raise self.error
        return 0

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error

    def _bursts(self, source: Socket, destination: Socket) -> bool:
        """Whether a direction forwards in bursts (see the module docstring for when it does not)."""
        return not (self.swap_ids or source.socket_type in ONE_AT_A_TIME
                    or destination.socket_type in ONE_AT_A_TIME)

    def _forward_bursts(self, source: Socket, destination: Socket, recv_stat: int, send_stat: int,
                        direction: int) -> None:
        """Forward in bursts (see the module docstring): each burst is taken and queued in one step."""
        stats = self.stats
        counting = self.control is not None  # only STATISTICS reads the counters
        resumed = self.resumed
        capture = self.capture
        prefix = None if self.capture_prefixes is None else self.capture_prefixes[direction]
        forward = source.forward
        send = destination.send_multipart
        try:
            waiting = True
            while True:
                if not resumed.is_set():
                    resumed.wait()
                    continue
                if waiting:
                    # Receive only once the source polls POLLIN (as libzmq's proxy does): a socket
                    # that cannot receive (a PUSH backend) then simply never yields a message.
                    zmq_poll([(source, POLLIN)])
                    zmq_poll([(destination, POLLOUT)])
                    waiting = False
                    continue  # the pause state may have changed while waiting
                taken, sent = forward(destination, BURST)
                if not taken:
                    waiting = True
                    continue
                if counting:
                    frames, size = _measure(taken)
                    stats[recv_stat] += frames
                    stats[recv_stat + 1] += size
                if capture is not None:
                    for msg in taken:
                        frames_of = [msg] if msg.__class__ is bytes else msg
                        capture.send_multipart(frames_of if prefix is None else [prefix, *frames_of])
                for msg in islice(taken, sent, None):
                    send([msg] if msg.__class__ is bytes else msg)  # what the destination had no room for
                if counting:
                    stats[send_stat] += frames
                    stats[send_stat + 1] += size
                if len(taken) >= BURST:
                    gevent.sleep(0)  # a source that never runs dry must not starve the hub
        except Exception as error:
            self._fail(error)

    def _forward(self, source: Socket, destination: Socket, recv_stat: int, send_stat: int, direction: int) -> None:
        """Forward one message at a time, with recv_multipart and send_multipart."""
        stats = self.stats
        resumed = self.resumed
        capture = self.capture
        prefix = None if self.capture_prefixes is None else self.capture_prefixes[direction]
        recv = source.recv_multipart
        send = destination.send_multipart
        try:
            # Receive only once the source polls POLLIN (as libzmq's proxy does): a socket that
            # cannot receive (a PUSH backend) then simply never yields a message.
            ready = False
            while True:
                if not resumed.is_set():
                    resumed.wait()
                    continue
                if not ready:
                    zmq_poll([(source, POLLIN)])
                    ready = True
                    continue  # the pause state may have changed while waiting
                try:
                    msg = recv(DONTWAIT)
                except Again:
                    ready = False
                    continue
                size = sum(map(len, msg))
                stats[recv_stat] += len(msg)  # libzmq counts frames, not messages
                stats[recv_stat + 1] += size
                if self.swap_ids:
                    msg[:2] = msg[1::-1]
                if capture is not None and prefix is None:
                    capture.send_multipart(msg)
                send(msg)
                stats[send_stat] += len(msg)
                stats[send_stat + 1] += size
                if prefix is not None and capture is not None:
                    capture.send_multipart([prefix, *msg])
        except Exception as error:
            self._fail(error)

    def _steer(self, control: Socket) -> None:
        try:
            while True:
                msg = control.recv_multipart()
                command = msg[0]
                if command == b"STATISTICS":
                    control.send_multipart([_STAT.pack(value) for value in self.stats])
                    continue
                terminate = False
                if command == b"PAUSE":
                    self.resumed.clear()
                elif command == b"RESUME":
                    self.resumed.set()
                elif command == b"TERMINATE":
                    terminate = True
                if control.socket_type == SocketType.REP:
                    control.send(b"")  # a REP socket must answer every request, known or not
                if terminate:
                    return
        except Exception as error:
            self._fail(error)


def _measure(messages: Any) -> tuple[int, int]:
    """Frames and bytes in ``messages`` (greenmq's form: ``bytes`` or a list of frames): what
    libzmq's statistics count, each frame as a message."""
    frames = size = 0
    for msg in messages:
        if msg.__class__ is bytes:
            frames += 1
            size += len(msg)
        else:
            frames += len(msg)
            size += sum(map(len, msg))
    return frames, size


def proxy(frontend: Socket, backend: Socket, capture: Socket | None = None) -> int:
    """Start a zeromq proxy (replacement for device).

    Forwards whole messages from ``frontend`` to ``backend`` and back, each
    direction in its own greenlet, and copies each message to ``capture``
    (a PUB, DEALER, PUSH or PAIR socket) if one is given.

    A direction moves every message already queued on its source at once,
    as many as its destination has room for; while the destination is full
    it takes nothing (back-pressure, as libzmq's proxy). A direction from or
    to a REQ or REP socket forwards one message at a time with
    ``recv_multipart``/``send_multipart`` instead (see :mod:`greenmq.proxy`).

    Blocks the calling greenlet until the context of a socket is terminated,
    then raises :class:`ContextTerminated` (any other error of a socket is
    raised as well); it never returns. Kill the calling greenlet (or let a
    ``gevent.Timeout`` expire in it) to stop the proxy: its helper greenlets
    are stopped and no message is cut in half.

    Parameters
    ----------
    frontend : Socket
        The Socket instance for the incoming traffic.
    backend : Socket
        The Socket instance for the outbound traffic.
    capture : Socket (optional)
        The Socket instance for capturing traffic.
    """
    frontend = check_socket(frontend, "frontend")
    backend = check_socket(backend, "backend")
    capture = check_socket(capture, "capture", optional=True)
    return RunningProxy(frontend, backend, capture).run()


def proxy_steerable(frontend: Socket, backend: Socket, capture: Socket | None = None,
                    control: Socket | None = None) -> int:
    """Start a zeromq proxy with control flow.

    Like :func:`proxy`, and steered with commands received on ``control``
    (a REP or PAIR socket):

    ``PAUSE``
        Stop forwarding (a message already being sent is finished).
    ``RESUME``
        Forward again.
    ``TERMINATE``
        Stop the proxy: ``proxy_steerable`` returns 0.
    ``STATISTICS``
        Reply with eight frames, each a native-endian uint64: messages and
        bytes received by the frontend, sent by the frontend, received by the
        backend, sent by the backend. Each frame of a multipart message counts
        as one message, as in libzmq.

    A REP control socket replies to every other command (including unknown
    ones) with an empty message; a PAIR control socket only answers
    ``STATISTICS``.

    Parameters
    ----------
    frontend : Socket
        The Socket instance for the incoming traffic.
    backend : Socket
        The Socket instance for the outbound traffic.
    capture : Socket (optional)
        The Socket instance for capturing traffic.
    control : Socket (optional)
        The Socket instance for control flow.
    """
    frontend = check_socket(frontend, "frontend")
    backend = check_socket(backend, "backend")
    capture = check_socket(capture, "capture", optional=True)
    control = check_socket(control, "control", optional=True)
    return RunningProxy(frontend, backend, capture, control).run()


def device(device_type: int, frontend: Socket, backend: Socket) -> int:
    """Deprecated alias for :func:`proxy` (``device_type`` -- QUEUE, FORWARDER, STREAMER -- is ignored).

    As in ``zmq.green.device``, a ``backend`` of -1 means the frontend socket
    is used for both ends (messages go back where they came from).

    .. deprecated:: libzmq-3.2
    """
    if isinstance(backend, int) and backend == -1:
        backend = frontend
    return proxy(frontend, backend)


__all__ = ["device", "proxy", "proxy_steerable"]

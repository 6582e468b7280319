"""``SocketBase``: the machinery under :class:`greenmq.Socket`, with the one send/receive core.

:class:`greenmq.Socket` adds pyzmq's conveniences (options as attributes,
``send_string``, ``recv_json`` ...) on top of this class, as pyzmq's
``zmq.Socket`` does on top of its backend socket. Here live the socket's
parts (its :class:`~greenmq.patterns.base.Pattern`, settings, port, endpoints
and monitor) and the four entry points that move messages: ``send``,
``send_multipart``, ``recv`` and ``recv_multipart``, which share one core.

The rule for multipart messages is libzmq's: **the first frame decides**.
Sending the first frame of a message is where a send waits for room (or
raises :class:`~greenmq.Again` on ``NOBLOCK``/``SNDTIMEO``) and where it is
refused (``EFSM``, ``EHOSTUNREACH`` ...); once a first frame has been
accepted the later frames of that message never wait and never fail for
lack of room, and the message is queued whole when its last frame comes.
``send_multipart`` is the same thing in one call. Receiving waits for a
whole message; its frames are then handed out one ``recv`` at a time (or all
at once by ``recv_multipart``) without waiting again.

Blocking is cooperative: a call that must wait sleeps on a wake-up that a
pipe sets when it goes from empty to non-empty (receive) or from full to its
low-water mark (send). Waiting is atomic with respect to interruption: a
message is taken from, or put into, a pipe in one step with no switch in
between, so a ``gevent.Timeout``, ``greenlet.kill()`` or
``RCVTIMEO``/``SNDTIMEO`` that ends a wait has consumed or sent nothing. The
only switches are at a message's start (the wait, and a fairness yield every
512 calls), never inside a started message.
"""

from __future__ import annotations

import itertools
from functools import partial
from time import monotonic
from typing import Any, Callable, Literal, overload

import gevent

from ..constants import Errno, Flag, PollEvent, SocketOption, SocketType
from ..error import Again, zmq_error
from ..frame import (COPY_THRESHOLD, FINISHED_TRACKER, Frame, MessageTracker, frame_payload, label_frame,
                     message_address, outgoing_payload, received_frame)
from ..patterns import PATTERNS
from . import options as _options
from .endpoints import Endpoints
from .monitor import MonitorPublisher
from .port import SocketPort
from .readiness import Readiness
from .readiness_fd import ReadinessFd
from .settings import SocketSettings
from .wakeup import Wakeup

# Plain ints: testing bits against IntFlag members costs an enum call each time.
DONTWAIT = int(Flag.DONTWAIT)
SNDMORE = int(Flag.SNDMORE)
POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
# Every this many send/recv calls, yield to the hub once, so that a tight loop
# cannot starve engines and other greenlets. (A power of two: tested with a mask.)
_FAIRNESS_PERIOD = 512
_FAIRNESS_MASK = _FAIRNESS_PERIOD - 1


class SocketBase:
    """A ZeroMQ socket's machinery; see the module docstring. Use :class:`greenmq.Socket`."""

    _closed = True  # until __init__ finishes
    # Plain attributes (anything else set as an attribute of a Socket is a socket option).
    context: Any = None
    socket_type: Any = None
    readiness: Readiness = None  # type: ignore[assignment]  # made by __init__
    _recv_index = 0
    _recv_metadata = None
    _fd: ReadinessFd | None = None  # made by the first request for ZMQ_FD
    # pyzmq's: send(copy=False) copies buffers smaller than this (then nothing is left to track).
    copy_threshold: int = COPY_THRESHOLD

    def __init__(self, context: Any, socket_type: int = 0, *, copy_threshold: int | None = None):
        try:
            socket_type = SocketType(socket_type)
        except ValueError:
            raise zmq_error(Errno.EINVAL) from None
        pattern_class: Any = PATTERNS.get(socket_type)
        if pattern_class is None:
            raise NotImplementedError(f"greenmq does not implement {socket_type.name} sockets yet")
        registry = context.registry
        registry.check_open()
        self.context = context
        self.socket_type = socket_type
        self.copy_threshold = COPY_THRESHOLD if copy_threshold is None else copy_threshold
        self._settings = SocketSettings(socket_type)
        self._readable = Wakeup()
        self._writable = Wakeup()
        self._pattern = pattern = pattern_class(self._readable.set)
        self._pattern_send = pattern.send
        self._pattern_recv = pattern.recv
        # Told when a received multipart message is handed out frame by frame: only the types
        # that care (REQ, REP) are, so that recv() of other types does not pay for the calls.
        self._message_pending: Callable[[Callable[[], None] | None], None] | None = (
            pattern.message_pending if pattern.wants_message_pending else None)
        # SERVER, PEER, DISH: the routing id or group of a received message, for its Frame.
        self._last_address: Callable[[], tuple[int, bytes]] | None = (
            pattern.last_address if pattern.carries_address else None)
        self._monitor = MonitorPublisher()
        self._port = SocketPort(context, pattern, self._readable.set, self._writable.set, self._monitor)
        self._endpoints = Endpoints(self._port, registry, socket_type)
        self._send_parts: list[Any] = []  # the frames of a message started with SNDMORE
        self._recv_parts: list[Any] | None = None  # a received message being handed out frame by frame
        # A C-level counter: the hot path never writes an attribute of the socket.
        self._tick: Callable[[], int] = itertools.count(1).__next__
        self._usable = True
        self._closed = False
        self.readiness = Readiness(self._readable, self._writable, self._events, self._check_usable)
        registry.add(self, self._context_terminated)

    # -- state --------------------------------------------------------------------

    def _check_usable(self, addr: str | None = None) -> None:
        """ENOTSOCK once closed, ETERM once the context is terminating (pyzmq names ``addr``)."""
        if not self._usable:
            if self._closed:
                raise zmq_error(Errno.ENOTSOCK, addr)
            raise zmq_error(Errno.ETERM, addr)

    def _events(self) -> int:
        """POLLIN | POLLOUT as they are now (what ZMQ_EVENTS and pollers report)."""
        events = 0
        if self._recv_parts is not None or self._pattern.can_recv():
            events = POLLIN
        if self._pattern.can_send():
            events |= POLLOUT
        return events

    def _observed_events(self) -> int:
        """ZMQ_EVENTS read by the application: the events, and the ZMQ_FD descriptor (if any)
        reset and armed for the directions that are not ready (see ``readiness_fd``)."""
        fd = self._fd
        if fd is None:
            return self._events()
        fd.reset()
        events = self._events()
        fd.seen(events)
        return events

    def _readiness_fileno(self) -> int:
        """ZMQ_FD: the descriptor, made on first request. It starts armed, and readable if
        the socket is ready already, so a waiter that never read EVENTS misses nothing."""
        fd = self._fd
        if fd is None:
            self._fd = fd = ReadinessFd(self._readable.hub)
            # A type that never receives (sends) has no POLLIN (POLLOUT) to signal: its peers
            # arriving or leaving do not wake a loop for nothing.
            if self._pattern.receives:
                self._readable.notify = partial(fd.changed, POLLIN)
            if self._pattern.sends:
                self._writable.notify = partial(fd.changed, POLLOUT)
            if self._events():
                fd.signal()
        return fd.fileno

    def _not_ready_seen(self, wakeup: Wakeup) -> None:
        """The application got EAGAIN: it has seen the socket's state, as by reading EVENTS
        (libzmq drains its mailbox there): ZMQ_FD is reset and armed for what is not ready,
        so a loop that receives until EAGAIN and waits again sleeps. If the direction that
        raised became ready since the failed attempt, the descriptor signals at once."""
        if self._fd is None:
            return
        direction = POLLIN if wakeup is self._readable else POLLOUT
        if self._observed_events() & direction:
            self._fd.signal()

    def _context_terminated(self) -> None:
        """The context is terminating: blocked and future calls raise ContextTerminated."""
        self._usable = False
        self._readable.set()
        self._writable.set()
        if self._fd is not None:
            self._fd.signal()

    # -- sending -----------------------------------------------------------------

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False,
             routing_id: int | None = None, group: str | None = None) -> MessageTracker | None:
        """Send one frame; with ``SNDMORE``, more frames of the same message follow.

        The first frame of a message is where the call blocks while no peer
        can take the message, unless ``flags`` has ``NOBLOCK``/``DONTWAIT``
        (then it raises :class:`Again`) or ``SNDTIMEO`` expires (also
        :class:`Again`). The frames after it never block; the message is sent
        when its last frame is.

        Returns what pyzmq returns: the tracker of a :class:`Frame`; with
        ``copy=False``, ``FINISHED_TRACKER`` for data smaller than
        ``copy_threshold`` (copied) and, with ``track=True``, a tracker that is
        done once greenmq lets go of the buffer (see :mod:`greenmq.frame`);
        otherwise None.

        ``routing_id`` (SERVER, PEER) and ``group`` (RADIO) say where the message goes,
        as do those of a :class:`Frame` sent; other types ignore them, as libzmq does.
        """
        # Untracked bytes take this path whatever ``copy`` says: bytes cannot change, so
        # sharing it is copying it; only the return value differs (pyzmq's, below).
        if data.__class__ is not bytes or track or routing_id is not None or group is not None:
            return self._send_converted(data, flags, copy, track, routing_id, group)
        parts = self._send_parts
        if parts:
            if not self._usable:
                self._check_usable()
            parts.append(data)
            if not flags & SNDMORE:
                self._finish_message()
            return None if copy or len(data) >= self.copy_threshold else FINISHED_TRACKER
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        if not self._usable:
            self._check_usable()
        if flags & SNDMORE:
            self._start_message(data, flags)
        elif not self._pattern_send(data):
            self._send_wait(data, flags)
        return None if copy or len(data) >= self.copy_threshold else FINISHED_TRACKER

    def _send_converted(self, data: Any, flags: int, copy: bool, track: bool, routing_id: int | None = None,
                        group: Any = None) -> MessageTracker | None:
        """``send`` of anything but untracked ``bytes``: the frame is converted first (copied,
        or shared as a view) and perhaps tracked; a routing id or group sends it addressed."""
        address = None
        if routing_id is not None or group is not None or isinstance(data, Frame):
            address = message_address(data, routing_id, group)
        data = self._trackable(data, copy, track)
        frame = self._payload(data, copy)
        parts = self._send_parts
        if parts:
            if not self._usable:
                self._check_usable()
            parts.append(frame)
            if not flags & SNDMORE:
                self._finish_message()
            return self._tracker(data, frame, copy, track)
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        if not self._usable:
            self._check_usable()
        msg = frame if frame.__class__ is bytes else [frame]  # see greenmq.patterns.message
        if flags & SNDMORE:
            self._start_message(frame, flags)
        elif address is not None:
            self._send_addressed(msg, address, flags)
        elif not self._pattern_send(msg):
            self._send_wait(msg, flags)
        return self._tracker(data, frame, copy, track)

    def _send_addressed(self, msg: Any, address: tuple[int, bytes], flags: int) -> None:
        """A single-frame send with a routing id or group (a wait as any send's)."""
        send = self._pattern.send_addressed
        routing_id, group = address
        if not send(msg, routing_id, group):
            self._wait_until(self._writable, lambda: send(msg, routing_id, group) or None,
                             self._settings.sndtimeo, flags)

    def send_multipart(self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False,
                       **kwargs: Any) -> MessageTracker | None:
        """Send a sequence of frames as one message: all of them or, on error or timeout, none.

        Returns what pyzmq returns, which is what :meth:`send` returns for the last frame
        (the trackers of earlier frames are not in it: keep their Frames to watch them).
        ``routing_id`` and ``group`` may be given as for :meth:`send`."""
        if kwargs.get("routing_id") is not None or kwargs.get("group") is not None:
            msg_parts = list(msg_parts)
            if len(msg_parts) == 1:  # (the types that route by them refuse more frames)
                return self.send(msg_parts[0], flags, copy, track, kwargs.get("routing_id"), kwargs.get("group"))
        msg: Any = []
        data: Any = None
        for index, data in enumerate(msg_parts):
            cls = data.__class__
            if cls is bytes and (copy or not track):
                msg.append(data)  # bytes is never copied: it cannot change
                continue
            if cls is Frame and not track:
                msg.append(frame_payload(data))  # e.g. a proxy forwarding recv(copy=False) frames
                continue
            if not isinstance(data, (Frame, bytearray, memoryview)):
                try:
                    memoryview(data)
                except TypeError:
                    raise TypeError(
                        f"Frame {index} ({data!r:.32}) does not support the buffer interface.") from None
            data = self._trackable(data, copy, track)
            msg.append(self._payload(data, copy))
        if not msg:
            raise TypeError("send_multipart needs at least one frame")
        last = msg[-1]
        if self._send_parts:
            if not self._usable:
                self._check_usable()
            self._send_parts.extend(msg)
            self._finish_message()
        else:
            if len(msg) == 1 and last.__class__ is bytes:
                msg = last
            if not self._tick() & _FAIRNESS_MASK:
                gevent.sleep(0)
            if not self._usable:
                self._check_usable()
            if not self._pattern_send(msg):
                self._send_wait(msg, flags)
        if copy and data.__class__ is bytes:
            return None
        return self._tracker(data, last, copy, track)

    # -- converting what send was given (anything but untracked bytes) ----------

    def _trackable(self, data: Any, copy: bool, track: bool) -> Any:
        """``data`` itself, or a tracked Frame of it for ``track=True`` with ``copy=False``
        (as pyzmq, which sends such data as a Frame); refuses ``track`` for an untracked Frame."""
        if isinstance(data, Frame):
            if track and data.tracker is None:
                raise ValueError("Not a tracked message")
            return data
        if track and not copy and not isinstance(data, str):
            try:
                return Frame(data, track=True, copy_threshold=self.copy_threshold)
            except BufferError:
                return data  # not contiguous: copied below (pyzmq refuses it)
        return data

    def _payload(self, data: Any, copy: bool) -> Any:
        """What one send of ``data`` puts into the socket (see greenmq.frame)."""
        if isinstance(data, Frame):
            return frame_payload(data)
        return outgoing_payload(data, copy, self.copy_threshold)

    def _tracker(self, data: Any, frame: Any, copy: bool, track: bool) -> MessageTracker | None:
        """pyzmq's return value for a sent frame: a Frame's tracker; for other data None with
        ``copy=True``, else the finished tracker when it was copied (smaller than
        ``copy_threshold``; or, tracked, not contiguous) and None when it was shared."""
        if isinstance(data, Frame):
            return data.tracker
        if copy:
            return None
        if frame.__class__ is bytes and (track or len(frame) < self.copy_threshold):
            return FINISHED_TRACKER
        return None

    def _start_message(self, first: Any, flags: int) -> None:
        """The first frame of a multipart message: refused, or waited for, here and only here."""
        pattern = self._pattern
        pattern.check_send(first)
        if not pattern.room_for(first):
            self._wait_until(self._writable, lambda: pattern.room_for(first) or None,
                             self._settings.sndtimeo, flags)
        self._send_parts = [first]

    def _finish_message(self) -> None:
        """The last frame of a started message came: queue it whole, without waiting (its room
        was secured at its first frame; its peer may have left since, and then it is dropped)."""
        msg, self._send_parts = self._send_parts, []
        self._pattern_send(msg, True)

    def _send_wait(self, msg: Any, flags: int) -> None:
        self._wait_until(self._writable, lambda: self._pattern_send(msg) or None, self._settings.sndtimeo, flags)

    # -- receiving ---------------------------------------------------------------

    @overload
    def recv(self, flags: int = ..., copy: Literal[True] = ..., track: bool = ...) -> bytes: ...

    @overload
    def recv(self, flags: int = ..., *, copy: Literal[False], track: bool = ...) -> Frame: ...

    @overload
    def recv(self, flags: int, copy: Literal[False], track: bool = ...) -> Frame: ...

    @overload
    def recv(self, flags: int = ..., copy: bool = ..., track: bool = ...) -> bytes | Frame: ...

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> bytes | Frame:
        """Receive one frame: ``bytes``, or a :class:`Frame` with ``copy=False``.

        Blocks until a message arrives unless ``NOBLOCK`` is given or
        ``RCVTIMEO`` expires (both raise :class:`Again`). After a frame with
        more to follow, ``RCVMORE`` is 1 and the next ``recv`` returns the next
        frame of the same message, without blocking.
        """
        if self._recv_parts is not None:
            return self._next_part(copy)
        # The first attempt is written out here and in recv_multipart: it is the hot path.
        if self._tick() & _FAIRNESS_MASK and self._usable:
            msg = self._pattern_recv()
            if msg is None:
                msg = self._wait_for_message(flags)
        else:
            msg = self._receive(flags)
        if msg.__class__ is bytes:
            return msg if copy else self._single_frame(msg)
        if len(msg) == 1:
            frame = msg[0]
            if copy:
                return frame if frame.__class__ is bytes else bytes(frame)
            return self._single_frame(frame)
        self._recv_parts = msg
        self._recv_index = 0
        self._recv_metadata = self._source_metadata()
        pending = self._message_pending
        if pending is not None:
            pending(self._drop_pending)
        return self._next_part(copy)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive a whole message as a list of frames (``bytes``, or :class:`Frame` with ``copy=False``).

        After a ``recv`` that left frames of a message unread, returns the rest of that message."""
        if self._recv_parts is not None:
            parts = []
            while self._recv_parts is not None:
                parts.append(self._next_part(copy))
            return parts
        if self._tick() & _FAIRNESS_MASK and self._usable:
            msg = self._pattern_recv()
            if msg is None:
                msg = self._wait_for_message(flags)
        else:
            msg = self._receive(flags)
        if msg.__class__ is bytes:
            return [msg] if copy else [self._single_frame(msg)]
        if copy:
            for frame in msg:
                if frame.__class__ is not bytes:
                    return [f if f.__class__ is bytes else bytes(f) for f in msg]
            return msg
        if len(msg) == 1:
            return [self._single_frame(msg[0])]
        metadata = self._source_metadata()
        last = len(msg) - 1
        return [received_frame(frame, i < last, metadata) for i, frame in enumerate(msg)]

    def _receive(self, flags: int) -> Any:
        """The careful way to the next message: the fairness yield (due every 512 calls),
        ENOTSOCK/ETERM for a socket that cannot be used, then the message, waited for."""
        if self._usable:
            gevent.sleep(0)  # usable, yet here: the fairness yield is due
        self._check_usable()
        msg = self._pattern_recv()
        return msg if msg is not None else self._wait_for_message(flags)

    def _wait_for_message(self, flags: int) -> Any:
        """The next whole message, waited for as ``flags`` and RCVTIMEO allow."""
        return self._wait_until(self._readable, self._pattern_recv, self._settings.rcvtimeo, flags)

    def _single_frame(self, data: Any) -> Frame:
        """The Frame of a single-frame message for ``copy=False``, with its routing id or group."""
        frame = received_frame(data, False, self._source_metadata())
        if self._last_address is not None:
            label_frame(frame, *self._last_address())
        return frame

    def _source_metadata(self) -> Any:
        pipe = self._pattern.source()
        return None if pipe is None or pipe.peer is None else pipe.peer.metadata

    def _next_part(self, copy: bool) -> Any:
        msg = self._recv_parts
        assert msg is not None  # called only while a received message is being handed out
        index = self._recv_index
        frame = msg[index]
        more = index + 1 < len(msg)
        if more:
            self._recv_index = index + 1
        else:
            self._recv_parts = None
            pending = self._message_pending
            if pending is not None:
                pending(None)
        if copy:
            return frame if frame.__class__ is bytes else bytes(frame)
        return received_frame(frame, more, self._recv_metadata)

    def _drop_pending(self) -> None:
        """The frames of a received message not yet handed out are dropped (REQ_RELAXED sends anew)."""
        self._recv_parts = None

    # -- forwarding (the proxy's fast path) ------------------------------------

    def forward(self, destination: SocketBase, limit: int) -> tuple[Any, int]:
        """Move up to ``limit`` whole messages already queued on this socket to ``destination``
        without waiting: ``(taken, sent)``.

        ``taken`` are the messages received, in the order and with the rules of
        ``recv_multipart`` (fair queueing, ROUTER's routing id, SUB's filter), in
        greenmq's own form (``greenmq.patterns.message``: ``bytes`` or a list of
        frames); no more are taken than ``destination`` has room for, so a full
        destination leaves them where they are (back-pressure). The first ``sent``
        of them were queued on ``destination`` as ``send_multipart`` would, each
        peer's writer woken once; the caller sends the rest (there are none
        unless a type's room was an estimate, or a message of ``destination`` was
        started with ``SNDMORE``) the ordinary way. Nothing taken, nothing sent:
        nothing was queued, or ``destination`` had no room.
        """
        if not self._usable:
            self._check_usable()
        if not destination._usable:
            destination._check_usable()
        if self._recv_parts is not None:  # the rest of a message a recv() began
            return [self.recv_multipart(DONTWAIT)], 0
        if destination._send_parts:  # the next message ends the one started with SNDMORE
            return self._pattern.recv_many(1), 0
        target = destination._pattern
        room = target.room(limit)
        if not room:
            return (), 0
        taken = self._pattern.recv_many(room)
        if not taken:
            return taken, 0
        return taken, target.send_many(taken)

    # -- waiting -----------------------------------------------------------------

    def _wait_until(self, wakeup: Wakeup, attempt: Callable[[], Any], timeout: int, flags: int) -> Any:
        """Retry ``attempt`` (non-None on success) each time ``wakeup`` is set; Again on
        DONTWAIT or when ``timeout`` ms pass. Clearing before each attempt means a wake-up
        that comes after a failed attempt is never lost."""
        if flags & DONTWAIT:
            self._not_ready_seen(wakeup)
            raise Again()
        deadline = None if timeout < 0 else monotonic() + timeout / 1000.0
        while True:
            wakeup.clear()
            result = attempt()
            if result is not None:
                return result
            self._check_usable()
            remaining = None
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    self._not_ready_seen(wakeup)
                    raise Again()
            wakeup.wait(remaining)

    # -- closing -----------------------------------------------------------------

    def close(self, linger: int | None = None) -> None:
        """Close the socket. Queued outgoing messages are still sent for up to ``linger`` ms
        (the LINGER option when not given; -1 waits forever, which makes ``Context.term`` wait too)."""
        if self._closed:
            return
        if linger is None:
            linger = self._settings[SocketOption.LINGER]
        else:
            linger = _options.validate(_options.lookup(SocketOption.LINGER), linger)
        self._closed = True
        self._usable = False
        self._send_parts = []  # an unfinished message is dropped (and its tracked buffers released)
        self._monitor.stop()
        self._readable.set()
        self._writable.set()
        self._readable.close()
        self._writable.close()
        if self._fd is not None:
            self._fd.close_after_signal()
        lingering = self._endpoints.close(linger)
        self._port.close()
        self.context.registry.remove(self, lingering)

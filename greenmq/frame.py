"""``Frame`` and ``MessageTracker``: pyzmq's message objects for ``copy=False``.

Tracking, and why nothing on the way needs to know about it
-----------------------------------------------------------

pyzmq's tracker is done when libzmq lets go of a zero-copy buffer: libzmq
counts the references to the message and calls back when the last one goes.
greenmq does the same with Python's own reference counts. Each send of a
tracked buffer puts a fresh ``memoryview`` of it into greenmq, and a weak
reference to that view counts it; so does the tracked :class:`Frame`'s own
view. CPython frees such a view the moment the last reference to it goes:
when the engine's writer has handed it to the kernel and drops its batch,
when a pipe that is closed or a PUB at its high-water mark drops the
message, when a send with no peer discards it, and, over inproc, when the
receiving socket has handed the message out and the receiver has let go of
it (``recv()`` copies it at once; a ``recv(copy=False)`` frame holds it
until the frame and its ``buffer`` are gone), which is when libzmq releases
an inproc message too. The weak reference's callback then counts the view
off, and the tracker is done once none is left.

So the pipes, the patterns and the engines carry tracked frames like any
other and pay nothing for tracking; an untracked send never creates a view
or a weak reference.
"""

from __future__ import annotations

import builtins
import itertools
import operator
import threading
import weakref
from collections.abc import Iterator
from pickle import PickleBuffer
from time import monotonic
from typing import Any, cast

from gevent.event import Event as GreenEvent

from .constants import Errno, MessageOption
from .error import NotDone, zmq_error

# pyzmq's zmq.COPY_THRESHOLD: Frame(data) and send(data, copy=False) copy smaller buffers.
COPY_THRESHOLD = 65536

_MORE = int(MessageOption.MORE)
_SHARED = int(MessageOption.SHARED)
# libzmq's ZMQ_GROUP_MAX_LENGTH: longer groups are cut (zmq_msg_set_group) or refused (zmq_join).
GROUP_MAX_LENGTH = 255
# A Frame's repr shows at most this many bytes of its content.
_REPR_PREFIX = 24


class BufferHolds:
    """The views through which greenmq still holds one tracked buffer; set once none is left.

    :meth:`hold` registers a view (see the module docstring). It behaves as
    an event for :class:`MessageTracker` (``is_set``, ``wait``).
    """

    __slots__ = ("_refs", "_released")

    def __init__(self) -> None:
        # By the weak references' ids: a writable memoryview (and so its weak reference) has no hash.
        self._refs: dict[int, weakref.ref[memoryview]] = {}
        self._released = GreenEvent()

    def hold(self, view: memoryview) -> memoryview:
        """Count ``view`` until it is freed; returns it."""
        ref = weakref.ref(view, self._release)
        self._refs[id(ref)] = ref
        return view

    def _release(self, ref: weakref.ref[memoryview]) -> None:
        refs = self._refs
        refs.pop(id(ref), None)
        if not refs:
            self._released.set()

    def is_set(self) -> bool:
        return self._released.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self._released.wait(timeout))


class Frame:
    """One message frame, as returned by ``recv(copy=False)`` and accepted by ``send``.

    ``bytes`` gives the content as ``bytes`` (copied once, then cached),
    ``buffer`` a one-dimensional byte memoryview without copying, ``more``
    whether more frames of the same message follow, and :meth:`get` (or
    ``frame["User-Id"]``) the connection properties of the peer the frame came
    from (``"Socket-Type"``, ``"Identity"``, ``"Peer-Address"``, ``"User-Id"``
    and what a ZAP handler added). ``routing_id`` (SERVER, PEER) and ``group``
    (RADIO, DISH) say where a received frame came from, or where one sent goes.

    As in pyzmq, ``data`` smaller than ``copy_threshold`` bytes is copied
    unless ``copy=False`` is given; larger data, or any with ``copy=False``,
    is shared. ``track=True`` on shared data gives the frame a
    :class:`MessageTracker` that is done once the frame and every send of it
    are gone; on copied data the tracker is done at once.

    Differences from pyzmq that pure Python imposes: a Frame is not itself a
    buffer (on Python < 3.12 ``memoryview(frame)`` fails; use
    ``frame.buffer``), the buffer of ``bytes`` data is read-only, and views
    made from ``frame.buffer`` are not tracked.
    """

    __slots__ = ("_data", "_bytes", "_buffer", "_holds", "more", "tracker", "_metadata",
                 "_routing_id", "_group")

    _data: Any  # bytes, or a one-dimensional byte memoryview
    _bytes: builtins.bytes | None

    def __init__(self, data: Any = None, track: bool = False, copy: bool | None = None,
                 copy_threshold: int | None = None, **kwargs: Any) -> None:
        if isinstance(data, str):
            raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
        if data is None:
            data = b""
        elif isinstance(data, Frame):
            data = data._data
        view = PickleBuffer(data).raw()  # TypeError, or BufferError if not contiguous, as pyzmq
        if copy is None:
            threshold = COPY_THRESHOLD if copy_threshold is None else copy_threshold
            copy = bool(threshold) and view.nbytes < threshold
        self.more = False
        self._bytes = None
        self._metadata = None
        self._routing_id = 0
        self._group = b""
        self._holds: BufferHolds | None = None
        self.tracker: MessageTracker | None = None
        if copy:
            self._data = data if data.__class__ is bytes else view.tobytes()
            self._buffer: memoryview | None = None
            if track:
                self.tracker = FINISHED_TRACKER
            return
        self._data = self._buffer = view
        if track:
            # The frame's own view counts as a hold: the tracker is not done while
            # the frame, a copy of it or its buffer lives (pyzmq: until it is freed).
            holds = self._holds = BufferHolds()
            holds.hold(view)
            self.tracker = MessageTracker(holds)

    # -- content ------------------------------------------------------------

    @property
    def bytes(self) -> builtins.bytes:
        """The content as ``bytes``: a copy, made on first use and then kept."""
        if self._bytes is None:
            data = self._data
            self._bytes = data.tobytes() if data.__class__ is memoryview else bytes(memoryview(data))
        return self._bytes

    @property
    def buffer(self) -> memoryview:
        """The content as a one-dimensional byte memoryview, without copying (the same one each time)."""
        buffer = self._buffer
        if buffer is None:
            data = self._data
            buffer = self._buffer = data if data.__class__ is memoryview else memoryview(data)
        return buffer

    def __bytes__(self) -> builtins.bytes:
        return self.bytes

    def __len__(self) -> int:
        return len(self._data)

    def __buffer__(self, flags: int) -> memoryview:
        """Python 3.12+: a Frame is a buffer, as in pyzmq."""
        return self.buffer

    # -- copies -------------------------------------------------------------

    def fast_copy(self) -> Frame:
        """Another Frame on the same content, sharing its tracker (no copy of the data)."""
        new = Frame.__new__(Frame)
        new._data = self._data
        new._bytes = self._bytes
        new._buffer = self._buffer
        new._holds = self._holds
        new.tracker = self.tracker
        new.more = self.more
        new._metadata = self._metadata
        new._routing_id = self._routing_id
        new._group = self._group
        return new

    __copy__ = fast_copy

    def __reduce_ex__(self, protocol: Any) -> Any:
        # As pyzmq: a frame is a handle on a buffer (and perhaps a tracker), not a value.
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    # -- options and properties --------------------------------------------

    def get(self, option: int | str | builtins.bytes) -> int | str:
        """An option (``zmq.MORE``, ``zmq.SHARED``) as an int, or a connection property by name.

        Unknown options and properties the peer did not announce raise
        :class:`ZMQError` ``EINVAL``; names are matched case-insensitively
        (greenmq's metadata follows RFC 37), anything that works in libzmq works.
        """
        if isinstance(option, int):
            if option == _MORE:
                return int(self.more)
            if option == _SHARED:
                return int(self._data.__class__ is memoryview)
            raise zmq_error(Errno.EINVAL)
        if option == "routing_id":
            if not self._routing_id:
                raise zmq_error(Errno.EINVAL)  # libzmq's 0: none (only SERVER and PEER set one)
            return self._routing_id
        if option == "group":
            return self._group.decode("utf-8")
        if isinstance(option, builtins.bytes):
            option = option.decode("utf-8")
        if not isinstance(option, str):
            raise TypeError(f"expected str, got: {option!r}")
        metadata = self._metadata
        found: builtins.bytes | None = None if metadata is None else metadata.get(option)
        if found is None:
            raise zmq_error(Errno.EINVAL)
        return found.decode("utf-8", "replace")

    def __getitem__(self, key: int | str | builtins.bytes) -> int | str:
        """``frame["User-Id"]`` is ``frame.get("User-Id")``, as in pyzmq."""
        return self.get(key)

    def set(self, option: int | str, value: Any) -> None:
        """``routing_id`` and ``group``; libzmq has no settable int option (``EINVAL``)."""
        if option == "routing_id":
            self._routing_id = checked_routing_id(value)
            return
        if option == "group":
            self._group = group_name(value)
            return
        raise zmq_error(Errno.EINVAL)

    @property
    def routing_id(self) -> int:
        """The routing id of a message a SERVER or PEER received, or to send one to
        (``EINVAL`` when none is set: libzmq's 0)."""
        return cast(int, self.get("routing_id"))

    @routing_id.setter
    def routing_id(self, routing_id: int) -> None:
        self.set("routing_id", routing_id)

    @property
    def group(self) -> str:
        """The RADIO/DISH group of the message (``""`` when none is set, as libzmq's)."""
        return cast(str, self.get("group"))

    @group.setter
    def group(self, group: str | builtins.bytes) -> None:
        self.set("group", group)

    def __repr__(self) -> str:
        """``<greenmq.Frame(5 bytes: b'hello')>``: the size, and the content up to
        ``_REPR_PREFIX`` bytes (``...`` marks the cut). A subclass shows its own name."""
        cls = type(self)
        name = "greenmq.Frame" if cls is Frame else f"{cls.__module__}.{cls.__qualname__}"
        size = len(self._data)
        cut = size > _REPR_PREFIX
        shown = memoryview(self._data)[:_REPR_PREFIX].tobytes() if cut else self.bytes
        return f"<{name}({size} bytes: {shown!r}{'...' if cut else ''})>"


Message = Frame


def received_frame(data: Any, more: bool, metadata: Any) -> Frame:
    """A :class:`Frame` for ``recv(copy=False)``: ``data`` as received, no copy, no checks.

    ``bytes`` data is nobody else's and immutable, so it serves as the
    frame's ``bytes`` as it is; a view (an inproc sender's buffer) is the
    frame's ``buffer`` itself, so that a tracked one stays held while the
    receiver uses it."""
    frame = Frame.__new__(Frame)
    frame._data = data
    if data.__class__ is bytes:
        frame._bytes = data
        frame._buffer = None
    else:
        frame._bytes = None
        frame._buffer = data if data.__class__ is memoryview else None
    frame._holds = None
    frame.more = more
    frame.tracker = None
    frame._metadata = metadata
    frame._routing_id = 0
    frame._group = b""
    return frame


def label_frame(frame: Frame, routing_id: int, group: builtins.bytes) -> Frame:
    """Give a received frame the routing id (SERVER, PEER) or group (DISH) it came with."""
    frame._routing_id = routing_id
    frame._group = group
    return frame


def checked_routing_id(value: Any) -> int:
    """A routing id as libzmq takes it: an unsigned 32-bit int other than 0 (pyzmq's
    ``TypeError``/``OverflowError`` for a value that is no such int, ``EINVAL`` for 0)."""
    if not isinstance(value, int):
        raise TypeError(f"an integer is required, not {type(value).__name__}")
    if not 0 <= value <= 0xFFFFFFFF:
        raise OverflowError(f"routing id {value} does not fit 32 unsigned bits")
    if value == 0:
        raise zmq_error(Errno.EINVAL)
    return int(value)


def group_name(value: Any) -> builtins.bytes:
    """A group as ``zmq_msg_set_group`` takes it: a C string (str is encoded as UTF-8), cut at
    its first NUL and, silently, after GROUP_MAX_LENGTH (255) bytes, as libzmq 4.3 does."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, builtins.bytes):
        raise TypeError(f"expected str or bytes, got: {value!r}")
    name: builtins.bytes = value.partition(b"\0")[0]
    return name[:GROUP_MAX_LENGTH]


def message_address(data: Any, routing_id: Any, group: Any) -> tuple[int, builtins.bytes] | None:
    """Where a message given to ``send`` goes, as (routing id or 0, group or b""): the
    ``routing_id``/``group`` arguments (checked as pyzmq checks them, by setting them on a
    Frame), else those of ``data`` if it is a Frame; None if it names neither."""
    address_id, address_group = (data._routing_id, data._group) if isinstance(data, Frame) else (0, b"")
    if routing_id is not None:
        address_id = checked_routing_id(routing_id)
    if group is not None:
        address_group = group_name(group)
    if not address_id and not address_group:
        return None
    return address_id, address_group


def frame_payload(frame: Frame) -> Any:
    """What one send of ``frame`` puts into greenmq: its data as it is, or, for a tracked
    frame, a fresh view of it that the frame's tracker counts until greenmq drops it."""
    holds = frame._holds
    if holds is None:
        return frame._data
    return holds.hold(memoryview(frame._data))


def outgoing_payload(data: Any, copy: bool, copy_threshold: int) -> Any:
    """What ``send`` puts into greenmq for ``data`` that is not a Frame: ``bytes``, or a
    one-dimensional byte view for a shared (``copy=False``, not smaller than
    ``copy_threshold``) buffer. ``bytes`` is never copied: it cannot change."""
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    if data.__class__ is bytes:
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(data).__name__}'") from None
    if copy or view.nbytes < copy_threshold or not view.contiguous:
        return view.tobytes()
    return view if view.format == "B" and view.ndim == 1 else PickleBuffer(view).raw()


class MessageTracker:
    """Whether greenmq is done with one or more zero-copy messages (pyzmq's ``MessageTracker``).

    ``towatch`` are :class:`Frame` objects (their trackers), other
    trackers, or events (``threading.Event`` or ``gevent.event.Event``). A
    tracker of nothing is done. :meth:`wait` blocks cooperatively.
    """

    events: set[Any]
    peers: set[MessageTracker]

    def __init__(self, *towatch: Any) -> None:
        self.events = set()
        self.peers = set()
        for obj in towatch:
            if isinstance(obj, Frame):  # a frame is watched through its tracker
                obj = obj.tracker
                if obj is None:
                    raise ValueError("Not a tracked message")
            if isinstance(obj, MessageTracker):
                self.peers.add(obj)
            elif isinstance(obj, _EVENT_TYPES):
                self.events.add(obj)
            else:  # pyzmq's error and message
                raise TypeError(f"Require Events or Message Frames, not {type(obj)}")

    def _unfinished(self) -> Iterator[Any]:
        """The events not yet set and the trackers not yet done, lazily (``done`` needs one)."""
        yield from itertools.filterfalse(_is_set, self.events)
        yield from itertools.filterfalse(_is_done, self.peers)

    @property
    def done(self) -> bool:
        """Whether greenmq is done with every message tracked."""
        return next(self._unfinished(), None) is None

    def wait(self, timeout: float | None = -1) -> None:
        """Wait until :attr:`done`; raise :class:`NotDone` if ``timeout`` seconds pass first
        (negative, ``None`` or ``False``: wait as long as it takes)."""
        deadline = None if timeout is None or timeout is False or timeout < 0 else monotonic() + timeout
        for event in self.events:
            if not event.wait(None if deadline is None else max(0.0, deadline - monotonic())):
                raise NotDone()
        for peer in self.peers:
            if deadline is None:
                peer.wait()
            else:
                peer.wait(max(0.0, deadline - monotonic()))


_EVENT_TYPES = (threading.Event, GreenEvent, BufferHolds)
_is_set = operator.methodcaller("is_set")
_is_done = operator.attrgetter("done")

# pyzmq's zmq._FINISHED_TRACKER: what sends that copied their data return.
FINISHED_TRACKER = MessageTracker()

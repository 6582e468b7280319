"""``Frame`` and ``MessageTracker``: pyzmq's message objects for ``copy=False``."""

from __future__ import annotations

import builtins
from typing import Any

from .constants import Errno, MessageOption
from .error import zmq_error


class Frame:
    """One message frame, as returned by ``recv(copy=False)`` and accepted by ``send``.

    ``bytes`` gives the content as ``bytes`` (copied once, then cached),
    ``buffer`` a memoryview without copying, ``more`` whether more frames of
    the same message follow, and :meth:`get` the connection properties of the
    peer the frame came from (``"Socket-Type"``, ``"Peer-Address"`` ...).
    """

    __slots__ = ("_data", "_bytes", "more", "tracker", "_metadata", "routing_id", "group")

    _data: Any  # bytes, bytearray or a memoryview, as given
    _bytes: builtins.bytes | None

    def __init__(self, data: Any = b"", track: bool = False, copy: bool | None = None,
                 copy_threshold: int | None = None) -> None:
        if isinstance(data, str):
            raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
        if isinstance(data, Frame):
            data = data._data
        elif not isinstance(data, (bytes, bytearray)):
            data = memoryview(data).cast("B")
        self._data = data
        self._bytes = data if type(data) is bytes else None
        self.more = False
        self.tracker = MessageTracker() if track else None
        self._metadata = None
        self.routing_id = None
        self.group = None

    @property
    def bytes(self) -> builtins.bytes:
        if self._bytes is None:
            self._bytes = bytes(self._data)
        return self._bytes

    @property
    def buffer(self) -> memoryview:
        return memoryview(self._data)

    def __bytes__(self) -> builtins.bytes:
        return self.bytes

    def __len__(self) -> int:
        return len(self._data)

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frame):
            return self.bytes == other.bytes
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # unhashable: frames compare by content

    def __repr__(self) -> str:
        data = self.bytes
        shown = data if len(data) <= 32 else data[:32] + b"..."
        return f"<greenmq.Frame({shown!r}{', more' if self.more else ''})>"

    def get(self, option: int | str) -> int | str:
        """``MORE`` as an int, or a connection property by name (str)."""
        if isinstance(option, str):
            name = "Identity" if option == "Routing-Id" else option
            value = None if self._metadata is None else self._metadata.get(name)
            if value is None:
                raise zmq_error(Errno.EINVAL)
            return value.decode("utf-8", "replace")
        if option == MessageOption.MORE:
            return int(self.more)
        raise ValueError(f"unsupported Frame option {option!r}")

    def set(self, option: int, value: int) -> None:
        if option == MessageOption.MORE:
            self.more = bool(value)
            return
        raise ValueError(f"unsupported Frame option {option!r}")


Message = Frame


def received_frame(data: Any, more: bool, metadata: Any) -> Frame:
    """A :class:`Frame` for ``recv(copy=False)``: ``data`` as received, no copy, no checks."""
    frame = Frame.__new__(Frame)
    frame._data = data
    frame._bytes = data if type(data) is bytes else None
    frame.more = more
    frame.tracker = None
    frame._metadata = metadata
    frame.routing_id = None
    frame.group = None
    return frame


def frame_payload(frame: Frame) -> Any:
    """What a :class:`Frame` holds, as given (``bytes``, ``bytearray`` or a view): sent without a copy."""
    return frame._data


class MessageTracker:
    """pyzmq's tracker of a message's buffer; greenmq's is done at once.

    That is exact for ``copy=True`` sends, whose frames greenmq holds as its
    own ``bytes``. With ``copy=False`` greenmq keeps a reference to the
    caller's buffer until the message is written (tcp, ipc) or received
    (inproc), and the tracker does not follow that yet: do not change such a
    buffer while its message may still be queued.
    """

    def __init__(self, *towatch: Any) -> None:
        pass

    @property
    def done(self) -> bool:
        return True

    def wait(self, timeout: float = -1) -> None:
        """Returns at once (see the class docstring)."""

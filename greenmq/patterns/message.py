"""The shape of a message, as every layer passes it around.

A single-frame message whose body is ``bytes`` is that ``bytes`` object
itself; any other message is a ``list`` of frames (``bytes``, or
``bytearray``/``memoryview`` handed to ``send`` with ``copy=False``). Most
messages are short single frames, and not wrapping each in a list saves an
allocation at both ends of every transfer.
"""

from typing import Any


def as_frames(msg: Any) -> list[Any]:
    """A message as a list of frames (a copy only for the single-frame case)."""
    return [msg] if msg.__class__ is bytes else msg


def as_message(frames: list[Any]) -> Any:
    """The canonical form of a list of frames: a lone ``bytes`` frame stands alone."""
    if len(frames) == 1 and frames[0].__class__ is bytes:
        return frames[0]
    return frames


def first_frame(msg: Any) -> bytes:
    """A message's first frame as ``bytes`` (what topics and routing ids are matched against)."""
    first = msg if msg.__class__ is bytes else msg[0]
    return first if first.__class__ is bytes else bytes(first)

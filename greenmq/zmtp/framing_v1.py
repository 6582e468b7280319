"""ZMTP 1.0 framing (RFC 13): the length comes first, and it counts the flags byte.

A frame is a length -- one byte for 1 to 254, else FF and 8 bytes big-endian
-- then a flags byte (bit 0 MORE; libzmq ignores the others, and so does
greenmq) and ``length - 1`` bytes of body. A length of 0 is a protocol
error, as in libzmq. Messages are represented as everywhere in greenmq (see
:mod:`~greenmq.zmtp.framing`); a :class:`~greenmq.zmtp.framing.Subscription`
goes out as the message ``0x01``/``0x00`` + topic, as libzmq's v1 encoder
writes it.

Only connections to ZMTP 1.0 peers use this module; it is chosen once, at
the handshake (see :mod:`~greenmq.zmtp.legacy`), so the 3.x decoder loop
has no branch for it.
"""

import struct

from .errors import MessageTooLarge, ZmtpError
from .framing import MEMORY_LIMIT, MORE, FrameDecoder, Subscription

ESCAPE = 0xFF  # a first byte of FF: the length follows in 8 bytes
_pack_long_header = struct.Struct(">BQB").pack  # FF, length, flags
_unpack_length = struct.Struct(">Q").unpack_from


def frame_header(size, more=False):
    """The length and flags bytes in front of a body of ``size`` bytes."""
    length = size + 1
    flags = MORE if more else 0
    if length < ESCAPE:
        return bytes((length, flags))
    return _pack_long_header(ESCAPE, length, flags)


def split_header(data, pos=0):
    """``(header size, body size)`` of the frame starting at ``data[pos]`` (the header ends with
    the flags byte); None until the length is complete -- so that a length can be refused before
    the flags byte arrives."""
    if pos >= len(data):
        return None
    if data[pos] == ESCAPE:
        if pos + 9 > len(data):
            return None
        length = _unpack_length(data, pos + 1)[0]
        header = 10
    else:
        length = data[pos]
        header = 2
    if length == 0:
        raise ZmtpError("ZMTP 1.0 frame of length 0 (the length counts the flags byte)")
    return header, length - 1


def encode_messages(messages, out):
    """Append the 1.0 wire form of ``messages`` to the list ``out``; returns ``(total bytes, 0)``
    (the shape of :func:`greenmq.zmtp.framing.encode_messages`, with no body left unjoined)."""
    total = 0
    append = out.append
    for msg in messages:
        if msg.__class__ is Subscription:
            frames = (msg.as_message(),)
        elif msg.__class__ is list:
            frames = msg
        else:
            frames = (msg,)
        last = len(frames) - 1
        for index, body in enumerate(frames):
            header = frame_header(len(body), index < last)
            append(header)
            append(body)
            total += len(header) + len(body)
    return total, 0


def encode_message(msg):
    """The 1.0 wire form of one message, as ``bytes``."""
    chunks = []
    encode_messages((msg,), chunks)
    return b"".join(chunks)


def transcode(batch):
    """Messages already in the 3.x wire form (a publisher's, see ``greenmq._pipe.WirePipe``),
    rewritten in the 1.0 form, as one ``bytes``."""
    decoder = FrameDecoder()
    chunks = []
    for wire in batch:
        encode_messages(decoder.feed(wire), chunks)
    return b"".join(chunks)


class FrameDecoder1:
    """Incremental ZMTP 1.0 decoder, with :class:`~greenmq.zmtp.framing.FrameDecoder`'s interface.

    ``feed(data)`` returns the messages ``data`` completed (multipart ones whole, never
    part of one). ``commands`` stays empty: ZMTP 1.0 has none. A body longer than what
    has arrived is collected in chunks; :meth:`body_remaining` says how much is missing.
    """

    __slots__ = ("max_size", "commands", "_tail", "_parts", "_chunks", "_missing", "_more")

    def __init__(self, max_size=-1):
        self.max_size = max_size
        self.commands = []
        self._tail = b""
        self._parts = []
        self._chunks = None
        self._missing = 0
        self._more = False

    @property
    def idle(self):
        """True between messages: no partial frame or multipart message is held."""
        return not (self._tail or self._parts or self._chunks is not None)

    def body_remaining(self):
        """How many bytes the frame being collected still misses (0 between frames)."""
        return self._missing

    def feed(self, data):
        """Decode ``data`` (bytes, or a view of a buffer the caller reuses); return the messages
        it completed."""
        messages = []
        if self._chunks is not None:
            take = self._missing
            if len(data) < take:
                if data:
                    self._chunks.append(bytes(data))
                    self._missing = take - len(data)
                return messages
            chunks = self._chunks
            chunks.append(bytes(data[:take]))
            self._chunks = None
            self._missing = 0
            self._frame(b"".join(chunks), self._more, messages)
            data = data[take:]
        data = self._tail + bytes(data)
        self._tail = b""
        n = len(data)
        pos = 0
        max_size = self.max_size
        while pos < n:
            header = split_header(data, pos)
            if header is None:
                break
            header_size, size = header
            if size > MEMORY_LIMIT:
                raise MessageTooLarge(f"frame of {size} bytes is larger than this machine's memory")
            if 0 <= max_size < size:
                raise MessageTooLarge(f"frame of {size} bytes exceeds MAXMSGSIZE {max_size}")
            start = pos + header_size
            if start > n:
                break  # the flags byte is still to come
            more = bool(data[start - 1] & MORE)
            end = start + size
            if end > n:
                self._chunks = [data[start:]] if start < n else []
                self._missing = end - n
                self._more = more
                return messages
            self._frame(data[start:end], more, messages)
            pos = end
        if pos < n:
            self._tail = data[pos:]
        return messages

    def _frame(self, body, more, messages):
        parts = self._parts
        if more:
            parts.append(body)
        elif parts:
            parts.append(body)
            messages.append(parts)
            self._parts = []
        else:
            messages.append(body)

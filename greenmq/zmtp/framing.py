"""ZMTP 3.x framing: turn byte streams into frames and messages into bytes.

A frame is one flags byte (MORE=1, LONG=2, COMMAND=4), a size (1 byte, or 8
bytes big-endian when LONG is set) and the body. The decoder accepts input cut
at any byte, checks the size against ``MAXMSGSIZE`` before it allocates, and
returns whole messages only: the frames of a multipart message are held back
until the last one arrives, which is what makes delivery atomic.

Message representation, shared by every layer above: a single-frame message
whose body is ``bytes`` is that ``bytes`` object itself; any other message is
a ``list`` of frames (``bytes``, or ``bytearray``/``memoryview`` handed to
``send`` with ``copy=False``). Most messages are short single frames, and not
wrapping each one in a list saves an allocation at both ends of every transfer.
A :class:`Subscription` travels only towards an engine. (A publisher's pipes
to engines may carry wire bytes from :func:`encode_message` instead of
messages: each message is encoded once for all its subscribers; see
``greenmq._pipe.WirePipe``.)

A frame longer than what has arrived is collected as a list of chunks and
joined once, when complete, into the ``bytes`` the user receives: one fresh
allocation and one copy per large frame. The chunk already received with the
header is kept as a view of the (immutable) input; a chunk that completes the
frame is joined at once, so it may be a view of a buffer the caller reuses --
:meth:`FrameDecoder.body_remaining` lets an engine read exactly that many
bytes into a warm buffer. Only a chunk that leaves the frame incomplete is
copied. Memory grows with the bytes actually received, not with the size a
header announces.

The hot path is written for CPython: one loop over the received bytes with
plain slicing, precomputed headers for short frames, and no object per frame
beyond the ``bytes`` body itself.
"""

import os
import struct
import sys

from ..constants import ProtocolError
from .errors import MessageTooLarge, ZmtpError

MORE = 0x01
LONG = 0x02
COMMAND = 0x04
_RESERVED = 0xF8
_LONG_MORE = LONG | MORE

# Pieces of a frame body shorter than this are gathered in one bytearray while the body is collected.
_SMALL_PIECE = 4096

# Bodies of at least this size are written from their own buffer, not joined.
LARGE_BODY = 65536


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return sys.maxsize


# A frame larger than the machine's memory can never be received: fail it at
# the header, as libzmq does when its malloc fails (ENOMEM).
MEMORY_LIMIT = _physical_memory()

_SHORT_LAST = [bytes((0, n)) for n in range(256)]
_SHORT_MORE = [bytes((MORE, n)) for n in range(256)]
# A long frame's size, read in place (no slice, no int.from_bytes).
_unpack_long_size = struct.Struct(">Q").unpack_from
# A long frame's header: flags, then the size in 8 bytes, big-endian.
_pack_long_header = struct.Struct(">BQ").pack


def frame_header(size, more=False, command=False):
    """The flags and size bytes in front of a frame body of ``size`` bytes."""
    flags = (MORE if more else 0) | (COMMAND if command else 0)
    if size < 256:
        return bytes((flags, size))
    return bytes((flags | LONG,)) + size.to_bytes(8, "big")


def encode_command(name, data=b""):
    """A complete command frame: the length-prefixed name followed by ``data``."""
    body = bytes((len(name),)) + name + data
    return frame_header(len(body), command=True) + body


def command_name(body):
    """Split a command body into (name, data)."""
    if not body or body[0] + 1 > len(body):
        raise ZmtpError("malformed command frame", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
    size = body[0]
    return bytes(body[1:1 + size]), body[1 + size:]


class Subscription:
    """A subscribe or cancel travelling from a subscriber towards a publisher.

    It goes through the pipes as an object (inproc never encodes it); an
    engine writes it as a SUBSCRIBE/CANCEL command to a ZMTP 3.1 peer and as
    a ``0x01``/``0x00`` + topic message to a 3.0 peer, as libzmq does.
    """

    __slots__ = ("subscribe", "topic")

    def __init__(self, subscribe, topic):
        self.subscribe = subscribe
        self.topic = topic

    def as_message(self):
        return (b"\x01" if self.subscribe else b"\x00") + self.topic

    def __repr__(self):
        return f"Subscription({self.subscribe!r}, {self.topic!r})"

    def __eq__(self, other):
        if not isinstance(other, Subscription):
            return NotImplemented
        return self.subscribe == other.subscribe and self.topic == other.topic

    __hash__ = None  # type: ignore[assignment]


class GroupCommand:
    """A DISH joining or leaving a group, travelling towards a RADIO.

    Like :class:`Subscription` it crosses pipes as an object; an engine writes
    it as a JOIN or LEAVE command frame (``\x04JOIN<group>``, ``\x05LEAVE<group>``:
    the group follows the name without a length), to a ZMTP 3.0 peer as well,
    as libzmq does. A RADIO's connection reads those commands back into it.
    """

    __slots__ = ("join", "group")

    def __init__(self, join, group):
        self.join = join
        self.group = group

    def command_body(self):
        """The command frame's body: the length-prefixed name, then the group."""
        return b"\x04JOIN" + self.group if self.join else b"\x05LEAVE" + self.group

    def __repr__(self):
        return f"GroupCommand({self.join!r}, {self.group!r})"

    def __eq__(self, other):
        if not isinstance(other, GroupCommand):
            return NotImplemented
        return self.join == other.join and self.group == other.group

    __hash__ = None  # type: ignore[assignment]


def encode_message(msg):
    """The wire form of one message, as ``bytes``.

    Short single frames and short two-frame messages (an envelope and a body:
    REQ, REP, DEALER) take a path of their own: they are most round trips."""
    if msg.__class__ is bytes:
        if len(msg) < 256:
            return _SHORT_LAST[len(msg)] + msg
    elif msg.__class__ is list and len(msg) == 2:
        head, body = msg
        if len(head) < 256 and len(body) < 256:
            return b"".join((_SHORT_MORE[len(head)], head, _SHORT_LAST[len(body)], body))
    chunks = []
    encode_messages([msg], chunks)
    return b"".join(chunks)


def encode_messages(messages, out, large=LARGE_BODY, subscription_commands=True):
    """Append the wire form of ``messages`` (see the module docstring) to the list ``out``.

    Headers and small bodies are appended as they are, for the caller to join
    into one write. Bodies of at least ``large`` bytes are appended as
    memoryviews so that the caller can send them without copying them into a
    joined buffer. Returns ``(total_bytes, large_count)``: the bytes appended
    and how many large bodies among them, so that the caller knows whether
    one join will do.
    """
    total = 0
    large_count = 0
    append = out.append
    for msg in messages:
        if msg.__class__ is bytes:
            body = msg
        elif msg.__class__ is Subscription:
            if subscription_commands:
                wire = encode_command(b"SUBSCRIBE" if msg.subscribe else b"CANCEL", msg.topic)
            else:
                body = msg.as_message()
                wire = frame_header(len(body)) + body
            append(wire)
            total += len(wire)
            continue
        elif msg.__class__ is GroupCommand:
            body = msg.command_body()
            wire = frame_header(len(body), command=True) + body
            append(wire)
            total += len(wire)
            continue
        else:
            last = len(msg) - 1
            if last:
                for index, body in enumerate(msg):
                    size = len(body)
                    if size < 256:
                        append(_SHORT_MORE[size] if index < last else _SHORT_LAST[size])
                        total += 2
                    else:
                        append(_pack_long_header(LONG | MORE if index < last else LONG, size))
                        total += 9
                    if size < large:
                        append(body)
                    else:
                        append(memoryview(body))
                        large_count += 1
                    total += size
                continue
            body = msg[0]
        # A single-frame message (bytes, or a list of one frame): the common case, written out.
        size = len(body)
        if size < 256:
            append(_SHORT_LAST[size])
            append(body)
            total += size + 2
            continue
        append(_pack_long_header(LONG, size))
        if size < large:
            append(body)
        else:
            append(memoryview(body))
            large_count += 1
        total += size + 9
    return total, large_count


class FrameDecoder:
    """Incremental ZMTP 3.x frame decoder.

    ``feed(data)`` returns the messages completed by ``data`` (bare ``bytes``
    or lists of frames, see the module docstring) and appends the bodies of command frames to ``commands``, in
    arrival order. A frame that does not fit in the data received so far is
    collected chunk by chunk; :meth:`body_remaining` tells how many bytes it
    still misses.
    """

    __slots__ = ("max_size", "commands", "pause_on_command", "_tail", "_parts", "_chunks", "_missing",
                 "_flags")

    def __init__(self, max_size=-1, pause_on_command=False):
        self.max_size = max_size
        self.commands = []
        # During a handshake the caller must see each command before the bytes
        # after it are parsed (their meaning depends on the command's outcome).
        self.pause_on_command = pause_on_command
        self._tail = b""
        self._parts = []
        self._chunks = None
        self._missing = 0
        self._flags = 0

    @property
    def idle(self):
        """True between messages: no partial frame or multipart message is held."""
        return not (self._tail or self._parts or self._chunks is not None)

    def body_remaining(self):
        """How many bytes the frame being collected still misses (0 between frames)."""
        return self._missing

    def feed(self, data):
        """Decode ``data``; return the list of messages it completed."""
        messages = []
        if self._chunks is not None:
            take = self._missing
            if len(data) < take:
                if data:
                    self._add_piece(data)
                    self._missing = take - len(data)
                return messages
            self._chunks.append(data if len(data) == take else memoryview(data)[:take])
            self._finish_body(messages)
            data = data[take:]
            if self.pause_on_command and self.commands:
                self._tail = bytes(data)
                return messages
        if self._tail:
            data = self._tail + data
            self._tail = b""
        if not isinstance(data, bytes):
            data = bytes(data)
        n = len(data)
        pos = 0
        parts = self._parts
        max_size = self.max_size
        short_ok = max_size < 0 or max_size >= 255
        long_limit = max_size if max_size >= 0 else MEMORY_LIMIT
        commands = self.commands
        append = messages.append
        while pos < n:
            flags = data[pos]
            # Fast paths: a data frame (flags 0 or MORE, short or LONG) that is all here.
            start = 0  # where its body starts, once a fast path applies
            if flags <= MORE:
                if short_ok and pos + 1 < n:
                    start = pos + 2
                    end = start + data[pos + 1]
            elif flags <= _LONG_MORE and pos + 9 <= n:  # LONG, with or without MORE
                size = _unpack_long_size(data, pos + 1)[0]
                if size <= long_limit:  # else the general path refuses it
                    start = pos + 9
                    end = start + size
            if start and end <= n:
                body = data[start:end]
                pos = end
                if flags & MORE:
                    parts.append(body)
                elif parts:
                    parts.append(body)
                    append(parts)
                    parts = self._parts = []
                else:
                    append(body)
                continue
            if flags & LONG:
                if pos + 9 > n:
                    break
                size = int.from_bytes(data[pos + 1:pos + 9], "big")
                if size > MEMORY_LIMIT:
                    raise MessageTooLarge(f"frame of {size} bytes is larger than this machine's memory")
                start = pos + 9
            else:
                if pos + 2 > n:
                    break
                size = data[pos + 1]
                start = pos + 2
            if flags & _RESERVED:
                raise ZmtpError(f"frame flags {flags:#04x} have reserved bits set")
            if 0 <= max_size < size:
                raise MessageTooLarge(f"frame of {size} bytes exceeds MAXMSGSIZE {max_size}")
            end = start + size
            if end > n:
                self._start_body(flags, size, memoryview(data)[start:])
                pos = n
                break
            body = data[start:end]
            pos = end
            if flags & COMMAND:
                self._check_command(flags)
                commands.append(body)
                if self.pause_on_command:
                    break
            elif flags & MORE:
                parts.append(body)
            elif parts:
                parts.append(body)
                messages.append(parts)
                parts = self._parts = []
            else:
                append(body)
        if pos < n:
            self._tail = data[pos:]
        return messages

    def _check_command(self, flags):
        if flags & MORE:
            raise ZmtpError("command frame has the MORE flag set")
        if self._parts:
            raise ZmtpError("command frame inside a multipart message")

    def _start_body(self, flags, size, initial):
        self._chunks = [initial] if initial else []
        self._missing = size - len(initial)
        self._flags = flags

    def _add_piece(self, data):
        """Keep a piece of the body being collected. Small pieces are gathered in one bytearray:
        a peer that sends a frame a few bytes at a time would otherwise cost a list entry per
        piece, and ``bytes.join`` 80 bytes more per piece when the body is put together."""
        chunks = self._chunks
        if len(data) >= _SMALL_PIECE:
            chunks.append(bytes(data))
        elif chunks and chunks[-1].__class__ is bytearray:
            chunks[-1] += data
        else:
            chunks.append(bytearray(data))

    def _finish_body(self, messages):
        chunks = self._chunks
        flags = self._flags
        self._chunks = None
        self._missing = 0
        body = chunks[0] if len(chunks) == 1 and chunks[0].__class__ is bytes else b"".join(chunks)
        if flags & COMMAND:
            self._check_command(flags)
            self.commands.append(body)
        elif flags & MORE:
            self._parts.append(body)
        elif self._parts:
            self._parts.append(body)
            messages.append(self._parts)
            self._parts = []
        else:
            messages.append(body)

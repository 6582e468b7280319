"""ZMTP for the protocol tests: wire bytes written from the spec, and the engine's way of feeding split frames.

:func:`greeting`, :func:`frame`, :func:`command` and :func:`properties` build
ZMTP 3.x bytes from /work/shared/specs/README.md (the wire checklist) without
greenmq's encoder; :func:`parse_frames`, :func:`split_command` and
:func:`parse_commands` read greenmq's output back the same way.
"""

from greenmq._connection.reader import BODY_BUFFER_MAX as ENGINE_BODY_MAX, LARGE_BODY_READ as ENGINE_LARGE_BODY

__all__ = [
    "ENGINE_BODY_MAX", "ENGINE_LARGE_BODY", "PUSH_METADATA", "ReusedBuffer", "as_bytes", "command", "flip_last_byte",
    "frame", "greet", "greeting", "parse_commands", "parse_frames", "properties", "split_command",
]


def greeting(mechanism, as_server=False, minor=1):
    """A ZMTP 3.x greeting written out from checklist bullet 1."""
    return (b"\xff" + bytes(8) + b"\x7f" + bytes((3, minor)) + mechanism.ljust(20, b"\x00")
            + bytes((int(as_server),)) + bytes(31))


def greet(conn, peer_greeting):
    """Take a sans-I/O connection through the staged greeting (checklist 4) up to the point where
    it has sent all of its own: the peer's signature and revision go in (11 bytes), and all 64
    bytes of ``conn``'s greeting must have come out -- the mechanism has not started yet, since
    the peer's greeting is incomplete. Returns the peer's greeting bytes still to feed."""
    sent = conn.data_to_send()
    assert sent[:1] == b"\xff" and sent[9:10] == b"\x7f" and len(sent) == 10, sent
    assert conn.receive(peer_greeting[:11]) == []
    sent += conn.data_to_send()
    assert len(sent) == 64 and sent[10] == 3, sent
    return peer_greeting[11:]


def frame(body, flags=0):
    """One ZMTP frame: the short form up to 255 bytes, else the long one."""
    if len(body) <= 255:
        return bytes((flags, len(body))) + body
    return bytes((flags | 0x02,)) + len(body).to_bytes(8, "big") + body


def command(name, data=b""):
    return frame(bytes((len(name),)) + name + data, 0x04)


def properties(*pairs):
    """ZMTP metadata (checklist bullet 17) from (name: bytes, value: bytes) pairs."""
    return b"".join(bytes((len(name),)) + name + len(value).to_bytes(4, "big") + value for name, value in pairs)


def parse_frames(data):
    """Split wire bytes into (flags, header length, body) triples; the bytes must end on a frame boundary."""
    frames = []
    pos = 0
    while pos < len(data):
        flags = data[pos]
        if flags & 0x02:
            size = int.from_bytes(data[pos + 1:pos + 9], "big")
            header = 9
        else:
            size = data[pos + 1]
            header = 2
        body = data[pos + header:pos + header + size]
        assert len(body) == size, "truncated frame"
        frames.append((flags, header, body))
        pos += header + size
    return frames


def split_command(body):
    """(name, data) of a command body."""
    return body[1:1 + body[0]], body[1 + body[0]:]


def parse_commands(data, short_only=False):
    """Split bytes made only of command frames into (name, data) pairs.

    ``short_only``: each frame must also be in the short form (flags 0x04).
    """
    commands = []
    for flags, _header, body in parse_frames(data):
        if short_only:
            assert flags == 0x04, f"expected a short command frame, got flags {flags:#x}"
        else:
            assert flags in (0x04, 0x06), f"not a command frame: flags {flags:#x}"
        commands.append(split_command(body))
    return commands


def flip_last_byte(data):
    """``data`` with one bit of its last byte flipped (a box or cookie that no longer opens)."""
    return data[:-1] + bytes((data[-1] ^ 0x01,))


PUSH_METADATA = properties((b"Socket-Type", b"PUSH"))


def as_bytes(messages):
    """Messages normalised to lists of ``bytes``.

    The decoder may hand out a single-frame message as the bare body; only the
    frames' contents matter here.
    """
    return [
        [bytes(msg)] if isinstance(msg, (bytes, bytearray, memoryview)) else [bytes(frame) for frame in msg]
        for msg in messages
    ]


class ReusedBuffer:
    """ONE bytearray that plays the engine's reused read buffer.

    :meth:`feed` copies ``data`` into it, hands ``feed_function`` a memoryview of
    it, and as soon as that returns, resizes the bytearray (which raises
    BufferError if anyone still holds a view of it) and overwrites all of it
    with garbage. A delivered message, command or piece of decoder state that
    still depended on the caller's buffer would come out corrupted.
    """

    def __init__(self):
        self.buf = bytearray()
        self.fills = 0

    def feed(self, feed_function, data):
        buf = self.buf
        if len(buf) < len(data):
            buf.extend(bytes(len(data) - len(buf)))  # grown in place: still the same object
        view = memoryview(buf)[:len(data)]
        view[:] = data
        result = feed_function(view)
        view.release()
        buf.append(0)  # BufferError here: the decoder kept a view of the caller's buffer
        del buf[-1]
        self.scribble()
        return result

    def scribble(self):
        self.fills += 1
        self.buf[:] = bytes(((0xA5 + 61 * self.fills) & 0xFF,)) * len(self.buf)

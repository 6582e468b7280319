"""Test support shared by the protocol tests: the engine's way of feeding split frames."""

from greenmq._connection.reader import BODY_BUFFER_MAX as ENGINE_BODY_MAX, LARGE_BODY_READ as ENGINE_LARGE_BODY

__all__ = ["ENGINE_BODY_MAX", "ENGINE_LARGE_BODY", "ReusedBuffer", "as_bytes"]


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

"""How a fuzz input is read as a script of operations, and how seeds are written as one.

A target that needs structure (which socket type, which step of a handshake
to forge) reads its input through :class:`Script`: a few configuration bytes,
then operations, each an opcode byte and a payload with a one-byte length
(``0xFF`` means "the rest of the input"). Any byte string is a valid script:
missing bytes read as zeros, so every mutation the fuzzer makes is still a
script, only a different one. :func:`build` writes the same format, which is
how the seed corpora are made from greenmq's own encoders.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

REST = 0xFF


class Script:
    """Reads configuration bytes and (opcode, payload) operations from one fuzz input."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        """The next byte, or 0 once the input is used up."""
        if self.pos >= len(self.data):
            return 0
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        chunk = self.data[self.pos:self.pos + count]
        self.pos += len(chunk)
        return chunk

    def ops(self) -> Iterator[tuple[int, bytes]]:
        """The remaining input as (opcode, payload) pairs."""
        while self.pos < len(self.data):
            opcode = self.byte()
            size = self.byte()
            yield opcode, self.take(len(self.data) - self.pos if size == REST else size)


def build(config: Sequence[int], ops: Sequence[tuple[int, bytes]]) -> bytes:
    """The script that :class:`Script` reads as ``config`` then ``ops`` (long payloads use REST, so
    only the last operation may be longer than 254 bytes)."""
    out = bytearray(config)
    for index, (opcode, payload) in enumerate(ops):
        if len(payload) >= REST:
            if index != len(ops) - 1:
                raise ValueError("only the last operation of a script may carry 255 bytes or more")
            out += bytes((opcode, REST)) + payload
        else:
            out += bytes((opcode, len(payload))) + payload
    return bytes(out)


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` cut in pieces of ``size`` bytes (all of it at once for size 0): decoders must not care."""
    if size <= 0:
        yield data
        return
    for start in range(0, len(data), size):
        yield data[start:start + size]

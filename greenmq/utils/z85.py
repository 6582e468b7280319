"""Z85 (ZeroMQ RFC 32): binary data as printable text, 5 characters for every 4 bytes.

CURVE keys travel in configuration files and socket options as 40-character
Z85 strings; this module converts between that text and the 32 raw bytes.
Same API and errors as ``zmq.utils.z85``.
"""

from __future__ import annotations

import struct
from typing import Union

# The binary types the functions take, as in pyzmq: they slice and iterate as bytes do.
_BytesLike = Union[bytes, bytearray, memoryview]

Z85CHARS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_DIGIT_VALUE = {char: value for value, char in enumerate(Z85CHARS)}
_POWERS = (85**4, 85**3, 85**2, 85, 1)


class Z85DecodeError(ValueError, KeyError):
    """A character outside the Z85 alphabet (a ``KeyError`` too, as pyzmq raises one)."""

    def __str__(self) -> str:
        return ValueError.__str__(self)


def encode(rawbytes: _BytesLike) -> bytes:
    """Encode bytes (a multiple of 4 long) as Z85 ``bytes``."""
    if isinstance(rawbytes, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    rawbytes = bytes(rawbytes)
    if len(rawbytes) % 4:
        raise ValueError(f"length must be multiple of 4, not {len(rawbytes)}")
    out = bytearray()
    for (value,) in struct.iter_unpack(">I", rawbytes):
        for power in _POWERS:
            out.append(Z85CHARS[(value // power) % 85])
    return bytes(out)


def decode(z85bytes: str | _BytesLike) -> bytes:
    """Decode Z85 text (``str`` or ``bytes``, a multiple of 5 long) to bytes."""
    if isinstance(z85bytes, str):
        try:
            z85bytes = z85bytes.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("Z85 text must be ASCII") from None
    if len(z85bytes) % 5:
        raise ValueError(f"Z85 length must be multiple of 5, not {len(z85bytes)}")
    values = []
    lookup = _DIGIT_VALUE
    for start in range(0, len(z85bytes), 5):
        value = 0
        for char in z85bytes[start:start + 5]:
            digit = lookup.get(char)
            if digit is None:
                raise Z85DecodeError(f"{chr(char)!r} is not a Z85 character")
            value = value * 85 + digit
        if value > 0xFFFFFFFF:
            raise ValueError(f"Z85 group {bytes(z85bytes[start:start + 5])!r} is larger than 32 bits")
        values.append(value)
    return struct.pack(f">{len(values)}I", *values)

"""CURVE key pairs and key formats (``zmq.curve_keypair``, ``zmq.curve_public``).

Keys are 32 raw bytes on the wire and 40-character Z85 text in files and in
pyzmq's API; socket options accept either form.
"""

from __future__ import annotations

from ..constants import Errno
from ..error import ZMQError, zmq_error
from ..utils import z85
from . import crypto

Z85_KEY_SIZE = 40


def require_curve() -> None:
    """ZMQError(ENOTSUP), naming the ``curve`` extra, unless PyNaCl is installed."""
    if not crypto.AVAILABLE:
        raise ZMQError(Errno.ENOTSUP, crypto.MISSING_MESSAGE)


def curve_keypair() -> tuple[bytes, bytes]:
    """A new CURVE key pair as Z85 ``bytes``: ``(public_key, secret_key)``."""
    require_curve()
    public, secret = crypto.keypair()
    return z85.encode(public), z85.encode(secret)


def curve_public(secret_key: str | bytes) -> bytes:
    """The Z85 public key that belongs to a Z85 ``secret_key`` (str or bytes)."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("utf-8")
    if not isinstance(secret_key, bytes):
        raise TypeError(f"secret key must be bytes or str, not {type(secret_key).__name__}")
    if len(secret_key) != Z85_KEY_SIZE:
        raise ValueError("secret key must be a 40 byte z85 encoded string")
    require_curve()
    try:
        secret = z85.decode(secret_key)
    except ValueError:
        raise zmq_error(Errno.EINVAL) from None  # libzmq's zmq_curve_public fails on bad Z85
    return z85.encode(crypto.public_key(secret))


def raw_key(value: bytes) -> bytes | None:
    """A key option's value as 32 raw bytes: ``value`` is 32 raw bytes, or 40 (41 with a NUL) Z85
    characters. None if it is neither, as libzmq's ``setsockopt`` then fails with EINVAL."""
    if len(value) == crypto.KEY_SIZE:
        return bytes(value)
    if len(value) == Z85_KEY_SIZE + 1 and value[-1:] == b"\0":
        value = value[:-1]
    if len(value) == Z85_KEY_SIZE:
        try:
            return z85.decode(value)
        except ValueError:
            return None
    return None

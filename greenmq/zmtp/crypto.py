"""The NaCl primitives CurveZMQ needs, from PyNaCl (the optional ``curve`` extra).

PyNaCl is imported lazily so that greenmq works without it; :data:`AVAILABLE`
says whether it is there. The per-message calls go straight to libsodium
through PyNaCl's cffi module, writing into a fresh ``bytearray``: the
wrappers in ``nacl.bindings`` add a copy and several checks per call, which
is a large share of the cost for small messages.

Boxes use libsodium's "easy" layout, which is also the CurveZMQ wire layout:
a 16-byte authenticator followed by the ciphertext.
"""

from __future__ import annotations

from typing import Union

try:
    import nacl.bindings as _bindings
    from nacl._sodium import ffi as _ffi, lib as _lib
    from nacl.exceptions import CryptoError as _CryptoError
except ImportError:  # pragma: no cover - depends on the installed extras
    # Without PyNaCl no CURVE mechanism starts (require()), so nothing calls these stand-ins; type
    # checkers are given PyNaCl (the typecheck extra) and so check against its real types.
    _bindings = _ffi = _lib = None  # type: ignore[assignment]
    _CryptoError = Exception  # type: ignore[assignment,misc]

AVAILABLE = _bindings is not None
MISSING_MESSAGE = "CURVE security needs PyNaCl: install greenmq with the 'curve' extra (pip install 'greenmq[curve]')"

KEY_SIZE = 32
MAC_SIZE = 16

# The buffers that the box functions take: cffi's from_buffer reads them, len() measures them.
_BytesLike = Union[bytes, bytearray, memoryview]


class CryptoUnavailable(RuntimeError):
    """CURVE was asked for but PyNaCl is not installed."""

    def __init__(self) -> None:
        super().__init__(MISSING_MESSAGE)


def require() -> None:
    """Raise :class:`CryptoUnavailable` unless PyNaCl can be used."""
    if not AVAILABLE:
        raise CryptoUnavailable()


def keypair() -> tuple[bytes, bytes]:
    """A new (public, secret) Curve25519 key pair, 32 raw bytes each."""
    require()
    return _bindings.crypto_box_keypair()


def public_key(secret: bytes) -> bytes:
    """The public key belonging to a 32-byte secret key."""
    require()
    return _bindings.crypto_scalarmult_base(secret)


def random_bytes(count: int) -> bytes:
    require()
    return _bindings.randombytes(count)


def shared_key(public: bytes, secret: bytes) -> bytes | None:
    """The precomputed key for boxes between ``secret``'s owner and ``public``'s owner.

    None for a low-order ``public`` key (all zeros, say), which libsodium refuses:
    a hostile peer's choice, never a legitimate key. (libsodium reads 32 bytes
    from each pointer, so the lengths are checked here.)"""
    if len(public) != KEY_SIZE or len(secret) != KEY_SIZE:
        return None
    key = bytearray(KEY_SIZE)
    if _lib.crypto_box_beforenm(_ffi.from_buffer(key), public, secret):
        return None
    return bytes(key)


def box(plaintext: _BytesLike, nonce: bytes, key: bytes) -> bytearray:
    """Encrypt and authenticate ``plaintext`` under a precomputed ``key``; 16 bytes longer."""
    out = bytearray(len(plaintext) + MAC_SIZE)
    _lib.crypto_box_easy_afternm(_ffi.from_buffer(out), _ffi.from_buffer(plaintext), len(plaintext), nonce, key)
    return out


def unbox(ciphertext: _BytesLike, nonce: bytes, key: bytes) -> bytearray | None:
    """The plaintext of a box made by :func:`box`, or None if it does not authenticate."""
    size = len(ciphertext) - MAC_SIZE
    if size < 0:
        return None
    out = bytearray(size)
    if _lib.crypto_box_open_easy_afternm(_ffi.from_buffer(out), _ffi.from_buffer(ciphertext), len(ciphertext),
                                         nonce, key):
        return None
    return out


# libsodium's classic NaCl layout for boxes: the plaintext follows 32 zero bytes and the box
# (MAC, then ciphertext) follows 16 zero bytes, both in buffers of the same length; sealing
# in place leaves the MAC at [16:32] and zeros before it, which a frame overwrites with its
# name and nonce. The wire bytes are the same as the "easy" layout's, and a 1 KiB MESSAGE
# measured 0.6 us faster each way (libsodium's easy functions take an extra pass), so the
# traffic codec uses it.
PLAIN_ZEROS = 32  # crypto_box_ZEROBYTES
BOX_ZEROS = 16  # crypto_box_BOXZEROBYTES


# For the loops that encrypt or decrypt frame after frame (CurveCodec): libsodium's
# crypto_box_afternm(out, plaintext, size, nonce, key) and crypto_box_open_afternm(out, box,
# size, nonce, key) on the classic layout (in place is allowed; the open is non-zero if
# forged), and cffi's from_buffer, which turns a bytes-like object into the pointer they take.
box_padded = _lib.crypto_box_afternm if AVAILABLE else None
open_padded = _lib.crypto_box_open_afternm if AVAILABLE else None
from_buffer = _ffi.from_buffer if AVAILABLE else None


def secretbox(plaintext: _BytesLike, nonce: bytes, key: bytes) -> bytes:
    """Symmetric box (for the server's cookie): 16 bytes longer than ``plaintext``."""
    return _bindings.crypto_secretbox_easy(bytes(plaintext), nonce, key)


def secretbox_open(ciphertext: _BytesLike, nonce: bytes, key: bytes) -> bytes | None:
    """The plaintext of a :func:`secretbox`, or None if it does not authenticate."""
    try:
        return _bindings.crypto_secretbox_open_easy(bytes(ciphertext), nonce, key)
    except _CryptoError:
        return None

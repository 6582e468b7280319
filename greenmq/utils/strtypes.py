"""pyzmq's ``zmq.utils.strtypes``: names from the Python 2 years, deprecated since pyzmq 23.

Kept so that old programs (``from zmq.utils.strtypes import cast_bytes``) still run; the two
casting functions warn with DeprecationWarning on each call, as pyzmq's do.
"""

from __future__ import annotations

import warnings

__all__ = ["asbytes", "bytes", "unicode", "basestring", "b", "u", "cast_bytes", "cast_unicode"]

bytes = bytes
unicode = str
basestring = (str,)

_DEPRECATED = "zmq.utils.strtypes is deprecated in pyzmq 23."


def cast_bytes(s: str | bytes, encoding: str = "utf8", errors: str = "strict") -> bytes:
    """``s`` as bytes: bytes unchanged, str encoded; TypeError for anything else."""
    warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode(encoding, errors)
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


def cast_unicode(s: str | bytes, encoding: str = "utf8", errors: str = "strict") -> str:
    """``s`` as str: str unchanged, bytes decoded; TypeError for anything else."""
    warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
    if isinstance(s, bytes):
        return s.decode(encoding, errors)
    if isinstance(s, str):
        return s
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


b = asbytes = cast_bytes
u = cast_unicode

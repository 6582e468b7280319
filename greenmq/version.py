"""Version numbers: greenmq's own, and the pyzmq and libzmq versions whose behaviour it follows.

pyzmq's ``zmq.sugar.version`` (which ``greenmq.monkey`` maps here) has the same names. One
difference is deliberate: in pyzmq ``__version__`` and ``pyzmq_version()`` are the same string;
here ``__version__`` (and ``version_info``, ``VERSION_MAJOR`` ...) is greenmq's release, while
``pyzmq_version()`` is the pyzmq API level greenmq mirrors, which is what programs that test
pyzmq's version mean to ask. What the numbers promise: docs/versioning.rst.
"""

from __future__ import annotations

import re

__all__ = ["zmq_version", "zmq_version_info", "pyzmq_version", "pyzmq_version_info",
           "__version__", "__revision__"]

# A literal: setup.cfg reads it without importing greenmq.
__version__ = "0.1.0"
#: The source revision of a development build; empty for a release.
__revision__ = ""

_parts = re.match(r"(\d+)\.(\d+)\.(\d+)(.*)", __version__)
assert _parts is not None, __version__
VERSION_MAJOR = int(_parts.group(1))
VERSION_MINOR = int(_parts.group(2))
VERSION_PATCH = int(_parts.group(3))
#: What follows the third number ("dev0" of "1.2.3.dev0"); empty for a release.
VERSION_EXTRA = _parts.group(4).lstrip(".")
#: greenmq's version as numbers; a development version has ``inf`` as a fourth, as in pyzmq.
version_info: tuple[int, int, int] | tuple[int, int, int, float] = (
    (VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH, float("inf")) if VERSION_EXTRA
    else (VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH))

_LIBZMQ_VERSION = (4, 3, 6)
_PYZMQ_API_VERSION = (27, 0, 0)


def zmq_version_info() -> tuple[int, int, int]:
    """The libzmq version whose behaviour greenmq follows, as a tuple."""
    return _LIBZMQ_VERSION


def zmq_version() -> str:
    """The libzmq version whose behaviour greenmq follows, as a string."""
    return "%i.%i.%i" % _LIBZMQ_VERSION


def pyzmq_version_info() -> tuple[int, int, int]:
    """The pyzmq API level greenmq mirrors."""
    return _PYZMQ_API_VERSION


def pyzmq_version() -> str:
    """The pyzmq API level greenmq mirrors, as a string."""
    return "%i.%i.%i" % _PYZMQ_API_VERSION

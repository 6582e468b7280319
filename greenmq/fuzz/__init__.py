"""Fuzzing greenmq: ``python -m greenmq.fuzz TARGET --seconds N`` (see :mod:`~greenmq.fuzz.cli`).

Targets (:mod:`~greenmq.fuzz.target`) feed arbitrary bytes to the frame
decoder, the greeting, each side of the NULL, PLAIN and CURVE handshakes, the
ZAP reply parser, Z85, endpoint parsing, socket option values and a real
socket's engine over loopback TCP; :mod:`~greenmq.fuzz.invariants` checks
after every input that only documented errors escaped, that memory stayed
within ``MAXMSGSIZE`` plus a constant and that the input did not hang.
"""

from .cli import main

__all__ = ["main"]

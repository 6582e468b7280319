"""What a fuzz target is: one function of greenmq fed arbitrary bytes, with the errors it may raise.

Every target obeys the same contract, which :mod:`~greenmq.fuzz.invariants`
checks around each input: only :attr:`Target.errors` may escape :meth:`run`
(the documented way for that code to refuse bad input), the memory allocated
while it runs stays below :attr:`Target.max_message_size` plus
:attr:`Target.memory_slack`, and it returns within :attr:`Target.time_bound`
seconds. A target checks its own properties on top (a round trip that must
hold, a socket that must stay usable) and raises :class:`InvariantBroken`
when one fails.
"""

from __future__ import annotations

import os
from typing import Callable

# MAXMSGSIZE given to every decoder and socket under test: the memory bound is this plus a constant.
MAX_MESSAGE_SIZE = 8192


class InvariantBroken(AssertionError):
    """A target's own property failed for an input (a wrong round trip, an unusable socket)."""


class Target:
    """Base class: subclasses set the class attributes and implement :meth:`seeds` and :meth:`run`."""

    name = ""
    summary = ""
    # The exceptions an input may raise: the code's documented answer to bad input.
    errors: tuple[type[BaseException], ...] = ()
    max_message_size = MAX_MESSAGE_SIZE
    # Allocation allowed on top of max_message_size while one input runs (buffers, objects).
    memory_slack = 256 * 1024
    # CPU seconds one input may take (generous: hundreds of times what a typical one needs).
    time_bound = 2.0
    # Longest input worth generating.
    max_len = 4096
    # Whether a SIGPROF may interrupt the target (not for code that runs on the gevent hub).
    interruptible = True

    def seeds(self) -> list[bytes]:
        """Valid inputs made by greenmq's own encoders: where mutation starts."""
        raise NotImplementedError

    def run(self, data: bytes) -> None:
        """Feed one input; raise one of :attr:`errors`, :class:`InvariantBroken`, or nothing."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the target holds (sockets, listeners); checks that it is still healthy."""


def open_fds() -> int:
    """How many descriptors this process has open (0 where /proc is not there)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


_REGISTRY: dict[str, Callable[[], Target]] = {}


def register(factory: Callable[[], Target]) -> Callable[[], Target]:
    """Class decorator: makes a target known to ``fuzz --list`` and ``fuzz NAME``."""
    name = getattr(factory, "name", "")
    if not name or name in _REGISTRY:
        raise ValueError(f"fuzz target needs a unique name, not {name!r}")
    _REGISTRY[name] = factory
    return factory


def known_targets() -> dict[str, Callable[[], Target]]:
    """Every registered target by name (importing the modules that define them)."""
    from . import engine_target, protocol_targets, value_targets  # noqa: F401  (they register)
    return dict(_REGISTRY)


def make_target(name: str) -> Target:
    targets = known_targets()
    if name not in targets:
        raise KeyError(name)
    return targets[name]()

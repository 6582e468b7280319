"""Counting what a process holds, to tell a leak from noise: the measuring half of the leak cycles.

A leak shows first as a count that only grows -- a greenlet that never ends,
a descriptor never closed, a libev watcher left started (the loop keeps it and
everything its callback reaches), a greenmq object something still refers
to -- and only much later as memory. So :class:`Snapshot` counts those
exactly, and RSS is a second, coarse check:

- greenlets: live ``greenlet.greenlet`` objects, found through the garbage
  collector (a parked greenlet is a container object, so it is tracked);
- descriptors: the entries of ``/proc/self/fd``;
- watchers: the loop's watcher objects that are started, found through the
  garbage collector. ``loop.activecnt`` is not enough: it counts only
  *referenced* watchers, and greenmq's idle async watchers are unreferenced
  (``_socket/wakeup.py``), so a leaked one would not show there;
- greenmq objects: instances of every class defined in a ``greenmq`` module,
  by class name, so the report names what was kept (``Socket``,
  ``ZmtpEngine``, ``Wakeup`` ...);
- RSS: ``/proc/self/statm``.

:func:`run_cycles` warms up (first calls fill caches, import lazily, grow the
allocator's arenas), takes the baseline, runs the cycles, lets the hub finish
what closing started (:func:`settle`) and compares.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import gevent
from greenlet import greenlet as RawGreenlet

try:  # gevent's default loop (libev, compiled)
    from gevent.libev.corecext import watcher as _CoreWatcher
except ImportError:  # pragma: no cover - a gevent built without it
    _CoreWatcher = None
try:  # the cffi loops (libuv, or libev through cffi: GEVENT_LOOP)
    from gevent._ffi.watcher import watcher as _FfiWatcher
except ImportError:  # pragma: no cover
    _FfiWatcher = None
_WATCHER_TYPES = tuple(t for t in (_CoreWatcher, _FfiWatcher) if t is not None)

_PAGE = os.sysconf("SC_PAGE_SIZE")

# How much RSS may grow over a run that leaks no object. Counts are exact; RSS is not: after the
# warm-up the allocator still grows now and then -- pymalloc arenas (256 KiB) freed only when
# entirely empty, so one surviving small object pins one; the kernel's lazy release of freed
# pages; gevent's greenlet stacks copied to the heap. Measured on CPython 3.11 (Linux, gevent
# 26.9): 100 000 tcp connect cycles ended 0.5 MiB above the baseline, 20 000 CURVE ones wandered
# between +0.6 and +1.4 MiB without a trend, while contexts that each kept one wake-up (the
# registry's, before its fix: about 500 bytes a context) grew 10 MiB in 20 000 cycles.
# So a fixed slack of 8 MiB, plus 64 bytes a cycle for the long runs (one arena per 4 000
# cycles): room for the allocator, and still a failure for any per-cycle leak of 150 bytes or
# more over 100 000 cycles.
RSS_SLACK = 8 * 1024 * 1024
RSS_PER_CYCLE = 64


def rss() -> int:
    """The resident set size of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def open_fds() -> int:
    """How many descriptors this process has open (the listing's own one is not counted)."""
    return len(os.listdir("/proc/self/fd")) - 1


@dataclass(frozen=True)
class Snapshot:
    """What the process holds at one moment; see the module docstring."""

    greenlets: int
    fds: int
    watchers: int
    objects: Counter  # greenmq class name -> live instances
    rss: int = field(compare=False)

    @classmethod
    def take(cls) -> Snapshot:
        gc.collect()
        greenlets = watchers = 0
        objects: Counter = Counter()
        for obj in gc.get_objects():
            if isinstance(obj, RawGreenlet):
                greenlets += not obj.dead
            elif _WATCHER_TYPES and isinstance(obj, _WATCHER_TYPES):
                watchers += bool(obj.active)
            else:
                module = getattr(type(obj), "__module__", None)
                if isinstance(module, str) and module.startswith("greenmq"):
                    objects[type(obj).__qualname__] += 1
        return cls(greenlets, open_fds(), watchers, objects, rss())

    def growth(self, baseline: Snapshot) -> dict[str, int]:
        """Every count that is higher than in ``baseline``, by name (empty: nothing kept)."""
        grown = {name: getattr(self, name) - getattr(baseline, name)
                 for name in ("greenlets", "fds", "watchers")}
        grown.update((name, count - baseline.objects[name]) for name, count in self.objects.items())
        return {name: extra for name, extra in grown.items() if extra > 0}

    def line(self, baseline: Snapshot) -> str:
        """One progress line: the counts against the baseline, and RSS."""
        return (f"greenlets {self.greenlets - baseline.greenlets:+d} fds {self.fds - baseline.fds:+d} "
                f"watchers {self.watchers - baseline.watchers:+d} "
                f"greenmq objects {sum(self.objects.values()) - sum(baseline.objects.values()):+d} "
                f"rss {self.rss / 2**20:.1f} MiB ({(self.rss - baseline.rss) / 2**20:+.2f})")


class LeakError(AssertionError):
    """A run ended holding more than it started with."""


@dataclass
class Outcome:
    """What :func:`run_cycles` measured."""

    cycles: int
    seconds: float
    baseline: Snapshot
    final: Snapshot

    @property
    def rss_growth(self) -> int:
        return self.final.rss - self.baseline.rss

    @property
    def rss_bound(self) -> int:
        return RSS_SLACK + RSS_PER_CYCLE * self.cycles

    def check(self) -> None:
        """LeakError unless every count is back at the baseline and RSS grew within its bound."""
        grown = self.final.growth(self.baseline)
        if grown:
            raise LeakError(f"after {self.cycles} cycles, still held: {grown}")
        if self.rss_growth > self.rss_bound:
            raise LeakError(f"RSS grew {self.rss_growth} bytes in {self.cycles} cycles "
                            f"(bound {self.rss_bound})")

    def summary(self) -> str:
        return (f"{self.cycles} cycles in {self.seconds:.1f} s; baseline: greenlets {self.baseline.greenlets} "
                f"fds {self.baseline.fds} watchers {self.baseline.watchers} "
                f"greenmq objects {sum(self.baseline.objects.values())} rss {self.baseline.rss / 2**20:.1f} MiB; "
                f"end: {self.final.line(self.baseline)}; RSS bound {self.rss_bound / 2**20:.1f} MiB")


def settle(baseline: Snapshot, timeout: float = 10.0) -> Snapshot:
    """Let the hub finish what closing started (a peer noticing a hang-up, ZMQ_FD closed two loop
    turns after its socket, a killed greenlet's last switch) until the counts are back at
    ``baseline`` or ``timeout`` seconds pass; the last snapshot either way."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        snapshot = Snapshot.take()
        if not snapshot.growth(baseline) or time.monotonic() > deadline:
            return snapshot
        gevent.sleep(pause)
        pause = min(pause * 2, 0.1)


def _steady(timeout: float = 5.0, looks: int = 3) -> Snapshot:
    """A snapshot once the counts have not changed over ``looks`` looks a few loop turns apart:
    the baseline is taken after the warm-up's own closing has played out (a ZMQ_FD descriptor,
    for one, is closed two loop turns after its socket, so two looks in a row can agree on it)."""
    deadline = time.monotonic() + timeout
    previous = Snapshot.take()
    same = 1
    while same < looks and time.monotonic() < deadline:
        gevent.sleep(0.01)
        snapshot = Snapshot.take()
        same = same + 1 if snapshot == previous else 1
        previous = snapshot
    return previous


def run_cycles(cycle: Callable[[int], None], cycles: int, warmup: int = 200, reports: int = 0,
               out=sys.stdout, settle_timeout: float = 10.0) -> Outcome:
    """Call ``cycle(i)`` ``warmup`` times, take the baseline, call it ``cycles`` more times and
    settle (for at most ``settle_timeout`` seconds); with ``reports``, print that many progress
    lines along the way (every 10 % for 10).
    Returns the :class:`Outcome`; its ``check()`` says whether anything leaked."""
    for i in range(warmup):
        cycle(i)
    baseline = _steady()
    every = max(cycles // reports, 1) if reports else 0
    start = time.monotonic()
    for i in range(cycles):
        cycle(warmup + i)
        if every and (i + 1) % every == 0:
            now = Snapshot.take()
            print(f"{i + 1:>8} cycles {time.monotonic() - start:7.1f} s  {now.line(baseline)}", file=out, flush=True)
    seconds = time.monotonic() - start
    return Outcome(cycles, seconds, baseline, settle(baseline, settle_timeout))

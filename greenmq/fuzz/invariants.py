"""The checks around every fuzz input: allowed errors only, bounded memory, bounded time.

:class:`Checker` runs one input through a target under ``tracemalloc`` (its
peak since the input started, above what was allocated before it, must stay
within the target's ``max_message_size + memory_slack``) and a time bound.
Time is the process's CPU time, so that a busy machine (fuzzing runs at low
priority beside other work) does not make an input look slow: a SIGPROF
interrupts pure code that loops; code on the gevent hub bounds its own waits
(in wall-clock time), and any input that used more CPU than the bound is
reported too.
A broken invariant raises :class:`Finding`, which carries the input so that
it can be saved and replayed.
"""

from __future__ import annotations

import signal
import time
import tracemalloc
import traceback

from .target import InvariantBroken, Target


class Hang(Exception):
    """Raised by the SIGPROF timer when an input runs past its time bound."""


class Finding(Exception):
    """An input that broke an invariant: ``kind`` is ``exception``, ``memory``, ``hang`` or ``property``."""

    def __init__(self, kind: str, detail: str, data: bytes):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.data = data


def _on_alarm(signum: int, frame: object) -> None:
    raise Hang()


class Checker:
    """Runs inputs through ``target`` and enforces the invariants; keeps the slowest input and peak memory."""

    def __init__(self, target: Target, use_alarm: bool = True):
        self.target = target
        self.limit = target.max_message_size + target.memory_slack
        self.use_alarm = use_alarm and target.interruptible and hasattr(signal, "setitimer")
        self.count = 0
        self.slowest = 0.0
        self.slowest_input = b""
        self.peak_memory = 0
        self._started_tracing = False

    def __enter__(self) -> Checker:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True
        if self.use_alarm:
            self._previous = signal.signal(signal.SIGPROF, _on_alarm)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.use_alarm:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self._previous)
        if self._started_tracing:
            tracemalloc.stop()

    def check(self, data: bytes) -> None:
        """Run one input; raise :class:`Finding` if it broke an invariant."""
        target = self.target
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started = time.process_time()
        try:
            if self.use_alarm:
                signal.setitimer(signal.ITIMER_PROF, target.time_bound)
            try:
                target.run(data)
            finally:
                if self.use_alarm:
                    signal.setitimer(signal.ITIMER_PROF, 0)
        except target.errors:
            pass
        except InvariantBroken as error:
            raise Finding("property", str(error) or type(error).__name__, data) from error
        except Hang:
            raise Finding("hang", f"still running after {target.time_bound} s of CPU", data) from None
        except Exception as error:
            raise Finding("exception", "".join(traceback.format_exception_only(type(error), error)).strip()
                          + "\n" + "".join(traceback.format_tb(error.__traceback__)[-4:]), data) from error
        elapsed = time.process_time() - started
        grown = tracemalloc.get_traced_memory()[1] - before
        self.count += 1
        if grown > self.peak_memory:
            self.peak_memory = grown
        if elapsed > self.slowest:
            self.slowest = elapsed
            self.slowest_input = data
        if grown > self.limit:
            raise Finding("memory", f"{grown} bytes allocated, bound {self.limit}", data)
        if elapsed > target.time_bound:
            raise Finding("hang", f"took {elapsed:.3f} s of CPU, bound {target.time_bound} s", data)

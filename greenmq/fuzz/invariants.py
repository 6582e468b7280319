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

import gc
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
        self.transient_peaks = 0  # inputs over the memory bound once that stayed within it on a re-run
        self.largest_transient = 0
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
        """Run one input; raise :class:`Finding` if it broke an invariant.

        An input whose allocations pass the bound runs once more before it counts as a finding: in
        long runs a rare peak of about a megabyte comes from the process, not the input (none of the
        inputs saved for it allocated more than 14 KiB when replayed, alone or in the fuzzing child;
        in a test process a collection of earlier tests' garbage can run inside an input, so the
        re-run follows a collection). An allocation that the input causes happens again on the
        re-run; a passing one is counted in
        ``transient_peaks`` and reported, so it stays visible."""
        target = self.target
        grown, elapsed = self._run(data)
        self.count += 1
        if elapsed > self.slowest:
            self.slowest = elapsed
            self.slowest_input = data
        if grown > self.limit:
            gc.collect()  # the re-run starts clean: finalizers of earlier garbage allocate too
            again, _ = self._run(data)
            if again > self.limit:
                raise Finding("memory", f"{grown} bytes allocated ({again} on a re-run), bound {self.limit}", data)
            self.transient_peaks += 1
            self.largest_transient = max(self.largest_transient, grown)
            grown = again
        if grown > self.peak_memory:
            self.peak_memory = grown
        if elapsed > target.time_bound:
            raise Finding("hang", f"took {elapsed:.3f} s of CPU, bound {target.time_bound} s", data)

    def _run(self, data: bytes) -> tuple[int, float]:
        """Run ``data`` through the target: the bytes allocated at the peak, and the CPU seconds taken."""
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
        return tracemalloc.get_traced_memory()[1] - before, time.process_time() - started

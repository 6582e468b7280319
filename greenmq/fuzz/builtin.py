"""greenmq's own fuzzing loop: random mutation, guided by line coverage from ``sys.settrace``.

Used when atheris (the ``fuzz`` extra) is not installed, and for the short
runs in the test suite, where it needs nothing beyond the standard library
and a ``--seed`` makes a run repeatable. An input that makes greenmq's code
(outside this package) take a line-to-line transition it never took before
joins the corpus, and later inputs are mutations of corpus entries: the
same feedback libFuzzer uses, measured with a trace function instead of
compiled-in counters, so it is slower but works on every Python.
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, Callable
from collections.abc import Iterable

from .invariants import Checker

PACKAGE = str(Path(__file__).resolve().parent.parent)
OWN = str(Path(__file__).resolve().parent)
INTERESTING = (b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x7f", b"\x80", b"\xfe", b"\xff",
               b"\x00\x00\x00\x00\x00\x00\x01\x00", b"\xff" * 8, b"\x00\x00\x00\x00\x00\x00\x20\x01")


class Coverage:
    """Line-to-line transitions taken in greenmq's modules (this package excluded)."""

    def __init__(self) -> None:
        self.seen: set[tuple[Any, int, int]] = set()
        self.new: set[tuple[Any, int, int]] = set()
        self._wanted: dict[Any, bool] = {}

    def _global(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        code = frame.f_code
        wanted = self._wanted.get(code)
        if wanted is None:
            filename = code.co_filename
            wanted = self._wanted[code] = filename.startswith(PACKAGE) and not filename.startswith(OWN)
        if not wanted:
            return None
        last = [frame.f_lineno]
        seen, new = self.seen, self.new

        def local(frame: FrameType, event: str, arg: object) -> Callable[..., Any]:
            line = frame.f_lineno
            arc = (code, last[0], line)
            if arc not in seen:
                new.add(arc)
            last[0] = line
            return local

        return local

    def start(self) -> None:
        self.new = set()
        sys.settrace(self._global)

    def stop(self) -> bool:
        """Stop tracing; True if the input took a transition never seen before."""
        sys.settrace(None)
        if not self.new:
            return False
        self.seen |= self.new
        return True


def mutate(rng: random.Random, data: bytes, corpus: list[bytes], max_len: int) -> bytes:
    """One to four random edits: bit flips, interesting values, inserts, deletes, copies, splices."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if choice == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif choice == 2:
            value = rng.choice(INTERESTING)
            buf[pos:pos + len(value)] = value
        elif choice == 3:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 4 and buf:
            del buf[pos:pos + rng.randint(1, 16)]
        elif choice == 5 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start:start + rng.randint(1, 32)]
        elif choice == 6 and corpus:
            other = rng.choice(corpus)
            start = rng.randrange(len(other) + 1)
            buf[pos:] = other[start:start + rng.randint(1, 256)]
        elif choice == 7 and buf:
            del buf[pos:]
    return bytes(buf[:max_len])


class Result:
    """What a run did: inputs, seconds, corpus size, coverage (transitions), the slowest input."""

    def __init__(self) -> None:
        self.inputs = 0
        self.seconds = 0.0
        self.corpus = 0
        self.coverage = 0
        self.coverage_unit = "line transitions"
        self.slowest = 0.0
        self.slowest_input = b""
        self.peak_memory = 0
        self.transient_peaks = 0
        self.largest_transient = 0
        self.finding: Any = None
        self.interrupted = False  # stopped by SIGINT before its budget was spent


def fuzz(checker: Checker, seeds: Iterable[bytes], seconds: float, runs: int | None, seed: int | None,
         corpus_dir: Path | None, progress: Callable[[Result], None] | None = None) -> Result:
    """Fuzz ``checker``'s target until ``seconds`` pass or ``runs`` inputs ran, or an invariant breaks.

    New coverage-increasing inputs are written to ``corpus_dir`` (if given), named by their hash."""
    from .invariants import Finding

    rng = random.Random(seed)
    coverage = Coverage()
    result = Result()
    corpus: list[bytes] = []
    started = time.monotonic()
    deadline = started + seconds
    next_report = started + 10
    max_len = checker.target.max_len

    def one(data: bytes) -> None:
        coverage.start()
        try:
            checker.check(data)
        finally:
            grew = coverage.stop()
        if grew:
            corpus.append(data)
            if corpus_dir is not None:
                _save(corpus_dir, data)

    try:
        for data in seeds:
            one(data[:max_len])
        if not corpus:
            corpus.append(b"")
        while time.monotonic() < deadline and (runs is None or checker.count < runs):
            one(mutate(rng, rng.choice(corpus), corpus, max_len))
            if progress is not None and checker.count % 256 == 0 and time.monotonic() >= next_report:
                next_report += 10
                _fill(result, checker, coverage, corpus, started)
                progress(result)
    except Finding as finding:
        result.finding = finding
    except KeyboardInterrupt:
        result.interrupted = True
    _fill(result, checker, coverage, corpus, started)
    return result


def _fill(result: Result, checker: Checker, coverage: Coverage, corpus: list[bytes], started: float) -> None:
    result.inputs = checker.count
    result.seconds = time.monotonic() - started
    result.corpus = len(corpus)
    result.coverage = len(coverage.seen)
    result.slowest = checker.slowest
    result.slowest_input = checker.slowest_input
    result.peak_memory = checker.peak_memory
    result.transient_peaks = checker.transient_peaks
    result.largest_transient = checker.largest_transient


def _save(directory: Path, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / hashlib.sha1(data).hexdigest()
    if not path.exists():
        path.write_bytes(data)


def load_corpus(directory: Path | None) -> list[bytes]:
    """The inputs saved in ``directory`` (none if it does not exist)."""
    if directory is None or not directory.is_dir():
        return []
    return [path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()]


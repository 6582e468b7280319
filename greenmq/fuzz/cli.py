"""``fuzz TARGET --seconds N [--runs N] [--seed S] [--corpus DIR]`` and ``fuzz --list``.

Runs one target (or ``all`` of them in turn) and prints what it did: inputs,
time, coverage, corpus size, the slowest input and the most memory one
input allocated; on a broken invariant, the input (saved under ``--corpus``
when given) and what broke. Exit status 0: nothing found; 1: a finding;
2: bad usage.

The engine is atheris (coverage-guided libFuzzer, the ``fuzz`` extra) when
it is installed, else greenmq's own mutation loop guided by ``sys.settrace``
line coverage (:mod:`~greenmq.fuzz.builtin`); ``--engine`` chooses.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Callable, TextIO

from . import builtin, libfuzzer
from .invariants import Checker, Finding
from .target import known_targets, make_target

MISSING_ATHERIS = ("note: atheris is not installed (pip install 'greenmq[fuzz]'), so this run uses greenmq's "
                   "own mutation fuzzer with sys.settrace line coverage: slower, and blind to comparisons")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m greenmq fuzz", description=__doc__.split("\n\n")[1])
    parser.add_argument("target", nargs="?", help="a target name from --list, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--seconds", type=float, default=10.0, help="time budget per target (default 10)")
    parser.add_argument("--runs", type=int, default=None, help="stop after this many inputs per target")
    parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable builtin runs)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="directory to load inputs from and save new ones (and findings) to; "
                             "with 'all', one subdirectory per target")
    parser.add_argument("--engine", choices=("auto", "atheris", "builtin"), default="auto",
                        help="atheris if installed (auto), or greenmq's own loop")
    parser.add_argument("--replay", type=Path, nargs="+", default=None, metavar="FILE",
                        help="run these saved inputs once through the target's checks instead of fuzzing")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    targets = known_targets()
    if args.list:
        width = max(map(len, targets))
        for name, factory in sorted(targets.items()):
            print(f"{name.ljust(width)}  {getattr(factory, 'summary', '')}", file=stream)
        return 0
    if args.target is None:
        print("fuzz: name a target (see --list) or 'all'", file=sys.stderr)
        return 2
    names = sorted(targets) if args.target == "all" else [args.target]
    unknown = [name for name in names if name not in targets]
    if unknown:
        print(f"fuzz: unknown target {unknown[0]!r}; known: {', '.join(sorted(targets))}", file=sys.stderr)
        return 2
    engine = args.engine
    if engine == "atheris" and not libfuzzer.available():
        print("fuzz: --engine atheris needs atheris: pip install 'greenmq[fuzz]'", file=sys.stderr)
        return 2
    if engine == "auto":
        engine = "atheris" if libfuzzer.available() and args.replay is None else "builtin"
        if engine == "builtin" and args.replay is None:
            print(MISSING_ATHERIS, file=stream)
    status = 0
    for name in names:
        corpus = args.corpus / name if args.corpus is not None and len(names) > 1 else args.corpus
        if args.replay is not None:
            status = max(status, replay(name, args.replay, stream))
            continue
        result = fuzz_target(name, engine, args.seconds, args.runs, args.seed, corpus,
                             lambda line: print(line, file=stream, flush=True))
        status = max(status, report(name, engine, result, corpus, stream))
    return status


def fuzz_target(name: str, engine: str, seconds: float, runs: int | None, seed: int | None,
                corpus: Path | None, echo: Callable[[str], None] | None = None) -> builtin.Result:
    """Fuzz one target with ``engine`` ("atheris" or "builtin") and return the figures."""
    target = make_target(name)
    try:
        if engine == "atheris":
            target.close()  # the child process makes its own
            return libfuzzer.run(target, seconds, runs, seed, corpus, echo)
        with Checker(target) as checker:
            progress = None
            if echo is not None:
                def progress(partial: builtin.Result) -> None:
                    echo(f"  {name}: {partial.inputs} inputs, {partial.seconds:.0f} s, coverage "
                         f"{partial.coverage}, corpus {partial.corpus}")
            return builtin.fuzz(checker, target.seeds() + builtin.load_corpus(corpus), seconds, runs, seed,
                                corpus, progress)
    finally:
        if engine != "atheris":
            target.close()


def report(name: str, engine: str, result: builtin.Result, corpus: Path | None, out: TextIO) -> int:
    """Print one target's figures; 1 if it found something, else 0."""
    rate = result.inputs / result.seconds if result.seconds else 0.0
    print(f"{name} [{engine}]: {result.inputs} inputs in {result.seconds:.1f} s ({rate:.0f}/s), "
          f"coverage {result.coverage} {result.coverage_unit}, corpus {result.corpus}, "
          f"slowest input {result.slowest * 1000:.1f} ms CPU ({len(result.slowest_input)} bytes), "
          f"peak memory per input {result.peak_memory / 1024:.1f} KiB", file=out)
    if result.transient_peaks:
        print(f"{name}: {result.transient_peaks} inputs went over the memory bound once (largest "
              f"{result.largest_transient / 1024:.1f} KiB) and stayed within it when run again", file=out)
    finding = result.finding
    if finding is None:
        print(f"{name}: no invariant broken{' (interrupted)' if result.interrupted else ''}", file=out)
        return 0
    print(f"{name}: FOUND {finding.kind}: {finding.detail}", file=out)
    if finding.data:
        print(f"{name}: input ({len(finding.data)} bytes): {finding.data[:256].hex()}", file=out)
        if corpus is not None:
            corpus.mkdir(parents=True, exist_ok=True)
            path = corpus / f"finding-{hashlib.sha1(finding.data).hexdigest()}"
            path.write_bytes(finding.data)
            print(f"{name}: saved as {path} (replay: fuzz {name} --replay {path})", file=out)
    return 1


def replay(name: str, paths: list[Path], out: TextIO) -> int:
    """Run saved inputs once through ``name``'s checks; 1 if any breaks an invariant."""
    target = make_target(name)
    status = 0
    try:
        with Checker(target) as checker:
            for path in paths:
                try:
                    checker.check(path.read_bytes())
                except Finding as finding:
                    print(f"{path}: {finding.kind}: {finding.detail}", file=out)
                    status = 1
                else:
                    print(f"{path}: ok", file=out)
    finally:
        target.close()
    return status

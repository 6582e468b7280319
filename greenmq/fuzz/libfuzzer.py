"""Coverage-guided fuzzing with atheris (libFuzzer for Python), in a child process.

atheris instruments greenmq's bytecode at import time (every branch and
comparison feeds libFuzzer's coverage map) and runs libFuzzer, which never
returns: it exits the process when its time or run budget is spent, or on
the first failure. So :func:`run` starts a child interpreter that imports
greenmq under instrumentation and fuzzes one target, while the parent keeps
the figures: libFuzzer's own (runs, coverage ``cov``/``ft``, corpus) from its
output, and the invariant checker's (slowest input, peak memory, finding)
from a small JSON file the child rewrites as it goes.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .builtin import Result

# Imported under instrumentation: greenmq and the targets' dependencies, not the harness itself.
# (atheris excludes exact module names, so the harness's modules are listed one by one.)
HARNESS = ["greenmq.fuzz"] + sorted(f"greenmq.fuzz.{path.stem}" for path in Path(__file__).parent.glob("*.py"))
BOOTSTRAP = """
import sys, atheris
with atheris.instrument_imports(include=["greenmq"], exclude=%r):
    import greenmq, greenmq.zmtp, greenmq.utils.z85, greenmq._connection.engine, greenmq._connection.endpoint
    import greenmq.fuzz.target
    greenmq.fuzz.target.known_targets()
from greenmq.fuzz.libfuzzer import child_main
child_main(sys.argv[1:])
""" % (HARNESS,)

# The child's exit statuses after a SIGINT (or ^C): libFuzzer's (72) when it catches the signal, Python's
# when the KeyboardInterrupt surfaces in the callback. The run was stopped; nothing was found.
INTERRUPTED = (72, 128 + signal.SIGINT, -signal.SIGINT)
# Seconds between the child's progress lines (libFuzzer's own come at powers of two).
PROGRESS_EVERY = 60
_STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)")
_DONE = re.compile(r"^(?:Done (\d+) runs in \d+ second|stat::number_of_executed_units: (\d+))")


def available() -> bool:
    """Whether atheris (the ``fuzz`` extra) is installed."""
    return importlib.util.find_spec("atheris") is not None


def child_main(argv: list[str]) -> None:
    """In the child: fuzz target ``argv[0]``, keeping figures in ``argv[1]``; the rest is for libFuzzer."""
    atheris = importlib.import_module("atheris")  # untyped, and only in the child

    from .invariants import Checker, Finding
    from .target import make_target

    name, stats_path, *libfuzzer_args = argv
    target = make_target(name)
    checker = Checker(target, use_alarm=False)  # libFuzzer's -timeout bounds a hang instead
    checker.__enter__()
    written = [0.0]
    next_progress = [time.monotonic() + PROGRESS_EVERY]

    def write(finding: Finding | None = None) -> None:
        figures: dict[str, Any] = {"inputs": checker.count, "slowest": checker.slowest,
                                   "slowest_input": checker.slowest_input.hex(), "peak_memory": checker.peak_memory,
                                   "transient_peaks": checker.transient_peaks,
                                   "largest_transient": checker.largest_transient}
        if finding is not None:
            figures["finding"] = {"kind": finding.kind, "detail": finding.detail, "data": finding.data.hex()}
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as out:
            json.dump(figures, out)
        os.replace(tmp, stats_path)

    def one_input(data: bytes) -> None:
        try:
            checker.check(data[:target.max_len])
        except Finding as finding:
            write(finding)
            raise
        now = time.monotonic()
        if now - written[0] > 0.5:
            written[0] = now
            write()
        if now >= next_progress[0]:
            next_progress[0] = now + PROGRESS_EVERY
            print(f"progress: {checker.count} inputs, slowest {checker.slowest * 1000:.1f} ms CPU, "
                  f"peak memory per input {checker.peak_memory / 1024:.1f} KiB", flush=True)

    write()
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def run(target: Any, seconds: float, runs: int | None, seed: int | None, corpus_dir: Path | None,
        echo: Any = None) -> Result:
    """Fuzz ``target`` (a :class:`~greenmq.fuzz.target.Target`) with atheris in a child process."""
    from .invariants import Finding

    result = Result()
    result.coverage_unit = "libFuzzer edges (cov)"
    with tempfile.TemporaryDirectory(prefix="greenmq-fuzz-") as work:
        work_dir = Path(work)
        seed_dir = work_dir / "seeds"
        seed_dir.mkdir()
        for index, data in enumerate(target.seeds()):
            (seed_dir / f"seed-{index}").write_bytes(data[:target.max_len])
        corpus = corpus_dir if corpus_dir is not None else work_dir / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        stats_path = str(work_dir / "stats.json")
        args = [f"-max_total_time={max(1, math.ceil(seconds))}", f"-max_len={target.max_len}",
                # Wall-clock, unlike the checker's CPU bound: generous, since a low-priority run waits its turn.
                f"-timeout={math.ceil(target.time_bound * 10)}", "-print_final_stats=1",
                f"-artifact_prefix={corpus}/crash-", "-rss_limit_mb=4096"]
        if runs is not None:
            args.append(f"-runs={runs}")
        if seed is not None:
            args.append(f"-seed={seed}")
        command = [sys.executable, "-c", BOOTSTRAP, target.name, stats_path, *args, str(corpus), str(seed_dir)]
        started = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace")
        assert child.stdout is not None
        tail: list[str] = []
        for line in child.stdout:
            tail = (tail + [line])[-40:]
            status = _STATUS.match(line)
            if status:
                result.inputs = int(status.group(1))
                result.coverage, result.corpus = int(status.group(3)), int(status.group(5))
            done = _DONE.match(line)
            if done:
                result.inputs = int(done.group(1) or done.group(2))
            if echo is not None and not line.startswith(("INFO: Instrumenting", "WARNING: Failed to find")) and (
                    not line.startswith("#") or "pulse" in line or "DONE" in line):
                echo(line.rstrip("\n"))
        code = child.wait()
        result.seconds = time.monotonic() - started
        try:
            figures = json.loads(Path(stats_path).read_text())
        except (OSError, ValueError):
            figures = {}
        result.slowest = figures.get("slowest", 0.0)
        result.slowest_input = bytes.fromhex(figures.get("slowest_input", ""))
        result.peak_memory = figures.get("peak_memory", 0)
        result.transient_peaks = figures.get("transient_peaks", 0)
        result.largest_transient = figures.get("largest_transient", 0)
        found = figures.get("finding")
        if found is not None:
            result.finding = Finding(found["kind"], found["detail"], bytes.fromhex(found["data"]))
        elif code in INTERRUPTED:
            result.interrupted = True
        elif code != 0:
            result.finding = Finding("exception", "libFuzzer stopped with exit code "
                                     f"{code}:\n" + "".join(tail), b"")
    return result

"""Running ``python -m greenmq.bench`` in a subprocess for the benchmark smoke tests.

The benchmark runs in a subprocess, so its workers never share the test's
interpreter; ``--json`` gives the tests every run and median to check, stdout
the printed report, stderr the progress lines.
"""

import json
import subprocess
import sys

from support import BENCH_IMPLS, ROOT

BENCH_TIMEOUT = 200  # seconds one quick benchmark run may take (a loaded CI machine is several times slower)


def run_bench(directory, *options, impls=BENCH_IMPLS, preexec_fn=None):
    """Run a benchmark with ``options`` and its JSON saved in ``directory``; return (stdout, stderr, saved JSON).

    Fails the test if the command does not exit 0.
    """
    saved = directory / "bench.json"
    command = [sys.executable, "-m", "greenmq.bench", *options, "--impl", ",".join(impls), "--json", str(saved)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT, cwd=ROOT,
                            preexec_fn=preexec_fn)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr, json.loads(saved.read_text())


def ran(saved, **fields):
    """The saved runs whose fields have the given values (e.g. ``test="router", impl="pyzmq"``)."""
    return [run for run in saved["runs"] if all(run.get(name) == value for name, value in fields.items())]

"""``python -m greenmq.bench --quick`` must run end to end and print its ratio tables.

Tiny counts, one size and two transports keep this to a few seconds; it checks
the machinery (worker processes, endpoint hand-over, timeouts, report), not
performance.  The benchmark runs in a subprocess, so its workers never share
this interpreter.
"""

import importlib.util
import json
import subprocess
import sys

import pytest

IMPLS = ["greenmq"] + [name for name, module in (("pyzmq", "zmq"), ("zmq.green", "zmq"))
                       if importlib.util.find_spec(module) is not None]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick benchmark run shared by the checks below: (stdout, saved JSON)."""
    saved = tmp_path_factory.mktemp("bench") / "bench.json"
    command = [sys.executable, "-m", "greenmq.bench", "--quick", "--only", "tcp,inproc", "--sizes", "16",
               "--impl", ",".join(IMPLS), "--timeout", "20", "--json", str(saved)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(saved.read_text())


def test_prints_both_tables_with_ratio_columns(quick_run):
    out, _ = quick_run
    assert "PUSH/PULL throughput" in out
    assert "PAIR round-trip latency" in out
    for impl in IMPLS:
        assert f"{impl} msg/s" in out
    for impl in IMPLS[1:]:
        assert f"greenmq/{impl}" in out
    assert "targets" in out


def test_every_implementation_ran_every_cell(quick_run):
    _, saved = quick_run
    ran = {(run["test"], run["transport"], run["impl"]) for run in saved["runs"]}
    for test in ("throughput", "latency"):
        for transport in ("tcp", "inproc"):
            for impl in IMPLS:
                assert (test, transport, impl) in ran


def test_greenmq_cells_produced_figures(quick_run):
    _, saved = quick_run
    for median in saved["medians"]:
        if median["impl"] == "greenmq":
            assert median["status"] == "ok", median

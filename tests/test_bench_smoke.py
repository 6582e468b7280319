"""``python -m greenmq.bench --quick`` must run end to end and print its ratio tables.

Tiny counts, one size and two transports keep this to a few seconds; it checks
the machinery (worker processes, endpoint hand-over, timeouts, report), not
performance.  All six tests run: PUSH/PULL, PAIR, REQ/REP (with the raw TCP
floor), the ROUTER echo server with 200 DEALER clients (for a fraction of a
second), PUB/SUB with one PUB and 4 SUBs, and, when PyNaCl is there, CURVE
against NULL (checked in detail by test_bench_curve_smoke.py).  The benchmark
runs in a subprocess, so its workers never share this interpreter.
"""

import json
import subprocess
import sys

import pytest

import greenmq
from greenmq.bench.cli import TESTS, impls_for, parse_args, plan

from support import BENCH_IMPLS

CURVE = greenmq.has("curve")  # without PyNaCl greenmq's CURVE cells could only fail: leave the group out

pytestmark = pytest.mark.bench  # benchmark processes: left out of .ci/run's quick runs (-m "not bench")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick benchmark run shared by the checks below: (stdout, saved JSON)."""
    saved = tmp_path_factory.mktemp("bench") / "bench.json"
    command = [sys.executable, "-m", "greenmq.bench", "--quick", "--only", "tcp,inproc", "--sizes", "16",
               "--impl", ",".join(BENCH_IMPLS), "--timeout", "20", "--json", str(saved)]
    if not CURVE:
        command += ["--tests", ",".join(test for test in TESTS if test != "curve")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(saved.read_text())


def test_prints_every_table_with_ratio_columns(quick_run):
    out, _ = quick_run
    assert "PUSH/PULL throughput" in out
    assert "PAIR round-trip latency" in out
    assert "REQ/REP round-trip latency" in out
    assert "floor without ZeroMQ, tcp: gevent.socket ping-pong" in out
    assert "ROUTER echo server, 200 DEALER clients" in out
    assert "PUB/SUB fan-out, 1 PUB to 4 SUBs" in out
    assert ("CURVE security cost, PUSH/PULL throughput" in out) == CURVE  # curve is in the default run (tcp only)
    for impl in BENCH_IMPLS:
        assert f"{impl} msg/s" in out
        assert f"{impl} round trips/s" in out
        assert f"{impl} delivered msg/s" in out
        assert f"{impl} drops" in out
    for impl in BENCH_IMPLS[1:]:
        assert f"greenmq/{impl}" in out
    assert "targets" in out
    assert "REQ/REP round trip over tcp <= pyzmq's" in out
    assert "200 DEALER clients over tcp >= 1x pyzmq" in out
    assert "16 B PUB to 4 SUB over tcp >= 5x zmq.green delivered msg/s" in out


def test_every_implementation_ran_every_cell(quick_run):
    _, saved = quick_run
    ran = {(run["test"], run["transport"], run["impl"]) for run in saved["runs"]}
    for test in ("throughput", "latency", "reqrep"):
        for transport in ("tcp", "inproc"):
            for impl in BENCH_IMPLS:
                assert (test, transport, impl) in ran
    for impl in BENCH_IMPLS:
        assert ("router", "tcp", impl) in ran
    assert ("router", "inproc", "greenmq") not in ran
    for transport in ("tcp", "inproc"):
        for impl in BENCH_IMPLS:
            assert ("pubsub", transport, impl) in ran
    assert ("reqrep", "tcp", "gevent.socket") in ran
    assert ("reqrep", "inproc", "gevent.socket") not in ran


def test_router_and_floor_run_with_tcp_only():
    """--only and --tests select the new cells like the old: router needs tcp, REQ/REP over tcp adds the floor."""
    assert plan(parse_args(["--tests", "router", "--only", "ipc,inproc"])) == []
    assert plan(parse_args(["--tests", "reqrep,router", "--only", "inproc,tcp"])) == [
        ("reqrep", "inproc", 16), ("reqrep", "tcp", 16), ("router", "tcp", 16)]
    assert plan(parse_args(["--tests", "pubsub", "--only", "ipc"])) == []
    assert plan(parse_args(["--tests", "pubsub"])) == [("pubsub", "tcp", 16), ("pubsub", "inproc", 16)]
    assert impls_for(("reqrep", "tcp", 16), ["greenmq"]) == ["greenmq", "gevent.socket"]
    assert impls_for(("reqrep", "ipc", 16), ["greenmq"]) == ["greenmq"]


def test_greenmq_cells_produced_figures(quick_run):
    _, saved = quick_run
    for median in saved["medians"]:
        if median["impl"] == "greenmq":
            assert median["status"] == "ok", median


def test_pubsub_counts_what_every_subscriber_received(quick_run):
    """Each pub/sub run reports, per SUB, what it received and what the PUB dropped for it; they add up."""
    _, saved = quick_run
    runs = [run for run in saved["runs"] if run["test"] == "pubsub" and run["status"] == "ok"]
    assert {run["impl"] for run in runs} == set(BENCH_IMPLS)
    for run in runs:
        result = run["result"]
        assert len(result["received"]) == len(result["drops"]) == 4
        for received, dropped in zip(result["received"], result["drops"]):
            assert 0 <= received <= result["published"] == run["count"]
            assert received + dropped == result["published"]
        assert result["delivered_per_s"] > 0

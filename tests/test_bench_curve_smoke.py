"""``python -m greenmq bench --tests curve --quick`` must run end to end and print the CURVE rows.

The curve group runs 1 KiB PUSH/PULL and the 16-byte PAIR round trip over tcp,
each with CURVE and with NULL, for every implementation installed.  Tiny
counts (``--quick``), one run per cell and a per-run deadline keep it to a few
seconds; it checks the machinery (keys made by the measuring worker and handed
to the peer, the two securities alternating, the tables and the target), not
performance.
"""

import pytest

from greenmq.bench.cli import parse_args
from greenmq.bench.plan import Cell, entrants_for, plan
from greenmq.bench.workload import main as worker
from greenmq.bench.workload.security import client_argv

from bench_support import run_bench
from support import BENCH_IMPLS

pytestmark = pytest.mark.bench  # benchmark processes: left out of .ci/run's quick runs (-m "not bench")


@pytest.fixture(scope="module")
def curve_run(tmp_path_factory):
    """One quick run of the curve group shared by the checks below: (stdout, saved JSON)."""
    out, _, saved = run_bench(tmp_path_factory.mktemp("bench"), "--quick", "--tests", "curve", "--timeout", "20")
    return out, saved


@pytest.mark.curve  # greenmq's CURVE cells need PyNaCl
def test_prints_the_curve_tables_with_every_row(curve_run):
    out, _ = curve_run
    assert "CURVE security cost, PUSH/PULL throughput" in out
    assert "CURVE security cost, PAIR round-trip latency" in out
    for column in ("CURVE msg/s", "NULL msg/s", "CURVE/NULL msg/s", "CURVE median us", "NULL median us",
                   "CURVE/NULL median", "greenmq/this CURVE"):
        assert column in out
    for impl in BENCH_IMPLS:
        rows = [line for line in out.splitlines() if line.startswith(f"{impl} ") and " tcp " in line]
        assert len(rows) == 2, (impl, rows)  # one in each table
        assert not any("error" in row or "timeout" in row or "not run" in row for row in rows), rows
    assert "CURVE 1 KiB PUSH/PULL tcp >= 0.9x pyzmq's CURVE msg/s" in out
    assert not any(line.startswith("PUSH/PULL throughput") for line in out.splitlines())  # only curve ran


@pytest.mark.curve  # greenmq's CURVE cells need PyNaCl
def test_every_implementation_ran_curve_and_null(curve_run):
    _, saved = curve_run
    ran = {(run["test"], run["transport"], run["size"], run["impl"], run["security"]) for run in saved["runs"]
           if run["status"] == "ok"}
    for impl in BENCH_IMPLS:
        for security in ("curve", "null"):
            assert ("curve-throughput", "tcp", 1024, impl, security) in ran
            assert ("curve-latency", "tcp", 16, impl, security) in ran
    medians = {(m["test"], m["impl"], m["security"]): m for m in saved["medians"]}
    assert medians["curve-throughput", "greenmq", "curve"]["msgs_per_s"] > 0
    assert medians["curve-latency", "greenmq", "curve"]["median_us"] > 0


def test_curve_group_plan():
    """curve is in the default run, over tcp only, whatever --sizes says; CURVE and NULL alternate per impl."""
    curve_cells = [Cell("curve-throughput", "tcp", 1024), Cell("curve-latency", "tcp", 16)]
    assert plan(parse_args(["--tests", "curve", "--sizes", "16"])) == curve_cells
    assert plan(parse_args(["--tests", "curve", "--only", "ipc,inproc"])) == []
    default = plan(parse_args([]))
    assert default[default.index(curve_cells[0]):][:2] == curve_cells
    assert entrants_for(curve_cells[0], ["greenmq", "pyzmq"]) == [
        ("greenmq", "curve"), ("greenmq", "null"), ("pyzmq", "curve"), ("pyzmq", "null")]
    assert entrants_for(Cell("reqrep", "tcp", 16), ["greenmq"]) == [("greenmq", "null"), ("gevent.socket", "null")]


def test_keys_that_look_like_options_reach_the_peer():
    """Z85 has '-' among its characters: a key starting with it must not be taken for an option."""
    server, public, secret = "-" + "a" * 39, "--" + "b" * 38, "-x" + "c" * 38
    args = worker.parse_args(["--impl", "greenmq", "--test", "throughput", "--role", "peer", "--transport", "tcp",
                              "--security", "curve", "--connect", "tcp://127.0.0.1:1",
                              *client_argv(server.encode(), public.encode(), secret.encode())])
    assert (args.server_key, args.public_key, args.secret_key) == (server, public, secret)


def test_worker_refuses_curve_where_it_does_not_apply(capsys):
    for argv in (["--transport", "inproc", "--test", "throughput"],
                 ["--transport", "tcp", "--test", "router"],
                 ["--transport", "tcp", "--test", "latency", "--connect", "tcp://127.0.0.1:1"]):  # no keys
        argv = ["--impl", "greenmq", "--role", "measure", "--security", "curve", *argv]
        if "--connect" not in argv:
            argv += ["--bind", "tcp://127.0.0.1"]
        with pytest.raises(SystemExit):
            worker.parse_args(argv)
    assert "--security curve" in capsys.readouterr().err

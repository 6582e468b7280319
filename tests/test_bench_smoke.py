"""``python -m greenmq.bench --quick`` must run end to end and print its ratio tables.

Tiny counts, one throughput size and two transports keep this to tens of
seconds; it checks the machinery (worker processes, endpoint hand-over,
timeouts, report), not performance.  Every default test runs: PUSH/PULL, PAIR,
REQ/REP at 16 B and 4 KiB (with the raw TCP floor), the ROUTER echo server at
the quick stand-ins for 200 / 1 000 / 4 000 clients (the larger in several
client processes), PUB/SUB with one PUB and 4 SUBs, the proxy, connection
churn and, when PyNaCl is there, CURVE against NULL (checked in detail by
test_bench_curve_smoke.py).
"""

import pytest

import greenmq
from greenmq.bench.plan import DEFAULT_TESTS, QUICK_ROUTER_CLIENTS, Cell, client_processes, impls_for, plan
from greenmq.bench.cli import parse_args

from bench_support import ran, run_bench
from support import BENCH_IMPLS

CURVE = greenmq.has("curve")  # without PyNaCl greenmq's CURVE cells could only fail: leave the group out

# benchmark processes: left out of .ci/run's quick runs (-m "not bench"); the run takes tens of seconds
pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick benchmark run shared by the checks below: (stdout, stderr, saved JSON)."""
    options = ["--quick", "--only", "tcp,inproc", "--sizes", "16", "--timeout", "20"]
    if not CURVE:
        options += ["--tests", ",".join(test for test in DEFAULT_TESTS if test != "curve")]
    return run_bench(tmp_path_factory.mktemp("bench"), *options)


def test_prints_every_table_with_ratio_columns(quick_run):
    out, _, _ = quick_run
    for title in ("PUSH/PULL throughput", "PAIR round-trip latency", "REQ/REP round-trip latency",
                  "floor without ZeroMQ, tcp, 16 B: gevent.socket ping-pong",
                  "floor without ZeroMQ, tcp, 4 KiB: gevent.socket ping-pong",
                  "ROUTER echo server, DEALER clients", "PUB/SUB fan-out, 1 PUB to 4 SUBs",
                  "PUSH -> proxy -> PULL throughput", "connection churn"):
        assert title in out
    assert ("CURVE security cost, PUSH/PULL throughput" in out) == CURVE  # curve is in the default run (tcp only)
    assert "scale:" not in out  # the scale group is not in the default run
    for impl in BENCH_IMPLS:
        for column in ("msg/s", "delivered msg/s", "drops", "cycles/s", "us/cycle"):
            assert f"{impl} {column}" in out
    for impl in BENCH_IMPLS[1:]:
        assert f"greenmq/{impl}" in out
    assert "issue #11 targets" in out and "earlier targets" in out
    assert "REQ/REP 16 B tcp: greenmq median within 10 us of the raw gevent floor" in out
    assert "proxy tcp->tcp 16 B >= 1.0x pyzmq msg/s" in out
    assert "churn >= 1/1.5 of pyzmq's (libzmq's) cycles/s" in out
    assert f"connect storm {QUICK_ROUTER_CLIENTS[-1]} clients no slower than pyzmq" in out


def test_router_table_has_a_row_per_count_and_figure(quick_run):
    out, _, _ = quick_run
    lines = out.splitlines()
    for clients in QUICK_ROUTER_CLIENTS:
        for figure in ("round trips/s", "connect storm s", "server RSS KiB/connection"):
            rows = [line for line in lines if line.startswith(f"{clients} ") and f" {figure} " in line]
            assert len(rows) == 1, (clients, figure)
            assert "error" not in rows[0] and "timeout" not in rows[0]
    assert "RLIMIT_NOFILE: every router worker raises its soft limit to the hard limit" in out
    assert "one zmq.Poller loop per process" in out


def test_every_implementation_ran_every_cell(quick_run):
    _, _, saved = quick_run
    done = {(run["test"], run["transport"], run["size"], run["scale"], run["impl"]) for run in saved["runs"]}
    for impl in BENCH_IMPLS:
        for test in ("throughput", "latency", "reqrep", "pubsub"):
            for transport in ("tcp", "inproc"):
                assert (test, transport, 16, 0, impl) in done
        for transport in ("tcp", "inproc"):
            assert ("reqrep", transport, 4096, 0, impl) in done
        for clients in QUICK_ROUTER_CLIENTS:
            assert ("router", "tcp", 16, clients, impl) in done
        for size in (16, 4096):
            assert ("proxy", "tcp", size, 0, impl) in done
        assert ("churn", "tcp", 16, 0, impl) in done
    assert not ran(saved, test="router", transport="inproc")
    assert not ran(saved, test="proxy", transport="inproc")
    assert {run["size"] for run in ran(saved, impl="gevent.socket")} == {16, 4096}
    assert {run["transport"] for run in ran(saved, impl="gevent.socket")} == {"tcp"}


def test_greenmq_cells_produced_figures(quick_run):
    _, _, saved = quick_run
    for median in saved["medians"]:
        if median["impl"] == "greenmq":
            assert median["status"] == "ok", median


def test_router_runs_report_storm_memory_and_layout(quick_run):
    """Each router run: all clients were served (in as many processes as planned), storm and RSS measured."""
    _, _, saved = quick_run
    runs = [run for run in ran(saved, test="router") if run["status"] == "ok"]
    assert {run["impl"] for run in runs} == set(BENCH_IMPLS)
    for run in runs:
        result = run["result"]
        assert result["clients"] == run["scale"]
        assert result["processes"] == client_processes(run["scale"], quick=True)
        assert result["round_trips_per_s"] > 0 and result["round_trips"] > 0
        assert result["client_round_trips"] >= result["round_trips"]  # the clients' count includes the warm-up
        assert 0 < result["storm_s"] < 20
        assert result["rss_after"] > 0 and result["rss_before"] > 0
        assert result["nofile"][1] >= result["nofile"][0]
        polled = "a zmq.Poller loop over all the process's DEALERs"
        assert result["clients_run_as"] == (polled if run["impl"] == "pyzmq" else "a greenlet per client")


def test_churn_and_proxy_runs_count_what_they_timed(quick_run):
    _, _, saved = quick_run
    for run in ran(saved, test="churn", status="ok"):
        result = run["result"]
        assert result["cycles"] == run["count"]
        assert result["cycles_per_s"] == pytest.approx(1e6 / result["us_per_cycle"])
    for run in ran(saved, test="proxy", status="ok"):
        assert run["result"]["messages"] == run["count"] - 1  # timed from the first message to the last
        assert run["result"]["msgs_per_s"] > 0


def test_pubsub_counts_what_every_subscriber_received(quick_run):
    """Each pub/sub run reports, per SUB, what it received and what the PUB dropped for it; they add up."""
    _, _, saved = quick_run
    runs = ran(saved, test="pubsub", status="ok")
    assert {run["impl"] for run in runs} == set(BENCH_IMPLS)
    for run in runs:
        result = run["result"]
        assert len(result["received"]) == len(result["drops"]) == 4
        for received, dropped in zip(result["received"], result["drops"]):
            assert 0 <= received <= result["published"] == run["count"]
            assert received + dropped == result["published"]
        assert result["delivered_per_s"] > 0


def test_json_holds_every_ratio(quick_run):
    """--json saves each ratio the tables show: one per cell, figure and other implementation."""
    _, _, saved = quick_run
    ratios = {(r["test"], r["size"], r["scale"], r["figure"], r["other"]): r["ratio"] for r in saved["ratios"]}
    for other in BENCH_IMPLS[1:]:
        for figure in ("round_trips_per_s", "storm_s", "rss_per_connection"):
            assert ratios["router", 16, QUICK_ROUTER_CLIENTS[-1], figure, other] is not None
        assert ratios["churn", 16, 0, "cycles_per_s", other] is not None
        assert ratios["proxy", 16, 0, "msgs_per_s", other] is not None
        assert ratios["reqrep", 4096, 0, "median_us", other] is not None


def test_progress_lines_number_every_run(quick_run):
    """Not a terminal: one numbered line per run, [n/total], with the run's figures."""
    _, err, saved = quick_run
    lines = [line for line in err.splitlines() if line.startswith("[")]
    kept = [run for run in saved["runs"] if not run.get("discarded")]
    assert len(lines) == len(saved["runs"])  # no calibration under --quick: one line per run
    total = len(kept)
    assert lines[0].startswith(f"[{1:>{len(str(total))}}/{total}] throughput tcp 16 B")
    assert lines[-1].startswith(f"[{total}/{total}] ")
    assert any(" router tcp 100 clients " in line and "round trips/s, connect storm" in line for line in lines)
    assert "\r" not in err


def test_router_churn_and_proxy_run_over_tcp_only():
    """--only and --tests select the cells: router, proxy and churn need tcp, REQ/REP over tcp adds the floor."""
    assert plan(parse_args(["--tests", "router,proxy,churn", "--only", "ipc,inproc"])) == []
    assert plan(parse_args(["--tests", "reqrep,router", "--only", "inproc,tcp", "--rt-sizes", "16"])) == [
        Cell("reqrep", "inproc", 16), Cell("reqrep", "tcp", 16), Cell("router", "tcp", 16, 200),
        Cell("router", "tcp", 16, 1000), Cell("router", "tcp", 16, 4000)]
    assert plan(parse_args(["--tests", "pubsub"])) == [Cell("pubsub", transport, 16)
                                                       for transport in ("tcp", "ipc", "inproc")]
    assert plan(parse_args(["--tests", "proxy,churn"])) == [Cell("proxy", "tcp", 16), Cell("proxy", "tcp", 4096),
                                                            Cell("churn", "tcp", 16)]
    assert impls_for(Cell("reqrep", "tcp", 4096), ["greenmq"]) == ["greenmq", "gevent.socket"]
    assert impls_for(Cell("reqrep", "ipc", 16), ["greenmq"]) == ["greenmq"]

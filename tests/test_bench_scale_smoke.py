"""``python -m greenmq bench --scale --quick``: the scale group's two series run and print a table each.

The quick counts stand in for 100 / 1 000 / 4 000 / 10 000 connections and
10 / 1 000 / 100 000 subscriptions; the code path is the one full runs take
(several client processes, many subscriptions sent after connecting).
"""

import pytest

from greenmq.bench.plan import QUICK_SCALE_CONNECTIONS, QUICK_SCALE_SUBSCRIPTIONS

from bench_support import ran, run_bench
from support import BENCH_IMPLS

pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]  # benchmark processes (see test_bench_smoke.py)


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory):
    """``--scale`` on top of the churn test alone: (stdout, saved JSON)."""
    out, _, saved = run_bench(tmp_path_factory.mktemp("bench"), "--quick", "--tests", "churn", "--scale")
    return out, saved


def test_prints_a_table_per_series(scale_run):
    out, _ = scale_run
    assert "connection churn" in out  # what --tests chose still runs
    assert "scale: ROUTER echo server as connections grow" in out
    assert "scale: PUB matching cost" in out
    assert "ROUTER echo server, DEALER clients in ping-pong loops" not in out  # the router test was not chosen
    lines = out.splitlines()
    for connections in QUICK_SCALE_CONNECTIONS:
        for figure in ("round trips/s", "server RSS KiB/connection"):
            assert sum(line.startswith(f"{connections} ") and f" {figure} " in line for line in lines) == 1
    for impl in BENCH_IMPLS:
        assert f"{impl} published msg/s" in out and f"{impl} vs {QUICK_SCALE_SUBSCRIPTIONS[0]}" in out


def test_every_implementation_ran_both_series(scale_run):
    _, saved = scale_run
    for impl in BENCH_IMPLS:
        routers = ran(saved, test="router", impl=impl, status="ok")
        assert sorted(run["scale"] for run in routers) == sorted(QUICK_SCALE_CONNECTIONS)
        matches = ran(saved, test="match", impl=impl, status="ok")
        assert sorted(run["scale"] for run in matches) == sorted(QUICK_SCALE_SUBSCRIPTIONS)
        for run in matches:
            result = run["result"]
            assert result["subscriptions"] == run["scale"]
            assert result["published"] == run["count"] and result["published_per_s"] > 0
            assert 0 < result["received"] <= result["published"]  # the one matching subscription got through

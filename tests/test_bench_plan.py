"""The benchmark's planning, ratios, targets and progress line, without running a benchmark.

Which cells a command line selects, how the router test splits its clients
over processes, when a cell is skipped for want of file descriptors, which way
each ratio points, how targets are judged, what the progress line writes to a
terminal and elsewhere, and that a worker process loads its code without
importing greenmq.
"""

import io
import subprocess
import sys
from pathlib import Path

import pytest

import greenmq.bench
from greenmq.bench import plan, report, targets
from greenmq.bench.cli import parse_args
from greenmq.bench.plan import Cell
from greenmq.bench.progress import CLEAR, Progress
from greenmq.bench.workload import main as worker
from greenmq.bench.workload.router import process_share


def test_scale_comes_last_and_shares_the_router_counts_it_has_in_common():
    cells = plan.plan(parse_args(["--tests", "router", "--scale"]))
    routers = [cell.scale for cell in cells if cell.test == "router"]
    assert routers == [200, 1000, 4000, 100, 10000]  # 1 000 and 4 000 run once, for both tables
    assert [cell.scale for cell in cells if cell.test == "match"] == [10, 1000, 100_000]
    assert cells[-1] == Cell("match", "tcp", 16, 100_000)
    assert plan.plan(parse_args(["--tests", "scale", "--only", "ipc,inproc"])) == []
    assert "scale" not in parse_args([]).tests
    assert parse_args(["--tests", "scale"]).tests == ["scale"]


def test_rt_sizes_apply_to_reqrep_only():
    cells = plan.plan(parse_args(["--tests", "latency,reqrep", "--only", "tcp", "--rt-sizes", "16,4k,64k"]))
    assert cells == [Cell("latency", "tcp", 16), Cell("reqrep", "tcp", 16), Cell("reqrep", "tcp", 4096),
                     Cell("reqrep", "tcp", 65536)]


@pytest.mark.parametrize(("clients", "processes"), [(7, 3), (50, 2), (4000, 2), (10000, 4)])
def test_clients_are_split_evenly_over_processes_and_each_runs_once(clients, processes):
    shares = [process_share(clients, processes, index) for index in range(processes)]
    assert sorted(number for share in shares for number in share) == list(range(clients))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_router_cells_get_processes_time_and_descriptors_by_client_count():
    assert [plan.client_processes(count, quick=False) for count in (200, 1000, 4000, 10000)] == [1, 1, 2, 4]
    assert [plan.client_processes(count, quick=True) for count in (20, 50, 100)] == [1, 2, 3]
    big = Cell("router", "tcp", 16, 4000)
    assert plan.shape(big, 20.0, quick=False) == plan.Shape(True, 2, False, 60.0)
    assert plan.shape(Cell("proxy", "tcp", 16), 20.0, quick=False).relay
    assert plan.shape(Cell("pubsub", "inproc", 16), 20.0, quick=False).needs_peer is False
    assert plan.descriptors_needed(big, quick=False) == 4000 + plan.DESCRIPTOR_MARGIN
    assert plan.descriptors_needed(Cell("churn", "tcp", 16), quick=False) == 0
    assert plan.skip_reason(big, False, 20000) is None
    assert plan.skip_reason(big, False, None) is None
    assert plan.skip_reason(big, False, 1024) == (
        f"needs ~{4000 + plan.DESCRIPTOR_MARGIN} open files in one process, and the hard RLIMIT_NOFILE is 1024")


def test_worker_options_select_each_new_test():
    router = plan.worker_argv(Cell("router", "tcp", 16, 4000), ("pyzmq", "null"), 0, quick=False)
    assert router[router.index("--clients") + 1] == "4000" and router[router.index("--processes") + 1] == "2"
    match = plan.worker_argv(Cell("match", "tcp", 16, 1000), ("greenmq", "null"), 500, quick=False)
    assert match[match.index("--subscriptions") + 1] == "1000"
    churn = plan.worker_argv(Cell("churn", "tcp", 16), ("greenmq", "null"), 5000, quick=False)
    assert churn[churn.index("--warmup") + 1] == "500"
    for argv in (router, match, churn):
        worker.parse_args([*argv, "--role", "measure", "--bind", "tcp://127.0.0.1"])  # the worker accepts them


def test_worker_refuses_a_role_the_test_does_not_have(capsys):
    with pytest.raises(SystemExit):
        worker.parse_args(["--impl", "greenmq", "--test", "churn", "--role", "relay", "--transport", "tcp",
                           "--bind", "tcp://127.0.0.1"])
    assert "the churn test has no relay role" in capsys.readouterr().err


def test_churn_counts_are_calibrated_but_capped():
    churn = Cell("churn", "tcp", 16)
    assert plan.first_count(churn, quick=False) == 5000
    assert plan.rescaled(5000, 0.01, churn) == plan.MAX_CHURN_CYCLES
    assert plan.rescaled(5000, 4.0, churn) == 1000
    assert not plan.calibrated(Cell("router", "tcp", 16, 200))


def _summaries(cell, **figures_by_impl):
    return {(*cell, impl, report.NULL): report.Summary("ok", 1, **figures) for impl, figures in figures_by_impl.items()}


def test_ratios_point_up_when_greenmq_does_better():
    cell = Cell("router", "tcp", 16, 4000)
    found = _summaries(cell, greenmq={"round_trips_per_s": 30.0, "storm_s": 1.0, "rss_per_connection": 8192.0},
                       pyzmq={"round_trips_per_s": 20.0, "storm_s": 3.0, "rss_per_connection": -1.0})
    mine, theirs = found[(*cell, "greenmq", "null")], found[(*cell, "pyzmq", "null")]
    assert report.ratio(mine, theirs, report.ROUND_TRIPS) == 1.5
    assert report.ratio(mine, theirs, report.STORM) == 3.0  # pyzmq's time over greenmq's
    assert report.ratio(mine, theirs, report.RSS_PER_CONNECTION) is None  # a negative difference is noise
    rows = report.ratio_rows(found, [cell], ["greenmq", "pyzmq"])
    assert [(row["figure"], row["ratio"]) for row in rows] == [
        ("round_trips_per_s", 1.5), ("storm_s", 3.0), ("rss_per_connection", None)]
    assert rows[0]["label"] == "router tcp 4000 clients: round trips/s"


def test_targets_are_judged_on_the_right_figures():
    by_label = {target.label: target for target in targets.issue_targets(quick=False)}
    floor = by_label["REQ/REP 16 B tcp: greenmq median within 10 us of the raw gevent floor (same run)"]
    reqrep = Cell("reqrep", "tcp", 16)
    found = _summaries(reqrep, greenmq={"median_us": 50.0}, pyzmq={"median_us": 60.0},
                       **{"gevent.socket": {"median_us": 42.0}})
    assert floor.value(found) == 8.0 and floor.verdict(8.0) == "met" and floor.verdict(10.5) == "MISSED"
    ratio_target = by_label["REQ/REP 16 B tcp round trip (pyzmq median / greenmq's) >= 1.1"]
    assert ratio_target.value(found) == pytest.approx(1.2) and ratio_target.verdict(1.2) == "met"
    memory = by_label["memory per idle tcp connection, ROUTER side (4000 clients) <= 16 KiB"]
    router = Cell("router", "tcp", 16, 4000)
    assert memory.value(_summaries(router, greenmq={"rss_per_connection": 12288.0})) == 12288.0
    assert memory.verdict(16384.0) == "met" and memory.verdict(16385.0) == "MISSED"
    churn = by_label["churn >= 1/1.5 of pyzmq's (libzmq's) cycles/s (ratio >= 0.67)"]
    assert churn.verdict(0.67) == "met" and churn.verdict(0.66) == "MISSED"
    assert "connect storm 4000 clients no slower than pyzmq (pyzmq time / greenmq's >= 1.0)" in by_label
    section = targets.targets_section({}, quick=True)
    assert "ROUTER echo 100 clients" in section and "[   n/a]" in section


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_a_status_line_on_a_terminal():
    stream = _Terminal()
    progress = Progress(12, stream)
    progress.starting("reqrep tcp 4 KiB pyzmq run 2")
    assert stream.getvalue() == f"{CLEAR}[ 1/12] reqrep tcp 4 KiB pyzmq run 2 ..."
    progress.line("reqrep tcp 4 KiB pyzmq run 2: median 80 us")
    progress.advance()
    progress.starting("reqrep tcp 4 KiB zmq.green run 2")
    progress.close()
    assert stream.getvalue().split(CLEAR) == [
        "", "[ 1/12] reqrep tcp 4 KiB pyzmq run 2 ...", "[ 1/12] reqrep tcp 4 KiB pyzmq run 2: median 80 us\n",
        "[ 2/12] reqrep tcp 4 KiB zmq.green run 2 ...", ""]


def test_progress_writes_one_line_per_run_elsewhere():
    stream = io.StringIO()
    progress = Progress(3, stream)
    for number in range(3):
        progress.starting(f"run {number}")
        progress.line(f"run {number}: done")
        progress.advance()
    progress.close()
    assert stream.getvalue() == "[1/3] run 0: done\n[2/3] run 1: done\n[3/3] run 2: done\n"


def test_a_worker_process_loads_its_code_without_greenmq_or_gevent():
    """worker.py, run by path, imports greenmq/bench/workload/ under a private name: no greenmq, no gevent."""
    path = Path(greenmq.bench.__file__).with_name("worker.py")
    script = (f"import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('entry', {str(path)!r})\n"
              f"entry = importlib.util.module_from_spec(spec)\n"
              f"spec.loader.exec_module(entry)\n"
              f"main = entry.load_workload()\n"
              f"assert callable(main.main) and main.ROLES\n"
              f"print(sorted(name for name in sys.modules if name.split('.')[0] in ('greenmq', 'gevent', 'zmq')))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

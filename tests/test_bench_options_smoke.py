"""The benchmark's ipc rows, ``--rt-sizes``, ``--plot`` and descriptor-limit skips, each in a quick run.

test_bench_smoke.py runs every default test over tcp and inproc; this adds the
rows only ipc has (REQ/REP at each ``--rt-sizes`` size, PUB to 4 SUBs) with a
``--plot`` drawn from them, and a router run whose largest cell cannot fit in
the file-descriptor limit it was given, which must say "skipped" and why
instead of failing.
"""

import resource
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from greenmq.bench.plan import QUICK_ROUTER_CLIENTS, Cell, descriptors_needed

from bench_support import ran, run_bench
from support import BENCH_IMPLS, ROOT

pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]  # benchmark processes (see test_bench_smoke.py)


@pytest.fixture(scope="module")
def ipc_run(tmp_path_factory):
    """REQ/REP and pub/sub over ipc, REQ/REP at 16 B and 1 KiB, with a plot: (stdout, stderr, JSON, plot path)."""
    directory = tmp_path_factory.mktemp("bench")
    drawn = directory / "ratios.svg"
    out, err, saved = run_bench(directory, "--quick", "--tests", "reqrep,pubsub", "--only", "ipc",
                                "--rt-sizes", "16,1k", "--plot", str(drawn))
    return out, err, saved, drawn


def test_ipc_rows_at_each_round_trip_size(ipc_run):
    out, _, saved, _ = ipc_run
    lines = out.splitlines()
    for size in ("16 B", "1 KiB"):
        assert any(line.split()[:3] == ["ipc", *size.split()] for line in lines), size
    for impl in BENCH_IMPLS:
        assert {run["size"] for run in ran(saved, test="reqrep", impl=impl, status="ok")} == {16, 1024}
        assert ran(saved, test="pubsub", transport="ipc", impl=impl, status="ok")
    assert not ran(saved, impl="gevent.socket")  # the floor is for tcp only
    assert "PUB to 4 SUB 16 B ipc >= 1.0x pyzmq delivered msg/s" in out


def test_plot_draws_the_ratios(ipc_run):
    out, _, saved, drawn = ipc_run
    assert f"plot: {drawn}" in out
    root = ElementTree.parse(drawn).getroot()
    assert root.tag.endswith("svg")
    bars = [element for element in root.iter() if element.get("id", "").startswith("patch_")]
    computed = [row for row in saved["ratios"] if row["ratio"] is not None]
    assert len(computed) == 3 * (len(BENCH_IMPLS) - 1)  # REQ/REP at two sizes and pub/sub, against each other
    assert len(bars) >= len(computed)  # one bar per ratio (plus the axes' own background patches)


def test_plot_needs_a_known_file_type_and_matplotlib(tmp_path):
    """Both are checked before anything runs: the command fails at once with a clear message."""
    wrong = subprocess.run([sys.executable, "-m", "greenmq.bench", "--quick", "--plot", str(tmp_path / "x.txt")],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert wrong.returncode == 2
    assert "must end with one of .svg, .png, .pdf" in wrong.stderr
    without = ("import sys; sys.modules['matplotlib'] = None; from greenmq.bench.cli import main; "
               f"sys.exit(main(['--quick', '--plot', {str(tmp_path / 'x.svg')!r}]))")
    missing = subprocess.run([sys.executable, "-c", without], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert missing.returncode == 2
    assert "--plot needs matplotlib" in missing.stderr and 'pip install "greenmq[plot]"' in missing.stderr
    assert not (tmp_path / "x.svg").exists()


def test_a_cell_beyond_the_descriptor_limit_is_skipped_with_the_reason(tmp_path):
    """With a hard RLIMIT_NOFILE that fits the smaller router cells only, the largest reads "skipped"."""
    largest = Cell("router", "tcp", 16, QUICK_ROUTER_CLIENTS[-1])
    limit = descriptors_needed(largest, quick=True) - 1
    assert limit > descriptors_needed(Cell("router", "tcp", 16, QUICK_ROUTER_CLIENTS[-2]), quick=True)

    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    out, err, saved = run_bench(tmp_path, "--quick", "--tests", "router", impls=["greenmq"], preexec_fn=lower_limit)
    skipped = ran(saved, test="router", scale=largest.scale)
    assert [run["status"] for run in skipped] == ["skipped"]
    assert f"hard RLIMIT_NOFILE is {limit}" in skipped[0]["error"]
    for clients in QUICK_ROUTER_CLIENTS[:-1]:
        assert [run["status"] for run in ran(saved, test="router", scale=clients)] == ["ok"]
        assert ran(saved, test="router", scale=clients)[0]["result"]["nofile"][1] == limit
    row = next(line for line in out.splitlines() if line.startswith(f"{largest.scale} ") and "round trips/s" in line)
    assert "skipped" in row
    assert f"router tcp {largest.scale} clients greenmq run 1: skipped: needs ~" in out  # the problems section
    assert "skipped" in err

"""``python -m greenmq bench``: greenmq against pyzmq and zmq.green, same code, one table.

The benchmark code (:mod:`greenmq.bench.worker`) is written once against
the pyzmq API and run on each implementation in fresh worker processes, so the
three never share an interpreter, and a tcp/ipc sender or echo can live in a
second process, as with libzmq's ``local_thr``/``remote_thr``:

* ``throughput``: PUSH/PULL throughput for each message size, timed on the
  receiver from the first message to the last;
* ``latency``: PAIR round-trip latency of a 16-byte message (median and p99);
* ``reqrep``: the same round trip through REQ/REP, with, over tcp, the floor
  under it: a raw ``gevent.socket`` ping-pong between two processes;
* ``router``: a ROUTER echo server with 200 DEALER clients in ping-pong loops in
  another process (greenlets, or one thread each under pyzmq), over tcp:
  aggregate round trips per second over a fixed time after a warm-up;
* ``pubsub``: one PUB publishing 16-byte messages to 4 SUBs subscribed to a
  common prefix, over tcp (a process each) and inproc (one process; SUBs in
  greenlets, or threads under pyzmq): aggregate delivered messages per second,
  each subscriber timed from its first message to its last, and the drops;
* ``curve``: what CURVE security costs, over tcp: 1 KiB PUSH/PULL throughput
  and the 16-byte PAIR round trip, each run with CURVE and with NULL, the two
  alternating, through the throughput and latency code with ``--security``.

This module only plans runs, keeps each near a target duration, and reports;
:mod:`greenmq.bench.runner` runs them under a deadline and
:mod:`greenmq.bench.report` prints medians, ratios and the issue's targets.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from . import report
from .report import CURVE_LATENCY, CURVE_THROUGHPUT
from .runner import run_cell
from .worker import FLOOR, IMPLEMENTATIONS, PUBSUB_SUBSCRIBERS, ROUTER_CLIENTS

TESTS = ("throughput", "latency", "reqrep", "router", "pubsub", "curve")
# The curve group's cells (named in report) and what each runs in the worker, with --security curve or null.
WORKER_TESTS = {CURVE_THROUGHPUT: "throughput", CURVE_LATENCY: "latency"}
CURVE_SIZE = 1 << 10
SECURITIES = ("curve", "null")  # the order in which a curve cell's runs alternate, per implementation
ROUND_TRIP_TESTS = ("latency", "reqrep", CURVE_LATENCY)
TRANSPORTS = ("tcp", "ipc", "inproc")
SIZES = (16, 256, 4 << 10, 64 << 10, 1 << 20)
LATENCY_SIZE = 16
# Runs shorter than this are too noisy to keep: they only calibrate the count.
MIN_SECONDS, TARGET_SECONDS, MAX_SECONDS = 0.5, 0.8, 2.0
CALIBRATION_RERUNS = 4
MAX_COUNT = 20_000_000
MAX_GROWTH = 20  # a short run may mostly show start-up effects: grow its count step by step
DEFAULT_HWM = 1000
QUEUE_BYTES = 16 << 20
# The router test runs for a fixed time, not a count: (warm-up, timed) seconds.
ROUTER_SECONDS, QUICK_ROUTER_SECONDS = (0.5, 1.5), (0.05, 0.2)
# Where each test runs: the router and CURVE only over tcp, pub/sub over tcp (a process per SUB) and inproc.
TEST_TRANSPORTS = {"router": ("tcp",), "pubsub": ("tcp", "inproc"), "curve": ("tcp",)}
RETRY_BUDGET = 3  # reruns after a failed run, per implementation and whole benchmark
BACKLOG_FACTOR = 20  # kept throughput runs send at least this many high-water marks' worth
_IMPORT_NAMES = {"greenmq": "greenmq", "pyzmq": "zmq", "zmq.green": "zmq"}


def hwm_for(size):
    """SNDHWM/RCVHWM for a throughput run: the default, lowered to keep <= 16 MiB queued.

    A receiver may read up to RCVHWM messages before the application sees the
    first one; timed from first to last message, that backlog would count as
    free.  Bounding it in bytes keeps it small next to what a run sends, for
    every implementation alike, without making runs of big messages last long.
    """
    return max(16, min(DEFAULT_HWM, QUEUE_BYTES // size))


def first_count(test, size, quick):
    """Messages (or round trips) for the first run of a cell.

    Sized so that the fastest implementation needs ~0.1-0.3 s and a slow one
    stays far from the timeout; later runs are rescaled from what was seen.
    Big messages get fewer: the budget is in bytes as much as in messages.
    """
    if test in ROUND_TRIP_TESTS:
        return 200 if quick else 5000
    if test == "router":
        return 0  # timed, not counted
    if test == "pubsub":
        return 2000 if quick else 100_000  # published; each of the subscribers may receive them all
    if quick:
        return min(2000, max(10, 4_000_000 // size))
    if test == CURVE_THROUGHPUT:
        return BACKLOG_FACTOR * hwm_for(size)  # CURVE may be several times slower than NULL: start low, grow
    return min(200_000, max(BACKLOG_FACTOR * hwm_for(size), 300_000_000 // size))


def rescaled(count, elapsed, test, size):
    """The count that should take about TARGET_SECONDS, judging by a run of ``elapsed``."""
    floor = 10 if test in ROUND_TRIP_TESTS else BACKLOG_FACTOR * hwm_for(size)
    wanted = count * MAX_GROWTH if elapsed <= 0 else int(count * TARGET_SECONDS / elapsed)
    return max(floor, min(MAX_COUNT, count * MAX_GROWTH, wanted))


def plan(args):
    """Cells in run order: (test, transport, size); all but throughput use one 16-byte size.

    The router test runs over tcp only, pub/sub over tcp and inproc (when selected).
    The curve group is two cells over tcp: 1 KiB PUSH/PULL and the 16-byte PAIR round trip
    (``--sizes`` does not apply: the issue's figure is for 1 KiB).
    """
    cells = []
    for test in args.tests:
        for transport in args.only:
            if transport not in TEST_TRANSPORTS.get(test, TRANSPORTS):
                continue
            if test == "curve":
                cells += [(CURVE_THROUGHPUT, transport, CURVE_SIZE), (CURVE_LATENCY, transport, LATENCY_SIZE)]
                continue
            sizes = args.sizes if test == "throughput" else (LATENCY_SIZE,)
            cells += [(test, transport, size) for size in sizes]
    return cells


def impls_for(cell, impls):
    """Who runs a cell: each chosen implementation, plus the raw gevent TCP floor in REQ/REP over tcp.

    The floor takes its turn in the same round-robin as the implementations,
    so that "greenmq is N times the floor" compares runs made side by side:
    on a shared machine the round trip over loopback drifts by 2-3x over minutes.
    """
    return [*impls, FLOOR] if cell[:2] == ("reqrep", "tcp") else impls


def entrants_for(cell, impls):
    """The (implementation, security) pairs that take turns in a cell's round-robin.

    In the curve cells each implementation runs with CURVE and then with NULL,
    back to back, so that its CURVE/NULL ratio, like greenmq's ratios to the
    others, compares runs made side by side.  Every other cell runs NULL only.
    """
    if cell[0] in WORKER_TESTS:
        return [(impl, security) for impl in impls for security in SECURITIES]
    return [(impl, "null") for impl in impls_for(cell, impls)]


class Bench:
    """Runs the planned cells, keeps every raw record, and remembers each cell's count."""

    def __init__(self, args, ipc_dir):
        self.args = args
        self.ipc_dir = ipc_dir
        self.records = []
        self._serial = 0

    def _bind_address(self, transport, impl):
        """Where the measuring worker binds: tcp picks a free port; ipc a fresh path."""
        self._serial += 1
        if transport == "tcp":
            return "tcp://127.0.0.1"
        if transport == "ipc":
            return f"ipc://{self.ipc_dir}/{impl}-{self._serial}.sock"
        return f"inproc://bench-{self._serial}"

    def _once(self, cell, entrant, count):
        """One run of a cell in fresh worker processes."""
        test, transport, size = cell
        impl, security = entrant
        argv = ["--impl", impl, "--test", WORKER_TESTS.get(test, test), "--transport", transport,
                "--size", str(size), "--count", str(count), "--security", security]
        if test in ROUND_TRIP_TESTS:
            argv += ["--warmup", str(max(10, count // 10))]
        elif test == "router":
            warmup, seconds = QUICK_ROUTER_SECONDS if self.args.quick else ROUTER_SECONDS
            argv += ["--clients", str(ROUTER_CLIENTS), "--warmup-seconds", str(warmup), "--duration", str(seconds)]
        elif test == "pubsub":
            argv += ["--subscribers", str(PUBSUB_SUBSCRIBERS)]  # default HWMs: what PUB then drops is reported
        elif hwm_for(size) != DEFAULT_HWM:
            argv += ["--hwm", str(hwm_for(size))]
        bind = self._bind_address(transport, impl)
        peers = PUBSUB_SUBSCRIBERS if test == "pubsub" else 1
        return run_cell(argv, needs_peer=transport != "inproc", bind=bind, timeout=self.args.timeout, peers=peers)

    def measure(self, cell, entrant, rep, counts):
        """One kept run of a cell by an (implementation, security) entrant; first reruns too-short runs.

        Every run is recorded; calibration runs are marked ``discarded`` so the
        JSON shows them but the medians do not use them.
        """
        test, _, size = cell
        for attempt in range(CALIBRATION_RERUNS + 1):
            count = counts[entrant]
            outcome = self._once(cell, entrant, count)
            record = self._record(cell, entrant, rep, count, outcome)
            if outcome.status != "ok" or self.args.quick or test == "router":
                return outcome  # the router test runs for a set time: nothing to calibrate
            elapsed = outcome.result["elapsed"]
            if not MIN_SECONDS <= elapsed <= MAX_SECONDS:
                counts[entrant] = rescaled(count, elapsed, test, size)
            if elapsed >= MIN_SECONDS or attempt == CALIBRATION_RERUNS:
                return outcome
            record["discarded"] = True
            _progress(f"    (calibration: {elapsed:.2f} s at count {count}; retrying with {counts[entrant]})")
        return outcome

    def _record(self, cell, entrant, rep, count, outcome):
        test, transport, size = cell
        impl, security = entrant
        record = {"test": test, "transport": transport, "size": size, "impl": impl, "security": security,
                  "rep": rep, "count": count, **asdict(outcome)}
        self.records.append(record)
        _progress(_describe_run(record))
        return record

    def run(self, cells):
        """All cells; in each, repetitions round-robin over implementations to share drift.

        A failed run is retried in the next repetition (zmq.green, for one, hangs
        only now and then), but a second failure ends that implementation's (or,
        in a curve cell, that implementation-and-security's) cell, and only
        RETRY_BUDGET retries are spent per implementation in the whole run, so a
        broken implementation cannot stretch it by many timeouts.
        """
        retries = {impl: RETRY_BUDGET for impl in [*self.args.impl, FLOOR]}
        for cell in cells:
            entrants = entrants_for(cell, self.args.impl)
            counts = {entrant: first_count(cell[0], cell[2], self.args.quick) for entrant in entrants}
            failures = dict.fromkeys(entrants, 0)
            for rep in range(1, self.args.repeat + 1):
                for entrant in entrants:
                    impl = entrant[0]
                    if failures[entrant] and (failures[entrant] > 1 or retries[impl] == 0):
                        continue
                    if failures[entrant]:
                        retries[impl] -= 1
                    if self.measure(cell, entrant, rep, counts).status != "ok":
                        failures[entrant] += 1


def _describe_run(record):
    """One progress line for a finished run."""
    who = record["impl"] + ("+CURVE" if record.get("security") == "curve" else "")
    where = (f"{record['test']:<16} {record['transport']:<6} {report.fmt_size(record['size']):>7} "
             f"{who:<15} run {record['rep']}")
    if record["status"] != "ok":
        return f"{where}: {record['status']}: {record['error']}"
    result = record["result"]
    if "delivered_per_s" in result:
        return (f"{where}: {report.fmt_rate(result['delivered_per_s'])} msg/s delivered to {result['subscribers']} "
                f"SUBs ({result['subscribers_run_as']}), {report.fmt_rate(result['published_per_s'])} msg/s "
                f"published; received {result['received']} of {result['published']} each, "
                f"{report.fmt_drops(result['drop_fraction'])} dropped ({result['elapsed']:.2f} s)")
    if "round_trips_per_s" in result:
        return (f"{where}: {report.fmt_rate(result['round_trips_per_s'])} round trips/s, {result['clients']} "
                f"clients as {result['clients_run_as']} ({result['elapsed']:.2f} s timed)")
    if "msgs_per_s" in result:
        figure = f"{report.fmt_rate(result['msgs_per_s'])} msg/s, {report.fmt_number(result['mb_per_s'])} MB/s"
    else:
        figure = f"median {result['median_us']:.1f} us, p99 {result['p99_us']:.1f} us"
    return f"{where}: {figure} ({result['elapsed']:.2f} s, count {record['count']})"


def _progress(line):
    """Progress goes to stderr, so stdout carries only the report."""
    print(line, file=sys.stderr, flush=True)


# -- command line ---------------------------------------------------------------------------


def _choices(allowed):
    """argparse type for a comma-separated subset of ``allowed``, kept in the order given."""

    def parse(text):
        chosen = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in chosen if item not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (got {text!r})")
        return list(dict.fromkeys(chosen))

    return parse


def _sizes(text):
    """Comma-separated message sizes in bytes; ``k`` and ``M`` suffixes mean KiB and MiB."""
    sizes = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        scale = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20}.get(item[-1], 1)
        try:
            size = int(item[:-1] if scale > 1 else item) * scale
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {item!r}") from None
        if size < 1:
            raise argparse.ArgumentTypeError(f"sizes must be at least 1 byte: {item!r}")
        sizes.append(size)
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sizes


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m greenmq bench",
        description="Throughput, latency, request-reply, fan-out and the cost of CURVE security of greenmq, pyzmq "
                    "and zmq.green, running the same code.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny counts and one run per cell: checks the benchmark works (smoke tests, CI)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per cell whose median is quoted (default 3, or 1 with --quick)")
    parser.add_argument("--only", type=_choices(TRANSPORTS), default=list(TRANSPORTS), metavar="TRANSPORTS",
                        help="comma-separated transports (default tcp,ipc,inproc); router and curve run over tcp "
                             "only, pubsub over tcp and inproc")
    parser.add_argument("--sizes", type=_sizes, default=list(SIZES), metavar="SIZES",
                        help="throughput message sizes in bytes, k/M suffixes allowed (default 16,256,4k,64k,1M; "
                             "the curve group always uses 1k)")
    parser.add_argument("--impl", type=_choices(IMPLEMENTATIONS), default=list(IMPLEMENTATIONS), metavar="IMPLS",
                        help="comma-separated implementations (default greenmq,pyzmq,zmq.green)")
    parser.add_argument("--tests", type=_choices(TESTS), default=list(TESTS), metavar="TESTS",
                        help="comma-separated tests (default throughput,latency,reqrep,router,pubsub,curve): "
                             "PUSH/PULL throughput, PAIR round trip, REQ/REP round trip (plus a raw gevent TCP "
                             f"floor), ROUTER echo server with {ROUTER_CLIENTS} DEALER clients, "
                             f"PUB to {PUBSUB_SUBSCRIBERS} SUBs, CURVE against NULL security over tcp "
                             f"({report.fmt_size(CURVE_SIZE)} PUSH/PULL throughput and {LATENCY_SIZE} B PAIR "
                             "round trip; fresh keys each run, no ZAP)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds before a run's workers are killed and the cell reads 'timeout' "
                             "(default 20)")
    parser.add_argument("--json", metavar="FILE", help="also save every raw run and the medians as JSON")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.timeout is None:
        args.timeout = 20.0
    return args


def _installed(impls):
    """Drop implementations whose library is missing, saying so, instead of failing every cell."""
    present = []
    for impl in impls:
        if importlib.util.find_spec(_IMPORT_NAMES[impl]) is None:
            print(f"note: {impl} is not installed; its columns are skipped", file=sys.stderr)
        else:
            present.append(impl)
    return present


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _environment(args):
    """What the figures depend on besides the code, printed above the tables and saved."""
    from .. import __version__

    return {
        "greenmq": __version__, "pyzmq": _version("pyzmq"), "gevent": _version("gevent"),
        "python": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "repeat": args.repeat, "timeout": args.timeout, "quick": args.quick,
    }


def print_report(bench, cells, env):
    """Tables, targets, problems: everything the run established, on stdout."""
    summaries = report.summarize(bench.records)
    impls, repeat = bench.args.impl, bench.args.repeat
    print(f"greenmq bench: greenmq {env['greenmq']}, pyzmq {env['pyzmq']}, gevent {env['gevent']}; "
          f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs")
    sections = [report.libraries_line(bench.records)]
    if bench.args.quick:
        sections.append("--quick: counts are tiny, so the figures only show that every cell runs")
    if any(cell[0] == "throughput" for cell in cells):
        sections.append(report.throughput_table(summaries, cells, impls, repeat))
    if any(cell[0] == "latency" for cell in cells):
        sections.append(report.latency_table(summaries, cells, impls, repeat))
    if any(cell[0] == "reqrep" for cell in cells):
        sections.append(report.reqrep_table(summaries, cells, impls, repeat))
    if any(cell[0] == "router" for cell in cells):
        warmup, seconds = QUICK_ROUTER_SECONDS if bench.args.quick else ROUTER_SECONDS
        sections.append(report.router_table(summaries, cells, impls, repeat, ROUTER_CLIENTS, warmup, seconds))
    if any(cell[0] == "pubsub" for cell in cells):
        sections.append(report.pubsub_table(summaries, cells, impls, repeat, PUBSUB_SUBSCRIBERS))
    if any(cell[0] == CURVE_THROUGHPUT for cell in cells):
        sections.append(report.curve_throughput_table(summaries, cells, impls, repeat))
    if any(cell[0] == CURVE_LATENCY for cell in cells):
        sections.append(report.curve_latency_table(summaries, cells, impls, repeat))
    sections += [report.targets_section(summaries), report.problems_section(bench.records)]
    print("\n\n".join(section for section in sections if section))
    return summaries


def save_json(path, bench, summaries, env, elapsed):
    """Raw runs (calibration ones marked ``discarded``) plus the medians the tables show."""
    medians = [{"test": t, "transport": tr, "size": s, "impl": i, "security": sec, **asdict(summary)}
               for (t, tr, s, i, sec), summary in summaries.items()]
    data = {"environment": env, "argv": sys.argv, "elapsed": elapsed, "runs": bench.records, "medians": medians}
    Path(path).write_text(json.dumps(data, indent=2))


def main(argv=None):
    """Entry point of ``python -m greenmq bench`` and ``python -m greenmq.bench``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--"]:  # ``python -m greenmq bench -- --quick`` passes the separator along
        argv = argv[1:]
    args = parse_args(argv)
    args.impl = _installed(args.impl)
    if not args.impl:
        print("no implementation to measure", file=sys.stderr)
        return 2
    cells = plan(args)
    env = _environment(args)
    started = time.monotonic()
    status = 0
    with tempfile.TemporaryDirectory(prefix="greenmq-bench-") as ipc_dir:
        bench = Bench(args, ipc_dir)
        try:
            bench.run(cells)
        except KeyboardInterrupt:
            print("interrupted: reporting the runs finished so far", file=sys.stderr)
            status = 130
    elapsed = time.monotonic() - started
    summaries = print_report(bench, cells, env)
    print(f"\n{len(bench.records)} runs in {elapsed:.0f} s")
    if args.json:
        save_json(args.json, bench, summaries, env, elapsed)
    return status


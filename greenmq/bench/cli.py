"""``python -m greenmq bench``: greenmq against pyzmq and zmq.green, same code, one table.

The benchmark code (:mod:`greenmq.bench.workload`) is written once against
the pyzmq API and run on each implementation in fresh worker processes, so the
three never share an interpreter, and a tcp/ipc sender or echo can live in a
second process, as with libzmq's ``local_thr``/``remote_thr``:

* ``throughput``: PUSH/PULL throughput for each message size, timed on the
  receiver from the first message to the last;
* ``latency``: PAIR round-trip latency of a 16-byte message (median and p99);
* ``reqrep``: the same round trip through REQ/REP at each ``--rt-sizes`` size,
  with, over tcp, the floor under it: a raw ``gevent.socket`` ping-pong
  between two processes;
* ``router``: a ROUTER echo server with 200, 1 000 and 4 000 DEALER clients in
  other processes, over tcp: connect-storm time, the server's RSS per
  connection, and aggregate round trips per second once all are busy;
* ``pubsub``: one PUB publishing 16-byte messages to 4 SUBs subscribed to a
  common prefix, over tcp and ipc (a process each) and inproc (one process;
  SUBs in greenlets, or threads under pyzmq): aggregate delivered messages per
  second, each subscriber timed from its first message to its last, and drops;
* ``curve``: what CURVE security costs, over tcp: 1 KiB PUSH/PULL throughput
  and the 16-byte PAIR round trip, each run with CURVE and with NULL, the two
  alternating, through the throughput and latency code with ``--security``;
* ``proxy``: PUSH -> ``zmq.proxy()`` in a process of its own -> PULL, tcp to tcp;
* ``churn``: cycles of a DEALER connecting to a ROUTER, one request and reply,
  close with linger 0;
* ``scale`` (not run by default; ``--scale`` adds it): the ROUTER echo server at
  100 to 10 000 connections, and a PUB's send rate to a SUB with 10 to 100 000
  subscriptions of which one matches.

:mod:`~greenmq.bench.plan` says what runs, :mod:`~greenmq.bench.session` runs it
(each run through :mod:`~greenmq.bench.runner`, under a deadline), and the
report modules print medians, ratios and the targets; this module reads the
command line and puts them together.
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

from . import connection_tables, curve_tables, plot, report, tables, targets
from .plan import (
    CURVE_LATENCY,
    CURVE_SIZE,
    CURVE_THROUGHPUT,
    DEFAULT_TESTS,
    LATENCY_SIZE,
    PROXY_SIZES,
    ROUTER_CLIENTS,
    RT_SIZES,
    SCALE_CONNECTIONS,
    SCALE_SUBSCRIPTIONS,
    SIZES,
    TESTS,
    TRANSPORTS,
    descriptor_limit,
    plan,
    router_clients,
    router_seconds,
    scale_connections,
)
from .progress import Progress
from .session import Bench, planned_runs
from .workload.main import PUBSUB_SUBSCRIBERS
from .workload.runtime import IMPLEMENTATIONS

DEFAULT_TIMEOUT = 20.0
_IMPORT_NAMES = {"greenmq": "greenmq", "pyzmq": "zmq", "zmq.green": "zmq"}


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


def _spelled(sizes):
    return ",".join(report.fmt_size(size).replace(" KiB", "k").replace(" MiB", "M").replace(" B", "")
                    for size in sizes)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m greenmq bench",
        description="Throughput, round trips, many clients, fan-out, proxying, connection churn and the cost of "
                    "CURVE security of greenmq, pyzmq and zmq.green, running the same code.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny counts (and fewer router clients) and one run per cell: checks the benchmark "
                             "works (smoke tests, CI)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per cell whose median is quoted (default 3, or 1 with --quick)")
    parser.add_argument("--only", type=_choices(TRANSPORTS), default=list(TRANSPORTS), metavar="TRANSPORTS",
                        help="comma-separated transports (default tcp,ipc,inproc); router, curve, proxy, churn and "
                             "scale run over tcp only, pubsub over all three")
    parser.add_argument("--sizes", type=_sizes, default=list(SIZES), metavar="SIZES",
                        help=f"throughput message sizes in bytes, k/M suffixes allowed (default {_spelled(SIZES)}; "
                             "the curve group always uses 1k)")
    parser.add_argument("--rt-sizes", type=_sizes, default=list(RT_SIZES), metavar="SIZES",
                        help=f"REQ/REP round-trip message sizes (default {_spelled(RT_SIZES)}; the PAIR round trip "
                             "is 16 B)")
    parser.add_argument("--impl", type=_choices(IMPLEMENTATIONS), default=list(IMPLEMENTATIONS), metavar="IMPLS",
                        help="comma-separated implementations (default greenmq,pyzmq,zmq.green)")
    parser.add_argument("--tests", type=_choices(TESTS), default=list(DEFAULT_TESTS), metavar="TESTS",
                        help=f"comma-separated tests (default {','.join(DEFAULT_TESTS)}): PUSH/PULL throughput, "
                             f"PAIR round trip, REQ/REP round trip (plus a raw gevent TCP floor), ROUTER echo server "
                             f"with {'/'.join(map(str, ROUTER_CLIENTS))} DEALER clients, PUB to "
                             f"{PUBSUB_SUBSCRIBERS} SUBs, CURVE against NULL security over tcp "
                             f"({report.fmt_size(CURVE_SIZE)} PUSH/PULL throughput and {LATENCY_SIZE} B PAIR "
                             f"round trip), PUSH -> zmq.proxy() -> PULL over tcp "
                             f"({'/'.join(map(report.fmt_size, PROXY_SIZES))}), connection churn; "
                             f"and scale, not run by default (see --scale)")
    parser.add_argument("--scale", action="store_true",
                        help=f"add the scale group: ROUTER echo round trips/s and server RSS per connection at "
                             f"{'/'.join(map(str, SCALE_CONNECTIONS))} connections, and a PUB's send rate to a SUB "
                             f"with {'/'.join(map(str, SCALE_SUBSCRIPTIONS))} subscriptions, one matching (slow)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds before a run's workers are killed and the cell reads 'timeout' (default "
                             f"{DEFAULT_TIMEOUT:g}; router cells get 10 ms more per client, match cells 0.2 ms "
                             f"more per subscription)")
    parser.add_argument("--json", metavar="FILE", help="also save every raw run, the medians and the ratios as JSON")
    parser.add_argument("--plot", metavar="FILE",
                        help="also draw greenmq's ratios for every cell as a bar chart (.svg, .png or .pdf; needs "
                             "matplotlib: pip install \"greenmq[plot]\")")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.scale and "scale" not in args.tests:
        args.tests.append("scale")
    if args.plot:
        try:
            plot.require(args.plot)
        except plot.PlotError as error:
            parser.error(str(error))
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
        "nofile_hard_limit": descriptor_limit(),
    }


def _sections(bench, cells, summaries):
    """The tables of the tests that ran, in the order of the tests' descriptions."""
    args, impls, repeat = bench.args, bench.args.impl, bench.args.repeat
    tests = {cell[0] for cell in cells}
    sections = []
    if "throughput" in tests:
        sections.append(tables.throughput_table(summaries, cells, impls, repeat))
    if "latency" in tests:
        sections.append(tables.latency_table(summaries, cells, impls, repeat))
    if "reqrep" in tests:
        sections.append(tables.reqrep_table(summaries, cells, impls, repeat))
    if "router" in args.tests and "router" in tests:
        sections.append(connection_tables.router_table(summaries, cells, impls, repeat, bench.records,
                                                       router_clients(args.quick), router_seconds(args.quick),
                                                       args.quick))
    if "pubsub" in tests:
        sections.append(tables.pubsub_table(summaries, cells, impls, repeat, PUBSUB_SUBSCRIBERS))
    if CURVE_THROUGHPUT in tests:
        sections.append(curve_tables.curve_throughput_table(summaries, cells, impls, repeat))
    if CURVE_LATENCY in tests:
        sections.append(curve_tables.curve_latency_table(summaries, cells, impls, repeat))
    if "proxy" in tests:
        sections.append(tables.proxy_table(summaries, cells, impls, repeat))
    if "churn" in tests:
        sections.append(connection_tables.churn_table(summaries, cells, impls, repeat))
    if "scale" in args.tests and "router" in tests:
        sections.append(connection_tables.router_scale_table(summaries, cells, impls, repeat, bench.records,
                                                             scale_connections(args.quick), args.quick))
    if "match" in tests:
        sections.append(connection_tables.match_table(summaries, cells, impls, repeat))
    return sections


def print_report(bench, cells, env):
    """Tables, targets, problems: everything the run established, on stdout."""
    summaries = report.summarize(bench.records)
    print(f"greenmq bench: greenmq {env['greenmq']}, pyzmq {env['pyzmq']}, gevent {env['gevent']}; "
          f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs")
    sections = [report.libraries_line(bench.records)]
    if bench.args.quick:
        sections.append("--quick: counts are tiny and the router runs fewer clients, so the figures only show that "
                        "every cell runs")
    sections += _sections(bench, cells, summaries)
    sections += [targets.targets_section(summaries, bench.args.quick), report.problems_section(bench.records)]
    print("\n\n".join(section for section in sections if section))
    return summaries


def save_json(path, bench, summaries, ratios, env, elapsed):
    """Raw runs (calibration ones marked ``discarded``), the medians the tables show, and every ratio."""
    medians = [{"test": t, "transport": tr, "size": s, "scale": n, "impl": i, "security": sec, **asdict(summary)}
               for (t, tr, s, n, i, sec), summary in summaries.items()]
    data = {"environment": env, "argv": sys.argv, "elapsed": elapsed, "runs": bench.records, "medians": medians,
            "ratios": ratios}
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
    progress = Progress(planned_runs(cells, args.impl, args.repeat))
    with tempfile.TemporaryDirectory(prefix="greenmq-bench-") as ipc_dir:
        bench = Bench(args, ipc_dir, progress)
        try:
            bench.run(cells)
        except KeyboardInterrupt:
            progress.close()
            print("interrupted: reporting the runs finished so far", file=sys.stderr)
            status = 130
    progress.close()
    elapsed = time.monotonic() - started
    summaries = print_report(bench, cells, env)
    print(f"\n{len(bench.records)} runs in {elapsed:.0f} s")
    ratios = report.ratio_rows(summaries, cells, args.impl)
    if args.json:
        save_json(args.json, bench, summaries, ratios, env, elapsed)
    if args.plot:
        plot.draw(args.plot, ratios, f"greenmq bench {env['greenmq']}: greenmq's ratios, median of {args.repeat} "
                                     f"run(s){' (--quick)' if args.quick else ''}")
        print(f"plot: {args.plot}")
    return status

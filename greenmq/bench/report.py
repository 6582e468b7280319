"""Turn raw benchmark runs into the tables, ratios and target verdicts that get printed.

Each figure quoted is the median over the repetitions of one (test, transport,
size, implementation, security) cell, which keeps one disturbed run from
deciding a comparison; security is "null" everywhere but in the curve group.
Ratios always read "greenmq relative to the other", oriented so that a value
above 1 means greenmq did better.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .worker import FLOOR

GREENMQ = "greenmq"
NULL, CURVE = "null", "curve"
# The curve group's two cells (1 KiB PUSH/PULL, 16 B PAIR round trip), each run with CURVE and with NULL.
CURVE_THROUGHPUT, CURVE_LATENCY = "curve-throughput", "curve-latency"
INPROC_NOTE = ("\n(inproc: greenmq hands the sent bytes object itself to the receiver, where libzmq copies "
               "it in and out,\n so greenmq's inproc MB/s for big messages count hand-overs, not bytes copied)")


@dataclass
class Summary:
    """The median figures of one cell for one implementation, or why there are none."""

    status: str  # "ok", "timeout", "error" or "not run"
    runs: int = 0
    failed_runs: int = 0
    msgs_per_s: float | None = None
    mb_per_s: float | None = None
    median_us: float | None = None
    p99_us: float | None = None
    round_trips_per_s: float | None = None
    delivered_per_s: float | None = None
    published_per_s: float | None = None
    drop_fraction: float | None = None


def summarize(records):
    """Group kept (non-calibration) runs by cell and implementation; take medians."""
    grouped = {}
    for record in records:
        if record.get("discarded"):
            continue
        key = (record["test"], record["transport"], record["size"], record["impl"], record.get("security", NULL))
        grouped.setdefault(key, []).append(record)
    return {key: _summarize_cell(runs) for key, runs in grouped.items()}


def _summarize_cell(runs):
    """Median of the good runs; a cell with none takes the status of its last failure."""
    good = [run["result"] for run in runs if run["status"] == "ok"]
    failed = len(runs) - len(good)
    if not good:
        return Summary(status=runs[-1]["status"], failed_runs=failed)

    def median(name):
        return statistics.median(result[name] for result in good)

    if "msgs_per_s" in good[0]:
        return Summary("ok", len(good), failed, msgs_per_s=median("msgs_per_s"), mb_per_s=median("mb_per_s"))
    if "delivered_per_s" in good[0]:
        return Summary("ok", len(good), failed, delivered_per_s=median("delivered_per_s"),
                       published_per_s=median("published_per_s"), drop_fraction=median("drop_fraction"))
    if "round_trips_per_s" in good[0]:
        return Summary("ok", len(good), failed, round_trips_per_s=median("round_trips_per_s"))
    return Summary("ok", len(good), failed, median_us=median("median_us"), p99_us=median("p99_us"))


def throughput_ratio(mine, other):
    """How many times greenmq's message rate is the other's (> 1: greenmq faster)."""
    if mine is None or other is None or mine.msgs_per_s is None or not other.msgs_per_s:
        return None
    return mine.msgs_per_s / other.msgs_per_s


def latency_ratio(mine, other):
    """The other's median round trip over greenmq's (> 1: greenmq answers faster)."""
    if mine is None or other is None or not mine.median_us or other.median_us is None:
        return None
    return other.median_us / mine.median_us


def round_trip_rate_ratio(mine, other):
    """How many times greenmq's aggregate round trips/s is the other's (> 1: greenmq serves more)."""
    if mine is None or other is None or mine.round_trips_per_s is None or not other.round_trips_per_s:
        return None
    return mine.round_trips_per_s / other.round_trips_per_s


def delivered_ratio(mine, other):
    """How many times greenmq's aggregate delivered msg/s is the other's (> 1: greenmq delivers more)."""
    if mine is None or other is None or mine.delivered_per_s is None or not other.delivered_per_s:
        return None
    return mine.delivered_per_s / other.delivered_per_s


RATIOS = {"throughput": throughput_ratio, "latency": latency_ratio, "reqrep": latency_ratio,
          "router": round_trip_rate_ratio, "pubsub": delivered_ratio,
          CURVE_THROUGHPUT: throughput_ratio, CURVE_LATENCY: latency_ratio}


def curve_cost(curve, null, test):
    """CURVE's figure over NULL's for one implementation: msg/s kept (< 1), or round trip stretched (> 1)."""
    if curve is None or null is None or curve.status != "ok" or null.status != "ok":
        return None
    if test == CURVE_THROUGHPUT:
        return curve.msgs_per_s / null.msgs_per_s if null.msgs_per_s else None
    return curve.median_us / null.median_us if null.median_us else None


# -- formatting -----------------------------------------------------------------------------


def fmt_size(size):
    """16 B, 4 KiB, 1 MiB: sizes as the benchmark's options spell them."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def fmt_rate(value):
    """Messages per second, short enough for a table column."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def fmt_number(value):
    """Three significant digits, no exponent: MB/s and microseconds."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_drops(fraction):
    """Share of messages dropped; never rounds a drop away to "0%"."""
    if not fraction:
        return "none"
    return f"{fraction:.1%}" if fraction >= 0.001 else f"{fraction:.3%}"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def render(header, rows):
    """A plain-text table: first two columns left-aligned, the figures right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _others(impls):
    """The implementations greenmq is compared with (none if greenmq was not measured)."""
    return [impl for impl in impls if impl != GREENMQ] if GREENMQ in impls else []


def _figure_cell(summary, figure):
    """One table cell for one implementation: ``figure(summary)``, or its failure status."""
    if summary is None:
        return "not run"
    if summary.status != "ok":
        return summary.status
    mark = "*" if summary.failed_runs else ""  # a median of fewer runs: see "problems"
    return figure(summary) + mark


def _figure_cells(summary, first, second):
    """Two table cells for one implementation: its figures, or its failure status and a blank."""
    if summary is None or summary.status != "ok":
        return [_figure_cell(summary, first), ""]
    return [_figure_cell(summary, first), _figure_cell(summary, second)]


def throughput_table(summaries, cells, impls, repeat):
    """PUSH/PULL throughput: msg/s and MB/s per implementation, plus greenmq's ratios."""
    others = _others(impls)
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} msg/s", f"{impl} MB/s"]
    header += [f"{GREENMQ}/{impl}" for impl in others]
    rows = []
    for test, transport, size in cells:
        if test != "throughput":
            continue
        found = {impl: summaries.get((test, transport, size, impl, NULL)) for impl in impls}
        row = [transport, fmt_size(size)]
        for impl in impls:
            row += _figure_cells(found[impl], lambda s: fmt_rate(s.msgs_per_s), lambda s: fmt_number(s.mb_per_s))
        row += [fmt_ratio(throughput_ratio(found.get(GREENMQ), found[impl])) for impl in others]
        rows.append(row)
    title = (f"PUSH/PULL throughput -- median of {repeat} run(s); MB/s = 10^6 bytes/s; "
             f"timed on the receiver from first to last message; ratio > 1 means greenmq is faster\n"
             f"(for messages over 16 KiB both HWMs are lowered so that at most 16 MiB is queued per socket)")
    table = title + "\n" + render(header, rows)
    if GREENMQ in impls and any(t == "throughput" and tr == "inproc" for t, tr, _ in cells):
        table += INPROC_NOTE
    return table


def _round_trip_rows(summaries, cells, impls, test):
    """Rows of a round-trip table: median and p99 per implementation, then greenmq's ratios."""
    rows = []
    for cell_test, transport, size in cells:
        if cell_test != test:
            continue
        found = {impl: summaries.get((test, transport, size, impl, NULL)) for impl in impls}
        row = [transport, fmt_size(size)]
        for impl in impls:
            row += _figure_cells(found[impl], lambda s: fmt_number(s.median_us), lambda s: fmt_number(s.p99_us))
        row += [fmt_ratio(latency_ratio(found.get(GREENMQ), found[impl])) for impl in _others(impls)]
        rows.append(row)
    return rows


def _round_trip_header(impls):
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} median us", f"{impl} p99 us"]
    return header + [f"{GREENMQ}/{impl}" for impl in _others(impls)]


def latency_table(summaries, cells, impls, repeat):
    """PAIR round trip: median and p99 per implementation, plus greenmq's ratios."""
    title = (f"PAIR round-trip latency -- medians of {repeat} run(s) of each run's median and p99, "
             f"in microseconds; ratio = other's median / greenmq's, so > 1 means greenmq is faster")
    return title + "\n" + render(_round_trip_header(impls), _round_trip_rows(summaries, cells, impls, "latency"))


def reqrep_table(summaries, cells, impls, repeat):
    """REQ/REP round trip like the PAIR one, with the raw gevent TCP floor below it."""
    title = (f"REQ/REP round-trip latency (16 B request, 16 B reply; REQ times, REP echoes) -- medians of "
             f"{repeat} run(s) of each run's median and p99, in microseconds; ratio = other's median / greenmq's, "
             f"so > 1 means greenmq is faster")
    table = title + "\n" + render(_round_trip_header(impls), _round_trip_rows(summaries, cells, impls, "reqrep"))
    floor = _floor_line(summaries, cells)
    return table + "\n" + floor if floor else table


def _floor_line(summaries, cells):
    """The raw-TCP floor under the tcp row, and how far above it greenmq's REQ/REP lies."""
    cell = next((cell for cell in cells if cell[:2] == ("reqrep", "tcp")), None)
    if cell is None:
        return ""
    floor = summaries.get((*cell, FLOOR, NULL))
    where = "floor without ZeroMQ, tcp: gevent.socket ping-pong between two processes, 16 B, TCP_NODELAY"
    if floor is None or floor.status != "ok":
        return f"{where}: {floor.status if floor else 'not run'}"
    line = f"{where}: median {fmt_number(floor.median_us)} us, p99 {fmt_number(floor.p99_us)} us"
    mine = summaries.get((*cell, GREENMQ, NULL))
    if mine is not None and mine.status == "ok":
        line += f"\n  (greenmq's REQ/REP median over tcp is {mine.median_us / floor.median_us:.2f}x this floor)"
    return line


def router_table(summaries, cells, impls, repeat, clients, warmup, seconds):
    """ROUTER echo server under many DEALER clients: aggregate round trips/s, plus greenmq's ratios."""
    others = _others(impls)
    header = ["transport", "clients", *(f"{impl} round trips/s" for impl in impls),
              *(f"{GREENMQ}/{impl}" for impl in others)]
    rows = []
    for test, transport, size in cells:
        if test != "router":
            continue
        found = {impl: summaries.get((test, transport, size, impl, NULL)) for impl in impls}
        row = [transport, str(clients)]
        row += [_figure_cell(found[impl], lambda s: fmt_rate(s.round_trips_per_s)) for impl in impls]
        row += [fmt_ratio(round_trip_rate_ratio(found.get(GREENMQ), found[impl])) for impl in others]
        rows.append(row)
    title = (f"ROUTER echo server, {clients} DEALER clients in ping-pong loops (16 B) -- aggregate round trips/s, "
             f"median of {repeat} run(s); ratio > 1 means greenmq serves more\n"
             f"(server and clients in two processes; timed on the server for {seconds:g} s after all clients "
             f"are busy and {warmup:g} s have passed;\n"
             f" clients are greenlets under greenmq and zmq.green, one thread each under pyzmq)")
    return title + "\n" + render(header, rows)


def pubsub_table(summaries, cells, impls, repeat, subscribers):
    """PUB to several SUBs: aggregate delivered msg/s and drops per implementation, plus greenmq's ratios."""
    others = _others(impls)
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} delivered msg/s", f"{impl} drops"]
    header += [f"{GREENMQ}/{impl}" for impl in others]
    rows = []
    for test, transport, size in cells:
        if test != "pubsub":
            continue
        found = {impl: summaries.get((test, transport, size, impl, NULL)) for impl in impls}
        row = [transport, fmt_size(size)]
        for impl in impls:
            row += _figure_cells(found[impl], lambda s: fmt_rate(s.delivered_per_s),
                                 lambda s: fmt_drops(s.drop_fraction))
        row += [fmt_ratio(delivered_ratio(found.get(GREENMQ), found[impl])) for impl in others]
        rows.append(row)
    title = (f"PUB/SUB fan-out, 1 PUB to {subscribers} SUBs subscribed to a common prefix (16 B messages, default "
             f"HWMs) -- median of {repeat} run(s);\n"
             f"delivered msg/s = sum over the SUBs of messages received per second, each timed from its first to "
             f"its last message;\n"
             f"drops = share of the published messages the SUBs did not receive (PUB drops for a SUB whose queue "
             f"is full);\n"
             f"tcp: PUB and each SUB in a process of its own; inproc: one process, SUBs in greenlets under "
             f"greenmq and zmq.green, threads under pyzmq;\n"
             f"ratio > 1 means greenmq delivers more (read it next to the drops: the published messages/s are "
             f"in the run lines and the JSON)")
    return title + "\n" + render(header, rows)


def _curve_rows(summaries, cells, impls, test, figures):
    """One row per implementation and curve cell: CURVE's figures, NULL's, the cost, greenmq's ratios."""
    ratio = RATIOS[test]
    rows = []
    for cell_test, transport, size in cells:
        if cell_test != test:
            continue
        found = {(impl, security): summaries.get((test, transport, size, impl, security))
                 for impl in impls for security in (CURVE, NULL)}
        for impl in impls:
            row = [impl, transport, fmt_size(size)]
            for security in (CURVE, NULL):
                row += _figure_cells(found[impl, security], *figures)
            row.append(fmt_ratio(curve_cost(found[impl, CURVE], found[impl, NULL], test)))
            for security in (CURVE, NULL):
                theirs = found[impl, security]
                mine = found.get((GREENMQ, security))
                row.append("-" if impl == GREENMQ else fmt_ratio(ratio(mine, theirs)))
            rows.append(row)
    return rows


def _curve_note():
    """How the curve tables were made, and how to read the greenmq/this columns."""
    return ("(each implementation's CURVE and NULL runs alternate; fresh key pairs every run, no ZAP handler; "
            "the binding, measuring side is the CURVE server;\n"
            " greenmq/this = greenmq against the row's implementation under the same security; "
            "ratio > 1 means greenmq is faster)")


def curve_throughput_table(summaries, cells, impls, repeat):
    """CURVE against NULL, 1 KiB PUSH/PULL: msg/s and MB/s of each, CURVE's share of NULL, greenmq's ratios."""
    header = ["implementation", "transport", "size", "CURVE msg/s", "CURVE MB/s", "NULL msg/s", "NULL MB/s",
              "CURVE/NULL msg/s", "greenmq/this CURVE", "greenmq/this NULL"]
    figures = (lambda s: fmt_rate(s.msgs_per_s), lambda s: fmt_number(s.mb_per_s))
    rows = _curve_rows(summaries, cells, impls, CURVE_THROUGHPUT, figures)
    title = (f"CURVE security cost, PUSH/PULL throughput -- median of {repeat} run(s); timed on the receiver from "
             f"first to last message;\nCURVE/NULL msg/s = CURVE's msg/s over NULL's, same implementation "
             f"(the share of NULL's rate kept under CURVE)\n{_curve_note()}")
    return title + "\n" + render(header, rows)


def curve_latency_table(summaries, cells, impls, repeat):
    """CURVE against NULL, PAIR round trip: median and p99 of each, CURVE's stretch, greenmq's ratios."""
    header = ["implementation", "transport", "size", "CURVE median us", "CURVE p99 us", "NULL median us",
              "NULL p99 us", "CURVE/NULL median", "greenmq/this CURVE", "greenmq/this NULL"]
    figures = (lambda s: fmt_number(s.median_us), lambda s: fmt_number(s.p99_us))
    rows = _curve_rows(summaries, cells, impls, CURVE_LATENCY, figures)
    title = (f"CURVE security cost, PAIR round-trip latency -- medians of {repeat} run(s) of each run's median and "
             f"p99, in microseconds;\nCURVE/NULL median = CURVE's median over NULL's, same implementation "
             f"(how much longer a round trip takes under CURVE); greenmq/this = this median / greenmq's\n"
             f"{_curve_note()}")
    return title + "\n" + render(header, rows)


# -- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One goal of the issue: a figure computed from the summaries and a bar it must clear."""

    label: str
    cell: tuple  # (test, transport, size)
    other: str | None  # implementation compared with; None: greenmq's own figure
    bar: float
    lower_is_better: bool = False
    security: str = NULL  # of both sides of the comparison

    def value(self, summaries):
        """The figure judged, or None when a run it needs is missing or failed."""
        mine = summaries.get((*self.cell, GREENMQ, self.security))
        if self.other is None:
            return mine.median_us if mine is not None and mine.status == "ok" else None
        theirs = summaries.get((*self.cell, self.other, self.security))
        return RATIOS[self.cell[0]](mine, theirs)

    def verdict(self, value):
        if value is None:
            return "n/a"
        met = value < self.bar if self.lower_is_better else value >= self.bar
        return "met" if met else "MISSED"


TARGETS = (
    Target("16 B PUSH/PULL over tcp >= 5x zmq.green msg/s", ("throughput", "tcp", 16), "zmq.green", 5.0),
    Target("16 B PUSH/PULL over inproc >= 1x pyzmq msg/s", ("throughput", "inproc", 16), "pyzmq", 1.0),
    Target("1 MiB PUSH/PULL over tcp >= 1x pyzmq MB/s", ("throughput", "tcp", 1 << 20), "pyzmq", 1.0),
    Target("PAIR round trip over tcp <= pyzmq's (ratio >= 1)", ("latency", "tcp", 16), "pyzmq", 1.0),
    Target("PAIR round trip over inproc < 15 us (greenmq median)", ("latency", "inproc", 16), None, 15.0,
           lower_is_better=True),
    Target("REQ/REP round trip over tcp <= pyzmq's (ratio >= 1)", ("reqrep", "tcp", 16), "pyzmq", 1.0),
    Target("200 DEALER clients over tcp >= 1x pyzmq round trips/s", ("router", "tcp", 16), "pyzmq", 1.0),
    Target("16 B PUB to 4 SUB over tcp >= 5x zmq.green delivered msg/s", ("pubsub", "tcp", 16), "zmq.green", 5.0),
    Target("CURVE 1 KiB PUSH/PULL over tcp >= 0.5x pyzmq's CURVE msg/s", (CURVE_THROUGHPUT, "tcp", 1 << 10), "pyzmq",
           0.5, security=CURVE),
)


def targets_section(summaries):
    """Each target of the issue with the measured figure and met / MISSED / n/a (not measured)."""
    lines = ["targets (n/a: a run it needs was not selected or failed)"]
    width = max(len(target.label) for target in TARGETS)
    for target in TARGETS:
        value = target.value(summaries)
        shown = "-" if value is None else (f"{value:.2f} us" if target.other is None else fmt_ratio(value))
        lines.append(f"  [{target.verdict(value):>6}]  {target.label:<{width}} {shown}")
    return "\n".join(lines)


def problems_section(records):
    """Failures and warnings, one line each, so a bad cell is explained not just marked.

    A figure marked ``*`` in a table is the median of the runs that succeeded.
    """
    lines = []
    for record in records:
        where = f"{record['test']} {record['transport']} {fmt_size(record['size'])} {record['impl']}"
        if record.get("security", NULL) != NULL:
            where += f" ({record['security'].upper()})"
        if record["status"] != "ok":
            lines.append(f"  {where} run {record['rep']}: {record['status']}: {record['error']}")
        lines += [f"  {where} run {record['rep']}: warning: {w}" for w in record.get("warnings", ())]
    header = "problems (a figure marked * is the median of the runs that did not fail)"
    return header + "\n" + "\n".join(lines) if lines else ""


def libraries_line(records):
    """Which library versions were measured, as the workers reported them."""
    seen = {}
    for record in records:
        if record["status"] == "ok" and "library" in record["result"]:
            seen.setdefault(record["impl"], record["result"]["library"])
    return "measured: " + "; ".join(f"{impl} = {lib}" for impl, lib in seen.items()) if seen else ""

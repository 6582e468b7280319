"""Turn raw benchmark runs into medians and ratios, and format them; the tables build on this.

Each figure quoted is the median over the repetitions of one (test, transport,
size, scale, implementation, security) cell, which keeps one disturbed run from
deciding a comparison; security is "null" everywhere but in the curve group.
Ratios always read "greenmq relative to the other", oriented so that a value
above 1 means greenmq did better: for a rate, greenmq's over the other's; for a
time or a size (round trip, connect storm, memory per connection), the other's
over greenmq's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .plan import CURVE_LATENCY, CURVE_THROUGHPUT

GREENMQ = "greenmq"
NULL, CURVE = "null", "curve"


@dataclass
class Summary:
    """The median figures of one cell for one implementation, or why there are none."""

    status: str  # "ok", "timeout", "error", "skipped" or "not run"
    runs: int = 0
    failed_runs: int = 0
    msgs_per_s: float | None = None
    mb_per_s: float | None = None
    median_us: float | None = None
    p99_us: float | None = None
    round_trips_per_s: float | None = None
    storm_s: float | None = None
    rss_per_connection: float | None = None
    delivered_per_s: float | None = None
    published_per_s: float | None = None
    drop_fraction: float | None = None
    cycles_per_s: float | None = None
    us_per_cycle: float | None = None


FIGURE_FIELDS = ("msgs_per_s", "mb_per_s", "median_us", "p99_us", "round_trips_per_s", "storm_s", "rss_per_connection",
                 "delivered_per_s", "published_per_s", "drop_fraction", "cycles_per_s", "us_per_cycle")


def summarize(records):
    """Group kept (non-calibration) runs by cell and implementation; take medians."""
    grouped = {}
    for record in records:
        if record.get("discarded"):
            continue
        key = (record["test"], record["transport"], record["size"], record.get("scale", 0), record["impl"],
               record.get("security", NULL))
        grouped.setdefault(key, []).append(record)
    return {key: _summarize_cell(runs) for key, runs in grouped.items()}


def _summarize_cell(runs):
    """Median of each figure the good runs all have; a cell with none takes the status of its last failure."""
    good = [run["result"] for run in runs if run["status"] == "ok"]
    failed = len(runs) - len(good)
    if not good:
        return Summary(status=runs[-1]["status"], failed_runs=failed)
    medians = {}
    for name in FIGURE_FIELDS:
        values = [result.get(name) for result in good]
        if all(value is not None for value in values):
            medians[name] = statistics.median(values)
    return Summary("ok", len(good), failed, **medians)


def find(summaries, cell, impl, security=NULL):
    """The summary of ``cell`` (a plan.Cell or the same 4-tuple) for one implementation, or None."""
    return summaries.get((*cell, impl, security))


@dataclass(frozen=True)
class Figure:
    """A figure the tables show and compare: a Summary field, its unit, and which way is better."""

    field: str
    unit: str
    higher_is_better: bool

    def of(self, summary):
        return None if summary is None or summary.status != "ok" else getattr(summary, self.field)


MSGS = Figure("msgs_per_s", "msg/s", True)
MEDIAN = Figure("median_us", "median us", False)
ROUND_TRIPS = Figure("round_trips_per_s", "round trips/s", True)
STORM = Figure("storm_s", "connect storm s", False)
RSS_PER_CONNECTION = Figure("rss_per_connection", "server RSS KiB/connection", False)
DELIVERED = Figure("delivered_per_s", "delivered msg/s", True)
PUBLISHED = Figure("published_per_s", "published msg/s", True)
CYCLES = Figure("cycles_per_s", "cycles/s", True)
FIGURES = {"throughput": (MSGS,), "proxy": (MSGS,), CURVE_THROUGHPUT: (MSGS,),
           "latency": (MEDIAN,), "reqrep": (MEDIAN,), CURVE_LATENCY: (MEDIAN,),
           "router": (ROUND_TRIPS, STORM, RSS_PER_CONNECTION), "pubsub": (DELIVERED,), "churn": (CYCLES,),
           "match": (PUBLISHED,)}


def ratio(mine, other, figure):
    """greenmq's ``figure`` against the other's, > 1 when greenmq did better; None if either is missing."""
    mine_value, other_value = figure.of(mine), figure.of(other)
    if mine_value is None or other_value is None or mine_value <= 0 or other_value <= 0:
        return None  # a memory difference can come out <= 0 at small counts: no ratio to speak of
    return mine_value / other_value if figure.higher_is_better else other_value / mine_value


def curve_cost(curve, null, test):
    """CURVE's figure over NULL's for one implementation: msg/s kept (< 1), or round trip stretched (> 1)."""
    if curve is None or null is None or curve.status != "ok" or null.status != "ok":
        return None
    if test == CURVE_THROUGHPUT:
        return curve.msgs_per_s / null.msgs_per_s if null.msgs_per_s else None
    return curve.median_us / null.median_us if null.median_us else None


def ratio_rows(summaries, cells, impls):
    """Every ratio the run established, one dict per (cell, figure, security, other implementation).

    What ``--plot`` draws and ``--json`` saves: the tables' ratio columns, flat.
    """
    rows = []
    for cell in cells:
        securities = (CURVE, NULL) if cell[0] in (CURVE_THROUGHPUT, CURVE_LATENCY) else (NULL,)
        for figure in FIGURES[cell[0]]:
            for security in securities:
                label = cell_label(cell) + (f": {figure.unit}" if len(FIGURES[cell[0]]) > 1 else "")
                if len(securities) > 1:
                    label += f" ({security.upper()})"
                mine = find(summaries, cell, GREENMQ, security)
                for other in others(impls):
                    rows.append({"label": label, "test": cell[0], "transport": cell[1], "size": cell[2],
                                 "scale": cell[3], "figure": figure.field, "security": security, "other": other,
                                 "ratio": ratio(mine, find(summaries, cell, other, security), figure)})
    return rows


# -- formatting -----------------------------------------------------------------------------


def fmt_size(size):
    """16 B, 4 KiB, 1 MiB: sizes as the benchmark's options spell them."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def cell_label(cell):
    """A cell as the progress lines and the plot name it: ``reqrep tcp 4 KiB``, ``router tcp 4000 clients``."""
    test, transport, size, scale = cell
    if test == "router":
        return f"router {transport} {scale} clients"
    if test == "match":
        return f"match {transport} {scale} subscriptions"
    if test == "churn":
        return f"churn {transport}"
    if test == "proxy":
        return f"proxy {transport}->{transport} {fmt_size(size)}"
    return f"{test} {transport} {fmt_size(size)}"


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


def fmt_kib(size_in_bytes):
    """Bytes as KiB with three significant digits (memory per connection)."""
    return fmt_number(size_in_bytes / 1024) if size_in_bytes > 0 else f"{size_in_bytes / 1024:.1f}"


def fmt_seconds(value):
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def fmt_drops(fraction):
    """Share of messages dropped; never rounds a drop away to "0%"."""
    if not fraction:
        return "none"
    return f"{fraction:.1%}" if fraction >= 0.001 else f"{fraction:.3%}"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}x"


FORMATS = {MSGS: fmt_rate, MEDIAN: fmt_number, ROUND_TRIPS: fmt_rate, STORM: fmt_seconds, RSS_PER_CONNECTION: fmt_kib,
           DELIVERED: fmt_rate, PUBLISHED: fmt_rate, CYCLES: fmt_rate}


def render(header, rows):
    """A plain-text table: first two columns left-aligned, the figures right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def others(impls):
    """The implementations greenmq is compared with (none if greenmq was not measured)."""
    return [impl for impl in impls if impl != GREENMQ] if GREENMQ in impls else []


def figure_cell(summary, figure):
    """One table cell for one implementation: ``figure(summary)``, or its failure status."""
    if summary is None:
        return "not run"
    if summary.status != "ok":
        return summary.status
    mark = "*" if summary.failed_runs else ""  # a median of fewer runs: see "problems"
    return figure(summary) + mark


def figure_cells(summary, first, second):
    """Two table cells for one implementation: its figures, or its failure status and a blank."""
    if summary is None or summary.status != "ok":
        return [figure_cell(summary, first), ""]
    return [figure_cell(summary, first), figure_cell(summary, second)]


def figure_row(summaries, cell, impls, figure, security=NULL):
    """A figure's cells for each implementation, then greenmq's ratio to each other one."""
    found = {impl: find(summaries, cell, impl, security) for impl in impls}
    fmt = FORMATS[figure]
    row = [figure_cell(found[impl], lambda s: "-" if figure.of(s) is None else fmt(figure.of(s))) for impl in impls]
    return row + [fmt_ratio(ratio(found.get(GREENMQ), found[impl], figure)) for impl in others(impls)]


def ratio_header(impls):
    return [f"{GREENMQ}/{impl}" for impl in others(impls)]


def problems_section(records):
    """Failures, skips and warnings, one line each, so a bad cell is explained not just marked.

    A figure marked ``*`` in a table is the median of the runs that succeeded.
    """
    lines = []
    for record in records:
        where = f"{cell_label((record['test'], record['transport'], record['size'], record.get('scale', 0)))} "
        where += record["impl"]
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

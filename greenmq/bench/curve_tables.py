"""The curve group's tables: CURVE against NULL for each implementation, and greenmq against the others."""

from __future__ import annotations

from .plan import CURVE_LATENCY, CURVE_THROUGHPUT
from .report import CURVE, FIGURES, GREENMQ, NULL, curve_cost, find, fmt_number, fmt_rate, fmt_ratio, fmt_size
from .report import figure_cells, ratio, render


def _curve_rows(summaries, cells, impls, test, figures):
    """One row per implementation and curve cell: CURVE's figures, NULL's, the cost, greenmq's ratios."""
    (figure,) = FIGURES[test]
    rows = []
    for cell in cells:
        if cell[0] != test:
            continue
        found = {(impl, security): find(summaries, cell, impl, security)
                 for impl in impls for security in (CURVE, NULL)}
        for impl in impls:
            row = [impl, cell[1], fmt_size(cell[2])]
            for security in (CURVE, NULL):
                row += figure_cells(found[impl, security], *figures)
            row.append(fmt_ratio(curve_cost(found[impl, CURVE], found[impl, NULL], test)))
            for security in (CURVE, NULL):
                mine = found.get((GREENMQ, security))
                row.append("-" if impl == GREENMQ else fmt_ratio(ratio(mine, found[impl, security], figure)))
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

"""The message tables: PUSH/PULL throughput, PAIR and REQ/REP round trips, pub/sub fan-out, the proxy.

Each takes the summaries, the planned cells and the implementations, and
returns a titled plain-text table whose last columns are greenmq's ratios.
"""

from __future__ import annotations

from .report import (
    DELIVERED,
    GREENMQ,
    MEDIAN,
    MSGS,
    find,
    fmt_drops,
    fmt_number,
    fmt_rate,
    fmt_ratio,
    fmt_size,
    figure_cells,
    others,
    ratio,
    ratio_header,
    render,
)
from .workload.runtime import FLOOR

INPROC_NOTE = ("\n(inproc: greenmq hands the sent bytes object itself to the receiver, where libzmq copies "
               "it in and out,\n so greenmq's inproc MB/s for big messages count hand-overs, not bytes copied)")


def _pair_rows(summaries, cells, impls, test, first, second, compared, transport_label=None):
    """One row per cell of ``test``: two figures per implementation (``first`` and
    ``second`` format a summary), then greenmq's ratios on the ``compared`` figure."""
    rows = []
    for cell in cells:
        if cell[0] != test:
            continue
        found = {impl: find(summaries, cell, impl) for impl in impls}
        row = [transport_label(cell[1]) if transport_label else cell[1], fmt_size(cell[2])]
        for impl in impls:
            row += figure_cells(found[impl], first, second)
        row += [fmt_ratio(ratio(found.get(GREENMQ), found[impl], compared)) for impl in others(impls)]
        rows.append(row)
    return rows


def _pair_header(impls, first_name, second_name):
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} {first_name}", f"{impl} {second_name}"]
    return header + ratio_header(impls)


def _rate_rows(summaries, cells, impls, test, transport_label=None):
    """msg/s and MB/s per implementation, then greenmq's msg/s ratios: one row per cell of ``test``."""
    return _pair_rows(summaries, cells, impls, test, lambda s: fmt_rate(s.msgs_per_s),
                      lambda s: fmt_number(s.mb_per_s), MSGS, transport_label)


def _rate_header(impls):
    return _pair_header(impls, "msg/s", "MB/s")


def throughput_table(summaries, cells, impls, repeat):
    """PUSH/PULL throughput: msg/s and MB/s per implementation, plus greenmq's ratios."""
    title = (f"PUSH/PULL throughput -- median of {repeat} run(s); MB/s = 10^6 bytes/s; "
             f"timed on the receiver from first to last message; ratio > 1 means greenmq is faster\n"
             f"(for messages over 16 KiB both HWMs are lowered so that at most 16 MiB is queued per socket)")
    table = title + "\n" + render(_rate_header(impls), _rate_rows(summaries, cells, impls, "throughput"))
    if GREENMQ in impls and any(cell[:2] == ("throughput", "inproc") for cell in cells):
        table += INPROC_NOTE
    return table


def proxy_table(summaries, cells, impls, repeat):
    """PUSH -> proxy -> PULL over tcp: msg/s and MB/s per implementation, plus greenmq's ratios."""
    title = (f"PUSH -> proxy -> PULL throughput -- median of {repeat} run(s); three processes: a PUSH sender, "
             f"the proxy (frontend PULL and backend PUSH, both bound),\na PULL sink timing from first to last "
             f"message; the proxy is the implementation's zmq.proxy(): libzmq's C proxy under pyzmq and "
             f"zmq.green,\ngreenmq.proxy under greenmq; ratio > 1 means greenmq is faster")
    rows = _rate_rows(summaries, cells, impls, "proxy", lambda transport: f"{transport}->{transport}")
    return title + "\n" + render(_rate_header(impls), rows)


def _round_trip_rows(summaries, cells, impls, test):
    """Rows of a round-trip table: median and p99 per implementation, then greenmq's ratios."""
    return _pair_rows(summaries, cells, impls, test, lambda s: fmt_number(s.median_us),
                      lambda s: fmt_number(s.p99_us), MEDIAN)


def _round_trip_header(impls):
    return _pair_header(impls, "median us", "p99 us")


def latency_table(summaries, cells, impls, repeat):
    """PAIR round trip: median and p99 per implementation, plus greenmq's ratios."""
    title = (f"PAIR round-trip latency -- medians of {repeat} run(s) of each run's median and p99, "
             f"in microseconds; ratio = other's median / greenmq's, so > 1 means greenmq is faster")
    return title + "\n" + render(_round_trip_header(impls), _round_trip_rows(summaries, cells, impls, "latency"))


def reqrep_table(summaries, cells, impls, repeat):
    """REQ/REP round trip like the PAIR one, with the raw gevent TCP floor below it."""
    title = (f"REQ/REP round-trip latency (request and reply of the row's size; REQ times, REP echoes) -- medians "
             f"of {repeat} run(s) of each run's median and p99, in microseconds;\nratio = other's median / "
             f"greenmq's, so > 1 means greenmq is faster")
    table = title + "\n" + render(_round_trip_header(impls), _round_trip_rows(summaries, cells, impls, "reqrep"))
    floor = floor_lines(summaries, cells)
    return table + "\n" + floor if floor else table


def floor_lines(summaries, cells):
    """The raw-TCP floor under each tcp row, and how far above it greenmq's REQ/REP lies."""
    lines = []
    for cell in cells:
        if cell[:2] != ("reqrep", "tcp"):
            continue
        floor = find(summaries, cell, FLOOR)
        where = (f"floor without ZeroMQ, tcp, {fmt_size(cell[2])}: gevent.socket ping-pong between two processes, "
                 f"TCP_NODELAY")
        if floor is None or floor.status != "ok":
            lines.append(f"{where}: {floor.status if floor else 'not run'}")
            continue
        lines.append(f"{where}: median {fmt_number(floor.median_us)} us, p99 {fmt_number(floor.p99_us)} us")
        mine = find(summaries, cell, GREENMQ)
        if mine is not None and mine.status == "ok":
            lines.append(f"  (greenmq's REQ/REP median is {mine.median_us / floor.median_us:.2f}x this floor, "
                         f"{mine.median_us - floor.median_us:+.1f} us)")
    return "\n".join(lines)


def pubsub_table(summaries, cells, impls, repeat, subscribers):
    """PUB to several SUBs: aggregate delivered msg/s and drops per implementation, plus greenmq's ratios."""
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} delivered msg/s", f"{impl} drops"]
    header += ratio_header(impls)
    rows = []
    for cell in cells:
        if cell[0] != "pubsub":
            continue
        found = {impl: find(summaries, cell, impl) for impl in impls}
        row = [cell[1], fmt_size(cell[2])]
        for impl in impls:
            row += figure_cells(found[impl], lambda s: fmt_rate(s.delivered_per_s),
                                lambda s: fmt_drops(s.drop_fraction))
        row += [fmt_ratio(ratio(found.get(GREENMQ), found[impl], DELIVERED)) for impl in others(impls)]
        rows.append(row)
    title = (f"PUB/SUB fan-out, 1 PUB to {subscribers} SUBs subscribed to a common prefix (16 B messages, default "
             f"HWMs) -- median of {repeat} run(s);\n"
             f"delivered msg/s = sum over the SUBs of messages received per second, each timed from its first to "
             f"its last message;\n"
             f"drops = share of the published messages the SUBs did not receive (PUB drops for a SUB whose queue "
             f"is full);\n"
             f"tcp and ipc: PUB and each SUB in a process of its own; inproc: one process, SUBs in greenlets under "
             f"greenmq and zmq.green, threads under pyzmq;\n"
             f"ratio > 1 means greenmq delivers more (read it next to the drops: the published messages/s are "
             f"in the run lines and the JSON)")
    return title + "\n" + render(header, rows)


"""Tables about connections: the ROUTER echo server under many clients, connection churn, the scale series.

The router tables have a row per (client count, figure): aggregate round
trips/s, connect-storm time and the server's RSS per connection, each with
greenmq's ratios (for the time and the memory, the other's over greenmq's, so
> 1 still means greenmq did better).
"""

from __future__ import annotations

from .plan import CLIENTS_PER_PROCESS, QUICK_CLIENTS_PER_PROCESS, client_processes
from .report import CYCLES, PUBLISHED, ROUND_TRIPS, RSS_PER_CONNECTION, STORM, find, figure_cells, figure_row, fmt_ratio
from .report import fmt_rate, fmt_size, others, ratio, ratio_header, render, GREENMQ


def _router_rows(summaries, cells, impls, counts, figures):
    rows = []
    for cell in cells:
        if cell[0] == "router" and cell[3] in counts:
            rows += [[str(cell[3]), figure.unit, *figure_row(summaries, cell, impls, figure)] for figure in figures]
    return rows


def _router_legend(records, counts, quick):
    """Who ran the clients how, in how many processes, and what was done about descriptor limits."""
    per_process = QUICK_CLIENTS_PER_PROCESS if quick else CLIENTS_PER_PROCESS
    processes = ", ".join(f"{count}: {client_processes(count, quick)}" for count in counts)
    raised = sorted({tuple(record["result"]["nofile"]) for record in records
                     if record["test"] == "router" and record["status"] == "ok" and record["result"].get("nofile")})
    limits = "; ".join(f"{before} -> {after}" for before, after in raised) or "not reported"
    return (f"(server and clients in separate processes; client processes: one per {per_process} clients or fewer "
            f"(clients: processes = {processes});\n"
            f" clients are a greenlet each under greenmq and zmq.green, and one zmq.Poller loop per process over all "
            f"its DEALERs under pyzmq (a thread each does not scale to thousands);\n"
            f" connect storm = from the first client process starting to connect its clients to the last client "
            f"having its first reply (the server's listen backlog is the client count, capped by the kernel);\n"
            f" server RSS per connection = (server VmRSS once every client has had its first reply - VmRSS before "
            f"any client connected) / clients;\n"
            f" RLIMIT_NOFILE: every router worker raises its soft limit to the hard limit (soft before -> after: "
            f"{limits}))")


def router_table(summaries, cells, impls, repeat, records, counts, seconds, quick):
    """ROUTER echo server at each client count of the router test: round trips/s, connect storm, RSS per connection."""
    header = ["clients", "figure", *impls, *ratio_header(impls)]
    rows = _router_rows(summaries, cells, impls, counts, (ROUND_TRIPS, STORM, RSS_PER_CONNECTION))
    warmup, timed = seconds
    title = (f"ROUTER echo server, DEALER clients in ping-pong loops (16 B) -- medians of {repeat} run(s); "
             f"ratio > 1 means greenmq did better\n(round trips/s: aggregate, timed on the server for {timed:g} s "
             f"after every client is busy and {warmup:g} s have passed)\n{_router_legend(records, counts, quick)}")
    return title + "\n" + render(header, rows)


def router_scale_table(summaries, cells, impls, repeat, records, counts, quick):
    """The scale group's router series: round trips/s and server RSS per connection as connections grow."""
    header = ["connections", "figure", *impls, *ratio_header(impls)]
    rows = _router_rows(summaries, cells, impls, counts, (ROUND_TRIPS, RSS_PER_CONNECTION))
    title = (f"scale: ROUTER echo server as connections grow -- medians of {repeat} run(s) (where a count is also "
             f"one of the router test's, its runs serve both tables);\nratio > 1 means greenmq did better\n"
             f"{_router_legend(records, counts, quick)}")
    return title + "\n" + render(header, rows)


def match_table(summaries, cells, impls, repeat):
    """The scale group's match series: a PUB's send rate as its SUB's subscriptions grow, one of them matching."""
    series = [cell for cell in cells if cell[0] == "match"]
    header = ["subscriptions", "size"]
    for impl in impls:
        header += [f"{impl} {PUBLISHED.unit}", f"{impl} vs {series[0][3] if series else '-'}"]
    header += ratio_header(impls)
    rows = []
    for cell in series:
        found = {impl: find(summaries, cell, impl) for impl in impls}
        row = [str(cell[3]), fmt_size(cell[2])]
        for impl in impls:
            base = PUBLISHED.of(find(summaries, series[0], impl))
            row += figure_cells(found[impl], lambda s: fmt_rate(s.published_per_s),
                                lambda s, base=base: f"{s.published_per_s / base:.2f}x" if base else "-")
        row += [fmt_ratio(ratio(found.get(GREENMQ), found[impl], PUBLISHED)) for impl in others(impls)]
        rows.append(row)
    title = (f"scale: PUB matching cost -- one SUB over tcp subscribed to N distinct topics, of which one matches "
             f"every published message;\nthe PUB's send rate (16 B, default HWMs: it drops rather than waits), "
             f"median of {repeat} run(s); 'vs {series[0][3] if series else '-'}' = the rate over the same "
             f"implementation's rate at the fewest subscriptions; ratio > 1 means greenmq publishes faster\n"
             f"(the SUB subscribes after connecting, with SNDHWM 0 = unlimited: libzmq drops subscriptions past it)")
    return title + "\n" + render(header, rows)


def churn_table(summaries, cells, impls, repeat):
    """Connection churn: cycles/s and microseconds per cycle per implementation, plus greenmq's ratios."""
    header = ["transport", "size"]
    for impl in impls:
        header += [f"{impl} cycles/s", f"{impl} us/cycle"]
    header += ratio_header(impls)
    rows = []
    for cell in cells:
        if cell[0] != "churn":
            continue
        found = {impl: find(summaries, cell, impl) for impl in impls}
        row = [cell[1], fmt_size(cell[2])]
        for impl in impls:
            row += figure_cells(found[impl], lambda s: fmt_rate(s.cycles_per_s), lambda s: f"{s.us_per_cycle:.0f}")
        row += [fmt_ratio(ratio(found.get(GREENMQ), found[impl], CYCLES)) for impl in others(impls)]
        rows.append(row)
    title = (f"connection churn -- median of {repeat} run(s); each cycle: a new DEALER socket connects to a bound "
             f"ROUTER, sends 16 B, receives the echo (the handshake is done), closes with linger 0;\n"
             f"client and server in two processes, as they usually are; timed on the server from one cycle's request "
             f"to the request of the cycle after the last timed one;\nratio > 1 means greenmq churns faster")
    return title + "\n" + render(header, rows)

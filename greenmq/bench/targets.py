"""The project's performance targets, judged against a run's medians: met, MISSED, or n/a.

Issue #11's table comes first: ratios greenmq / pyzmq (for round trips,
pyzmq's median over greenmq's), plus two absolute bars -- REQ/REP over tcp
within 10 us of the raw gevent floor of the same run, and the server's memory
per idle tcp connection.  After it, the earlier issues' targets that #11 did
not replace (those it tightened -- REQ/REP tcp, 1 MiB tcp, CURVE -- are gone).
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import CURVE_THROUGHPUT, Cell, router_clients
from .report import CURVE, CYCLES, FIGURES, GREENMQ, MEDIAN, NULL, RSS_PER_CONNECTION, STORM, find, fmt_ratio, ratio
from .report import ROUND_TRIPS, fmt_kib, fmt_number
from .workload.runtime import FLOOR


@dataclass(frozen=True)
class RatioTarget:
    """greenmq against another implementation on one cell's figure: the ratio must reach ``bar``."""

    label: str
    cell: tuple
    other: str
    bar: float
    figure: object = None  # default: the test's first figure
    security: str = NULL  # of both sides of the comparison

    def value(self, summaries):
        """The ratio judged, or None when a run it needs is missing or failed."""
        figure = self.figure or FIGURES[self.cell[0]][0]
        return ratio(find(summaries, self.cell, GREENMQ, self.security),
                     find(summaries, self.cell, self.other, self.security), figure)

    def verdict(self, value):
        return "n/a" if value is None else "met" if value >= self.bar else "MISSED"

    def shown(self, value):
        return fmt_ratio(value)


@dataclass(frozen=True)
class CeilingTarget:
    """greenmq's own figure on one cell must stay at or under ``bar`` (under it, with ``strict``)."""

    label: str
    cell: tuple
    figure: object
    bar: float
    strict: bool = False

    def value(self, summaries):
        return self.figure.of(find(summaries, self.cell, GREENMQ))

    def verdict(self, value):
        if value is None:
            return "n/a"
        return "met" if (value < self.bar if self.strict else value <= self.bar) else "MISSED"

    def shown(self, value):
        if self.figure is RSS_PER_CONNECTION:
            return f"{fmt_kib(value)} KiB"
        return f"{fmt_number(value)} us"


@dataclass(frozen=True)
class FloorTarget:
    """greenmq's median round trip may exceed the raw gevent floor's, same cell, same run, by ``bar`` us at most."""

    label: str
    cell: tuple
    bar: float

    def value(self, summaries):
        mine, floor = MEDIAN.of(find(summaries, self.cell, GREENMQ)), MEDIAN.of(find(summaries, self.cell, FLOOR))
        return None if mine is None or floor is None else mine - floor

    def verdict(self, value):
        return "n/a" if value is None else "met" if value <= self.bar else "MISSED"

    def shown(self, value):
        return f"{value:+.1f} us"


def issue_targets(quick):
    """Issue #11's targets.  The router ones are for the router test's two larger client counts
    (1 000 and 4 000; with --quick, its smaller stand-ins), named by the count actually run."""
    _, thousand, most = router_clients(quick)
    rt = "round trip (pyzmq median / greenmq's)"
    return (
        RatioTarget(f"REQ/REP 16 B tcp {rt} >= 1.1", Cell("reqrep", "tcp", 16), "pyzmq", 1.1),
        FloorTarget("REQ/REP 16 B tcp: greenmq median within 10 us of the raw gevent floor (same run)",
                    Cell("reqrep", "tcp", 16), 10.0),
        RatioTarget(f"REQ/REP 4 KiB tcp {rt} >= 1.1", Cell("reqrep", "tcp", 4 << 10), "pyzmq", 1.1),
        RatioTarget(f"REQ/REP 16 B ipc {rt} >= 1.1", Cell("reqrep", "ipc", 16), "pyzmq", 1.1),
        RatioTarget(f"REQ/REP 4 KiB ipc {rt} >= 1.1", Cell("reqrep", "ipc", 4 << 10), "pyzmq", 1.1),
        RatioTarget("PUSH/PULL 16 B ipc >= 1.2x pyzmq msg/s", Cell("throughput", "ipc", 16), "pyzmq", 1.2),
        RatioTarget("PUSH/PULL 256 B ipc >= 1.2x pyzmq msg/s", Cell("throughput", "ipc", 256), "pyzmq", 1.2),
        RatioTarget("PUSH/PULL 1 MiB tcp >= 1.2x pyzmq msg/s", Cell("throughput", "tcp", 1 << 20), "pyzmq", 1.2),
        RatioTarget("PUB to 4 SUB 16 B tcp >= 1.0x pyzmq delivered msg/s", Cell("pubsub", "tcp", 16), "pyzmq", 1.0),
        RatioTarget("PUB to 4 SUB 16 B ipc >= 1.0x pyzmq delivered msg/s", Cell("pubsub", "ipc", 16), "pyzmq", 1.0),
        RatioTarget("CURVE 1 KiB PUSH/PULL tcp >= 0.9x pyzmq's CURVE msg/s", Cell(CURVE_THROUGHPUT, "tcp", 1 << 10),
                    "pyzmq", 0.9, security=CURVE),
        RatioTarget("proxy tcp->tcp 16 B >= 1.0x pyzmq msg/s", Cell("proxy", "tcp", 16), "pyzmq", 1.0),
        RatioTarget(f"ROUTER echo {thousand} clients >= 1.0x pyzmq round trips/s",
                    Cell("router", "tcp", 16, thousand), "pyzmq", 1.0, ROUND_TRIPS),
        RatioTarget(f"ROUTER echo {most} clients >= 1.0x pyzmq round trips/s", Cell("router", "tcp", 16, most),
                    "pyzmq", 1.0, ROUND_TRIPS),
        RatioTarget(f"connect storm {most} clients no slower than pyzmq (pyzmq time / greenmq's >= 1.0)",
                    Cell("router", "tcp", 16, most), "pyzmq", 1.0, STORM),
        RatioTarget("churn >= 1/1.5 of pyzmq's (libzmq's) cycles/s (ratio >= 0.67)", Cell("churn", "tcp", 16),
                    "pyzmq", 1 / 1.5, CYCLES),
        CeilingTarget(f"memory per idle tcp connection, ROUTER side ({most} clients) <= 16 KiB",
                      Cell("router", "tcp", 16, most), RSS_PER_CONNECTION, 16 << 10),
    )


def earlier_targets(quick):
    """The targets of earlier issues that issue #11 did not replace."""
    fewest = router_clients(quick)[0]
    return (
        RatioTarget("16 B PUSH/PULL over tcp >= 5x zmq.green msg/s", Cell("throughput", "tcp", 16), "zmq.green", 5.0),
        RatioTarget("16 B PUSH/PULL over inproc >= 1x pyzmq msg/s", Cell("throughput", "inproc", 16), "pyzmq", 1.0),
        RatioTarget("PAIR round trip over tcp <= pyzmq's (ratio >= 1)", Cell("latency", "tcp", 16), "pyzmq", 1.0),
        CeilingTarget("PAIR round trip over inproc < 15 us (greenmq median)", Cell("latency", "inproc", 16), MEDIAN,
                      15.0, strict=True),
        RatioTarget(f"{fewest} DEALER clients over tcp >= 1x pyzmq round trips/s", Cell("router", "tcp", 16, fewest),
                    "pyzmq", 1.0, ROUND_TRIPS),
        RatioTarget("16 B PUB to 4 SUB over tcp >= 5x zmq.green delivered msg/s", Cell("pubsub", "tcp", 16),
                    "zmq.green", 5.0),
    )


def targets_section(summaries, quick):
    """Each target with the measured figure and met / MISSED / n/a (not measured)."""
    groups = (("issue #11 targets", issue_targets(quick)), ("earlier targets", earlier_targets(quick)))
    width = max(len(target.label) for _, targets in groups for target in targets)
    lines = ["targets (n/a: a run it needs was not selected or failed)"]
    for title, targets in groups:
        lines.append(f" {title}:")
        for target in targets:
            value = target.value(summaries)
            shown = "-" if value is None else target.shown(value)
            lines.append(f"  [{target.verdict(value):>6}]  {target.label:<{width}} {shown}")
    return "\n".join(lines)

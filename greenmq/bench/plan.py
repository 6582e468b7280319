"""What a benchmark run measures: its cells, in order, and how each is run and sized.

A cell is one figure-producing setting: (test, transport, message size, scale),
where scale is the number of DEALER clients of a router cell, the number of
subscriptions of a match cell, and 0 elsewhere.  Each cell is run by every
chosen implementation, round-robin, ``--repeat`` times.  This module knows
which cells a command line selects, how many messages a run of each should
send (and how to rescale that from a run's duration), which worker options
select it, how many peer processes it needs and how long it may take.
"""

from __future__ import annotations

from typing import NamedTuple

from .workload.main import PUBSUB_SUBSCRIBERS
from .workload.runtime import FLOOR

# "scale" is the scale group (router at many connections, PUB matching many subscriptions): not run by default.
TESTS = ("throughput", "latency", "reqrep", "router", "pubsub", "curve", "proxy", "churn", "scale")
DEFAULT_TESTS = tuple(test for test in TESTS if test != "scale")
# The curve group's cells and what each runs in the worker, with --security curve or null.
CURVE_THROUGHPUT, CURVE_LATENCY = "curve-throughput", "curve-latency"
WORKER_TESTS = {CURVE_THROUGHPUT: "throughput", CURVE_LATENCY: "latency"}
CURVE_SIZE = 1 << 10
SECURITIES = ("curve", "null")  # the order in which a curve cell's runs alternate, per implementation
ROUND_TRIP_TESTS = ("latency", "reqrep", CURVE_LATENCY)
TRANSPORTS = ("tcp", "ipc", "inproc")
SIZES = (16, 256, 4 << 10, 64 << 10, 1 << 20)
RT_SIZES = (16, 4 << 10)  # REQ/REP round trips (--rt-sizes); the PAIR round trip stays at 16 B
PROXY_SIZES = (16, 4 << 10)
LATENCY_SIZE = 16
# DEALER clients of the router test, and connections of the scale group's router series (--quick: fewer).
ROUTER_CLIENTS, QUICK_ROUTER_CLIENTS = (200, 1000, 4000), (20, 50, 100)
SCALE_CONNECTIONS, QUICK_SCALE_CONNECTIONS = (100, 1000, 4000, 10000), (10, 50, 100, 150)
# Distinct topics the SUB of the scale group's match series subscribes to (one of them matches).
SCALE_SUBSCRIPTIONS, QUICK_SCALE_SUBSCRIPTIONS = (10, 1000, 100_000), (10, 100, 1000)
# DEALER clients per client process at most: a process of 2 500 libzmq DEALERs holds ~5 000 descriptors.
CLIENTS_PER_PROCESS, QUICK_CLIENTS_PER_PROCESS = 2500, 40
DESCRIPTORS_PER_CLIENT = 2  # a tcp connection, and libzmq's mailbox eventfd per socket
DESCRIPTOR_MARGIN = 64  # what a worker holds besides its connections
# Extra seconds a cell may take on top of --timeout: per router client, per subscription of a match cell.
SECONDS_PER_CLIENT, SECONDS_PER_SUBSCRIPTION = 0.01, 0.0002
# Runs shorter than this are too noisy to keep: they only calibrate the count.
MIN_SECONDS, TARGET_SECONDS, MAX_SECONDS = 0.5, 0.8, 2.0
CALIBRATION_RERUNS = 4
MAX_COUNT = 20_000_000
MAX_CHURN_CYCLES = 20_000  # each cycle leaves a TIME_WAIT socket: stay well inside the ephemeral port range
MAX_GROWTH = 20  # a short run may mostly show start-up effects: grow its count step by step
DEFAULT_HWM = 1000
QUEUE_BYTES = 16 << 20
# The router test runs for a fixed time, not a count: (warm-up, timed) seconds.
ROUTER_SECONDS, QUICK_ROUTER_SECONDS = (0.5, 1.5), (0.05, 0.2)
# Where each test runs when --only allows: router, curve, proxy and churn only over tcp (scale too: see plan()).
TEST_TRANSPORTS = {"router": ("tcp",), "curve": ("tcp",), "proxy": ("tcp",), "churn": ("tcp",)}
BACKLOG_FACTOR = 20  # kept throughput runs send at least this many high-water marks' worth


class Cell(NamedTuple):
    """One row of a table: a test in a setting; ``scale`` is clients (router), subscriptions (match) or 0."""

    test: str
    transport: str
    size: int
    scale: int = 0

    def fields(self):
        """The cell as the fields of a saved run."""
        return {"test": self.test, "transport": self.transport, "size": self.size, "scale": self.scale}


def hwm_for(size):
    """SNDHWM/RCVHWM for a throughput run: the default, lowered to keep <= 16 MiB queued.

    A receiver may read up to RCVHWM messages before the application sees the
    first one; timed from first to last message, that backlog would count as
    free.  Bounding it in bytes keeps it small next to what a run sends, for
    every implementation alike, without making runs of big messages last long.
    """
    return max(16, min(DEFAULT_HWM, QUEUE_BYTES // size))


def router_clients(quick):
    return QUICK_ROUTER_CLIENTS if quick else ROUTER_CLIENTS


def scale_connections(quick):
    return QUICK_SCALE_CONNECTIONS if quick else SCALE_CONNECTIONS


def scale_subscriptions(quick):
    return QUICK_SCALE_SUBSCRIPTIONS if quick else SCALE_SUBSCRIPTIONS


def router_seconds(quick):
    """(warm-up, timed) seconds of a router run."""
    return QUICK_ROUTER_SECONDS if quick else ROUTER_SECONDS


def client_processes(clients, quick):
    """How many processes the router test's clients run in: as few as hold them all."""
    per_process = QUICK_CLIENTS_PER_PROCESS if quick else CLIENTS_PER_PROCESS
    return max(1, -(-clients // per_process))


def plan(args):
    """Cells in run order.

    Throughput runs each ``--sizes``, REQ/REP each ``--rt-sizes``, the proxy
    test each of :data:`PROXY_SIZES`, the other tests 16 bytes.  The router
    test runs each of :data:`ROUTER_CLIENTS`, over tcp only; pub/sub over tcp,
    ipc and inproc; the curve group is two cells over tcp, 1 KiB PUSH/PULL and
    the 16-byte PAIR round trip (``--sizes`` does not apply: the issue's figure
    is for 1 KiB); proxy and churn over tcp.  The scale group comes last: the
    router at :data:`SCALE_CONNECTIONS` clients (those the router test already
    runs are not run twice) and the match series.
    """
    cells = []
    for test in args.tests:
        if test == "scale":
            continue
        for transport in args.only:
            if transport in TEST_TRANSPORTS.get(test, TRANSPORTS):
                cells += _cells(test, transport, args)
    if "scale" in args.tests and "tcp" in args.only:
        cells += [cell for cell in _scale_cells(args.quick) if cell not in cells]
    return cells


def _cells(test, transport, args):
    if test == "curve":
        return [Cell(CURVE_THROUGHPUT, transport, CURVE_SIZE), Cell(CURVE_LATENCY, transport, LATENCY_SIZE)]
    if test == "router":
        return [Cell(test, transport, LATENCY_SIZE, clients) for clients in router_clients(args.quick)]
    sizes = {"throughput": args.sizes, "reqrep": args.rt_sizes, "proxy": PROXY_SIZES}.get(test, (LATENCY_SIZE,))
    return [Cell(test, transport, size) for size in sizes]


def _scale_cells(quick):
    return ([Cell("router", "tcp", LATENCY_SIZE, clients) for clients in scale_connections(quick)]
            + [Cell("match", "tcp", LATENCY_SIZE, topics) for topics in scale_subscriptions(quick)])


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
    if cell.test in WORKER_TESTS:
        return [(impl, security) for impl in impls for security in SECURITIES]
    return [(impl, "null") for impl in impls_for(cell, impls)]


def first_count(cell, quick):
    """Messages, round trips or cycles for the first run of a cell.

    Sized so that the fastest implementation needs ~0.1-0.3 s and a slow one
    stays far from the timeout; later runs are rescaled from what was seen.
    Big messages get fewer: the budget is in bytes as much as in messages.
    The churn test starts at 5 000 cycles (~2-5 s).
    """
    test, _, size, _ = cell
    if test in ROUND_TRIP_TESTS:
        return 200 if quick else 5000
    if test == "churn":
        return 50 if quick else 5000
    if test == "router":
        return 0  # timed, not counted
    if test in ("pubsub", "match"):
        return 2000 if quick else 100_000  # published; each of the subscribers may receive them all
    if quick:
        return min(2000, max(10, 4_000_000 // size))
    if test == CURVE_THROUGHPUT:
        return BACKLOG_FACTOR * hwm_for(size)  # CURVE may be several times slower than NULL: start low, grow
    return min(200_000, max(BACKLOG_FACTOR * hwm_for(size), 300_000_000 // size))


def calibrated(cell):
    """Whether a cell's count is grown or shrunk towards TARGET_SECONDS (the router test runs for a set time)."""
    return cell.test != "router"


def rescaled(count, elapsed, cell):
    """The count that should take about TARGET_SECONDS, judging by a run of ``elapsed``."""
    one_at_a_time = cell.test in (*ROUND_TRIP_TESTS, "churn")
    floor = 10 if one_at_a_time else BACKLOG_FACTOR * hwm_for(cell.size)
    ceiling = MAX_CHURN_CYCLES if cell.test == "churn" else MAX_COUNT
    wanted = count * MAX_GROWTH if elapsed <= 0 else int(count * TARGET_SECONDS / elapsed)
    return max(floor, min(ceiling, count * MAX_GROWTH, wanted))


def worker_argv(cell, entrant, count, quick):
    """The options that select a cell, an (implementation, security) entrant and a count in a worker."""
    test, transport, size, scale = cell
    impl, security = entrant
    argv = ["--impl", impl, "--test", WORKER_TESTS.get(test, test), "--transport", transport,
            "--size", str(size), "--count", str(count), "--security", security]
    if test in ROUND_TRIP_TESTS or test == "churn":
        argv += ["--warmup", str(max(10, count // 10))]
    elif test == "router":
        warmup, seconds = router_seconds(quick)
        argv += ["--clients", str(scale), "--processes", str(client_processes(scale, quick)),
                 "--warmup-seconds", str(warmup), "--duration", str(seconds)]
    elif test == "pubsub":
        argv += ["--subscribers", str(PUBSUB_SUBSCRIBERS)]  # default HWMs: what PUB then drops is reported
    elif test == "match":
        argv += ["--subscriptions", str(scale)]
    elif hwm_for(size) != DEFAULT_HWM:
        argv += ["--hwm", str(hwm_for(size))]
    return argv


class Shape(NamedTuple):
    """How :func:`greenmq.bench.runner.run_cell` runs a cell: its processes and deadline."""

    needs_peer: bool
    peers: int
    relay: bool
    timeout: float


def shape(cell, timeout, quick):
    """Peer processes and deadline of a cell's runs; thousands of clients or subscriptions get longer."""
    test, transport, _, scale = cell
    peers = {"pubsub": PUBSUB_SUBSCRIBERS, "router": client_processes(scale, quick)}.get(test, 1)
    extra = {"router": SECONDS_PER_CLIENT, "match": SECONDS_PER_SUBSCRIPTION}.get(test, 0) * scale
    return Shape(transport != "inproc", peers, test == "proxy", timeout + extra)


def descriptors_needed(cell, quick):
    """File descriptors the busiest process of a cell needs, or 0 for cells that need few."""
    if cell.test != "router":
        return 0
    clients = cell.scale
    per_process = -(-clients // client_processes(clients, quick))
    return max(clients, per_process * DESCRIPTORS_PER_CLIENT) + DESCRIPTOR_MARGIN


def descriptor_limit():
    """RLIMIT_NOFILE's hard limit, which the workers raise their soft limit to (None: no limit known)."""
    try:
        import resource
    except ImportError:  # Windows: no such limits
        return None
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return None if hard == resource.RLIM_INFINITY else hard


def skip_reason(cell, quick, limit):
    """Why a cell cannot run here (its processes would run out of descriptors), or None."""
    needed = descriptors_needed(cell, quick)
    if limit is None or needed <= limit:
        return None
    return f"needs ~{needed} open files in one process, and the hard RLIMIT_NOFILE is {limit}"

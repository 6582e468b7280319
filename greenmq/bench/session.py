"""Run the planned cells: round-robin over implementations, calibration, retries, skips, every record kept.

Each run happens in fresh worker processes through :func:`greenmq.bench.runner.run_cell`;
every run, including calibration runs and failures, is recorded as a dict
(saved with ``--json``) and described on the progress line.
"""

from __future__ import annotations

from dataclasses import asdict

from . import plan, report
from .runner import Outcome, run_cell
from .workload.runtime import FLOOR

RETRY_BUDGET = 3  # reruns after a failed run, per implementation and whole benchmark


class Bench:
    """Runs the planned cells, keeps every raw record, and remembers each cell's count."""

    def __init__(self, args, ipc_dir, progress):
        self.args = args
        self.ipc_dir = ipc_dir
        self.progress = progress
        self.records = []
        self._serial = 0
        self._descriptor_limit = plan.descriptor_limit()

    def _bind_address(self, transport, impl):
        """Where the measuring (or relay) worker binds: tcp picks a free port; ipc a fresh path."""
        self._serial += 1
        if transport == "tcp":
            return "tcp://127.0.0.1"
        if transport == "ipc":
            return f"ipc://{self.ipc_dir}/{impl}-{self._serial}.sock"
        return f"inproc://bench-{self._serial}"

    def _once(self, cell, entrant, count):
        """One run of a cell in fresh worker processes."""
        argv = plan.worker_argv(cell, entrant, count, self.args.quick)
        how = plan.shape(cell, self.args.timeout, self.args.quick)
        bind = self._bind_address(cell.transport, entrant[0])
        return run_cell(argv, needs_peer=how.needs_peer, bind=bind, timeout=how.timeout, peers=how.peers,
                        relay=how.relay)

    def measure(self, cell, entrant, rep, counts):
        """One kept run of a cell by an (implementation, security) entrant; first reruns too-short runs.

        Every run is recorded; calibration runs are marked ``discarded`` so the
        JSON shows them but the medians do not use them.
        """
        for attempt in range(plan.CALIBRATION_RERUNS + 1):
            count = counts[entrant]
            self.progress.starting(describe_slot(cell, entrant, rep))
            outcome = self._once(cell, entrant, count)
            record = self._record(cell, entrant, rep, count, outcome)
            if outcome.status != "ok" or self.args.quick or not plan.calibrated(cell):
                return outcome
            elapsed = outcome.result["elapsed"]
            if not plan.MIN_SECONDS <= elapsed <= plan.MAX_SECONDS:
                counts[entrant] = plan.rescaled(count, elapsed, cell)
            if elapsed >= plan.MIN_SECONDS or attempt == plan.CALIBRATION_RERUNS:
                return outcome
            record["discarded"] = True
            self.progress.line(f"    (calibration: {elapsed:.2f} s at count {count}; retrying with "
                               f"{counts[entrant]})")
        return outcome

    def _record(self, cell, entrant, rep, count, outcome):
        impl, security = entrant
        record = {**cell.fields(), "impl": impl, "security": security, "rep": rep, "count": count,
                  **asdict(outcome)}
        self.records.append(record)
        self.progress.line(describe_run(record))
        return record

    def run(self, cells):
        """All cells; in each, repetitions round-robin over implementations to share drift.

        A failed run is retried in the next repetition (zmq.green, for one, hangs
        only now and then), but a second failure ends that implementation's (or,
        in a curve cell, that implementation-and-security's) cell, and only
        RETRY_BUDGET retries are spent per implementation in the whole run, so a
        broken implementation cannot stretch it by many timeouts.  A cell that
        cannot run on this machine (too few file descriptors) is recorded once
        per entrant as skipped, with the reason.
        """
        retries = {impl: RETRY_BUDGET for impl in [*self.args.impl, FLOOR]}
        repeat = self.args.repeat
        for cell in cells:
            entrants = plan.entrants_for(cell, self.args.impl)
            reason = plan.skip_reason(cell, self.args.quick, self._descriptor_limit)
            if reason is not None:
                for entrant in entrants:
                    self._record(cell, entrant, 1, 0, Outcome("skipped", error=reason))
                    self.progress.advance(repeat)
                continue
            counts = {entrant: plan.first_count(cell, self.args.quick) for entrant in entrants}
            failures = dict.fromkeys(entrants, 0)
            for rep in range(1, repeat + 1):
                for entrant in entrants:
                    impl = entrant[0]
                    if failures[entrant] and (failures[entrant] > 1 or retries[impl] == 0):
                        self.progress.advance()
                        continue
                    if failures[entrant]:
                        retries[impl] -= 1
                    if self.measure(cell, entrant, rep, counts).status != "ok":
                        failures[entrant] += 1
                    self.progress.advance()


def planned_runs(cells, impls, repeat):
    """How many kept runs the plan holds (calibration reruns come on top), for the progress line."""
    return sum(len(plan.entrants_for(cell, impls)) for cell in cells) * repeat


def describe_slot(cell, entrant, rep):
    """What the progress line says of a run about to start: ``reqrep tcp 4 KiB pyzmq run 2``."""
    impl, security = entrant
    return f"{report.cell_label(cell)} {impl}{'+CURVE' if security == 'curve' else ''} run {rep}"


def describe_run(record):
    """One line for a finished run: where, who, and its figures (or why there are none)."""
    cell = plan.Cell(record["test"], record["transport"], record["size"], record.get("scale", 0))
    who = record["impl"] + ("+CURVE" if record.get("security") == "curve" else "")
    where = f"{report.cell_label(cell):<32} {who:<15} run {record['rep']}"
    if record["status"] != "ok":
        return f"{where}: {record['status']}: {record['error']}"
    result = record["result"]
    if "delivered_per_s" in result:
        return (f"{where}: {report.fmt_rate(result['delivered_per_s'])} msg/s delivered to {result['subscribers']} "
                f"SUBs ({result['subscribers_run_as']}), {report.fmt_rate(result['published_per_s'])} msg/s "
                f"published; received {result['received']} of {result['published']} each, "
                f"{report.fmt_drops(result['drop_fraction'])} dropped ({result['elapsed']:.2f} s)")
    if "subscriptions" in result:
        return (f"{where}: {report.fmt_rate(result['published_per_s'])} msg/s published to a SUB with "
                f"{result['subscriptions']} subscriptions, {report.fmt_drops(result['drop_fraction'])} dropped "
                f"({result['elapsed']:.2f} s, count {record['count']})")
    if "round_trips_per_s" in result:
        rss = result["rss_per_connection"]
        return (f"{where}: {report.fmt_rate(result['round_trips_per_s'])} round trips/s, connect storm "
                f"{result['storm_s']:.3f} s, server RSS {'-' if rss is None else report.fmt_kib(rss)} KiB per "
                f"connection; {result['clients']} clients in {result['processes']} process(es), "
                f"{result['clients_run_as']} ({result['elapsed']:.2f} s timed)")
    if "cycles_per_s" in result:
        figure = f"{report.fmt_rate(result['cycles_per_s'])} cycles/s, {result['us_per_cycle']:.0f} us per cycle"
    elif "msgs_per_s" in result:
        figure = f"{report.fmt_rate(result['msgs_per_s'])} msg/s, {report.fmt_number(result['mb_per_s'])} MB/s"
    else:
        figure = f"median {result['median_us']:.1f} us, p99 {result['p99_us']:.1f} us"
    return f"{where}: {figure} ({result['elapsed']:.2f} s, count {record['count']})"

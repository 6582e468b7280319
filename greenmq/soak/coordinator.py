"""The soak run: start the peers, restart them at random, watch them, stop them cleanly, count.

Everything is driven from one loop in the main thread that waits on the
event queue of :mod:`~greenmq.soak.process` with a timeout, so that one
place decides, in order, what the events mean and when to sample memory,
restart a peer or print a progress report. All randomness (which peer, how
it dies, how long it stays down, the peers' message sizes) comes from the
run's seed.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from .accounting import Ledger, StallWatch, Tally
from .counters import percentile
from .plan import PATTERNS, Options, Slot
from .process import PeerProcess

READY_TIMEOUT = 60.0  # seconds a starting peer may take to bind or connect and say so
DRAIN_QUIET = 1.0  # seconds without a new message that say the receivers have caught up at the end
DRAIN_LIMIT = 30.0  # seconds the end of the run waits for them at most
MAX_DOWN = 1.0  # seconds a stopped peer stays down at most before it is started again
RSS_PERIOD = 1.0  # seconds between two RSS samples
SENDERS = {"pub", "push", "req"}
RECEIVERS = {"sub", "pull"}


class SoakFailed(Exception):
    """The run could not go on (a peer would not start)."""


class Coordinator:
    """One soak run in ``workdir``; ``progress`` is called with a report dict about every 10 % of the run."""

    def __init__(self, options: Options, workdir: Path, keys: dict[str, tuple[str, str]],
                 progress: Callable[[dict[str, Any]], None]):
        self.options = options
        self.workdir = workdir
        self.keys = keys  # CURVE slot -> (public, secret), z85
        self.progress = progress
        self.rng = random.Random(options.seed)
        self.events: queue.Queue = queue.Queue()
        self.ledger = Ledger({slot.name: slot.links for slot in options.slots})
        self.current: dict[str, PeerProcess] = {}
        self.history: list[PeerProcess] = []
        self.endpoints: dict[str, str] = {}
        self.incarnations: Counter[str] = Counter()
        self.restarts: Counter[str] = Counter()  # by signal
        self.restarted: Counter[str] = Counter()  # by slot
        self.crashes: list[str] = []
        self.stalls: list[str] = []
        self.stall_watch = StallWatch(self.ledger.windows, options.settle + options.request_timeout + MAX_DOWN)
        self.rss: dict[str, list[tuple[float, int]]] = {}
        self.started = self.elapsed_end = 0.0
        self.ending = False

    # -- peers -------------------------------------------------------------------------------------

    def _spec(self, slot: Slot) -> dict[str, Any]:
        options = self.options
        self.incarnations[slot.name] += 1
        spec: dict[str, Any] = {
            "role": slot.role, "name": slot.name, "incarnation": self.incarnations[slot.name],
            "seed": options.seed, "parent": os.getpid(), "rate": slot.rate,
            "max_size": options.max_size, "request_timeout": options.request_timeout,
            "go": str(self.workdir / "go"),
            "links": [{"endpoint": self.endpoints[name], "server_key": self.keys.get(name, ("", ""))[0]}
                      for name in slot.links],
        }
        if slot.bind is not None:
            spec["bind"] = self.endpoints.get(slot.name, slot.bind.format(dir=self.workdir))
        if slot.name in self.keys:
            spec["curve_secret"] = self.keys[slot.name][1]
        return spec

    def _spawn(self, slot: Slot) -> PeerProcess:
        """Start the slot's next incarnation (its window is already open)."""
        peer = PeerProcess(self._spec(slot), self.workdir, self.events)
        self.current[slot.name] = peer
        self.history.append(peer)
        return peer

    def _await_ready(self, peer: PeerProcess) -> None:
        """Wait until ``peer`` has bound or connected; its window closes :data:`SETTLE` seconds later."""
        deadline = time.monotonic() + READY_TIMEOUT
        while peer.ready_at is None:
            if peer.exited or time.monotonic() > deadline:
                why = peer.describe_exit() if peer.exited else f"no 'ready' in {READY_TIMEOUT:.0f} s"
                raise SoakFailed(f"{peer.name} did not start: {why}")
            self._pump(min(deadline, time.monotonic() + 0.5))
        self.ledger.windows.close(peer.slot, peer.ready_at + self.options.settle)

    def _restart(self) -> None:
        restartable = [slot for slot in self.options.slots if not slot.steady]
        slot = self.rng.choice(restartable)
        signum = self.rng.choice((signal.SIGKILL, signal.SIGTERM))
        down = self.rng.uniform(0.0, MAX_DOWN)
        peer = self.current[slot.name]
        self.ledger.windows.open(slot.name, time.monotonic())
        peer.stop(signum)
        self.restarts[signal.Signals(signum).name] += 1
        self.restarted[slot.name] += 1
        self._pump(time.monotonic() + down)
        self._await_ready(self._spawn(slot))

    # -- events ------------------------------------------------------------------------------------

    def _pump(self, until: float) -> None:
        """Handle events until ``until`` (monotonic time)."""
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            try:
                peer, event = self.events.get(timeout=remaining)
            except queue.Empty:
                return
            self._handle(peer, event)

    def _handle(self, peer: PeerProcess, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "ready":
            peer.ready_at = time.monotonic()
            if "endpoint" in event:
                self.endpoints[peer.slot] = event["endpoint"]
        elif kind == "final":
            peer.final = event
            if self.ending and "last" in event:
                self.ledger.record_end(peer.slot, event["last"])
        elif kind == "error":
            peer.error = event.get("error")
        elif kind == "exit":
            peer.reap()
            if not peer.expected_exit:
                self._crashed(peer)
        else:
            self.ledger.record(peer.slot, event)

    def _crashed(self, peer: PeerProcess) -> None:
        """A peer ended by itself: a failure of the run; start it again so that the rest goes on."""
        self.crashes.append(peer.describe_exit())
        # One that never got ready is left to _await_ready, which ends the run: it would only fail again.
        if self.current.get(peer.slot) is peer and peer.ready_at is not None and not self.ending:
            self.ledger.windows.open(peer.slot, time.monotonic())
            self._await_ready(self._spawn(self.options.slot(peer.slot)))

    # -- the run -----------------------------------------------------------------------------------

    def run(self) -> None:
        options = self.options
        self.started = time.monotonic()
        binders = [slot for slot in options.slots if slot.bind is not None]
        others = [slot for slot in options.slots if slot.bind is None]
        for group in (binders, others):  # binders first: the others connect to what they announce
            for slot in group:
                self.ledger.windows.open(slot.name, time.monotonic())
            for peer in [self._spawn(slot) for slot in group]:
                self._await_ready(peer)
        (self.workdir / "go").touch()  # the senders start
        start = time.monotonic()
        end = start + options.seconds
        last_restart = end - options.settle - MAX_DOWN  # so that the run ends with every peer settled
        next_restart = start + self._restart_delay()
        next_sample = start
        step = options.seconds / 10
        next_report = start + step
        while time.monotonic() < end:
            self._pump(min(next_restart, next_sample, next_report, end))
            now = time.monotonic()
            if now >= next_sample:
                self._sample_rss(now)
                self._watch_progress(now)
                next_sample = now + RSS_PERIOD
            if next_restart <= now < last_restart:
                self._restart()
                next_restart = time.monotonic() + self._restart_delay()
            if now >= next_report and now < end:
                self.progress(self.report())
                next_report += step
        self._finish()

    def _restart_delay(self) -> float:
        return self.rng.uniform(0.5, 1.5) * self.options.restart_every

    def _watch_progress(self, now: float) -> None:
        """Each peer's progress count (sent for PUB and PUSH, received for the others) must move."""
        for peer in self.current.values():
            if peer.role == "rep":  # it answers what comes; the clients' counts show a REP that hangs
                continue
            slot = self.options.slot(peer.slot)
            pattern = tuple(other.name for other in self.options.slots if other.pattern == slot.pattern)
            count = peer.counts()["sent" if peer.role in ("pub", "push") else "received"]
            stall = self.stall_watch.observe(peer.name, pattern, count, now)
            if stall is not None:
                self.stalls.append(stall)

    def _sample_rss(self, now: float) -> None:
        for name, peer in self.current.items():
            rss = peer.rss()
            if rss is not None and self.options.slot(name).steady:
                self.rss.setdefault(name, []).append((now - self.started, rss))

    def _finish(self) -> None:
        """All windows closed, senders stopped, receivers caught up: then every peer's last word."""
        self._pump(min(self.ledger.windows.all_closed_by(), time.monotonic() + READY_TIMEOUT))
        for peer in self.current.values():
            if peer.role in SENDERS:
                peer.send(signal.SIGUSR1)
        deadline = time.monotonic() + DRAIN_LIMIT
        received = -1
        while time.monotonic() < deadline:
            now_received = sum(self._sum(pattern)["received"] for pattern in PATTERNS)
            if now_received == received:
                break
            received = now_received
            self._pump(time.monotonic() + DRAIN_QUIET)
        self._sample_rss(time.monotonic())
        self.ending = True
        self.elapsed_end = time.monotonic() - self.started
        for peer in self.current.values():
            peer.expected_exit = True
            peer.send(signal.SIGTERM)
        for peer in self.current.values():
            peer.stop(signal.SIGTERM)
        self._pump_until_exited()

    def _pump_until_exited(self) -> None:
        deadline = time.monotonic() + 10.0
        while not all(peer.exited for peer in self.current.values()) and time.monotonic() < deadline:
            self._pump(time.monotonic() + 0.2)
        self._pump(time.monotonic() + 0.2)

    def close(self) -> None:
        """Kill whatever still runs (Ctrl-C, an error): no peer outlives the run."""
        for peer in self.history:
            if peer.alive():
                peer.expected_exit = True
                peer.process.kill()
        for peer in self.history:
            peer.process.wait()

    # -- figures -----------------------------------------------------------------------------------

    def _sum(self, pattern: str) -> dict[str, int]:
        """The pattern's counters summed over every incarnation of its peers: sent by its senders,
        received and the rest by its receivers (REQ clients are both)."""
        totals: Counter[str] = Counter()
        for peer in self.history:
            slot = self.options.slot(peer.slot)
            if slot.pattern != pattern:
                continue
            counts = peer.counts()
            if peer.role in SENDERS:
                totals["sent"] += counts["sent"]
            if peer.role in RECEIVERS or peer.role == "req":
                for field in ("received", "duplicated", "corrupt", "timeouts"):
                    totals[field] += counts[field]
        return dict(totals)

    def tally(self, pattern: str) -> Tally:
        totals = self._sum(pattern)
        slots = [slot for slot in self.options.slots if slot.pattern == pattern]
        receivers = sum(1 for slot in slots if slot.role in RECEIVERS) or 1
        sent = totals.get("sent", 0) * (receivers if pattern == "pubsub" else 1)
        received = totals.get("received", 0)
        end_senders = None
        if self.ending:
            end_senders = {peer.name: peer.counts()["sent"] for peer in self.current.values()
                           if peer.role in SENDERS and peer.role != "req"
                           and self.options.slot(peer.slot).pattern == pattern}
        unexplained = self.ledger.unexplained({slot.name for slot in slots}, end_senders)
        lost = max(0, sent - received)
        return Tally(sent=sent, received=received, lost_allowed=max(0, lost - unexplained),
                     lost_unexplained=unexplained, duplicated=totals.get("duplicated", 0),
                     corrupt=totals.get("corrupt", 0), timeouts=totals.get("timeouts", 0))

    def latency(self) -> tuple[float | None, float | None]:
        """REQ/REP round trip p50 and p99, seconds, over every client incarnation."""
        histogram = [0] * len(self.history[0].histogram()) if self.history else []
        for peer in self.history:
            if peer.role == "req":
                histogram = [a + b for a, b in zip(histogram, peer.histogram())]
        return percentile(histogram, 50), percentile(histogram, 99)

    def report(self) -> dict[str, Any]:
        """The figures so far (final once the run has finished): what :mod:`~greenmq.soak.report` prints."""
        p50, p99 = self.latency()
        return {
            "elapsed": (self.elapsed_end if self.ending else time.monotonic() - self.started),
            "final": self.ending,
            "patterns": {pattern: vars(self.tally(pattern)) for pattern in PATTERNS},
            "latency": {"p50": p50, "p99": p99},
            "restarts": dict(self.restarts),
            "restarted": dict(self.restarted),
            "crashes": list(self.crashes),
            "stalls": list(self.stalls),
            "rss": {name: list(samples) for name, samples in self.rss.items()},
        }

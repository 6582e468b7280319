"""Run one benchmark measurement in fresh worker processes, and never hang doing it.

A measurement ("cell run") is one measuring process, plus for tcp and ipc a
peer process (or several, as the pub/sub test's subscribers) that connects to
the endpoint the measuring process bound, as libzmq's ``local_thr``/``remote_thr``
pair does; the proxy test adds a relay process between the two.  Everything
here is bounded by one deadline: a worker that does not answer in time is
killed and the run is reported as a timeout instead of stalling the whole
benchmark.

This module runs in the orchestrating process, which never opens a ZeroMQ
socket, so plain threads and :mod:`subprocess` are the right tools here.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
TEARDOWN_GRACE = 5.0  # seconds a worker may take to close and exit after its job is done


@dataclass
class Outcome:
    """What one run produced: ``status`` is ``ok``, ``timeout``, ``error`` or ``skipped`` (``error`` says why)."""

    status: str
    result: dict | None = None
    error: str | None = None
    traceback: str | None = None  # the worker's, when it reported an exception
    warnings: list = field(default_factory=list)
    wall: float = 0.0


class WorkerFailed(Exception):
    """A worker reported an error or exited without delivering what was expected."""

    def __init__(self, message, traceback=None):
        super().__init__(message)
        self.traceback = traceback


class WorkerTimeout(Exception):
    """The run's deadline passed while waiting for a worker."""


class Worker:
    """One worker subprocess whose JSON stdout lines land on a queue shared by the run.

    A reader thread per process lets the run wait for "whichever worker speaks
    next" with a timeout, so a peer that dies early fails the run at once
    rather than leaving the measuring side waiting until the deadline.
    """

    def __init__(self, name, argv, events):
        self.name = name
        self.announced = {}  # event kind -> the event, filled in by _await
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 -- closed in close()
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=_worker_env(),
        )
        self._reader = threading.Thread(target=forward_events, args=(self, self.process.stdout, events), daemon=True)
        self._reader.start()

    def finish(self, grace):
        """Wait up to ``grace`` seconds for a clean exit; kill otherwise. True if it exited.

        Once it has exited, all its output is on the event queue.
        """
        try:
            self.process.wait(timeout=max(grace, 0.01))
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        self._reader.join(timeout=1)
        return True

    def kill(self):
        """Kill and reap the process (idempotent)."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=TEARDOWN_GRACE)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(timeout=1)

    def stderr_tail(self, lines=5):
        """The last lines the worker wrote to stderr, to explain a failure."""
        self._stderr.seek(0)
        return " | ".join(self._stderr.read().strip().splitlines()[-lines:])

    def exit_code(self):
        """The return code of a worker whose output has ended (None if it still runs)."""
        try:
            return self.process.wait(timeout=TEARDOWN_GRACE)
        except subprocess.TimeoutExpired:
            return None

    def describe_exit(self):
        """Why a worker that stopped talking is gone: its return code and stderr."""
        code = self.exit_code()
        tail = self.stderr_tail()
        return f"{self.name} exited with code {code}" + (f": {tail}" if tail else "")

    def close(self):
        self.kill()
        self._stderr.close()


def forward_events(source, stream, events):
    """Put ``(source, event)`` on ``events`` for each JSON line of ``stream`` (an unparsable line is kept
    as text), then ``(source, {"event": "exit"})`` when the stream ends."""
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            event = {"event": "output", "text": line.rstrip()}
        events.put((source, event))
    events.put((source, {"event": "exit"}))


def _worker_env():
    """Environment for workers: unbuffered output, so each announcement arrives at once."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _await(events, worker, wanted, deadline):
    """Wait for ``worker`` to announce ``wanted``; fail fast on any worker's error or death.

    Events from the other worker are inspected too: an error or a failed exit of
    the peer is why the measuring side would otherwise wait until the deadline.
    Every announcement is remembered, so one that arrived early is not lost.
    """
    while wanted not in worker.announced:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerTimeout(f"no {wanted!r} from {worker.name} in time")
        try:
            source, event = events.get(timeout=remaining)
        except queue.Empty:
            continue
        kind = event.get("event")
        source.announced[kind] = event
        if kind == "error":
            raise WorkerFailed(f"{source.name}: {event.get('error')}", event.get("traceback"))
        if kind == "exit" and wanted not in worker.announced and (source is worker or source.exit_code() != 0):
            raise WorkerFailed(f"no {wanted!r} from {worker.name}; {source.describe_exit()}")
    return worker.announced[wanted]


def _teardown_warnings(events, workers, deadline):
    """Wait for every worker to exit; one that hangs or fails while closing gets a warning.

    The figure is already in hand, so trouble now does not erase it; but a
    sender that never finishes lingering, or a crash in ``close()`` or
    ``term()``, is still a bug of the implementation, so it is reported.
    """
    warnings = []
    exited = []
    for worker in workers:
        if worker.finish(deadline + TEARDOWN_GRACE - time.monotonic()):
            exited.append(worker)
        else:
            warnings.append(f"{worker.name} did not exit after its work (killed)")
    while not events.empty():
        source, event = events.get_nowait()
        source.announced[event.get("event")] = event
    for worker in exited:
        if worker.process.returncode != 0:
            why = worker.announced.get("error", {}).get("error") or worker.stderr_tail()
            warnings.append(f"{worker.name} exited with code {worker.process.returncode} while closing: {why}")
    return warnings


def run_cell(base_argv, needs_peer, bind, timeout, peers=1, relay=False):
    """Run one measurement: ``base_argv`` selects implementation, test, transport, size and count.

    The measuring worker binds ``bind`` and announces the real endpoint; when
    ``needs_peer`` (tcp/ipc), ``peers`` peer workers then connect to it, each
    also given the announcement's ``peer_argv`` and its ``--index``.

    With ``relay`` (the proxy test) a relay worker comes first: it binds
    ``bind`` and a second endpoint and announces both (``endpoint`` and
    ``backend``); the measuring worker then connects to the backend and says
    ``ready``, and the peers connect to the relay's endpoint.  The relay never
    finishes by itself: it is killed once the others are done.

    Returns an :class:`Outcome`; never raises for worker trouble and never
    outlives ``timeout`` by more than the teardown grace.
    """
    started = time.monotonic()
    deadline = started + timeout
    events = queue.Queue()
    workers = []
    relay_worker = None
    try:
        if relay:
            relay_worker = Worker("relay worker", [*base_argv, "--role", "relay", "--bind", bind], events)
            workers.append(relay_worker)
            relayed = _await(events, relay_worker, "endpoint", deadline)
            measurer = Worker("measuring worker", [*base_argv, "--role", "measure", "--connect", relayed["backend"]],
                              events)
            workers.append(measurer)
            announced = {**_await(events, measurer, "ready", deadline), "endpoint": relayed["endpoint"]}
        else:
            measurer = Worker("measuring worker", [*base_argv, "--role", "measure", "--bind", bind], events)
            workers.append(measurer)
            announced = _await(events, measurer, "endpoint", deadline)
        peer_argv = [*base_argv, "--role", "peer", "--connect", announced["endpoint"], *announced.get("peer_argv", ())]
        for index in range(peers if needs_peer else 0):
            name = "peer worker" if peers == 1 else f"peer worker {index}"
            workers.append(Worker(name, [*peer_argv, "--index", str(index)], events))
        result = dict(_await(events, measurer, "result", deadline))
        warnings = _teardown_warnings(events, [worker for worker in workers if worker is not relay_worker], deadline)
        result.pop("event", None)
        return Outcome("ok", result=result, warnings=warnings, wall=time.monotonic() - started)
    except WorkerTimeout as error:
        return Outcome("timeout", error=str(error), wall=time.monotonic() - started)
    except WorkerFailed as error:
        return Outcome("error", error=str(error), traceback=error.traceback, wall=time.monotonic() - started)
    finally:
        for worker in workers:
            worker.close()

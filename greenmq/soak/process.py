"""One incarnation of a soak peer, as the coordinator sees it: its process, its events, its counters.

The coordinator runs no ZeroMQ socket and no event loop of its own, so
plain :mod:`subprocess` and one reader thread per process are the tools:
each thread turns the peer's stdout lines into ``(process, event)`` pairs
on the one queue the coordinator waits on, and adds an ``exit`` event when
the output ends. Processes are started from the coordinator's main thread
only: Linux sends ``PR_SET_PDEATHSIG`` when the *thread* that forked a
child ends, so a child forked by a short-lived thread would die with it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..bench.runner import forward_events
from ..bench.workload.runtime import rss_bytes
from .counters import Counters

ROOT = str(Path(__file__).resolve().parents[2])  # the tree this greenmq is in: the peers run the same one
EXIT_GRACE = 5.0  # seconds a peer may take to exit after SIGTERM before it is killed


class PeerProcess:
    """A running (or finished) peer; ``counts()`` and ``histogram()`` stay readable after it is gone."""

    def __init__(self, spec: dict[str, Any], workdir: Path, events: queue.Queue):
        self.slot: str = spec["name"]
        self.name = f"{self.slot}#{spec['incarnation']}"
        self.role: str = spec["role"]
        self.started = time.monotonic()
        self.ready_at: float | None = None
        self.expected_exit = False  # set before the coordinator stops it, so that its exit is no crash
        self.final: dict[str, Any] | None = None
        self.exited = False  # its output has ended and it has been reaped
        self.error: str | None = None
        counters = workdir / f"{self.name}.counters"
        self._counters = Counters(counters)
        spec = {**spec, "counters": str(counters)}
        self._frozen: tuple[dict[str, int], list[int]] | None = None
        self._stderr_path = workdir / f"{self.name}.stderr"
        with open(self._stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "greenmq.soak.peer", json.dumps(spec)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=_peer_env(), text=True)
        self._reader = threading.Thread(target=forward_events, args=(self, self.process.stdout, events), daemon=True,
                                        name=self.name)
        self._reader.start()

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, signum: int) -> None:
        if self.alive():
            self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Send ``signum`` and wait for the process to end (SIGKILL after :data:`EXIT_GRACE`)."""
        self.expected_exit = True
        self.send(signum)
        try:
            self.process.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def reap(self) -> None:
        """After its output ended: wait for the exit status and freeze the counters (the map is closed)."""
        self._reader.join(timeout=EXIT_GRACE)
        if self.alive():
            self.process.kill()
        self.process.wait()
        self.exited = True
        if self._frozen is None:
            self._frozen = (self._counters.snapshot(), self._counters.histogram())
            self._counters.close()

    def counts(self) -> dict[str, int]:
        return self._frozen[0] if self._frozen is not None else self._counters.snapshot()

    def histogram(self) -> list[int]:
        return self._frozen[1] if self._frozen is not None else self._counters.histogram()

    def rss(self) -> int | None:
        """Resident set size in bytes (VmRSS), or None when it has gone or there is no /proc."""
        return rss_bytes(self.process.pid)

    def describe_exit(self) -> str:
        code = self.process.returncode
        tail = " | ".join(self._stderr_path.read_text(errors="replace").strip().splitlines()[-3:])
        return f"{self.name} exited with status {code}" + (f": {self.error or tail}" if self.error or tail else "")


def _peer_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": ROOT + (os.pathsep + path if path else "")}


"""One soak peer process: ``python -m greenmq.soak.peer SPEC`` (SPEC: the JSON the coordinator wrote).

It runs one :mod:`~greenmq.soak.traffic` role and talks to the coordinator
in JSON lines on stdout: ``ready`` (with the endpoint it bound), then
``first``/``gap``/``timeout`` events as they happen, ``final`` when it stops
by SIGTERM (SIGUSR1 first tells a sender to stop sending), ``error`` if its
loop failed. SIGKILL leaves only its counters file, which is the point.

A peer never outlives the coordinator: on Linux the kernel sends it SIGKILL
when its parent goes (``PR_SET_PDEATHSIG``), and everywhere a watchdog
greenlet exits when the parent's pid changes. Ctrl-C at a terminal reaches
the whole process group; peers ignore it and let the coordinator stop them.

Self-test: ``GREENMQ_SOAK_SELFTEST_DROP=N`` in the environment makes the
receivers (SUB, PULL) silently discard, from every sender incarnation, the
message numbered N above the first one they got: a loss while all are up, which the soak must report as
unexplained (tests/reliability/test_soak.py checks that it does). Nothing
else reads it.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import gevent
import gevent.event

from ..bench.workload.common import announce
from .counters import Counters
from .traffic import ROLES

SELFTEST_DROP = "GREENMQ_SOAK_SELFTEST_DROP"
WATCHDOG_PERIOD = 0.5  # seconds between looks at the parent's pid
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when the parent goes; exit now if it has already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the watchdog below does the same, a little later
    if os.getppid() != parent:
        _orphaned()


def _watchdog(parent: int) -> None:
    while os.getppid() == parent:
        gevent.sleep(WATCHDOG_PERIOD)
    _orphaned()


def _orphaned() -> None:
    """The coordinator is gone: end at once, as PR_SET_PDEATHSIG would (no one is left to tell)."""
    os.kill(os.getpid(), signal.SIGKILL)


def _emit(event: dict[str, Any]) -> None:
    announce(event.pop("event"), **event)


def main(argv: list[str] | None = None) -> int:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    _die_with_parent(spec["parent"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    drop = os.environ.get(SELFTEST_DROP)
    if drop and spec["role"] in ("sub", "pull"):
        spec["drop_after"] = int(drop)
    counters = Counters(Path(spec["counters"]))
    role = ROLES[spec["role"]](spec, counters, _emit)
    stop = gevent.event.Event()
    handlers = [gevent.signal_handler(signal.SIGTERM, stop.set),
                gevent.signal_handler(signal.SIGUSR1, role.quiesce)]
    watchdog = gevent.spawn(_watchdog, spec["parent"])
    status = 0
    try:
        announce("ready", **role.setup())
        worker = gevent.spawn(role.run)
        worker.link_exception(lambda _: stop.set())  # a sender that stops sending (quiesce) stays, to flush
        stop.wait()
        error = worker.exception
        if error is not None:
            announce("error", error=repr(error),
                     traceback="".join(traceback.format_exception(type(error), error, error.__traceback__)))
            status = 1
        worker.kill()
        announce("final", **role.final())
    finally:
        for handler in handlers:
            handler.cancel()
        watchdog.kill()
        role.close()
        counters.close()
    return status


if __name__ == "__main__":
    sys.exit(main())

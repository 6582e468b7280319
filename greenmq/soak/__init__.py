"""``python -m greenmq soak``: hours of mixed traffic with peers dying at random, and an honest count.

:mod:`~greenmq.soak.cli` reads the command line; :mod:`~greenmq.soak.plan`
says which peers run and how they are linked; :mod:`~greenmq.soak.coordinator`
starts them (each an :mod:`~greenmq.soak.process`, running
:mod:`~greenmq.soak.peer` with a role from :mod:`~greenmq.soak.traffic`),
restarts them at random and stops them at the end; the peers count in
:mod:`~greenmq.soak.counters` files that survive SIGKILL and report what
their :mod:`~greenmq.soak.tracker` sees; :mod:`~greenmq.soak.accounting`
tells the losses ZeroMQ allows from the others, and
:mod:`~greenmq.soak.report` prints the figures.
"""

from .cli import main

__all__ = ["main"]

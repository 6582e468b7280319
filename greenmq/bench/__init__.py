"""``python -m greenmq bench``: greenmq against pyzmq and zmq.green, running the same code.

:mod:`~greenmq.bench.cli` plans the runs and prints the tables;
:mod:`~greenmq.bench.worker` holds the measured code and runs *by path* in a
process of its own per measurement; :mod:`~greenmq.bench.runner` starts
workers under a deadline; :mod:`~greenmq.bench.report` prints medians, ratios
and the targets.
"""

from .cli import main

__all__ = ["main"]

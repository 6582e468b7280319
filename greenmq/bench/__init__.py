"""``python -m greenmq bench``: greenmq against pyzmq and zmq.green, running the same code.

:mod:`~greenmq.bench.cli` reads the command line; :mod:`~greenmq.bench.plan`
says which cells run and how; :mod:`~greenmq.bench.session` runs them,
showing :mod:`~greenmq.bench.progress`; :mod:`~greenmq.bench.runner` starts
each run's worker processes under a deadline; :mod:`~greenmq.bench.worker`,
run *by path* in each of them, loads the measured code,
:mod:`~greenmq.bench.workload`, without importing greenmq;
:mod:`~greenmq.bench.report` computes medians and ratios, the table modules
print them, :mod:`~greenmq.bench.targets` judges the targets and
:mod:`~greenmq.bench.plot` draws them.
"""

from .cli import main

__all__ = ["main"]

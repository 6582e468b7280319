"""One benchmark measurement in one process, for one ZeroMQ implementation: the worker's entry point.

The orchestrator (:mod:`greenmq.bench.runner`) runs this file *by path*, not as
``greenmq.bench.worker``: importing anything through the ``greenmq`` package
would import greenmq (and gevent) into a pyzmq worker too, and the point of
one process per measurement is that the three implementations never share a
process.  So this file loads :mod:`greenmq.bench.workload` -- the measured code,
which needs only the standard library plus the implementation it is asked to
load -- by path, as a package of its own under a private name, and runs its
``main``.  See :mod:`greenmq.bench.workload.main` for the command line and
:mod:`greenmq.bench.workload.common` for the protocol with the orchestrator.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

PACKAGE = "_greenmq_bench_workload"  # the private name of greenmq/bench/workload in a worker process


def load_workload():
    """Import greenmq/bench/workload/ as :data:`PACKAGE` without importing greenmq; return its ``main`` module."""
    folder = Path(__file__).resolve().with_name("workload")
    spec = importlib.util.spec_from_file_location(PACKAGE, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.main")


def _fix_path():
    """Make ``import greenmq`` find the tree this file belongs to, and nothing else from here.

    Run by path, Python put this file's folder first on sys.path, where a sibling
    module could shadow one the worker needs; in its place goes the tree's root,
    unless it is on the path already (greenmq installed), so that a checkout
    benchmarks its own greenmq even when it is not installed.
    """
    root = str(Path(__file__).resolve().parents[2])
    del sys.path[0]
    if root not in sys.path:
        sys.path.insert(0, root)


if __name__ == "__main__":
    _fix_path()
    sys.exit(load_workload().main())

"""The ``reliability`` marker for every test in this directory: fault injection with real processes,
leak cycles and the soak run. They take minutes between them, so .ci/run runs them on Python 3.11
only (``-m "not reliability"`` on the others)."""

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """pytest calls this hook with every collected item, not only this directory's: hence the path check."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.reliability)

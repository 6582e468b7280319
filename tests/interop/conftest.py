"""Fixtures shared by the interop tests, and their ``interop`` marker."""

from pathlib import Path

import pytest

from .libzmq_peer import PeerGroup

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Mark every test in this directory ``interop``, so that ``-m "not interop"`` leaves out the
    libzmq peer processes (half the suite's time; .ci/run does so on the Pythons besides 3.11).

    pytest calls this hook with every collected item, not only this directory's: hence the path check."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture
def peers():
    """The libzmq peer processes a test starts; all are killed when it ends."""
    group = PeerGroup()
    try:
        yield group
    finally:
        group.close()

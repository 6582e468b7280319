"""Fixtures shared by the interop tests, and their ``interop`` marker."""

from pathlib import Path

import pytest

from .draft_support import BUILD_TIMEOUT, DraftPeerGroup, draft_libzmq_path
from .libzmq_peer import PeerGroup

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Mark every test in this directory ``interop``, so that ``-m "not interop"`` leaves out the
    libzmq peer processes (half the suite's time; .ci/run does so on the Pythons besides 3.11).

    pytest calls this hook with every collected item, not only this directory's: hence the path check.

    A test that uses the draft libzmq may be the one whose setup builds it (``draft_libzmq``, about a
    minute), and pytest-timeout counts setup in the test's time: such tests get room for the build
    (their own steps are bounded by gevent.Timeout)."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.interop)
            if "draft_libzmq" in item.fixturenames and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT + 60))


@pytest.fixture
def peers():
    """The libzmq peer processes a test starts; all are killed when it ends."""
    group = PeerGroup()
    try:
        yield group
    finally:
        group.close()


@pytest.fixture(scope="session")
def draft_libzmq():
    """The path of a libzmq.so built with the draft API (draft_support.draft_libzmq_path: may build it)."""
    return draft_libzmq_path()


@pytest.fixture
def draft_peers(draft_libzmq):
    """Starts draft libzmq peer processes (draft_peer.py); all are ended when the test ends."""
    group = DraftPeerGroup(draft_libzmq)
    try:
        yield group
    finally:
        group.close()

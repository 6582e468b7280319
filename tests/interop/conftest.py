"""Fixtures shared by the interop tests."""

import pytest

from .libzmq_peer import PeerGroup


@pytest.fixture
def peers():
    """The libzmq peer processes a test starts; all are killed when it ends."""
    group = PeerGroup()
    try:
        yield group
    finally:
        group.close()

"""Leak cycles at a size CI can afford: a few thousand of each, counts exactly back at the baseline.

The cycles and the counting are ``leak_cycles.py`` and ``leak_support.py``; the
full counts (100 000 connect cycles, 10 000 socket cycles) run from the
command line (see ``leak_cycles.py``). What is counted: live greenlets, open
descriptors, started libev watchers, instances of every greenmq class, and RSS
within ``leak_support.RSS_SLACK``.
"""

import gc

import pytest

import greenmq as zmq
from reliability.leak_cycles import (HANGUP_CUTS, ConnectCycles, ContextCycles, HangupCycles, SocketCycles,
                                     SOCKET_TYPES)
from reliability.leak_support import LeakError, Snapshot, run_cycles


def _run(cycles, count, warmup=200):
    try:
        outcome = run_cycles(cycles, count, warmup=warmup)
    finally:
        cycles.close()
    outcome.check()
    return outcome


@pytest.mark.parametrize("mechanism, count", [
    ("null", 3000),
    pytest.param("curve", 1000, marks=pytest.mark.curve),
])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_connect_handshake_close_cycles_leave_nothing(transport, mechanism, count, tmp_path, hub_errors):
    """Each cycle: connect, handshake (a round trip through a ROUTER that stays), close."""
    _run(ConnectCycles(transport, mechanism, str(tmp_path)), count)
    assert hub_errors.getvalue() == ""


def test_peers_hanging_up_mid_greeting_leave_nothing_on_the_listener(hub_errors):
    count = 100 * len(HANGUP_CUTS)
    _run(HangupCycles(), count)
    assert hub_errors.getvalue() == ""


def test_socket_create_close_cycles_of_every_type_leave_nothing(hub_errors):
    """Every type, bound or connected, with or without ZMQ_FD and a monitor: 10 cycles of each."""
    assert {variant[0] for variant in SocketCycles.VARIANTS} == set(SOCKET_TYPES)
    count = 10 * len(SocketCycles.VARIANTS)
    _run(SocketCycles(), count, warmup=len(SocketCycles.VARIANTS))
    assert hub_errors.getvalue() == ""


def test_context_create_term_cycles_leave_nothing(hub_errors):
    """Caught the registry's wake-up, one started async watcher kept by the loop per context
    ever made (about 500 bytes each) until term() made it only while it waits."""
    _run(ContextCycles(), 3000)
    assert hub_errors.getvalue() == ""


# -- the measuring itself -------------------------------------------------------------------


def test_a_kept_socket_is_reported_by_name_with_its_watchers():
    """The checks can fail: a cycle that leaves its socket open is named a leak."""
    ctx = zmq.Context()
    kept = []

    def cycle(number):
        sock = ctx.socket(zmq.PULL)
        sock.getsockopt(zmq.FD)  # a descriptor as well
        if number >= 5:  # the warm-up's sockets are closed
            kept.append(sock)
        else:
            sock.close()

    outcome = run_cycles(cycle, 20, warmup=5, settle_timeout=0.5)
    with pytest.raises(LeakError) as info:
        outcome.check()
    grown = outcome.final.growth(outcome.baseline)
    assert grown["Socket"] == 20
    assert grown["fds"] == 20
    assert grown["watchers"] >= 40  # each socket's two wake-ups
    assert "Socket" in str(info.value)
    ctx.destroy(linger=0)
    del kept[:]
    gc.collect()


def test_snapshot_growth_is_empty_for_the_same_state():
    first = Snapshot.take()
    assert first.growth(first) == {}

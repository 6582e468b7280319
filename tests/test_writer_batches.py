"""The writer's big batches: many megabytes queued at once go out whole and in order.

A batch bigger than the writer's join limit is joined and written piece by
piece (greenmq._connection.writer), and here the receiver stops reading, so
the batch waits half written for the kernel to take more while heartbeats
keep the protocol talking (PINGs, and PONGs the writer must put between
batches). Every message must arrive intact, in order.
"""

import gevent
import pytest

import greenmq as zmq
from greenmq._connection.writer import JOIN_LIMIT

from support import TIMEOUT, endpoint_for


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_backlog_of_many_megabytes_arrives_whole_with_heartbeats_running(ctx, transport, tmp_path):
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.heartbeat_ivl = 5  # ms: PINGs (and PONGs) all the time
        sock.heartbeat_timeout = 5000
    push.sndhwm = 0  # the whole backlog is queued at once
    pull.rcvhwm = 10  # and the receiver soon stops reading: the kernel fills, the batch waits in pieces
    pull.bind(endpoint_for(transport, tmp_path))
    push.connect(pull.last_endpoint.decode())
    count, size = 3000, 4096
    assert count * size > 8 * JOIN_LIMIT  # several pieces per batch
    with gevent.Timeout(TIMEOUT):
        push.send(b"first")
        assert pull.recv() == b"first"  # connected: the rest goes out as one batch
        for index in range(count):
            push.send(index.to_bytes(4, "big") * (size // 4))
        gevent.sleep(0.2)  # PINGs arrive, and PONGs wait, while the batch is stuck half written
        for index in range(count):
            msg = pull.recv()
            assert msg == index.to_bytes(4, "big") * (size // 4)

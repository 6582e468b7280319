"""Log records between pyzmq's zmq.log and greenmq.log, each in its own process, both directions.

- A pyzmq program logs through pyzmq's PUBHandler; a greenmq SUB (this process)
  reads the records, and ``python -m greenmq.log`` (a subprocess) prints them.
- greenmq's PUBHandler (this process) publishes; pyzmq's ``python -m zmq.log``
  prints the records.

Subscriptions race the first records (the slow-joiner effect), so each side
logs in a loop until the other has a record.
"""

import logging
import os
import signal
import sys
import textwrap
import uuid

import gevent
import gevent.queue
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq.log.handlers import PUBHandler

from support import ROOT, TIMEOUT, new_socket, sigint_as_at_a_terminal

pytest.importorskip("zmq", reason="the libzmq side is pyzmq")

# The pyzmq program: binds a PUB with pyzmq's PUBHandler, prints the port, logs a numbered
# WARNING with subtopic "db.pool" every 20 ms, and stops when its stdin closes (or after 60 s).
PYZMQ_LOGGER = textwrap.dedent("""
    import logging, sys, threading, time
    import zmq
    from zmq.log.handlers import PUBHandler

    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.linger = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    handler = PUBHandler(pub, root_topic="pyzmq")
    handler.setFormatter(logging.Formatter("%(levelname)s|%(message)s"))
    log = logging.getLogger("interop")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    print(port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    n = 0
    deadline = time.monotonic() + 60
    while not done.wait(0.02) and time.monotonic() < deadline:
        n += 1
        log.warning("db.pool::record %d from pyzmq", n)
""")


def _env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1")


def _spawn(processes, argv):
    process = gevent.subprocess.Popen(argv, env=_env(), stdin=gevent.subprocess.PIPE,
                                      stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE,
                                      preexec_fn=sigint_as_at_a_terminal)
    processes.append(process)
    return process


def _lines(process):
    lines = gevent.queue.Queue()
    reader = gevent.spawn(lambda: [lines.put(line.decode()) for line in iter(process.stdout.readline, b"")])
    return lines, reader


@pytest.fixture
def pyzmq_logger(processes):
    """The pyzmq program's process and its port."""
    process = _spawn(processes, [sys.executable, "-c", PYZMQ_LOGGER])
    with gevent.Timeout(TIMEOUT):
        port = int(process.stdout.readline())
    yield process, port
    process.stdin.close()
    with gevent.Timeout(TIMEOUT):
        assert process.wait() == 0, process.stderr.read().decode()


def test_greenmq_sub_reads_pyzmq_pubhandler_records(ctx, pyzmq_logger):
    _process, port = pyzmq_logger
    sub = new_socket(ctx, zmq.SUB, rcvtimeo=TIMEOUT * 1000)
    sub.subscribe(b"pyzmq.WARNING.db")
    sub.connect(f"tcp://127.0.0.1:{port}")
    first = sub.recv_multipart()
    second = sub.recv_multipart()
    for topic, body in (first, second):
        assert topic == b"pyzmq.WARNING.db.pool"
        assert body.startswith(b"WARNING|record ") and body.endswith(b" from pyzmq")
    assert int(second[1].split()[1]) == int(first[1].split()[1]) + 1


def test_greenmq_log_watcher_prints_pyzmq_records(pyzmq_logger, processes):
    _process, port = pyzmq_logger
    watcher = _spawn(processes, [sys.executable, "-m", "greenmq.log", f"tcp://127.0.0.1:{port}"])
    lines, reader = _lines(watcher)
    with gevent.Timeout(TIMEOUT):
        line = lines.get()
    topic, separator, text = line.rstrip("\n").partition(" | ")
    assert (topic, separator) == ("pyzmq.WARNING.db.pool", " | ")
    assert text.startswith("WARNING|record ") and text.endswith(" from pyzmq")
    watcher.send_signal(signal.SIGINT)
    with gevent.Timeout(TIMEOUT):
        assert watcher.wait() == 0, watcher.stderr.read().decode()
        reader.join()


def test_pyzmq_log_watcher_prints_greenmq_records(ctx, processes):
    pub = new_socket(ctx, zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    logger = logging.getLogger(f"greenmq-interop-{uuid.uuid4().hex}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(PUBHandler(pub, root_topic="greenmq"))
    watcher = _spawn(processes, [sys.executable, "-m", "zmq.log", "--topic", "greenmq", f"tcp://127.0.0.1:{port}"])
    lines, reader = _lines(watcher)
    with gevent.Timeout(TIMEOUT):
        while True:
            logger.info("ui.click::h\u00e9llo from greenmq")
            try:
                line = lines.get(timeout=0.05)
                break
            except gevent.queue.Empty:
                pass
    assert line == "greenmq.INFO.ui.click | h\u00e9llo from greenmq\n"
    watcher.send_signal(signal.SIGINT)
    with gevent.Timeout(TIMEOUT):
        watcher.wait()  # pyzmq's watcher ends on the KeyboardInterrupt
        reader.join()
    logger.handlers.clear()

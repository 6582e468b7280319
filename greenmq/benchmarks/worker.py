"""One benchmark measurement in one process, for one ZeroMQ implementation.

The orchestrator (:mod:`greenmq.bench`) runs this file *by path*, not as
``greenmq.benchmarks.worker``: importing it through the package would import
``greenmq`` (and gevent) into a pyzmq worker too, and the point of one process
per measurement is that the three implementations never share a process.  So
this module needs only the standard library plus the implementation it is
asked to load.

The benchmark code itself (:func:`receive_messages`, :func:`send_messages`,
:func:`ping`, :func:`echo`) is written once against the pyzmq API and runs
unchanged on every implementation; only how a concurrent peer is started for
inproc differs (a greenlet under gevent, a thread under blocking pyzmq).

Protocol with the orchestrator: one JSON object per stdout line.  A process that
binds first prints ``{"event": "endpoint", ...}`` so that the orchestrator can
start the connecting peer process; a measuring process finally prints
``{"event": "result", ...}``, a peer ``{"event": "done"}`` once it has closed;
any failure prints ``{"event": "error", ...}`` and exits with status 1.
"""

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

IMPLEMENTATIONS = ("greenmq", "pyzmq", "zmq.green")
_MODULES = {"greenmq": "greenmq", "pyzmq": "zmq", "zmq.green": "zmq.green"}
LATENCY_MESSAGE_SIZE = 16


class Runtime:
    """The implementation under test and the matching way to run a concurrent peer.

    pyzmq blocks the OS thread, so its inproc peer needs a thread; greenmq and
    zmq.green block cooperatively, so their peer is a greenlet on the same hub
    (a thread there would hide the very scheduling cost we want to measure).
    """

    def __init__(self, name):
        self.name = name
        self.zmq = importlib.import_module(_MODULES[name])
        self.green = name != "pyzmq"

    def describe(self):
        """Which library (and libzmq) actually ran, for the record kept with the figures."""
        zmq = self.zmq
        if self.name == "greenmq":
            return f"greenmq {zmq.__version__} (pure Python; follows libzmq {zmq.zmq_version()})"
        described = f"pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}"
        if self.green:
            import gevent

            described += f", gevent {gevent.__version__}"
        return described

    def spawn(self, function, *args):
        """Start ``function(*args)`` concurrently; return something with ``join()``."""
        if self.green:
            import gevent

            return gevent.spawn(function, *args)
        import threading

        thread = threading.Thread(target=function, args=args, daemon=True)
        thread.start()
        return thread

    def join(self, task):
        """Wait for a task from :meth:`spawn` and re-raise its exception, if any."""
        task.join()
        if self.green and task.exception is not None:
            raise task.exception


# -- the measured code: identical for every implementation -------------------------------


def send_messages(sock, count, size):
    """Send ``count`` messages of ``size`` bytes as fast as the socket accepts them."""
    message = b"x" * size
    send = sock.send
    for _ in range(count):
        send(message)


def receive_messages(sock, count, size):
    """Receive ``count`` messages; time from the first to the last received one.

    Starting the clock at the first message keeps connection setup and process
    start-up out of the figure, as libzmq's ``local_thr`` does.
    """
    first = sock.recv()
    _check_size(first, size)
    recv = sock.recv
    last = first
    start = time.perf_counter()
    for _ in range(count - 1):
        last = recv()
    elapsed = time.perf_counter() - start
    _check_size(last, size)
    messages = count - 1
    return {
        "messages": messages,
        "elapsed": elapsed,
        "msgs_per_s": messages / elapsed if elapsed > 0 else None,
        "mb_per_s": messages * size / elapsed / 1e6 if elapsed > 0 else None,
    }


def ping(sock, count, warmup):
    """Time ``count`` round trips of a 16-byte message, after ``warmup`` untimed ones."""
    message = b"x" * LATENCY_MESSAGE_SIZE
    send, recv, clock = sock.send, sock.recv, time.perf_counter_ns
    for _ in range(warmup):
        send(message)
        _check_echo(recv(), message)
    samples = []
    reply = message
    for _ in range(count):
        start = clock()
        send(message)
        reply = recv()
        samples.append(clock() - start)
    _check_echo(reply, message)
    elapsed = sum(samples) / 1e9
    samples.sort()
    return {
        "round_trips": count,
        "elapsed": elapsed,
        "median_us": _percentile(samples, 50) / 1e3,
        "p99_us": _percentile(samples, 99) / 1e3,
        "min_us": samples[0] / 1e3,
    }


def echo(sock, count):
    """Send each of ``count`` received messages straight back."""
    send, recv = sock.send, sock.recv
    for _ in range(count):
        send(recv())


def _check_size(message, size):
    """A figure is only worth reporting if the right messages arrived (checked outside the clock)."""
    if len(message) != size:
        raise ValueError(f"expected {size}-byte messages, received {len(message)} bytes")


def _check_echo(reply, message):
    """The echo must be the very message sent, or the round trip measured something else."""
    if reply != message:
        raise ValueError(f"echo returned {bytes(reply[:32])!r}, expected {message!r}")


def _percentile(sorted_samples, percent):
    """Nearest-rank percentile; enough for thousands of samples and dependency-free."""
    rank = max(0, min(len(sorted_samples) - 1, round(percent / 100 * len(sorted_samples)) - 1))
    return sorted_samples[rank]


# -- roles ----------------------------------------------------------------------------------


def _socket(ctx, kind, hwm):
    """A socket with both high-water marks set to ``hwm`` (0: keep the default 1000).

    The orchestrator lowers them for big messages: a receiver may read up to its
    high-water mark ahead of the application, and the benchmark's counts must
    dwarf that backlog or first-to-last timing measures a buffer drain.
    """
    sock = ctx.socket(kind)
    if hwm:
        sock.sndhwm = hwm
        sock.rcvhwm = hwm
    return sock


def _bind(sock, endpoint):
    """Bind; ``tcp://host`` without a port means a random free port. Return the endpoint."""
    if endpoint.startswith("tcp://") and endpoint.count(":") == 1:
        port = sock.bind_to_random_port(endpoint)
        return f"{endpoint}:{port}"
    sock.bind(endpoint)
    return endpoint


def _announce(event, **fields):
    """Tell the orchestrator something, one JSON line at a time (it reads line by line)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def _close(ctx, *socks):
    """Close quickly: the measurement is over, so nothing queued still matters."""
    for sock in socks:
        sock.close(linger=0)
    ctx.term()


def measure_throughput(rt, args):
    """PULL side: bind, announce, receive; with inproc also run the PUSH peer here."""
    zmq = rt.zmq
    ctx = zmq.Context()
    pull = _socket(ctx, zmq.PULL, args.hwm)
    endpoint = _bind(pull, args.bind)
    _announce("endpoint", endpoint=endpoint)
    push = sender = None
    if args.transport == "inproc":
        push = _socket(ctx, zmq.PUSH, args.hwm)
        push.connect(endpoint)
        sender = rt.spawn(send_messages, push, args.count, args.size)
    result = receive_messages(pull, args.count, args.size)
    if sender is not None:
        rt.join(sender)
    _announce("result", library=rt.describe(), **result)
    _close(ctx, *[s for s in (pull, push) if s is not None])


def send_throughput(rt, args):
    """PUSH side in its own process: connect, send, then linger until all is delivered."""
    zmq = rt.zmq
    ctx = zmq.Context()
    push = _socket(ctx, zmq.PUSH, args.hwm)
    push.connect(args.connect)
    send_messages(push, args.count, args.size)
    push.close()  # default linger (-1): returns once the queue is flushed, like remote_thr
    ctx.term()
    _announce("done")


def measure_latency(rt, args):
    """PAIR pinger: bind, announce, time round trips; with inproc also run the echo here."""
    zmq = rt.zmq
    ctx = zmq.Context()
    pinger = ctx.socket(zmq.PAIR)
    endpoint = _bind(pinger, args.bind)
    _announce("endpoint", endpoint=endpoint)
    echoer = task = None
    if args.transport == "inproc":
        echoer = ctx.socket(zmq.PAIR)
        echoer.connect(endpoint)
        task = rt.spawn(echo, echoer, args.count + args.warmup)
    result = ping(pinger, args.count, args.warmup)
    if task is not None:
        rt.join(task)
    _announce("result", library=rt.describe(), **result)
    _close(ctx, *[s for s in (pinger, echoer) if s is not None])


def echo_latency(rt, args):
    """PAIR echo side in its own process."""
    zmq = rt.zmq
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.connect(args.connect)
    echo(sock, args.count + args.warmup)
    _close(ctx, sock)
    _announce("done")


ROLES = {
    ("throughput", "measure"): measure_throughput,
    ("throughput", "peer"): send_throughput,
    ("latency", "measure"): measure_latency,
    ("latency", "peer"): echo_latency,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description="one greenmq benchmark measurement (internal)")
    parser.add_argument("--impl", choices=IMPLEMENTATIONS, required=True)
    parser.add_argument("--test", choices=("throughput", "latency"), required=True)
    parser.add_argument("--role", choices=("measure", "peer"), required=True)
    parser.add_argument("--transport", choices=("tcp", "ipc", "inproc"), required=True)
    parser.add_argument("--size", type=int, default=LATENCY_MESSAGE_SIZE)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--hwm", type=int, default=0, help="SNDHWM and RCVHWM of PUSH/PULL (0: default)")
    endpoint = parser.add_mutually_exclusive_group(required=True)
    endpoint.add_argument("--bind", help="endpoint to bind (tcp://HOST picks a random port)")
    endpoint.add_argument("--connect", help="endpoint to connect to")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        ROLES[args.test, args.role](Runtime(args.impl), args)
    except BaseException as error:  # report everything, even KeyboardInterrupt, then fail
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        _announce("error", error=f"{type(error).__name__}: {error} (at {where})", traceback=traceback.format_exc())
        return 1
    return 0


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
    sys.exit(main())

"""A pool of blocking-style workers, one greenlet each, that Ctrl-C shuts down cleanly.

``python worker_pool.py [--workers 8] [--tasks 200] [--report-every 50]``.
A ventilator PUSHes task numbers, each worker is a plain loop --
``recv`` a task, work on it, ``send`` the result -- written as for a thread,
and the sink (the main greenlet) PULLs and checks every result::

    ventilator (PUSH) -> workers (PULL ... work ... PUSH) -> sink (PULL)

The work stands for I/O (a few milliseconds of ``gevent.sleep``, as a
database or web call would wait), which is where a pool of greenlets pays:
eight workers wait eight times at once. ``--tasks 0`` sends tasks until
interrupted.

Ctrl-C (SIGINT) or SIGTERM: the handler, installed with
``gevent.signal_handler``, runs in the hub rather than interrupting some
greenlet mid-call. It calls ``ctx.shutdown()``, so every blocked ``recv`` and
``send`` raises ``ContextTerminated``; each greenlet closes its sockets and
ends, a greenlet still busy after ``SHUTDOWN_GRACE`` seconds is killed, and
``ctx.term()`` returns. No traceback, no hang.

Output: ``pool: ready ...`` once the signal handlers are in place, a
progress line every ``--report-every`` results, and a summary. Exit status:
0 when every task was done exactly once with a right result; 128 + the
signal number when interrupted (130 for Ctrl-C, as a shell reports it) with
every result so far right; 1 if any result was wrong.
"""

import argparse
import itertools
import random
import signal
import sys

import gevent

import greenmq as zmq

TASKS = "inproc://worker-pool-tasks"
RESULTS = "inproc://worker-pool-results"
SHUTDOWN_GRACE = 2.0  # seconds the greenlets get to end by themselves once the context is shut down


def work(n):
    """The job: wait as an I/O call would, then compute."""
    gevent.sleep(random.uniform(0.001, 0.005))
    return n * n


def worker(ctx, name):
    """Written as blocking code: receive, work, send, until the context is shut down."""
    tasks = ctx.socket(zmq.PULL)
    results = ctx.socket(zmq.PUSH)
    tasks.connect(TASKS)
    results.connect(RESULTS)
    try:
        while True:
            n = int(tasks.recv())
            results.send_string(f"{n} {work(n)} {name}")
    except zmq.ContextTerminated:
        pass
    finally:
        tasks.close(linger=0)
        results.close(linger=0)


def ventilator(socket, count):
    """Send task numbers 0 .. count-1 (for ever if ``count`` is 0)."""
    try:
        for n in itertools.count() if count == 0 else range(count):
            socket.send_string(str(n))
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)


def collect(socket, count, report_every):
    """Receive results until ``count`` (or the context is shut down); returns the task numbers done
    (each with a right result) and the number of wrong results."""
    done, wrong = [], 0
    try:
        while count == 0 or len(done) + wrong < count:
            n, square, name = socket.recv_string().split()
            if int(square) == int(n) ** 2:
                done.append(int(n))
            else:
                wrong += 1
                print(f"pool: wrong result from {name}: {n} squared is not {square}", flush=True)
            if (len(done) + wrong) % report_every == 0:
                print(f"pool: progress: {len(done) + wrong} results", flush=True)
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)
    return done, wrong


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=8, help="worker greenlets (default 8)")
    parser.add_argument("--tasks", type=int, default=200, help="tasks to do, 0 for until interrupted (default 200)")
    parser.add_argument("--report-every", type=int, default=50, help="results between progress lines (default 50)")
    args = parser.parse_args(argv)

    ctx = zmq.Context()
    signals = []

    def interrupt(signum):
        signals.append(signum)
        print(f"pool: got {signal.Signals(signum).name}, shutting down", flush=True)
        ctx.shutdown()

    handlers = [gevent.signal_handler(signum, interrupt, signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    tasks = ctx.socket(zmq.PUSH)
    sink = ctx.socket(zmq.PULL)
    tasks.bind(TASKS)
    sink.bind(RESULTS)
    greenlets = [gevent.spawn(ventilator, tasks, args.tasks)]
    greenlets += [gevent.spawn(worker, ctx, f"worker-{n}") for n in range(args.workers)]
    print(f"pool: ready, {args.workers} workers", flush=True)

    done, wrong = collect(sink, args.tasks, args.report_every)
    ctx.shutdown()  # finished or interrupted: the workers are blocked in recv, and end now
    gevent.joinall(greenlets, timeout=SHUTDOWN_GRACE)
    gevent.killall(greenlets)  # a greenlet still busy is ended here; its finally closes its sockets
    ctx.term()
    for handler in handlers:
        handler.cancel()

    print(f"pool: {len(done)} results right, {wrong} wrong", flush=True)
    if signals:
        status = 1 if wrong else 128 + signals[0]
    else:
        complete = sorted(done) == list(range(args.tasks))
        print(f"pool: every task done exactly once: {'yes' if complete else 'no'}", flush=True)
        status = 0 if complete and not wrong else 1
    print("pool: shutdown complete", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A program written for threads, made cooperative by ``gevent.monkey.patch_all()``, using greenmq unchanged.

``python threaded_legacy.py [tasks] [threads]`` (default 100 tasks, 4 worker
threads). Everything after ``monkey.patch_all()`` is ordinary threaded code
of the kind pyzmq programs are made of: ``threading.Thread``, ``queue.Queue``,
``threading.Lock`` and ``Barrier``, ``time.sleep``, one socket per thread and
``Context.term()`` from the main thread to stop a thread blocked in ``recv``:

- a producer thread puts task numbers on a ``queue.Queue``, then one
  ``None`` per worker thread to say there are no more;
- each worker thread takes tasks, asks the square service for each result
  (REQ to REP over tcp), and PUSHes it to the collector, counting its tasks
  in a dict shared under a lock;
- the square service thread answers on a REP socket until the context is
  terminated;
- the collector thread PULLs every result and adds them up.

``patch_all()`` turns the threads into greenlets and makes ``time.sleep``,
the queue and the lock wait cooperatively; greenmq's sockets block the same
way, so none of this code changes. (Without the ``patch_all()`` line it runs
on OS threads, as it was written: greenmq then waits on a gevent hub in
each thread.) The main thread checks the total against a sum of its own and
the tasks counted against the tasks sent, prints both, and exits 0 if they
agree, 1 otherwise.
"""

# ruff: noqa: E402 -- the imports follow patch_all(), as in any program it makes cooperative
from gevent import monkey

monkey.patch_all()

import queue
import sys
import threading
import time

import greenmq as zmq


def square_service(ctx, endpoints, bound):
    """Answer "what is the square of n?" on a REP socket until the context is terminated."""
    socket = ctx.socket(zmq.REP)
    try:
        endpoints["service"] = f"tcp://127.0.0.1:{socket.bind_to_random_port('tcp://127.0.0.1')}"
        bound.wait()
        while True:
            n = int(socket.recv_string())
            time.sleep(0.001)  # a slow lookup
            socket.send_string(str(n * n))
    except zmq.ContextTerminated:
        pass
    finally:
        socket.close(linger=0)


def producer(tasks, count, workers):
    for n in range(count):
        tasks.put(n)
    for _ in range(workers):
        tasks.put(None)  # one "no more tasks" for each worker


def worker(ctx, endpoints, tasks, done_by, lock):
    name = threading.current_thread().name
    service = ctx.socket(zmq.REQ)
    service.connect(endpoints["service"])
    results = ctx.socket(zmq.PUSH)
    results.connect(endpoints["collector"])
    try:
        while True:
            n = tasks.get()
            if n is None:
                break
            service.send_string(str(n))
            square = int(service.recv_string())
            results.send_json({"n": n, "square": square})
            with lock:
                done_by[name] = done_by.get(name, 0) + 1
    finally:
        service.close()
        results.close()


def collector(ctx, endpoints, bound, count, total):
    """PULL ``count`` results and add up the squares in ``total``."""
    socket = ctx.socket(zmq.PULL)
    try:
        endpoints["collector"] = f"tcp://127.0.0.1:{socket.bind_to_random_port('tcp://127.0.0.1')}"
        bound.wait()
        for _ in range(count):
            total[0] += socket.recv_json()["square"]
    finally:
        socket.close()


def main(argv):
    count = int(argv[0]) if argv else 100
    workers = int(argv[1]) if len(argv) > 1 else 4
    ctx = zmq.Context()
    endpoints, total, done_by = {}, [0], {}
    lock = threading.Lock()
    tasks = queue.Queue(maxsize=10)

    bound = threading.Barrier(3)  # the service, the collector and this thread: both endpoints are known
    service = threading.Thread(target=square_service, args=(ctx, endpoints, bound), name="service")
    collecting = threading.Thread(target=collector, args=(ctx, endpoints, bound, count, total), name="collector")
    service.start()
    collecting.start()
    bound.wait()

    threads = [threading.Thread(target=producer, args=(tasks, count, workers), name="producer")]
    threads += [threading.Thread(target=worker, args=(ctx, endpoints, tasks, done_by, lock), name=f"worker-{n}")
                for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in [*threads, collecting]:
        thread.join()
    ctx.term()  # the service thread's recv raises ContextTerminated; it closes its socket; term returns
    service.join()

    expected = sum(n * n for n in range(count))
    print(f"collector: {count} results, sum of squares {total[0]} (expected {expected})")
    print(f"workers: {workers} threads did {sum(done_by.values())} tasks")
    return 0 if total[0] == expected and sum(done_by.values()) == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m greenmq demo``: a PUSH/PULL pipeline and PAIR signalling, all in one process.

The ventilator, the workers and the sink are greenlets; the pipeline runs over
tcp on 127.0.0.1 and the "done" signal travels over PAIR sockets, once over
inproc and once over tcp. Everything prints as it happens.
"""

import gevent
import gevent.event

import greenmq as zmq

TASKS = 20
WORKERS = 3


def ventilator(sender, endpoint, ready):
    """Push TASKS task descriptions to the connected workers, round-robin."""
    ready.wait()
    for number in range(TASKS):
        sender.send_json({"task": number, "cost_ms": 1 + number % 5})
    print(f"ventilator: sent {TASKS} tasks to {endpoint}")
    sender.close()


def worker(ctx, name, task_endpoint, sink_endpoint, connected):
    """Pull tasks, 'work' on them (sleep cooperatively), push results to the sink."""
    receiver = ctx.socket(zmq.PULL)
    receiver.connect(task_endpoint)
    sender = ctx.socket(zmq.PUSH)
    sender.connect(sink_endpoint)
    connected()
    try:
        while True:
            task = receiver.recv_json()
            gevent.sleep(task["cost_ms"] / 1000.0)
            sender.send_json({"task": task["task"], "worker": name})
    except zmq.ContextTerminated:
        pass
    finally:
        receiver.close(linger=0)
        sender.close(linger=0)


def sink(ctx, endpoint, signal_endpoint, bound):
    """Collect every result, then tell the controller over PAIR that the batch is done."""
    receiver = ctx.socket(zmq.PULL)
    receiver.bind(endpoint)
    signal = ctx.socket(zmq.PAIR)
    signal.connect(signal_endpoint)
    bound.set()
    per_worker = {}
    for _ in range(TASKS):
        result = receiver.recv_json()
        per_worker[result["worker"]] = per_worker.get(result["worker"], 0) + 1
    print(f"sink: collected {TASKS} results; tasks per worker: {dict(sorted(per_worker.items()))}")
    signal.send_string("batch done")
    receiver.close()
    signal.close()


def pair_over_tcp(ctx):
    """Two PAIR sockets over tcp: connect first, bind later; the early message is queued, not lost."""
    left = ctx.socket(zmq.PAIR)
    right = ctx.socket(zmq.PAIR)
    port = right.bind_to_random_port("tcp://127.0.0.1")
    right.unbind(right.last_endpoint.decode())
    left.connect(f"tcp://127.0.0.1:{port}")
    left.send_string("sent before the peer was listening")
    right.bind(f"tcp://127.0.0.1:{port}")
    print(f"pair/tcp: right received {right.recv_string()!r}")
    right.send_string("ack")
    print(f"pair/tcp: left received {left.recv_string()!r}")
    left.close()
    right.close()


def main():
    with zmq.Context() as ctx, gevent.Timeout(30):
        control = ctx.socket(zmq.PAIR)
        control.bind("inproc://control")
        tasks = ctx.socket(zmq.PUSH)
        task_endpoint = f"tcp://127.0.0.1:{tasks.bind_to_random_port('tcp://127.0.0.1')}"
        sink_endpoint = "inproc://sink"
        print(f"demo: {WORKERS} workers, {TASKS} tasks; tasks over {task_endpoint}, results over {sink_endpoint}")

        sink_bound = gevent.event.Event()
        workers_connected = gevent.event.Event()
        connected = []

        def worker_connected():
            connected.append(True)
            if len(connected) == WORKERS:
                workers_connected.set()

        greenlets = [gevent.spawn(sink, ctx, sink_endpoint, "inproc://control", sink_bound)]
        sink_bound.wait()
        greenlets += [
            gevent.spawn(worker, ctx, f"worker-{n}", task_endpoint, sink_endpoint, worker_connected)
            for n in range(1, WORKERS + 1)
        ]
        greenlets.append(gevent.spawn(ventilator, tasks, task_endpoint, workers_connected))
        print(f"control: PAIR over inproc says {control.recv_string()!r}")
        control.close()
        pair_over_tcp(ctx)
        ctx.shutdown()
        gevent.joinall(greenlets, raise_error=True)
    print("demo: finished")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

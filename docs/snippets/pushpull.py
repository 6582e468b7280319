import gevent
import greenmq as zmq

ctx = zmq.Context()
ventilator = ctx.socket(zmq.PUSH)
ventilator.bind("inproc://tasks")
sink = ctx.socket(zmq.PULL)
sink.bind("inproc://results")


def worker():
    with ctx.socket(zmq.PULL) as tasks, ctx.socket(zmq.PUSH) as results:
        tasks.connect("inproc://tasks")
        results.connect("inproc://results")
        while True:
            number = int(tasks.recv())
            results.send(b"%d" % (number * number))


workers = [gevent.spawn(worker) for _ in range(3)]
for number in range(10):
    ventilator.send(b"%d" % number)  # round-robin over the connected workers
total = sum(int(sink.recv()) for _ in range(10))  # fair-queued from every worker
print("sum of squares:", total)
gevent.killall(workers)
ctx.destroy(linger=0)

import gevent
import greenmq as zmq

ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind("inproc://jobs")
push = ctx.socket(zmq.PUSH)
push.connect("inproc://jobs")
ticks = []


def ticker():
    for number in range(3):
        ticks.append(number)
        gevent.sleep(0.01)
    push.send(b"done ticking")


gevent.spawn(ticker)
# recv() waits, but only this greenlet waits: the hub runs the ticker meanwhile.
print(pull.recv().decode(), "after", len(ticks), "ticks")
ctx.destroy(linger=0)

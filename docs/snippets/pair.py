import gevent
import greenmq as zmq

ctx = zmq.Context()
parent = ctx.socket(zmq.PAIR)
parent.bind("inproc://step")


def step():
    with ctx.socket(zmq.PAIR) as child:
        child.connect("inproc://step")
        child.send(b"step 1 done")  # a PAIR talks to exactly one peer, both ways
        print("child got", child.recv().decode())


greenlet = gevent.spawn(step)
print("parent got", parent.recv().decode())
parent.send(b"carry on")
greenlet.join()
ctx.destroy(linger=0)

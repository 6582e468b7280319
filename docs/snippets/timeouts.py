import gevent
import greenmq as zmq

ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind("inproc://work")
push = ctx.socket(zmq.PUSH)
push.connect("inproc://work")

# RCVTIMEO (milliseconds): a recv that waits longer raises zmq.Again.
pull.rcvtimeo = 50
try:
    pull.recv()
except zmq.Again:
    print("RCVTIMEO: nothing within 50 ms")
pull.rcvtimeo = -1  # wait for ever again

# gevent.Timeout: bounds any block of code, several calls at once.
try:
    with gevent.Timeout(0.05):
        pull.recv()
except gevent.Timeout:
    print("gevent.Timeout: nothing within 50 ms")

# A wait that times out has taken nothing: the next message is still there.
push.send(b"still here")
print(pull.recv().decode())
ctx.destroy(linger=0)

import gevent
import greenmq as zmq

ctx = zmq.Context()
push = ctx.socket(zmq.PUSH)
push.connect("tcp://127.0.0.1:9")  # nobody listens there: the message stays queued
push.send(b"undeliverable")
push.close(linger=200)  # keep trying for 200 ms, then drop it
ticker = gevent.spawn(print, "other greenlets run while term() waits")
ctx.term()  # waits for the linger period -- cooperatively
print("terminated; ticker finished first:", ticker.dead)

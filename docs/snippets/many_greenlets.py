import gevent
import gevent.event
import greenmq as zmq

ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
port = pull.bind_to_random_port("tcp://127.0.0.1")
push = ctx.socket(zmq.PUSH)
push.connect(f"tcp://127.0.0.1:{port}")
received = []
all_received = gevent.event.Event()


def receiver(name):
    while True:
        received.append((name, pull.recv()))  # ten greenlets wait on one socket
        if len(received) == 500:
            all_received.set()


def sender(first):
    for number in range(first, first + 100):
        push.send(b"%d" % number)  # five greenlets send on one socket


receivers = [gevent.spawn(receiver, name) for name in range(10)]
gevent.joinall([gevent.spawn(sender, first) for first in range(0, 500, 100)])
all_received.wait()
# Every message reached exactly one receiver.
print(len(received), "messages,", len({body for _, body in received}), "different")
gevent.killall(receivers)
ctx.destroy(linger=0)

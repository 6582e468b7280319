from gevent import monkey

monkey.patch_all()  # first, before anything imports threading, socket or time

import threading
import time

import greenmq as zmq

ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind("inproc://results")


def worker(number):
    # Written for threads; after patch_all() each "thread" is a greenlet, time.sleep
    # yields to the hub, and greenmq's sockets block only the calling greenlet.
    with ctx.socket(zmq.PUSH) as push:
        push.connect("inproc://results")
        time.sleep(0.01 * number)
        push.send_string(f"worker {number} done")


threads = [threading.Thread(target=worker, args=(number,)) for number in range(3)]
for thread in threads:
    thread.start()
for line in sorted(pull.recv_string() for _ in threads):
    print(line)
for thread in threads:
    thread.join()
ctx.destroy(linger=0)

import threading

import greenmq as zmq

ctx = zmq.Context()  # one context may serve several OS threads
results = ctx.socket(zmq.PULL)
results.bind("inproc://results")


def worker(number):
    # Each OS thread has its own gevent hub; a socket belongs to the thread that made it.
    with ctx.socket(zmq.PUSH) as push:
        push.connect("inproc://results")
        push.send_string(f"{number * number}")


threads = [threading.Thread(target=worker, args=(number,)) for number in range(4)]
for thread in threads:
    thread.start()
total = sum(int(results.recv_string()) for _ in threads)  # inproc crosses the threads
for thread in threads:
    thread.join()
print("sum of squares:", total)
results.close()
ctx.term()

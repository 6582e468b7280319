"""The zguide weather update server: ``python weather_server.py [endpoint] [count]``.

Binds a PUB socket (default ``tcp://127.0.0.1:5556``) and publishes updates
``"zipcode temperature relhumidity"`` -- five-digit zipcodes, temperatures
from -80 to 134 F, humidity from 10 to 59 % -- until ``count`` updates have
been sent (0, the default, means forever) or it gets SIGINT/SIGTERM. Zipcodes
are random except that every tenth update is for ``KNOWN_ZIPCODE`` (10001),
so a client subscribed to it is served steadily rather than once in 100,000
updates. It prints ``listening`` once bound and the number of updates sent
when it stops, exit status 0.

A PUB never blocks: updates sent before any subscriber is connected (or to a
subscriber whose queue is full) are dropped, which is how ZeroMQ behaves.
"""

import random
import signal
import sys

import gevent

import greenmq as zmq

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
KNOWN_ZIPCODE = 10001
KNOWN_EVERY = 10
BATCH = 10  # updates between yields to the hub, so a busy server still lets others run


def update(number, rng):
    zipcode = KNOWN_ZIPCODE if number % KNOWN_EVERY == 0 else rng.randrange(100000)
    return "%05d %d %d" % (zipcode, rng.randrange(-80, 135), rng.randrange(10, 60))


def publish(ctx, endpoint, count, sent):
    publisher = ctx.socket(zmq.PUB)
    try:
        publisher.bind(endpoint)
        print(f"server: listening on {endpoint}", flush=True)
        rng = random.Random()
        while not count or sent[0] < count:
            publisher.send_string(update(sent[0], rng))
            sent[0] += 1
            if sent[0] % BATCH == 0:
                gevent.sleep(0.001)
    except zmq.ContextTerminated:
        pass
    finally:
        publisher.close(linger=0)


def main(argv):
    endpoint = argv[0] if argv else DEFAULT_ENDPOINT
    count = int(argv[1]) if len(argv) > 1 else 0
    ctx = zmq.Context()
    sent = [0]

    def stop(signum):
        print(f"server: got {signal.Signals(signum).name}, stopping", flush=True)
        ctx.shutdown()

    handlers = [gevent.signal_handler(signum, stop, signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    gevent.spawn(publish, ctx, endpoint, count, sent).join()
    ctx.term()
    for handler in handlers:
        handler.cancel()
    print(f"server: sent {sent[0]} updates", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The synchronised publisher: no subscriber misses the start of the data.

A SUB that connects to a PUB which is already publishing misses what was sent
before its subscription got there (the "slow joiner"). Here each subscriber
tells the publisher it is ready over REQ/REP, and the publisher sends its data
only when every expected subscriber has. Being ready means more than being
connected: the subscription must have reached the publisher. So, as the zguide
suggests, the publisher sends ``HELLO`` probes while it waits, and a
subscriber only reports ready once it has received one -- from then on its
subscription is in place and it receives everything. The PUB's send
high-water mark is 0 (no limit), so a burst is queued rather than dropped.

``python sync_pubsub.py [subscribers] [messages]`` runs the publisher and the
subscribers (default 3 and 1000) as greenlets of one process over tcp.

``python sync_pubsub.py publisher PUB_ENDPOINT SYNC_ENDPOINT SUBSCRIBERS MESSAGES``
and ``python sync_pubsub.py subscriber PUB_ENDPOINT SYNC_ENDPOINT NAME`` run
them as separate processes, in any order. The publisher sends the numbers
0 .. MESSAGES-1 and then ``END``; each subscriber prints how many it received
and whether they were exactly 0 .. MESSAGES-1 in order; exit status 0 if so.
"""

import sys

import gevent

import greenmq as zmq

HELLO = b"HELLO"
END = b"END"
PROBE_INTERVAL_MS = 10
TIMEOUT_MS = 10_000


def bind_publisher(ctx, pub_endpoint, sync_endpoint):
    """The publisher's PUB and REP sockets, bound (a tcp port of ``*`` picks a free one)."""
    pub = ctx.socket(zmq.PUB)
    pub.sndhwm = 0
    sync = ctx.socket(zmq.REP)
    pub.bind(pub_endpoint)
    sync.bind(sync_endpoint)
    return pub, sync


def publisher(pub, sync, subscribers, messages, say=print):
    try:
        say(f"publisher: waiting for {subscribers} subscribers")
        ready = 0
        while ready < subscribers:
            pub.send(HELLO)
            if sync.poll(PROBE_INTERVAL_MS):
                sync.recv()
                sync.send(b"")
                ready += 1
        for number in range(messages):
            pub.send_string(str(number))
            if number % 100 == 99:
                gevent.sleep(0)
        pub.send(END)
        say(f"publisher: sent {messages} messages to {subscribers} subscribers")
    finally:
        sync.close(linger=0)
        pub.close()  # lingers until END is on its way


def subscriber(ctx, pub_endpoint, sync_endpoint, name, say=print):
    sub = ctx.socket(zmq.SUB)
    sub.rcvtimeo = TIMEOUT_MS
    sync = ctx.socket(zmq.REQ)
    sync.rcvtimeo = TIMEOUT_MS
    try:
        sub.connect(pub_endpoint)
        sub.subscribe(b"")
        sync.connect(sync_endpoint)
        while sub.recv() != HELLO:  # our subscription has reached the publisher
            pass
        sync.send(b"ready")
        sync.recv()
        numbers = []
        while (message := sub.recv()) != END:
            if message != HELLO:  # probes sent before the data may still be queued
                numbers.append(int(message))
    finally:
        sub.close(linger=0)
        sync.close(linger=0)
    complete = numbers == list(range(len(numbers)))
    say(f"{name}: received {len(numbers)} messages, {'0 .. n-1 in order' if complete else 'SOME LOST'}")
    return complete


def flushed(line):
    print(line, flush=True)


def demo(subscribers, messages):
    publisher_lines, subscriber_lines = [], []
    with zmq.Context() as ctx:
        pub, sync = bind_publisher(ctx, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
        pub_endpoint, sync_endpoint = pub.last_endpoint.decode(), sync.last_endpoint.decode()
        greenlets = [gevent.spawn(subscriber, ctx, pub_endpoint, sync_endpoint, f"subscriber-{n}",
                                  subscriber_lines.append) for n in range(subscribers)]
        greenlets.append(gevent.spawn(publisher, pub, sync, subscribers, messages, publisher_lines.append))
        with gevent.Timeout(60):
            gevent.joinall(greenlets, raise_error=True)
    for line in publisher_lines + sorted(subscriber_lines):
        print(line)
    return 0 if all(greenlet.value for greenlet in greenlets[:-1]) else 1


def main(argv):
    if argv and argv[0] == "publisher":
        pub, sync = bind_publisher(zmq.Context.instance(), argv[1], argv[2])
        publisher(pub, sync, int(argv[3]), int(argv[4]), flushed)
        zmq.Context.instance().term()
        return 0
    if argv and argv[0] == "subscriber":
        ok = subscriber(zmq.Context.instance(), argv[1], argv[2], argv[3], flushed)
        zmq.Context.instance().term()
        return 0 if ok else 1
    subscribers = int(argv[0]) if argv else 3
    messages = int(argv[1]) if len(argv) > 1 else 1000
    return demo(subscribers, messages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

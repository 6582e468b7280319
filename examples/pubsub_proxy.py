"""An XSUB/XPUB forwarder built on ``zmq.proxy``: publishers → XSUB | XPUB → subscribers.

``python pubsub_proxy.py [subscribers] [messages]`` runs the forwarder, one
publisher and ``subscribers`` subscribers (default 3) as greenlets of one
process over tcp. The publisher connects its PUB to the proxy's XSUB and
publishes two-frame messages ``[topic, number]`` round-robin on the topics
``weather``, ``sports``, ``news`` and ``unwatched``; subscriber ``n``
connects its SUB to the proxy's XPUB and subscribes to ``TOPICS[n % 3]``.
Subscriptions travel upstream (SUB → XPUB → proxy → XSUB → PUB), so the
publisher sends only what someone wants and nobody gets ``unwatched``. Each
subscriber takes ``messages`` messages (default 5), checks that all are on
its topic with increasing numbers, and one line per subscriber is printed.

``python pubsub_proxy.py forward UPSTREAM BACKEND`` runs only the forwarder
(the zguide's weather proxy): its XSUB connects to a publisher at
``UPSTREAM`` (e.g. weather_server.py), its XPUB binds ``BACKEND`` for
subscribers (e.g. weather_client.py); it stops on SIGINT/SIGTERM.
"""

import signal
import sys

import gevent
from gevent.event import Event

import greenmq as zmq

TOPICS = ["weather", "sports", "news"]
UNWATCHED = "unwatched"


def forwarder(frontend, backend):
    """Forward messages downstream and subscriptions upstream until the context is terminated."""
    try:
        zmq.proxy(frontend, backend)
    except zmq.ContextTerminated:
        pass
    finally:
        frontend.close(linger=0)
        backend.close(linger=0)


def publisher(ctx, frontend_endpoint, done):
    socket = ctx.socket(zmq.PUB)
    socket.connect(frontend_endpoint)
    number = 0
    try:
        # Until the subscriptions have reached it the PUB drops everything: it keeps publishing.
        while not done.is_set():
            for topic in [*TOPICS, UNWATCHED]:
                socket.send_multipart([topic.encode(), str(number).encode()])
            number += 1
            gevent.sleep(0.001)
    finally:
        socket.close(linger=0)


def subscriber(ctx, name, topic, backend_endpoint, messages):
    socket = ctx.socket(zmq.SUB)
    socket.connect(backend_endpoint)
    socket.subscribe(topic)
    topics, numbers = set(), []
    for _ in range(messages):
        received_topic, number = socket.recv_multipart()
        topics.add(received_topic.decode())
        numbers.append(int(number))
    socket.close(linger=0)
    increasing = all(a < b for a, b in zip(numbers, numbers[1:]))
    return f"{name}: {len(numbers)} messages on {sorted(topics)}, numbers {'' if increasing else 'NOT '}increasing"


def demo(subscribers, messages):
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.XSUB)
    backend = ctx.socket(zmq.XPUB)
    frontend_endpoint = f"tcp://127.0.0.1:{frontend.bind_to_random_port('tcp://127.0.0.1')}"
    backend_endpoint = f"tcp://127.0.0.1:{backend.bind_to_random_port('tcp://127.0.0.1')}"
    proxy = gevent.spawn(forwarder, frontend, backend)
    done = Event()
    publishing = gevent.spawn(publisher, ctx, frontend_endpoint, done)
    receivers = [gevent.spawn(subscriber, ctx, f"subscriber-{n}", TOPICS[n % len(TOPICS)], backend_endpoint,
                              messages) for n in range(subscribers)]
    with gevent.Timeout(30):
        gevent.joinall(receivers, raise_error=True)
    done.set()
    publishing.join()
    for receiver in receivers:
        print(receiver.value)
    ctx.term()
    proxy.join()
    print(f"proxy: {subscribers} subscribers served")
    return 0


def forward(upstream, backend_endpoint):
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.XSUB)
    backend = ctx.socket(zmq.XPUB)
    frontend.connect(upstream)
    backend.bind(backend_endpoint)
    print(f"proxy: forwarding {upstream} to {backend_endpoint}", flush=True)

    def stop(signum):
        print(f"proxy: got {signal.Signals(signum).name}, stopping", flush=True)
        ctx.shutdown()

    handlers = [gevent.signal_handler(signum, stop, signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    gevent.spawn(forwarder, frontend, backend).join()
    ctx.term()
    for handler in handlers:
        handler.cancel()
    return 0


def main(argv):
    if argv and argv[0] == "forward":
        return forward(argv[1], argv[2])
    subscribers = int(argv[0]) if argv else 3
    messages = int(argv[1]) if len(argv) > 1 else 5
    return demo(subscribers, messages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""PUB/SUB: one PUB fanning out to several SUBs, and what a PUB pays for many subscriptions.

``pubsub``: every SUB subscribes to a common prefix; the figure is the
aggregate delivered rate.  ``match`` (the scale group): one SUB subscribes to
many distinct topics of which one matches what is published; the figure is the
PUB's send rate, i.e. what matching a message against the subscriptions costs.
Both use :func:`publish` and :func:`subscribe_and_count`.
"""

import json
import time

from .common import announce, bind, check_size, close, next_to, per_second

TOPIC = b"bench/"  # the prefix every subscriber subscribes to; every message of the tests starts with it
OTHER_TOPIC = b"other/%06d"  # the subscriptions of the match test that no published message matches
HELLO = TOPIC + b"hello"  # published until every subscriber has said it receives (slow joiners)
END = TOPIC + b"end"  # published after the data, again and again until every subscriber has reported
SYNC_POLL_MS = 5  # how long the publisher waits for subscribers between two HELLOs or ENDs


def publish(pub, sync, subscribers, count, size):
    """PUB side: greet until all ``subscribers`` are in, publish ``count`` messages, then END.

    Subscribers confirm over ``sync`` (a PULL socket) that HELLO reaches them,
    so no message is published before every subscription has arrived; after
    the data, END is published every few milliseconds (a subscriber whose
    queue is full drops it like any message) until each subscriber has sent
    back what it received.  Returns (seconds spent publishing, reports).
    """
    send, poll, recv = pub.send, sync.poll, sync.recv
    ready = set()
    while len(ready) < subscribers:
        send(HELLO)
        while poll(SYNC_POLL_MS):
            ready.add(recv())
    message = TOPIC + b"x" * (size - len(TOPIC))
    start = time.perf_counter()
    for _ in range(count):
        send(message)
    elapsed = time.perf_counter() - start
    reports = {}
    while len(reports) < subscribers:
        send(END)
        while poll(SYNC_POLL_MS):
            report = json.loads(recv())
            reports[report["index"]] = report
    return elapsed, [reports[index] for index in sorted(reports)]


def subscribe_and_count(ctx, sub_type, push_type, endpoint, sync_endpoint, size, index, other_topics=0):
    """One subscriber: count data messages until END, timed from the first to the last one.

    Subscribes after connecting, to ``other_topics`` topics nothing is published
    on and then to :data:`TOPIC`, so that the subscriptions reach the PUB in
    that order and HELLO gets through only once all of them are in.  Says it is
    ready (over a PUSH socket to the publisher's ``sync_endpoint``) once the
    first HELLO arrives, and afterwards reports its count and time the same way.
    Returns that report.
    """
    sub = ctx.socket(sub_type)
    if other_topics:
        sub.sndhwm = 0  # subscriptions queue like messages: libzmq drops those past SNDHWM, the matching one too
    sub.connect(endpoint)
    for number in range(other_topics):
        sub.subscribe(OTHER_TOPIC % number)
    sub.subscribe(TOPIC)
    sync = ctx.socket(push_type)
    sync.connect(sync_endpoint)
    recv, clock = sub.recv, time.perf_counter
    greeting = recv()
    if greeting != HELLO:
        raise ValueError(f"subscriber {index}: expected {HELLO!r} first, received {bytes(greeting[:32])!r}")
    sync.send(b"%d" % index)
    message = recv()
    while message == HELLO:
        message = recv()
    received, start, end = 0, clock(), None
    first = last = message
    while message != END:  # no clock in here but the one per message: pyzmq, zmq.green, greenmq alike
        received += 1
        end = clock()
        last = message
        message = recv()
    if received:
        check_size(first, size)
        check_size(last, size)
    report = {"index": index, "received": received, "elapsed": end - start if received > 1 else 0.0}
    sync.send(json.dumps(report).encode())
    sub.close(linger=0)
    sync.close()  # default linger: the report must get out before the socket goes
    return report


def _publisher(zmq, args):
    """A context with a bound PUB and, beside it, a bound PULL for the subscribers' reports; announced."""
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    sync = ctx.socket(zmq.PULL)
    endpoint = bind(pub, args.bind)
    sync_endpoint = bind(sync, next_to(endpoint, "sync"))
    announce("endpoint", endpoint=endpoint, peer_argv=["--sync", sync_endpoint])
    return ctx, pub, sync, endpoint, sync_endpoint


def measure_pubsub(rt, args):
    """PUB side: bind PUB and a PULL for reports, announce both, publish; with inproc run the SUBs here.

    Aggregate delivery is the sum over subscribers of what each received per
    second, each timed from its first to its last message; drops are counted
    per subscriber, as messages published minus messages received.
    """
    zmq = rt.zmq
    ctx, pub, sync, endpoint, sync_endpoint = _publisher(zmq, args)
    tasks = []
    if args.transport == "inproc":
        tasks = [rt.spawn(subscribe_and_count, ctx, zmq.SUB, zmq.PUSH, endpoint, sync_endpoint, args.size, index)
                 for index in range(args.subscribers)]
    publish_elapsed, reports = publish(pub, sync, args.subscribers, args.count, args.size)
    for task in tasks:
        rt.join(task)
    received = [report["received"] for report in reports]
    rates = [(report["received"] - 1) / report["elapsed"] if report["elapsed"] > 0 else 0.0 for report in reports]
    announce("result", library=rt.describe(), subscribers=args.subscribers,
             subscribers_run_as="processes" if args.transport != "inproc" else
             ("greenlets" if rt.green else "threads"),
             published=args.count, publish_elapsed=publish_elapsed,
             published_per_s=per_second(args.count, publish_elapsed),
             received=received, drops=[args.count - n for n in received],
             drop_fraction=1 - sum(received) / (args.count * args.subscribers),
             subscriber_elapsed=[report["elapsed"] for report in reports],
             elapsed=max(publish_elapsed, *(report["elapsed"] for report in reports)),  # for calibration
             subscriber_msgs_per_s=rates, delivered_per_s=sum(rates))
    close(ctx, pub, sync)


def subscribe_pubsub(rt, args):
    """One SUB in its own process (the orchestrator starts one per subscriber)."""
    zmq = rt.zmq
    ctx = zmq.Context()
    report = subscribe_and_count(ctx, zmq.SUB, zmq.PUSH, args.connect, args.sync, args.size, args.index)
    ctx.term()
    announce("done", **report)


def measure_match(rt, args):
    """PUB side of the match test: publish to one SUB holding ``--subscriptions`` topics; time the sending.

    The PUB never waits: with a full queue it drops, so its send rate is what
    it costs to match each message against the subscriptions and queue it (or
    not).  The SUB's count is reported next to it.
    """
    ctx, pub, sync, _, _ = _publisher(rt.zmq, args)
    elapsed, (report,) = publish(pub, sync, 1, args.count, args.size)
    announce("result", library=rt.describe(), subscriptions=args.subscriptions, published=args.count,
             elapsed=elapsed, published_per_s=per_second(args.count, elapsed), received=report["received"],
             drop_fraction=1 - report["received"] / args.count)
    close(ctx, pub, sync)


def subscribe_match(rt, args):
    """The match test's SUB in its own process: ``--subscriptions`` distinct topics, one of them matching."""
    zmq = rt.zmq
    ctx = zmq.Context()
    report = subscribe_and_count(ctx, zmq.SUB, zmq.PUSH, args.connect, args.sync, args.size, args.index,
                                 other_topics=args.subscriptions - 1)
    ctx.term()
    announce("done", **report)

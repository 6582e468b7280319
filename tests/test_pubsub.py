"""Publish-subscribe: PUB, SUB, XPUB, XSUB (rfc29, libzmq zmq_socket/zmq_setsockopt).

Every expectation here was first checked against pyzmq 27.3 (libzmq 4.3.5) by
running this same file in a separate process with ``import zmq.green as zmq``
(the proxy test with ``zmq.proxy`` in a thread): prefix filtering on the first
frame only, counted subscriptions, EINVAL for SUBSCRIBE/UNSUBSCRIBE on anything
but a SUB (also on XPUB without XPUB_MANUAL and on XSUB), TypeError for a str
given to setsockopt(SUBSCRIBE), XPUB's normalised b"\\x01topic"/b"\\x00topic"
(VERBOSE passes every subscribe, VERBOSER every unsubscribe as well), the
unsubscriptions XPUB generates when a subscriber goes away, XPUB_MANUAL,
XPUB_WELCOME_MSG, XPUB_NODROP, INVERT_MATCHING and re-subscription after the
publisher restarts.

Waiting for a subscription to reach a publisher never sleeps: either the
publisher is an XPUB and the test reads the subscription, or the test
publishes a probe in a loop until the subscriber receives one (see
``wait_subscribed``).
"""

import itertools

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, WIRE_TRANSPORTS, endpoint_for, new_socket


def bound(ctx, socket_type, endpoint, **options):
    """A socket bound to endpoint; returns (socket, the address to connect to)."""
    s = new_socket(ctx, socket_type, **options)
    s.bind(endpoint)
    return s, s.last_endpoint.decode()


def rebind(sock, addr):
    """Bind ``sock`` where a closed socket was bound (its listener may linger briefly)."""
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                sock.bind(addr)
                return
            except zmq.ZMQError as exc:
                assert exc.errno == zmq.EADDRINUSE
                gevent.sleep(0.01)


def wait_subscribed(pub, sub, probe):
    """Publish ``probe`` until ``sub`` receives it, then flush the extra probes.

    ``sub`` must be subscribed to a prefix of ``probe``. Afterwards the
    subscription has reached ``pub`` and ``sub`` has nothing queued.
    """
    fence = probe + b"-fence"
    with gevent.Timeout(TIMEOUT):
        while True:
            pub.send(probe)
            if sub.poll(20):
                break
        assert sub.recv_multipart() == [probe]
        pub.send(fence)
        while True:
            msg = sub.recv_multipart()
            if msg == [fence]:
                return
            assert msg == [probe]


def recv_timeout(s, seconds=TIMEOUT):
    with gevent.Timeout(seconds):
        return s.recv_multipart()


def nothing_pending(s, ms=100):
    return s.poll(ms) == 0


# -- PUB/SUB filtering ----------------------------------------------------------


def test_prefix_filter_on_first_frame_keeps_multipart_whole(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"A-sync")

    pub.send_multipart([b"B", b"A"])            # only the second frame matches: dropped
    pub.send_multipart([b"xA", b"more"])        # "A" not at the start: dropped
    pub.send_multipart([b"AB", b"part2", b"part3"])
    pub.send(b"")                               # empty first frame: dropped
    pub.send_multipart([b"BA", b""])
    pub.send(b"A")
    assert recv_timeout(sub) == [b"AB", b"part2", b"part3"]
    assert recv_timeout(sub) == [b"A"]
    assert nothing_pending(sub)


def test_empty_topic_matches_everything(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"sync")

    messages = [[b""], [b"anything"], [b"\x00\x01"], [b"", b"second"], [b"x", b"y", b"z"]]
    for msg in messages:
        pub.send_multipart(msg)
    for msg in messages:
        assert recv_timeout(sub) == msg
    assert nothing_pending(sub)


def test_several_subscribers_are_filtered_independently(ctx, endpoint):
    # XPUB behaves as PUB for data; it lets the test see the three
    # subscriptions arrive instead of guessing.
    pub, addr = bound(ctx, zmq.XPUB, endpoint)
    subs = {}
    for topic in (b"A", b"B", b""):
        s = new_socket(ctx, zmq.SUB)
        s.subscribe(topic)
        s.connect(addr)
        subs[topic] = s
    with gevent.Timeout(TIMEOUT):
        assert {pub.recv() for _ in range(3)} == {b"\x01A", b"\x01B", b"\x01"}

    for msg in (b"A1", b"B1", b"C1", b"A-end", b"B-end"):
        pub.send(msg)
    assert [recv_timeout(subs[b"A"])[0] for _ in range(2)] == [b"A1", b"A-end"]
    assert [recv_timeout(subs[b"B"])[0] for _ in range(2)] == [b"B1", b"B-end"]
    assert [recv_timeout(subs[b""])[0] for _ in range(5)] == [b"A1", b"B1", b"C1", b"A-end", b"B-end"]
    for s in subs.values():
        assert nothing_pending(s, 20)


def test_subscriber_receives_from_several_publishers(ctx, transport, tmp_path):
    pub1, addr1 = bound(ctx, zmq.PUB, endpoint_for(transport, tmp_path))
    pub2, addr2 = bound(ctx, zmq.PUB, endpoint_for(transport, tmp_path))
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"")
    sub.connect(addr1)
    sub.connect(addr2)
    wait_subscribed(pub1, sub, b"one")
    wait_subscribed(pub2, sub, b"two")
    pub1.send(b"from1")
    pub2.send(b"from2")
    assert sorted(recv_timeout(sub)[0] for _ in range(2)) == [b"from1", b"from2"]


# -- subscribe / unsubscribe API ------------------------------------------------


def test_subscribe_accepts_str_and_bytes(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe("é")                          # str is encoded as utf-8
    sub.subscribe(b"b")
    sub.setsockopt(zmq.SUBSCRIBE, b"c")
    sub.setsockopt_string(zmq.SUBSCRIBE, "ü")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"b-sync")

    for msg in ("é1", "a1", "b1", "c1", "ü1", "e1", "z"):
        pub.send_string(msg)
    pub.send(b"b-end")
    got = [recv_timeout(sub)[0] for _ in range(5)]
    assert got == ["é1".encode(), b"b1", b"c1", "ü1".encode(), b"b-end"]


def test_unsubscribe_stops_delivery(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.setsockopt_string(zmq.SUBSCRIBE, "S")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"A-sync")
    wait_subscribed(pub, sub, b"S-sync")

    sub.unsubscribe("A")
    sub.setsockopt_string(zmq.UNSUBSCRIBE, "S")
    sub.setsockopt(zmq.SUBSCRIBE, b"Z")
    wait_subscribed(pub, sub, b"Z-sync")        # the cancels went up before this
    pub.send(b"A1")
    pub.send(b"S1")
    pub.send(b"Z1")
    assert recv_timeout(sub) == [b"Z1"]

    sub.setsockopt(zmq.UNSUBSCRIBE, b"Z")
    sub.subscribe(b"Y")
    wait_subscribed(pub, sub, b"Y-sync")
    pub.send(b"Z2")
    pub.send(b"Y2")
    assert recv_timeout(sub) == [b"Y2"]


def test_unsubscribing_an_unknown_topic_is_harmless(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.unsubscribe(b"never")
    sub.subscribe(b"A")
    sub.unsubscribe(b"never")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"A-sync")
    pub.send(b"A1")
    assert recv_timeout(sub) == [b"A1"]


def test_subscriptions_are_counted(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.subscribe(b"A")
    sub.subscribe(b"Z")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"A-sync")

    sub.unsubscribe(b"A")                       # one "A" left
    sub.unsubscribe(b"Z")
    sub.subscribe(b"Y")
    wait_subscribed(pub, sub, b"Y-sync")
    pub.send(b"A1")
    assert recv_timeout(sub) == [b"A1"]

    sub.unsubscribe(b"A")                       # now none
    sub.subscribe(b"X")
    wait_subscribed(pub, sub, b"X-sync")
    pub.send(b"A2")
    pub.send(b"X2")
    assert recv_timeout(sub) == [b"X2"]


def test_subscribing_before_and_after_connect_both_work(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"before")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"before-sync")
    sub.subscribe(b"after")
    wait_subscribed(pub, sub, b"after-sync")
    pub.send(b"before1")
    pub.send(b"after1")
    pub.send(b"neither")
    assert recv_timeout(sub) == [b"before1"]
    assert recv_timeout(sub) == [b"after1"]
    assert nothing_pending(sub)


@pytest.mark.parametrize("socket_type", ["PUB", "XPUB", "XSUB", "PAIR", "PUSH", "PULL", "REQ", "DEALER"])
def test_subscribe_option_on_non_sub_socket_is_einval(ctx, socket_type):
    s = new_socket(ctx, getattr(zmq, socket_type))
    for option in (zmq.SUBSCRIBE, zmq.UNSUBSCRIBE):
        with pytest.raises(zmq.ZMQError) as info:
            s.setsockopt(option, b"a")
        assert info.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as info:
        s.subscribe("a")
    assert info.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as info:
        s.unsubscribe(b"a")
    assert info.value.errno == zmq.EINVAL


def test_subscribe_option_type_checks(ctx):
    s = new_socket(ctx, zmq.SUB)
    with pytest.raises(TypeError):
        s.setsockopt(zmq.SUBSCRIBE, "a")        # pyzmq: use setsockopt_string
    with pytest.raises(TypeError):
        s.setsockopt(zmq.SUBSCRIBE, 1)
    with pytest.raises(zmq.ZMQError) as info:
        s.getsockopt(zmq.SUBSCRIBE)             # write-only
    assert info.value.errno == zmq.EINVAL


def test_sub_cannot_send_and_pub_cannot_receive(ctx):
    sub = new_socket(ctx, zmq.SUB)
    pub = new_socket(ctx, zmq.PUB)
    with pytest.raises(zmq.ZMQError) as info:
        sub.send(b"x")
    assert info.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as info:
        pub.recv(zmq.NOBLOCK)
    assert info.value.errno == zmq.ENOTSUP


def test_publishing_without_subscribers_is_silently_dropped(ctx):
    pub = new_socket(ctx, zmq.PUB)
    xpub = new_socket(ctx, zmq.XPUB, xpub_nodrop=1)
    with gevent.Timeout(TIMEOUT):
        for _ in range(1000):
            pub.send(b"x")
            pub.send(b"x", zmq.NOBLOCK)
            xpub.send(b"x", zmq.NOBLOCK)


# -- PUB never blocks / XPUB_NODROP -----------------------------------------------

BIG = b"t" + b"x" * 65535


def test_pub_never_blocks_slow_subscriber_loses_messages(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint, sndhwm=1)
    sub = new_socket(ctx, zmq.SUB, rcvhwm=1)
    sub.subscribe(b"")
    sub.connect(addr)
    with gevent.Timeout(TIMEOUT):               # with HWM 1 a fence could be dropped:
        while not sub.poll(20):                 # leftover b"sync" copies are ignored below
            pub.send(b"sync")

    count = 1000                                # 64 MB: more than any socket buffer
    with gevent.Timeout(TIMEOUT):
        for i in range(count):
            pub.send(BIG, zmq.NOBLOCK)          # never raises Again
            pub.send(b"%d" % i)                 # never blocks
    received = []
    with gevent.Timeout(TIMEOUT):
        while sub.poll(500):
            received.append(sub.recv())
    data = [m for m in received if m != b"sync"]
    small = [int(m) for m in data if m != BIG]
    assert 0 < len(data) < 2 * count
    assert len(small) < count
    assert small == sorted(small)               # what arrives is in order


def test_xpub_nodrop_raises_again_when_subscriber_pipe_is_full(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_nodrop=1, sndhwm=1)
    sub = new_socket(ctx, zmq.SUB, rcvhwm=1)
    sub.subscribe(b"")
    sub.connect(addr)
    assert recv_timeout(xpub) == [b"\x01"]

    sent = 0
    with gevent.Timeout(TIMEOUT), pytest.raises(zmq.Again):
        while sent < 2000:                      # 128 MB would be far past any buffer
            xpub.send(BIG, zmq.NOBLOCK)
            sent += 1
    assert sent >= 1

    # Nothing was dropped: the subscriber gets every accepted message, and
    # once it has read them the XPUB accepts messages again.
    with gevent.Timeout(TIMEOUT):
        for _ in range(sent):
            assert sub.recv() == BIG
        while True:
            try:
                xpub.send(b"after", zmq.NOBLOCK)
                break
            except zmq.Again:
                gevent.sleep(0.01)
        assert sub.recv() == b"after"


# -- XPUB subscription messages -------------------------------------------------


def test_xpub_receives_subscribe_and_unsubscribe(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.connect(addr)
    sub.subscribe(b"topic")
    assert recv_timeout(xpub) == [b"\x01topic"]
    sub.unsubscribe(b"topic")
    assert recv_timeout(xpub) == [b"\x00topic"]
    sub.subscribe("")
    assert recv_timeout(xpub) == [b"\x01"]
    assert xpub.getsockopt(zmq.RCVMORE) == 0


def test_xpub_passes_first_subscribe_and_last_unsubscribe_only(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    sub1 = new_socket(ctx, zmq.SUB)
    sub2 = new_socket(ctx, zmq.SUB)
    sub1.connect(addr)
    sub2.connect(addr)
    sub1.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub2.subscribe(b"A")                        # duplicate: not passed on
    sub2.subscribe(b"B")
    assert recv_timeout(xpub) == [b"\x01B"]
    sub1.unsubscribe(b"A")                      # sub2 still has "A": not passed on
    sub1.subscribe(b"C")
    assert recv_timeout(xpub) == [b"\x01C"]
    sub2.unsubscribe(b"A")                      # last one
    assert recv_timeout(xpub) == [b"\x00A"]
    assert nothing_pending(xpub)


def test_xpub_verbose_passes_every_subscribe(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_verbose=1)
    sub1 = new_socket(ctx, zmq.SUB)
    sub2 = new_socket(ctx, zmq.SUB)
    sub1.connect(addr)
    sub2.connect(addr)
    sub1.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub2.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub2.subscribe(b"A")                        # same subscriber again: passed too
    assert recv_timeout(xpub) == [b"\x01A"]
    sub1.unsubscribe(b"A")                      # not the last: still filtered
    sub1.subscribe(b"C")
    assert recv_timeout(xpub) == [b"\x01C"]
    sub2.unsubscribe(b"A")                      # sub2 still counts one "A": the SUB sends nothing
    sub2.subscribe(b"D")
    assert recv_timeout(xpub) == [b"\x01D"]
    sub2.unsubscribe(b"A")
    assert recv_timeout(xpub) == [b"\x00A"]
    assert nothing_pending(xpub)


def test_xpub_verboser_passes_every_unsubscribe(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_verboser=1)
    sub1 = new_socket(ctx, zmq.SUB)
    sub2 = new_socket(ctx, zmq.SUB)
    sub1.connect(addr)
    sub2.connect(addr)
    sub1.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub2.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub1.unsubscribe(b"A")
    assert recv_timeout(xpub) == [b"\x00A"]
    sub2.unsubscribe(b"A")
    assert recv_timeout(xpub) == [b"\x00A"]
    assert nothing_pending(xpub)


def test_subscription_made_while_connecting_arrives_once(ctx, endpoint):
    # The SUB subscribes before its connection is up; with XPUB_VERBOSER
    # every subscription the SUB sends is visible, so a copy would show.
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_verboser=1)
    sub = new_socket(ctx, zmq.SUB)
    sub.connect(addr)
    sub.subscribe(b"A")
    assert recv_timeout(xpub) == [b"\x01A"]
    sub.subscribe(b"B")
    assert recv_timeout(xpub) == [b"\x01B"]
    sub.unsubscribe(b"A")
    assert recv_timeout(xpub) == [b"\x00A"]
    assert nothing_pending(xpub)


def test_xpub_gets_unsubscriptions_when_subscriber_disconnects(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    sub1 = new_socket(ctx, zmq.SUB)
    sub2 = new_socket(ctx, zmq.SUB)
    sub1.subscribe(b"A")
    sub1.subscribe(b"B")
    sub1.connect(addr)
    with gevent.Timeout(TIMEOUT):
        assert {xpub.recv() for _ in range(2)} == {b"\x01A", b"\x01B"}
    sub2.subscribe(b"A")
    sub2.subscribe(b"S")
    sub2.connect(addr)
    assert recv_timeout(xpub) == [b"\x01S"]     # "A" is a duplicate

    sub1.close()                                # "A" is still wanted by sub2
    assert recv_timeout(xpub) == [b"\x00B"]
    sub2.close()
    with gevent.Timeout(TIMEOUT):
        assert {xpub.recv() for _ in range(2)} == {b"\x00A", b"\x00S"}
    assert nothing_pending(xpub)


def test_xpub_sends_data_only_to_matching_subscribers(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.connect(addr)
    assert recv_timeout(xpub) == [b"\x01A"]
    xpub.send(b"B1")
    xpub.send_multipart([b"A1", b"tail"])
    assert recv_timeout(sub) == [b"A1", b"tail"]


def test_xpub_manual_subscriptions_take_effect_when_set(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_manual=1)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.connect(addr)
    assert recv_timeout(xpub) == [b"\x01A"]
    xpub.send(b"A1")                            # not in the XPUB's subscriptions yet
    xpub.setsockopt(zmq.SUBSCRIBE, b"A")        # applies to the pipe it came from
    xpub.send(b"A2")
    assert recv_timeout(sub) == [b"A2"]

    sub.unsubscribe(b"A")
    assert recv_timeout(xpub) == [b"\x00A"]
    sub.subscribe(b"B")                         # the SUB's own filter now passes "B" only
    assert recv_timeout(xpub) == [b"\x01B"]
    xpub.subscribe(b"")                         # the XPUB may choose a different topic
    xpub.send(b"A3")
    xpub.send(b"B3")
    assert recv_timeout(sub) == [b"B3"]


def test_xpub_manual_unsubscribe(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_manual=1)
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.subscribe(b"B")
    sub.connect(addr)
    assert recv_timeout(xpub) == [b"\x01A"]
    xpub.setsockopt(zmq.SUBSCRIBE, b"A")
    assert recv_timeout(xpub) == [b"\x01B"]
    xpub.setsockopt(zmq.SUBSCRIBE, b"B")
    xpub.send(b"A1")
    assert recv_timeout(sub) == [b"A1"]
    xpub.setsockopt(zmq.UNSUBSCRIBE, b"A")      # last pipe is the same subscriber
    xpub.send(b"A2")
    xpub.send(b"B2")
    assert recv_timeout(sub) == [b"B2"]


def test_xpub_welcome_message(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_welcome_msg=b"WELCOME")
    for _ in range(2):                          # every new subscriber gets it first
        sub = new_socket(ctx, zmq.SUB)
        sub.subscribe(b"WELCOME")
        sub.subscribe(b"A")
        sub.connect(addr)
        with gevent.Timeout(TIMEOUT):
            assert {xpub.recv() for _ in range(2)} == {b"\x01WELCOME", b"\x01A"}
        xpub.send(b"A1")
        assert recv_timeout(sub) == [b"WELCOME"]
        assert recv_timeout(sub) == [b"A1"]
        sub.close()
        with gevent.Timeout(TIMEOUT):
            assert {xpub.recv() for _ in range(2)} == {b"\x00WELCOME", b"\x00A"}


def test_xpub_welcome_message_needs_a_matching_subscription(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint, xpub_welcome_msg=b"WELCOME")
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"A")
    sub.connect(addr)
    assert recv_timeout(xpub) == [b"\x01A"]
    xpub.send(b"A1")
    assert recv_timeout(sub) == [b"A1"]


def test_xpub_receives_plain_messages_from_xsub(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect(addr)
    xsub.send(b"\x01A")
    assert recv_timeout(xpub) == [b"\x01A"]
    xsub.send(b"hello")                         # not a subscription: delivered as data
    assert recv_timeout(xpub) == [b"hello"]
    xsub.send(b"\x00A")
    assert recv_timeout(xpub) == [b"\x00A"]


# -- INVERT_MATCHING ------------------------------------------------------------


def test_invert_matching_pub_and_sub(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint, invert_matching=1)
    sub = new_socket(ctx, zmq.SUB, invert_matching=1)
    sub.subscribe(b"A")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"sync")
    assert sub.getsockopt(zmq.INVERT_MATCHING) == 1
    for msg in (b"A1", b"B1", b"AB", b"", b"C1"):
        pub.send(msg)
    assert [recv_timeout(sub)[0] for _ in range(3)] == [b"B1", b"", b"C1"]
    assert nothing_pending(sub)


def test_invert_matching_pub_with_xsub(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint, invert_matching=1)
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect(addr)
    xsub.send(b"\x01A")
    xsub.send(b"\x01S")
    # Everything except "A..." and "S..." passes. Once an "S" probe is dropped
    # while the "B" probe sent right after it arrives, both subscriptions are in.
    with gevent.Timeout(TIMEOUT):
        previous = None
        for i in itertools.count():
            pub.send(b"S%d" % i)
            pub.send(b"B%d" % i)
            while xsub.poll(20):
                msg = xsub.recv()
                if msg.startswith(b"B") and previous != b"S" + msg[1:]:
                    break
                previous = msg
            else:
                continue
            break
        pub.send(b"fence")
        while xsub.recv() != b"fence":
            pass
    pub.send(b"A1")
    pub.send(b"S1")
    pub.send(b"B1")
    assert recv_timeout(xsub) == [b"B1"]


# -- XSUB -----------------------------------------------------------------------


def test_xsub_subscribes_upstream_with_messages(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect(addr)
    xsub.send(b"\x01A")
    wait_subscribed(pub, xsub, b"A-sync")
    pub.send(b"B1")
    pub.send_multipart([b"A1", b"more"])
    assert recv_timeout(xsub) == [b"A1", b"more"]

    xsub.send(b"\x00A")
    xsub.send(b"\x01Z")
    wait_subscribed(pub, xsub, b"Z-sync")
    pub.send(b"A2")
    pub.send(b"Z2")
    assert recv_timeout(xsub) == [b"Z2"]


def test_xsub_to_xpub_subscription_roundtrip(ctx, endpoint):
    xpub, addr = bound(ctx, zmq.XPUB, endpoint)
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect(addr)
    xsub.send(b"\x01topic")
    assert recv_timeout(xpub) == [b"\x01topic"]
    xpub.send(b"other")
    xpub.send(b"topic-1")
    assert recv_timeout(xsub) == [b"topic-1"]


def test_xsub_xpub_forwarder_with_proxy(ctx, transport, tmp_path):
    upstream, up_addr = bound(ctx, zmq.XPUB, endpoint_for(transport, tmp_path))
    xsub = new_socket(ctx, zmq.XSUB)
    xsub.connect(up_addr)
    xpub, down_addr = bound(ctx, zmq.XPUB, endpoint_for(transport, tmp_path))
    forwarder = gevent.spawn(zmq.proxy, xsub, xpub)
    try:
        sub = new_socket(ctx, zmq.SUB)
        sub.subscribe(b"A")
        sub.connect(down_addr)
        assert recv_timeout(upstream) == [b"\x01A"]     # subscription went upstream
        upstream.send(b"B1")
        upstream.send_multipart([b"A1", b"tail"])
        assert recv_timeout(sub) == [b"A1", b"tail"]    # data came downstream

        sub.unsubscribe(b"A")
        assert recv_timeout(upstream) == [b"\x00A"]
        assert not forwarder.ready()
    finally:
        forwarder.kill()


# -- reconnection and joining late ----------------------------------------------


@pytest.mark.parametrize("restart_type", ["PUB", "XPUB"])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_subscriptions_resent_after_publisher_restarts(ctx, transport, tmp_path, restart_type):
    pub, addr = bound(ctx, zmq.PUB, endpoint_for(transport, tmp_path))
    sub = new_socket(ctx, zmq.SUB, reconnect_ivl=20)
    sub.subscribe(b"A")
    sub.connect(addr)
    wait_subscribed(pub, sub, b"A-sync")
    pub.close()

    pub2 = new_socket(ctx, getattr(zmq, restart_type))
    rebind(pub2, addr)
    if restart_type == "XPUB":
        assert recv_timeout(pub2) == [b"\x01A"]  # re-sent without the app asking
        pub2.send(b"A1")
        assert recv_timeout(sub) == [b"A1"]
    else:
        wait_subscribed(pub2, sub, b"A-again")
        pub2.send(b"B1")
        pub2.send(b"A1")
        assert recv_timeout(sub) == [b"A1"]


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)  # an inproc link does not reconnect
def test_xsub_after_publisher_restarts_sends_each_message_once(ctx, transport, tmp_path):
    """The XSUB's connect-side peer outlives the connection; after the reconnection its pipe
    must still be counted once (else every subscription and message went out twice)."""
    xpub, addr = bound(ctx, zmq.XPUB, endpoint_for(transport, tmp_path), xpub_verbose=1)
    xsub = new_socket(ctx, zmq.XSUB, reconnect_ivl=20)
    xsub.connect(addr)
    xsub.send(b"\x01A")
    assert recv_timeout(xpub) == [b"\x01A"]
    xpub.close()
    xpub2 = new_socket(ctx, zmq.XPUB, xpub_verbose=1)
    rebind(xpub2, addr)
    assert recv_timeout(xpub2) == [b"\x01A"]  # re-sent on reconnection
    xsub.send(b"\x01B")
    xsub.send(b"data")
    xsub.send(b"fence")
    assert [recv_timeout(xpub2) for _ in range(3)] == [[b"\x01B"], [b"data"], [b"fence"]]


def test_slow_joiner_misses_early_messages(ctx, endpoint):
    pub, addr = bound(ctx, zmq.PUB, endpoint)
    counter = itertools.count()
    for _ in range(100):                        # nobody is listening yet
        pub.send(b"%d" % next(counter))

    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"")
    sub.connect(addr)
    with gevent.Timeout(TIMEOUT):
        while not sub.poll(10):
            pub.send(b"%d" % next(counter))
        first = int(sub.recv())
        assert first >= 100                     # the early messages are gone
        for _ in range(5):
            pub.send(b"%d" % next(counter))
        later = [int(sub.recv()) for _ in range(5)]
    assert later == sorted(later) and later[0] > first

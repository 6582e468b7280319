"""Every socket type as a Pattern, driven through pipes: no socket, no gevent, no network.

Each test builds Peers with Pipes, attaches them to a pattern, writes what
the peers "sent" into their inbound pipes and reads what the pattern sent
from their outbound pipes.
"""

import pytest

import greenmq as zmq
from greenmq._pipe import Peer, Pipe
from greenmq.patterns.base import Pattern
from greenmq.patterns import PATTERNS, Dealer, Pair, Pub, Pull, Push, Radio, Rep, Req, Router, Stream, Sub, XPub, XSub
from greenmq.zmtp.framing import Subscription
from greenmq.zmtp.metadata import Metadata


class Calls:
    """A wake-up callable that counts its calls."""

    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


def make_peer(hwm=100, *, identity=None, ready=True, routing_id=None, disconnect=None, name="peer"):
    """A peer with an inbound and an outbound pipe; ``ready`` gives it handshake metadata."""
    peer = Peer(f"inproc://{name}", routing_id, disconnect or Calls())
    peer.use_pipes(Pipe(hwm), Pipe(hwm))
    if ready:
        properties = [("Socket-Type", b"DEALER")]
        if identity is not None:
            properties.append(("Identity", identity))
        peer.metadata = Metadata(properties)
    return peer


def attached(pattern_class, *peers, options=()):
    """A pattern of ``pattern_class`` with ``options`` set and ``peers`` attached (all must be taken)."""
    pattern = pattern_class(Calls())
    for option, value in options:
        pattern.option_changed(option, value)
    for peer in peers:
        assert pattern.attach(peer) is True
    return pattern


def sent(peer):
    """Everything the pattern queued for ``peer``, taken out."""
    return list(peer.outbound.read_all())


def fill(pipe):
    while pipe.try_write(b"filler"):
        pass


def check_errno(call, errno, *args):
    with pytest.raises(zmq.ZMQError) as info:
        call(*args)
    assert info.value.errno == errno


def test_every_socket_type_has_a_pattern():
    assert {PATTERNS[zmq.PAIR], PATTERNS[zmq.PUSH], PATTERNS[zmq.PULL], PATTERNS[zmq.REQ], PATTERNS[zmq.REP],
            PATTERNS[zmq.DEALER], PATTERNS[zmq.ROUTER], PATTERNS[zmq.STREAM], PATTERNS[zmq.PUB], PATTERNS[zmq.SUB],
            PATTERNS[zmq.XPUB], PATTERNS[zmq.XSUB]} == {Pair, Push, Pull, Req, Rep, Dealer, Router, Stream, Pub, Sub,
                                                          XPub, XSub}


def test_which_types_send_receive_and_fan_out():
    assert (Push.receives, Pull.sends) == (False, False)
    assert all(cls.sends and cls.receives for cls in (Pair, Req, Rep, Dealer, Router, Stream, Pub, Sub, XPub, XSub))
    assert [cls for cls in PATTERNS.values() if cls.fans_out] == [Pub, XPub, Radio]
    assert {cls for cls in PATTERNS.values() if cls.takes_subscriptions} == {Pub, XPub, Radio}
    assert [cls for cls in PATTERNS.values() if cls.raw] == [Stream]


def test_the_types_that_follow_partly_read_messages_say_so():
    # The socket calls message_pending only for types with wants_message_pending (recv's hot
    # path): a type that overrides it without the flag would never be called.
    overriding = {cls for cls in PATTERNS.values() if cls.message_pending is not Pattern.message_pending}
    assert overriding == {Req, Rep}
    assert {cls for cls in PATTERNS.values() if cls.wants_message_pending} == overriding


# -- PAIR -------------------------------------------------------------------------


def test_pair_refuses_a_second_peer():
    first, second = make_peer(), make_peer()
    pair = attached(Pair, first)
    assert pair.attach(second) is False
    assert pair.send(b"hi")
    assert sent(first) == [b"hi"]
    assert sent(second) == []


def test_pair_takes_a_new_peer_once_the_first_has_gone():
    first, second = make_peer(), make_peer()
    pair = attached(Pair, first)
    pair.detach(first)
    assert pair.attach(second) is True
    pair.send(b"hi")
    assert sent(second) == [b"hi"]


def test_pair_detach_of_a_stranger_changes_nothing():
    first = make_peer()
    pair = attached(Pair, first)
    pair.detach(make_peer())
    assert pair.send(b"still here")
    assert sent(first) == [b"still here"]


def test_pair_sends_and_receives_through_its_peer():
    peer = make_peer()
    pair = attached(Pair, peer)
    peer.inbound.write([b"a", b"b"])
    assert pair.can_recv() is True
    assert pair.recv() == [b"a", b"b"]
    assert pair.source() is peer.inbound
    assert pair.recv() is None
    assert pair.can_recv() is False


def test_pair_without_a_peer_waits_or_drops():
    pair = Pair(Calls())
    assert pair.can_send() is False
    assert pair.send(b"x") is False  # the sender waits
    assert pair.send(b"x", over_hwm=True) is True  # the rest of a started message: dropped
    assert pair.recv() is None
    assert pair.can_recv() is False


def test_pair_full_pipe_blocks_unless_over_hwm():
    peer = make_peer(hwm=1)
    pair = attached(Pair, peer)
    assert pair.send(b"1")
    assert pair.can_send() is False
    assert pair.send(b"2") is False
    assert pair.send(b"3", over_hwm=True) is True
    assert sent(peer) == [b"1", b"3"]


def test_pair_keeps_reading_what_a_departed_peer_sent():
    peer = make_peer()
    pair = attached(Pair, peer)
    peer.inbound.write(b"before leaving")
    pair.detach(peer)
    peer.inbound.close_writer()
    assert pair.can_send() is False
    assert pair.recv() == b"before leaving"
    assert pair.recv() is None
    assert pair.can_recv() is False


# -- PUSH / PULL ------------------------------------------------------------------


def test_push_round_robins_over_peers():
    a, b = make_peer(), make_peer()
    push = attached(Push, a, b)
    for number in range(4):
        assert push.send(b"%d" % number)
    assert (sent(a), sent(b)) == ([b"0", b"2"], [b"1", b"3"])


def test_push_skips_a_full_peer_and_waits_when_all_are_full():
    a, b = make_peer(hwm=1), make_peer(hwm=1)
    push = attached(Push, a, b)
    fill(a.outbound)
    assert push.send(b"x")
    assert push.can_send() is False
    assert push.send(b"y") is False
    assert sent(b) == [b"x"]


def test_push_detached_peer_gets_nothing_more():
    a, b = make_peer(), make_peer()
    push = attached(Push, a, b)
    push.detach(a)
    push.send(b"1")
    push.send(b"2")
    assert (sent(a), sent(b)) == ([], [b"1", b"2"])


def test_push_cannot_receive():
    push = attached(Push, make_peer())
    check_errno(push.recv, zmq.ENOTSUP)
    assert push.can_recv() is False


def test_pull_fair_queues_and_names_the_source():
    a, b = make_peer(name="a"), make_peer(name="b")
    pull = attached(Pull, a, b)
    a.inbound.write(b"a0")
    a.inbound.write(b"a1")
    b.inbound.write(b"b0")
    received = []
    for _ in range(3):
        received.append((pull.recv(), pull.source().peer))
    assert received == [(b"a0", a), (b"b0", b), (b"a1", a)]
    assert pull.recv() is None


def test_pull_cannot_send():
    pull = attached(Pull, make_peer())
    check_errno(pull.check_send, zmq.ENOTSUP, b"x")
    check_errno(pull.send, zmq.ENOTSUP, b"x")
    assert pull.can_send() is False


def test_pull_delivers_a_departed_peer_messages_then_forgets_it():
    a = make_peer()
    pull = attached(Pull, a)
    a.inbound.write(b"parting")
    pull.detach(a)
    a.inbound.close_writer()
    assert pull.can_recv() is True
    assert pull.recv() == b"parting"
    assert pull.recv() is None
    assert pull.can_recv() is False


# -- REQ ----------------------------------------------------------------------------


def test_req_puts_the_delimiter_in_front():
    peer = make_peer()
    req = attached(Req, peer)
    req.send(b"hello")
    assert sent(peer) == [[b"", b"hello"]]


def test_req_keeps_a_multipart_request_whole():
    peer = make_peer()
    req = attached(Req, peer)
    req.send([b"a", b"b"])
    assert sent(peer) == [[b"", b"a", b"b"]]


def test_req_refuses_a_second_request_before_the_reply():
    peer = make_peer()
    req = attached(Req, peer)
    req.check_send(b"first")
    req.send(b"first")
    check_errno(req.check_send, zmq.EFSM, b"second")
    check_errno(req.send, zmq.EFSM, b"second")
    assert sent(peer) == [[b"", b"first"]]
    assert req.can_send() is False  # no POLLOUT while the reply is awaited (as libzmq)


def test_req_refuses_to_receive_before_a_request():
    peer = make_peer()
    req = attached(Req, peer)
    peer.inbound.write([b"", b"unasked"])
    check_errno(req.recv, zmq.EFSM)
    assert len(peer.inbound) == 1  # refused, not taken
    assert req.can_recv() is False  # no POLLIN before a request (as libzmq)


def test_req_takes_the_reply_without_its_delimiter_and_may_ask_again():
    peer = make_peer()
    req = attached(Req, peer)
    req.send(b"q")
    assert req.recv() is None
    peer.inbound.write([b"", b"answer"])
    assert req.can_recv() is True
    assert req.recv() == b"answer"
    assert req.can_send() is True
    req.check_send(b"next")
    req.send(b"next")
    peer.inbound.write([b"", b"part 1", b"part 2"])
    assert req.recv() == [b"part 1", b"part 2"]


def test_req_drops_replies_from_peers_it_did_not_ask():
    asked, other = make_peer(name="asked"), make_peer(name="other")
    req = attached(Req, asked, other)
    req.send(b"q")
    assert sent(asked) == [[b"", b"q"]]
    other.inbound.write([b"", b"not yours"])
    assert req.recv() is None
    assert len(other.inbound) == 0  # taken and dropped
    asked.inbound.write([b"", b"yours"])
    assert req.recv() == b"yours"


def test_req_drops_a_reply_without_delimiter():
    peer = make_peer()
    req = attached(Req, peer)
    req.send(b"q")
    peer.inbound.write(b"no envelope")
    peer.inbound.write([b"x", b"no delimiter"])
    peer.inbound.write([b""])  # a delimiter and nothing else
    peer.inbound.write([b"", b"good"])
    assert req.recv() == b"good"


def test_req_full_pipes_make_the_request_wait():
    peer = make_peer(hwm=1)
    req = attached(Req, peer)
    fill(peer.outbound)
    assert req.can_send() is False
    assert req.send(b"q") is False
    req.check_send(b"q")  # still allowed to ask: nothing was sent
    peer.outbound.read_all()
    assert req.send(b"q") is True


def test_req_correlate_prefixes_a_request_id_that_counts_up():
    peer = make_peer()
    req = attached(Req, peer, options=[(zmq.REQ_CORRELATE, 1), (zmq.REQ_RELAXED, 1)])
    req.send(b"one")
    req.send(b"two")
    first, second = sent(peer)
    assert first[1:] == [b"", b"one"] and second[1:] == [b"", b"two"]
    assert len(first[0]) == len(second[0]) == 4
    step = (int.from_bytes(second[0], "little") - int.from_bytes(first[0], "little")) & 0xFFFFFFFF
    assert step == 1


def test_req_correlate_takes_only_the_reply_with_its_id():
    peer = make_peer()
    req = attached(Req, peer, options=[(zmq.REQ_CORRELATE, 1)])
    req.send(b"q")
    request_id = sent(peer)[0][0]
    wrong = ((int.from_bytes(request_id, "little") + 7) & 0xFFFFFFFF).to_bytes(4, "little")
    peer.inbound.write([wrong, b"", b"stale"])
    peer.inbound.write([b"", b"no id"])
    peer.inbound.write([request_id, b"", b"fresh"])
    assert req.recv() == b"fresh"


def test_req_relaxed_allows_a_new_request_and_forgets_the_old_one():
    a, b = make_peer(name="a"), make_peer(name="b")
    req = attached(Req, a, b, options=[(zmq.REQ_RELAXED, 1)])
    req.send(b"first")
    req.check_send(b"second")
    assert req.can_send() is True
    req.send(b"second")
    assert (sent(a), sent(b)) == ([[b"", b"first"]], [[b"", b"second"]])
    a.inbound.write([b"", b"late answer to first"])
    assert req.recv() is None
    b.inbound.write([b"", b"answer to second"])
    assert req.recv() == b"answer to second"


def test_req_relaxed_with_correlate_drops_the_stale_reply_of_the_same_peer():
    peer = make_peer()
    req = attached(Req, peer, options=[(zmq.REQ_RELAXED, 1), (zmq.REQ_CORRELATE, 1)])
    req.send(b"first")
    req.send(b"second")
    first_id, second_id = (request[0] for request in sent(peer))
    peer.inbound.write([first_id, b"", b"stale"])
    peer.inbound.write([second_id, b"", b"current"])
    assert req.recv() == b"current"


def test_req_option_changes_pass_other_options_to_dealer():
    peer = make_peer()
    req = attached(Req, options=[(zmq.PROBE_ROUTER, 1)])
    req.attach(peer)
    assert sent(peer) == [b""]


# -- REP ----------------------------------------------------------------------------


def test_rep_sends_the_reply_back_along_the_envelope():
    peer = make_peer()
    rep = attached(Rep, peer)
    peer.inbound.write([b"hop1", b"hop2", b"", b"request"])
    assert rep.recv() == b"request"
    rep.check_send(b"reply")
    assert rep.send(b"reply") is True
    assert sent(peer) == [[b"hop1", b"hop2", b"", b"reply"]]


def test_rep_keeps_a_multipart_request_and_reply_whole():
    peer = make_peer()
    rep = attached(Rep, peer)
    peer.inbound.write([b"", b"a", b"b"])
    assert rep.recv() == [b"a", b"b"]
    rep.send([b"c", b"d"])
    assert sent(peer) == [[b"", b"c", b"d"]]


def test_rep_refuses_to_reply_before_a_request():
    rep = attached(Rep, make_peer())
    check_errno(rep.check_send, zmq.EFSM, b"x")
    check_errno(rep.send, zmq.EFSM, b"x")
    assert rep.can_send() is False


def test_rep_refuses_a_second_recv_before_replying():
    peer = make_peer()
    rep = attached(Rep, peer)
    peer.inbound.write([b"", b"1"])
    peer.inbound.write([b"", b"2"])
    assert rep.recv() == b"1"
    check_errno(rep.recv, zmq.EFSM)
    assert rep.can_recv() is False
    assert rep.can_send() is True
    rep.send(b"r1")
    assert rep.recv() == b"2"


def test_rep_drops_malformed_requests():
    peer = make_peer()
    rep = attached(Rep, peer)
    for malformed in (b"bare", [b"id", b"no delimiter"], [b"id", b""]):
        peer.inbound.write(malformed)
    assert rep.recv() is None
    assert len(peer.inbound) == 0
    peer.inbound.write([b"id", b"", b"fine"])
    assert rep.recv() == b"fine"


def test_rep_replies_to_the_peer_that_asked():
    a, b = make_peer(name="a"), make_peer(name="b")
    rep = attached(Rep, a, b)
    b.inbound.write([b"", b"from b"])
    assert rep.recv() == b"from b"
    assert rep.source().peer is b
    rep.send(b"to b")
    assert (sent(a), sent(b)) == ([], [[b"", b"to b"]])


def test_rep_reply_to_a_departed_peer_is_dropped():
    peer = make_peer()
    rep = attached(Rep, peer)
    peer.inbound.write([b"", b"q"])
    rep.recv()
    rep.detach(peer)
    assert rep.send(b"nobody hears") is True
    assert sent(peer) == []
    peer.inbound.write([b"", b"q2"])
    assert rep.recv() == b"q2"  # the state machine moved on


def test_rep_reply_to_a_full_peer_is_dropped():
    peer = make_peer(hwm=1)
    rep = attached(Rep, peer)
    peer.inbound.write([b"", b"q"])
    rep.recv()
    fill(peer.outbound)
    assert rep.send(b"lost") is True
    assert sent(peer) == [b"filler"]
    assert rep.can_recv() is False and rep.can_send() is False


def test_rep_can_recv_only_with_a_request_queued():
    peer = make_peer()
    rep = attached(Rep, peer)
    assert rep.can_recv() is False
    peer.inbound.write([b"", b"q"])
    assert rep.can_recv() is True


# -- DEALER -------------------------------------------------------------------------


def test_dealer_round_robins_out_unchanged():
    a, b = make_peer(), make_peer()
    dealer = attached(Dealer, a, b)
    for msg in (b"1", [b"2", b"x"], b"3"):
        assert dealer.send(msg)
    assert (sent(a), sent(b)) == ([b"1", b"3"], [[b"2", b"x"]])


def test_dealer_fair_queues_in_and_names_the_source():
    a, b = make_peer(), make_peer()
    dealer = attached(Dealer, a, b)
    b.inbound.write(b"b0")
    a.inbound.write([b"", b"a0"])
    assert dealer.recv() == b"b0"  # the peers take turns in the order their messages came
    assert dealer.source() is b.inbound
    assert dealer.recv() == [b"", b"a0"]
    assert dealer.source() is a.inbound
    assert dealer.can_recv() is False


def test_dealer_detached_peer_gets_nothing_but_its_messages_are_read():
    a, b = make_peer(), make_peer()
    dealer = attached(Dealer, a, b)
    a.inbound.write(b"from a")
    dealer.detach(a)
    a.inbound.close_writer()
    dealer.send(b"1")
    dealer.send(b"2")
    assert (sent(a), sent(b)) == ([], [b"1", b"2"])
    assert dealer.recv() == b"from a"


def test_dealer_waits_when_every_peer_is_full():
    a = make_peer(hwm=1)
    dealer = attached(Dealer, a)
    fill(a.outbound)
    assert dealer.can_send() is False
    assert dealer.send(b"x") is False
    assert dealer.send(b"x", over_hwm=True) is True
    assert sent(a) == [b"filler", b"x"]


def test_dealer_probe_router_sends_an_empty_message_to_each_new_peer():
    a = make_peer(hwm=1)
    fill(a.outbound)
    dealer = attached(Dealer, options=[(zmq.PROBE_ROUTER, 1)])
    dealer.attach(a)
    assert sent(a) == [b"filler", b""]  # past the mark


# -- ROUTER -------------------------------------------------------------------------


def test_router_prefixes_the_senders_routing_id():
    alice = make_peer(identity=b"alice")
    router = attached(Router, alice)
    alice.inbound.write(b"hi")
    alice.inbound.write([b"a", b"b"])
    assert router.recv() == [b"alice", b"hi"]
    assert router.recv() == [b"alice", b"a", b"b"]
    assert router.source() is alice.inbound
    assert router.recv() is None


def test_router_routes_by_the_first_frame():
    alice, bob = make_peer(identity=b"alice"), make_peer(identity=b"bob")
    router = attached(Router, alice, bob)
    assert router.send([b"bob", b"x"])
    assert router.send([bytearray(b"alice"), b"y", b"z"])
    assert (sent(alice), sent(bob)) == ([[b"y", b"z"]], [b"x"])


def test_router_generates_ids_for_anonymous_peers():
    peers = [make_peer(), make_peer(identity=b""), make_peer()]
    router = attached(Router, *peers)
    ids = [peer.routing_id for peer in peers]
    assert len(set(ids)) == 3
    assert all(len(routing_id) == 5 and routing_id[0] == 0 for routing_id in ids)
    numbers = [int.from_bytes(routing_id[1:], "big") for routing_id in ids]
    assert [(number - numbers[0]) & 0xFFFFFFFF for number in numbers] == [0, 1, 2]
    peers[1].inbound.write(b"m")
    assert router.recv() == [ids[1], b"m"]


def test_router_connect_routing_id_wins_over_identity():
    peer = make_peer(identity=b"announced", routing_id=b"chosen")
    router = attached(Router, peer)
    router.send([b"chosen", b"x"])
    assert peer.routing_id == b"chosen"
    assert sent(peer) == [b"x"]


def test_router_names_a_connect_side_peer_when_it_is_ready():
    peer = make_peer(ready=False)
    router = attached(Router, peer)
    assert peer.routing_id is None
    peer.metadata = Metadata([("Identity", b"late")])
    assert router.peer_ready(peer) is True
    assert peer.routing_id == b"late"
    assert router.peer_ready(peer) is True  # a reconnect keeps its id
    router.send([b"late", b"x"])
    assert sent(peer) == [b"x"]


def test_router_drops_unroutable_messages_silently():
    alice = make_peer(identity=b"alice")
    router = attached(Router, alice)
    router.check_send(b"nobody")
    assert router.room_for(b"nobody") is True
    assert router.send([b"nobody", b"x"]) is True
    assert router.send(b"only an id") is True
    assert router.send([b"alice"]) is True
    assert sent(alice) == []


def test_router_full_peer_misses_the_message_without_mandatory():
    alice = make_peer(hwm=1, identity=b"alice")
    router = attached(Router, alice)
    fill(alice.outbound)
    assert router.room_for(b"alice") is True
    assert router.can_send() is True
    assert router.send([b"alice", b"lost"]) is True
    assert sent(alice) == [b"filler"]


def test_router_mandatory_refuses_an_unknown_id_at_the_first_frame():
    router = attached(Router, make_peer(identity=b"alice"), options=[(zmq.ROUTER_MANDATORY, 1)])
    check_errno(router.check_send, zmq.EHOSTUNREACH, b"nobody")
    check_errno(router.send, zmq.EHOSTUNREACH, [b"nobody", b"x"])
    router.check_send(b"alice")


def test_router_mandatory_drops_the_rest_of_a_message_whose_peer_left():
    alice = make_peer(identity=b"alice")
    router = attached(Router, alice, options=[(zmq.ROUTER_MANDATORY, 1)])
    router.detach(alice)
    assert router.send([b"alice", b"x"], over_hwm=True) is True
    assert sent(alice) == []


def test_router_mandatory_waits_for_room():
    alice = make_peer(hwm=1, identity=b"alice")
    bob = make_peer(hwm=1, identity=b"bob")
    router = attached(Router, alice, bob, options=[(zmq.ROUTER_MANDATORY, 1)])
    fill(alice.outbound)
    assert router.room_for(b"alice") is False
    assert router.room_for(b"bob") is True
    assert router.can_send() is True
    assert router.send([b"alice", b"x"]) is False
    fill(bob.outbound)
    assert router.can_send() is False
    assert router.send([b"alice", b"x"], over_hwm=True) is True
    assert sent(alice) == [b"filler", b"x"]


def test_router_refuses_a_duplicate_id_without_handover():
    first, second = make_peer(identity=b"same"), make_peer(identity=b"same")
    router = attached(Router, first)
    assert router.attach(second) is False
    assert first.disconnect.count == 0
    second.inbound.write(b"ignored")
    assert router.recv() is None  # the refused peer is not read
    router.send([b"same", b"x"])
    assert (sent(first), sent(second)) == ([b"x"], [])


def test_router_handover_gives_the_id_to_the_newcomer_and_drops_the_old_peer():
    old, new = make_peer(identity=b"same"), make_peer(identity=b"same")
    router = attached(Router, old, options=[(zmq.ROUTER_HANDOVER, 1)])
    assert router.attach(new) is True
    assert old.disconnect.count == 1
    assert new.routing_id == b"same"
    assert old.routing_id != b"same" and old.routing_id[0] == 0
    router.send([b"same", b"x"])
    assert (sent(old), sent(new)) == ([], [b"x"])
    router.detach(old)  # the old connection's end must not unroute the newcomer
    router.send([b"same", b"y"])
    assert sent(new) == [b"y"]


def test_router_detach_unroutes_the_peer():
    alice = make_peer(identity=b"alice")
    router = attached(Router, alice, options=[(zmq.ROUTER_MANDATORY, 1)])
    router.detach(alice)
    check_errno(router.check_send, zmq.EHOSTUNREACH, b"alice")


def test_router_probe_router_sends_an_empty_message_when_a_peer_is_named():
    known, anonymous = make_peer(identity=b"known"), make_peer(ready=False)
    router = attached(Router, options=[(zmq.PROBE_ROUTER, 1)])
    router.attach(known)
    router.attach(anonymous)
    assert sent(known) == [b""]
    assert sent(anonymous) == []
    anonymous.metadata = Metadata()
    router.peer_ready(anonymous)
    assert sent(anonymous) == [b""]


def test_router_option_changes_can_be_undone():
    router = attached(Router, options=[(zmq.ROUTER_MANDATORY, 1), (zmq.ROUTER_MANDATORY, 0)])
    router.check_send(b"nobody")
    assert router.send([b"nobody", b"x"]) is True


# -- STREAM -----------------------------------------------------------------------


def test_stream_is_raw_and_gives_every_peer_a_generated_id():
    peer = make_peer(identity=b"ignored")
    attached(Stream, peer)
    assert Stream.raw is True
    assert len(peer.routing_id) == 5 and peer.routing_id[0] == 0


def test_stream_keeps_a_connect_routing_id_unless_taken():
    first, second = make_peer(routing_id=b"mine"), make_peer(routing_id=b"mine")
    attached(Stream, first, second)
    assert first.routing_id == b"mine"
    assert second.routing_id != b"mine" and second.routing_id[0] == 0


def test_stream_recv_and_send_address_peers_by_id():
    peer = make_peer()
    stream = attached(Stream, peer)
    peer.inbound.write(b"raw bytes")
    assert stream.recv() == [peer.routing_id, b"raw bytes"]
    assert stream.send([peer.routing_id, b"answer"]) is True
    assert stream.send([peer.routing_id, b""]) is True  # an empty frame asks to close
    assert sent(peer) == [b"answer", b""]


def test_stream_refuses_unknown_ids_and_bare_frames():
    stream = attached(Stream, make_peer())
    check_errno(stream.send, zmq.EHOSTUNREACH, [b"nobody", b"x"])
    check_errno(stream.send, zmq.EHOSTUNREACH, b"just data")
    check_errno(stream.send, zmq.EHOSTUNREACH, [b"only id"])
    assert stream.send([b"nobody", b"x"], over_hwm=True) is True


def test_stream_refuses_an_unknown_id_at_the_first_frame():
    stream = attached(Stream, make_peer())
    check_errno(stream.check_send, zmq.EHOSTUNREACH, b"nobody")


def test_stream_waits_for_room():
    peer = make_peer(hwm=1)
    stream = attached(Stream, peer)
    fill(peer.outbound)
    assert stream.room_for(peer.routing_id) is False
    assert stream.room_for(b"nobody") is True
    assert stream.send([peer.routing_id, b"x"]) is False
    assert stream.send([peer.routing_id, b"x"], over_hwm=True) is True
    assert sent(peer) == [b"filler", b"x"]


# -- PUB ----------------------------------------------------------------------------


def subscribed(peer, *topics):
    """``peer`` with SUBSCRIBE commands for ``topics`` waiting in its inbound pipe."""
    for topic in topics:
        peer.inbound.write(Subscription(True, topic))
    return peer


def test_pub_filters_by_topic_prefix():
    a, b, everything = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"B"), subscribed(make_peer(), b"")
    pub = attached(Pub, a, b, everything)
    for msg in (b"AB", b"B1", b"C", [b"A", b"second frame"]):
        assert pub.send(msg) is True
    assert sent(a) == [b"AB", [b"A", b"second frame"]]
    assert sent(b) == [b"B1"]
    assert sent(everything) == [b"AB", b"B1", b"C", [b"A", b"second frame"]]


def test_pub_sends_a_message_once_to_a_peer_with_several_matching_topics():
    peer = subscribed(make_peer(), b"", b"A", b"AB")
    pub = attached(Pub, peer)
    pub.send(b"ABC")
    assert sent(peer) == [b"ABC"]


def test_pub_without_subscriptions_sends_nothing():
    peer = make_peer()
    pub = attached(Pub, peer)
    assert pub.send(b"anything") is True
    assert sent(peer) == []


def test_pub_takes_subscriptions_as_they_arrive():
    peer = make_peer()
    pub = attached(Pub, peer)
    peer.inbound.write(b"\x01news")  # the ZMTP 3.0 form
    pub.inbound_activated(peer)
    pub.send(b"news today")
    peer.inbound.write(Subscription(False, b"news"))
    pub.inbound_activated(peer)
    pub.send(b"news tomorrow")
    assert sent(peer) == [b"news today"]
    assert len(peer.inbound) == 0


@pytest.mark.parametrize("invert", [False, True])
def test_pub_matches_alike_with_one_topic_and_with_several(invert):
    # One topic is matched with bytes.startswith, several through the topic index: the
    # peers reached must be the same as subscriptions come and go between the two.
    first, second = make_peer(), make_peer()
    pub = attached(Pub, first, second)
    pub.option_changed(zmq.INVERT_MATCHING, int(invert))

    def change(peer, subscribe, topic):
        peer.inbound.write(Subscription(subscribe, topic))
        pub.inbound_activated(peer)

    def reached(msg):
        pub.send(msg)
        return [sent(first) == [msg], sent(second) == [msg]]

    def expect(*wanted):  # what each peer would get without INVERT_MATCHING
        return [want is not invert for want in wanted]

    change(first, True, b"A")
    assert reached(b"A1") == expect(True, False)
    change(second, True, b"B")
    assert reached(b"B1") == expect(False, True)
    assert reached(b"A2") == expect(True, False)
    change(first, False, b"A")
    assert reached(b"A3") == expect(False, False)
    assert reached(b"B2") == expect(False, True)
    change(second, False, b"B")
    change(first, True, b"")
    assert reached(b"C") == expect(True, False)


def test_pub_unsubscribe_in_message_form():
    peer = subscribed(make_peer(), b"x")
    pub = attached(Pub, peer)
    peer.inbound.write(b"\x00x")
    pub.inbound_activated(peer)
    pub.send(b"x1")
    assert sent(peer) == []


def test_pub_ignores_data_from_subscribers():
    peer = make_peer()
    peer.inbound.write(b"\x02not a subscription")
    peer.inbound.write([b"two", b"frames"])
    peer.inbound.write(b"")
    pub = attached(Pub, peer)
    pub.send(b"two")
    assert sent(peer) == []
    assert len(peer.inbound) == 0
    check_errno(pub.recv, zmq.ENOTSUP)
    assert pub.can_recv() is False


def test_pub_full_subscriber_misses_the_message():
    full, fine = subscribed(make_peer(hwm=1), b""), subscribed(make_peer(hwm=1), b"")
    pub = attached(Pub, full, fine)
    fill(full.outbound)
    assert pub.room_for(b"m") is True
    assert pub.can_send() is True
    assert pub.send(b"m") is True
    assert (sent(full), sent(fine)) == ([b"filler"], [b"m"])


def test_pub_detached_peer_is_unsubscribed():
    peer = subscribed(make_peer(), b"")
    pub = attached(Pub, peer)
    pub.detach(peer)
    pub.send(b"m")
    assert sent(peer) == []


def test_pub_invert_matching_sends_to_peers_that_do_not_match():
    a, b, none = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"B"), make_peer()
    pub = attached(Pub, a, b, none, options=[(zmq.INVERT_MATCHING, 1)])
    pub.send(b"A1")
    pub.send(b"C1")
    assert sent(a) == [b"C1"]
    assert sent(b) == [b"A1", b"C1"]
    assert sent(none) == [b"A1", b"C1"]


def test_pub_rejects_subscription_options():
    check_errno(Pub(Calls()).subscription_option, zmq.EINVAL, True, b"x")


def test_xpub_nodrop_waits_for_every_matching_peer():
    full, fine = subscribed(make_peer(hwm=1), b"A"), subscribed(make_peer(hwm=1), b"A")
    elsewhere = subscribed(make_peer(hwm=1), b"B")
    pub = attached(XPub, full, fine, elsewhere, options=[(zmq.XPUB_NODROP, 1)])
    fill(full.outbound)
    fill(elsewhere.outbound)
    assert pub.room_for(b"A1") is False
    assert pub.send(b"A1") is False
    assert sent(fine) == []  # nobody gets it if one cannot
    assert pub.room_for(b"C") is True  # a full peer that does not match does not hold a message back
    assert pub.can_send() is False


def test_xpub_nodrop_over_hwm_reaches_full_peers():
    full, fine = subscribed(make_peer(hwm=1), b"A"), subscribed(make_peer(hwm=1), b"A")
    pub = attached(XPub, full, fine, options=[(zmq.XPUB_NODROP, 1)])
    fill(full.outbound)
    assert pub.send(b"A1", over_hwm=True) is True
    assert (sent(full), sent(fine)) == ([b"filler", b"A1"], [b"A1"])


# -- XPUB notifications -----------------------------------------------------------------


def notices(xpub):
    found = []
    while xpub.can_recv():
        found.append(xpub.recv())
    assert xpub.recv() is None
    return found


def test_xpub_announces_the_first_subscription_to_a_topic_and_wakes_readers():
    a, b = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"A")
    xpub = attached(XPub, a, b)
    assert xpub.wake_readers.count == 1
    assert notices(xpub) == [b"\x01A"]


def test_xpub_wakes_readers_only_when_notices_start_queueing():
    peer = subscribed(make_peer(), b"A", b"B", b"C")
    xpub = attached(XPub, peer)
    assert xpub.wake_readers.count == 1
    assert notices(xpub) == [b"\x01A", b"\x01B", b"\x01C"]
    subscribed(peer, b"D")
    xpub.inbound_activated(peer)
    assert xpub.wake_readers.count == 2


def test_xpub_announces_the_last_unsubscription_only():
    a, b = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"A")
    xpub = attached(XPub, a, b)
    notices(xpub)
    a.inbound.write(Subscription(False, b"A"))
    xpub.inbound_activated(a)
    assert notices(xpub) == []
    b.inbound.write(Subscription(False, b"A"))
    xpub.inbound_activated(b)
    assert notices(xpub) == [b"\x00A"]


def test_xpub_ignores_an_unsubscription_it_never_had():
    peer = make_peer()
    xpub = attached(XPub, peer)
    peer.inbound.write(Subscription(False, b"never"))
    xpub.inbound_activated(peer)
    assert notices(xpub) == []


def test_xpub_verbose_announces_every_subscription():
    a, b = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"A")
    xpub = attached(XPub, a, b, options=[(zmq.XPUB_VERBOSE, 1)])
    assert notices(xpub) == [b"\x01A", b"\x01A"]
    a.inbound.write(Subscription(False, b"A"))
    xpub.inbound_activated(a)
    assert notices(xpub) == []  # unsubscriptions still only the last


def test_xpub_verboser_announces_every_unsubscription():
    a, b = subscribed(make_peer(), b"A"), subscribed(make_peer(), b"A")
    xpub = attached(XPub, a, b, options=[(zmq.XPUB_VERBOSER, 1)])
    assert notices(xpub) == [b"\x01A", b"\x01A"]
    for peer in (a, b):
        peer.inbound.write(Subscription(False, b"A"))
        xpub.inbound_activated(peer)
    assert notices(xpub) == [b"\x00A", b"\x00A"]


def test_xpub_announces_the_topics_a_departing_peer_was_last_to_hold():
    a, b = subscribed(make_peer(), b"A", b"shared"), subscribed(make_peer(), b"shared")
    xpub = attached(XPub, a, b)
    notices(xpub)
    xpub.detach(a)
    assert notices(xpub) == [b"\x00A"]


def test_xpub_hands_data_from_subscribers_to_the_application():
    peer = make_peer()
    peer.inbound.write([b"data", b"two frames"])
    peer.inbound.write(b"\x05upstream")
    xpub = attached(XPub, peer)
    assert notices(xpub) == [[b"data", b"two frames"], b"\x05upstream"]
    xpub.send(b"data")
    assert sent(peer) == []  # no subscription was made


def test_xpub_reads_a_multipart_message_part_by_part():
    # What libzmq 4.3 hands out for these (checked against pyzmq): a subscription's notice
    # ends the message the application receives, and every 0x00/0x01 part counts.
    peer = make_peer()
    peer.inbound.write([b"\x01A", b"two frames"])
    peer.inbound.write([b"\x01X", b"data", b"\x01Y"])
    xpub = attached(XPub, peer)
    assert notices(xpub) == [b"\x01A", b"two frames", b"\x01X", [b"data", b"\x01Y"]]
    for topic in (b"A", b"X", b"Y"):
        xpub.send(topic)
    assert sent(peer) == [b"A", b"X", b"Y"]


def test_xpub_manual_announces_without_subscribing():
    peer = subscribed(make_peer(), b"A")
    xpub = attached(XPub, options=[(zmq.XPUB_MANUAL, 1)])
    xpub.attach(peer)
    assert notices(xpub) == [b"\x01A"]
    xpub.send(b"A1")
    assert sent(peer) == []
    xpub.subscription_option(True, b"A")  # for the peer that last asked
    xpub.send(b"A2")
    assert sent(peer) == [b"A2"]
    peer.inbound.write(Subscription(False, b"A"))
    xpub.inbound_activated(peer)
    assert notices(xpub) == [b"\x00A"]
    xpub.send(b"A3")
    assert sent(peer) == [b"A3"]  # still subscribed until the application says
    xpub.subscription_option(False, b"A")
    xpub.send(b"A4")
    assert sent(peer) == []


def test_xpub_manual_subscription_option_targets_the_latest_asker():
    a, b = make_peer(name="a"), make_peer(name="b")
    xpub = attached(XPub, a, b, options=[(zmq.XPUB_MANUAL, 1)])
    subscribed(b, b"x")
    xpub.inbound_activated(b)
    assert notices(xpub) == [b"\x01x"]
    xpub.subscription_option(True, b"")
    xpub.send(b"m")
    assert (sent(a), sent(b)) == ([], [b"m"])


def test_xpub_manual_subscription_option_follows_the_notice_received():
    # As libzmq: the peer is the one whose notice the application received last, not the
    # one whose subscription arrived last.
    a, b = make_peer(name="a"), make_peer(name="b")
    xpub = attached(XPub, a, b, options=[(zmq.XPUB_MANUAL, 1)])
    subscribed(a, b"a")
    xpub.inbound_activated(a)
    subscribed(b, b"b")
    xpub.inbound_activated(b)
    assert xpub.recv() == b"\x01a"
    xpub.subscription_option(True, b"a")
    assert xpub.recv() == b"\x01b"
    xpub.subscription_option(True, b"b")
    xpub.send(b"a1")
    xpub.send(b"b1")
    assert (sent(a), sent(b)) == ([b"a1"], [b"b1"])


def test_xpub_manual_last_value_sends_once_to_the_new_subscriber():
    old, new = make_peer(name="old"), make_peer(name="new")
    xpub = attached(XPub, old, new, options=[(zmq.XPUB_MANUAL_LAST_VALUE, 1)])
    subscribed(old, b"t")
    xpub.inbound_activated(old)
    assert xpub.recv() == b"\x01t"
    xpub.subscription_option(True, b"t")
    xpub.send(b"t1")  # the last value, for the old subscriber only
    xpub.send(b"t2")
    subscribed(new, b"t")
    xpub.inbound_activated(new)
    assert xpub.recv() == b"\x01t"
    xpub.subscription_option(True, b"t")
    xpub.send(b"t2")  # the cached value again: only the new subscriber gets it
    xpub.send(b"t3")
    assert (sent(old), sent(new)) == ([b"t1", b"t2", b"t3"], [b"t2", b"t3"])


def test_xpub_manual_last_value_skips_a_subscriber_that_does_not_match():
    peer, other = make_peer(name="peer"), subscribed(make_peer(name="other"), b"")
    xpub = attached(XPub, other, options=[(zmq.XPUB_MANUAL_LAST_VALUE, 1)])
    xpub.inbound_activated(other)
    xpub.recv()
    xpub.subscription_option(True, b"")
    xpub.attach(subscribed(peer, b"t"))
    assert xpub.recv() == b"\x01t"
    xpub.subscription_option(True, b"t")
    xpub.send(b"u")  # not the new subscriber's topic: nobody gets it, as in libzmq
    xpub.send(b"u")
    assert (sent(peer), sent(other)) == ([], [b"u"])


def test_xpub_manual_subscription_option_without_an_asker_does_nothing():
    peer = make_peer()
    xpub = attached(XPub, peer, options=[(zmq.XPUB_MANUAL, 1)])
    xpub.subscription_option(True, b"")
    xpub.send(b"m")
    assert sent(peer) == []


def test_xpub_manual_forgets_a_departed_asker():
    a = subscribed(make_peer(), b"x")
    xpub = attached(XPub, a, options=[(zmq.XPUB_MANUAL, 1)])
    xpub.detach(a)
    b = make_peer()
    xpub.attach(b)
    xpub.subscription_option(True, b"")
    xpub.send(b"m")
    assert (sent(a), sent(b)) == ([], [])


def test_xpub_subscription_option_needs_manual():
    check_errno(XPub(Calls()).subscription_option, zmq.EINVAL, True, b"x")


def test_xpub_welcome_message_goes_to_each_new_peer():
    xpub = attached(XPub, options=[(zmq.XPUB_WELCOME_MSG, b"welcome")])
    a, b = make_peer(hwm=1), make_peer(hwm=1)
    fill(b.outbound)
    xpub.attach(a)
    xpub.attach(b)
    assert sent(a) == [b"welcome"]
    assert sent(b) == [b"filler", b"welcome"]  # past the mark


def test_xpub_empty_welcome_message_means_none():
    xpub = attached(XPub, options=[(zmq.XPUB_WELCOME_MSG, b"hi"), (zmq.XPUB_WELCOME_MSG, b"")])
    peer = make_peer()
    xpub.attach(peer)
    assert sent(peer) == []


# -- XSUB ---------------------------------------------------------------------------


def test_xsub_forwards_every_subscribe_to_ready_peers():
    a, b = make_peer(), make_peer()
    xsub = attached(XSub, a, b)
    assert xsub.send(b"\x01A") is True
    assert xsub.send(b"\x01A") is True
    assert sent(a) == sent(b) == [Subscription(True, b"A"), Subscription(True, b"A")]


def test_xsub_cancels_only_when_the_last_subscription_goes():
    peer = make_peer()
    xsub = attached(XSub, peer)
    xsub.send(b"\x01A")
    xsub.send(b"\x01A")
    sent(peer)
    xsub.send(b"\x00A")
    assert sent(peer) == []
    xsub.send(b"\x00A")
    assert sent(peer) == [Subscription(False, b"A")]
    xsub.send(b"\x00A")
    assert sent(peer) == []


def test_xsub_cancel_of_an_unknown_topic_is_not_sent():
    peer = make_peer()
    xsub = attached(XSub, peer)
    xsub.send(b"\x00never")
    assert sent(peer) == []


def test_xsub_subscriptions_go_past_the_high_water_mark():
    peer = make_peer(hwm=1)
    xsub = attached(XSub, peer)
    fill(peer.outbound)
    xsub.send(b"\x01A")
    assert sent(peer) == [b"filler", Subscription(True, b"A")]


def test_xsub_tells_a_peer_its_subscriptions_once_it_is_ready():
    early, late = make_peer(), make_peer(ready=False)
    xsub = attached(XSub, early, late)
    for msg in (b"\x01A", b"\x01A", b"\x01B", b"\x01C", b"\x00C"):
        xsub.send(msg)
    assert sent(late) == []
    late.metadata = Metadata()
    assert xsub.peer_ready(late) is True
    assert sent(late) == [Subscription(True, b"A"), Subscription(True, b"B")]  # each topic once
    xsub.send(b"\x01D")
    assert sent(late) == [Subscription(True, b"D")]


def test_xsub_sends_other_messages_upstream_to_peers_with_room():
    full, fine, unready = make_peer(hwm=1), make_peer(hwm=1), make_peer(ready=False)
    xsub = attached(XSub, full, fine, unready)
    fill(full.outbound)
    assert xsub.can_send() is True
    for msg in (b"\x02data", [b"\x01A", b"two frames"], b""):
        assert xsub.send(msg) is True
    assert sent(fine) == [b"\x02data"]  # then full
    assert sent(full) == [b"filler"]
    assert sent(unready) == []


def test_xsub_receives_everything_fairly():
    a, b = make_peer(), make_peer()
    xsub = attached(XSub, a, b)
    xsub.send(b"\x01A")
    a.inbound.write(b"A1")
    a.inbound.write(b"Z1")
    b.inbound.write(b"B1")
    assert xsub.can_recv() is True
    assert [xsub.recv(), xsub.recv(), xsub.recv(), xsub.recv()] == [b"A1", b"B1", b"Z1", None]
    assert xsub.source() is a.inbound


def test_xsub_detached_peer_hears_no_more_subscriptions():
    a, b = make_peer(), make_peer()
    xsub = attached(XSub, a, b)
    xsub.detach(a)
    xsub.send(b"\x01A")
    assert (sent(a), sent(b)) == ([], [Subscription(True, b"A")])


# -- SUB ----------------------------------------------------------------------------


def test_sub_subscribe_option_is_sent_upstream_each_time():
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.subscription_option(True, b"A")
    sub.subscription_option(True, b"A")
    assert sent(peer) == [Subscription(True, b"A"), Subscription(True, b"A")]
    sub.subscription_option(False, b"A")
    assert sent(peer) == []
    sub.subscription_option(False, b"A")
    assert sent(peer) == [Subscription(False, b"A")]


def test_sub_unsubscribe_of_an_unknown_topic_is_not_sent():
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.subscription_option(False, b"never")
    assert sent(peer) == []


def test_sub_filters_what_it_receives():
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.subscription_option(True, b"A")
    for msg in (b"B1", b"A1", [b"B", b"2"], [b"A", b"2"], b"C"):
        peer.inbound.write(msg)
    assert [sub.recv(), sub.recv(), sub.recv()] == [b"A1", [b"A", b"2"], None]
    assert len(peer.inbound) == 0  # non-matching messages were dropped


@pytest.mark.parametrize("invert", [False, True])
def test_sub_filters_alike_with_few_and_with_many_subscriptions(invert):
    # Few topics are tested with one bytes.startswith, many through the topic index: the
    # same messages must pass either way, as subscriptions come and go across the limit.
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.option_changed(zmq.INVERT_MATCHING, int(invert))
    many = [b"T%02d" % i for i in range(40)]
    probes = [b"T05x", b"T39", b"T4", b"U05", b"", b"T01z", [b"T07", b"more"], [b"X", b"T07"]]

    def received(topics):
        for probe in probes:
            peer.inbound.write(probe)
        got = []
        while (msg := sub.recv()) is not None:
            got.append(msg)
        expected = [p for p in probes
                    if any((p if isinstance(p, bytes) else p[0]).startswith(t) for t in topics) is not invert]
        assert got == expected
        return got

    sub.subscription_option(True, b"T01")
    sub.subscription_option(True, b"T05")
    received([b"T01", b"T05"])
    sub.subscription_option(False, b"T01")
    assert received([b"T05"]) == ([b"T05x"] if not invert else [b"T39", b"T4", b"U05", b"", b"T01z",
                                                                [b"T07", b"more"], [b"X", b"T07"]])
    for topic in many:
        sub.subscription_option(True, topic)
    received(many)
    for topic in many[2:]:
        sub.subscription_option(False, topic)
    received([b"T00", b"T01", b"T05"])
    sub.subscription_option(False, b"T01")
    assert b"T01z" not in received([b"T00", b"T05"]) or invert


def test_sub_without_subscriptions_receives_nothing():
    peer = make_peer()
    sub = attached(Sub, peer)
    peer.inbound.write(b"anything")
    assert sub.can_recv() is False
    assert sub.recv() is None


def test_sub_can_recv_only_counts_matching_messages():
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.subscription_option(True, b"A")
    peer.inbound.write(b"B1")
    assert sub.can_recv() is False
    peer.inbound.write(b"A1")
    assert sub.can_recv() is True
    assert len(peer.inbound) == 2  # asking takes nothing


def test_sub_stops_receiving_after_the_last_unsubscribe():
    peer = make_peer()
    sub = attached(Sub, peer)
    sub.subscription_option(True, b"A")
    sub.subscription_option(True, b"A")
    sub.subscription_option(False, b"A")
    peer.inbound.write(b"A1")
    assert sub.recv() == b"A1"
    sub.subscription_option(False, b"A")
    peer.inbound.write(b"A2")
    assert sub.recv() is None


def test_sub_invert_matching_receives_what_does_not_match():
    peer = make_peer()
    sub = attached(Sub, peer, options=[(zmq.INVERT_MATCHING, 1)])
    sub.subscription_option(True, b"A")
    for msg in (b"A1", b"B1"):
        peer.inbound.write(msg)
    assert sub.can_recv() is True
    assert [sub.recv(), sub.recv()] == [b"B1", None]


def test_sub_cannot_send():
    peer = make_peer()
    sub = attached(Sub, peer)
    check_errno(sub.check_send, zmq.ENOTSUP, b"\x01A")
    check_errno(sub.send, zmq.ENOTSUP, b"\x01A")
    assert sub.can_send() is False
    assert sent(peer) == []


def test_sub_repeats_its_subscriptions_to_a_peer_that_becomes_ready():
    peer = make_peer(ready=False)
    sub = attached(Sub, peer)
    sub.subscription_option(True, b"A")
    sub.subscription_option(True, b"")
    assert sent(peer) == []
    peer.metadata = Metadata()
    sub.peer_ready(peer)
    assert sent(peer) == [Subscription(True, b"A"), Subscription(True, b"")]


def test_xsub_ready_again_after_a_reconnection_sends_each_message_once():
    peer = make_peer(ready=False)  # a connect-side peer: attached before its handshake
    xsub = attached(XSub, peer)
    peer.metadata = Metadata()
    xsub.peer_ready(peer)  # the first connection
    xsub.peer_ready(peer)  # the same peer, connected again
    xsub.send(b"\x01A")
    xsub.send(b"data")
    assert sent(peer) == [Subscription(True, b"A"), b"data"]


def test_sub_ready_again_after_a_reconnection_subscribes_once_more():
    peer = make_peer(ready=False)
    sub = attached(Sub, peer)
    peer.metadata = Metadata()
    sub.peer_ready(peer)
    sub.subscription_option(True, b"A")
    assert sent(peer) == [Subscription(True, b"A")]  # the writer took it
    sub.peer_ready(peer)  # reconnected: its subscriptions are told again, once
    sub.subscription_option(True, b"B")
    assert sent(peer) == [Subscription(True, b"A"), Subscription(True, b"B")]


def test_xsub_ready_again_skips_the_subscriptions_still_queued():
    # Subscribed while the publisher was away: the queued subscription goes out on the new
    # connection, and is not repeated (DISH does the same with its groups).
    peer = make_peer(ready=False)
    sub = attached(XSub, peer)
    peer.metadata = Metadata()
    sub.peer_ready(peer)
    sub.send(b"\x01A")
    sub.send(b"\x01B")
    sub.send(b"\x00B")
    sub.peer_ready(peer)
    assert sent(peer) == [Subscription(True, b"A"), Subscription(True, b"B"), Subscription(False, b"B")]

"""Request-reply (RFC 28): REQ, REP, DEALER and ROUTER between greenmq sockets, over tcp, ipc and inproc.

Every expectation here was first checked against libzmq 4.3.5 through pyzmq
(same calls, ``import zmq``); the libzmq-facing side is in
tests/interop/test_interop_reqrep.py. Where a test must show that something
does *not* arrive, it synchronises on something that must arrive first: a
later message on the same connection, a monitor event, or ``poll`` (which
reports POLLIN for a queued message even when ``recv`` then discards it, in
libzmq as in greenmq).
"""

import socket as _socket

import gevent
import pytest

import greenmq as zmq

from support import (
    SHORT_TIMEOUT,
    TRANSPORTS,
    drain,
    is_generated_id,
    new_socket,
    raises_errno,
    wait_event,
    wait_handshakes,
)

class Net:
    """Endpoints of one transport for one test."""

    def __init__(self, transport, tmp_path):
        self.transport = transport
        self.tmp_path = tmp_path

    def bind(self, sock, name):
        """Bind ``sock`` to a new endpoint called ``name``; return the address to connect to."""
        sock.bind(self.unbound(name) if self.transport != "tcp" else "tcp://127.0.0.1:*")
        return sock.last_endpoint.decode()

    def unbound(self, name):
        """An address nothing listens on yet, that a socket can bind later (connect first)."""
        if self.transport == "ipc":
            return f"ipc://{self.tmp_path}/{name}.sock"
        if self.transport == "inproc":
            return f"inproc://{name}"
        with _socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return "tcp://127.0.0.1:%d" % probe.getsockname()[1]

    def wait_handshakes(self, sock, count=1):
        """:func:`support.wait_handshakes` for this transport, each monitor read bounded by 5 s."""
        return wait_handshakes(sock, count, self.transport, timeout=SHORT_TIMEOUT)


@pytest.fixture(params=TRANSPORTS)
def net(request, tmp_path):
    return Net(request.param, tmp_path)


def make(ctx, socket_type, **options):
    """A socket with LINGER 0 and 5 s send/receive timeouts (so no call waits forever), plus ``options``."""
    return new_socket(ctx, socket_type, **{"rcvtimeo": 5000, "sndtimeo": 5000, **options})


def nothing_queued(sock):
    with pytest.raises(zmq.Again):
        sock.recv_multipart(zmq.NOBLOCK)


def forwarder(frontend, backend):
    """A ROUTER/DEALER broker: two greenlets, each moving whole messages one way."""
    def pump(source, sink):
        while True:
            sink.send_multipart(source.recv_multipart())
    return [gevent.spawn(pump, frontend, backend), gevent.spawn(pump, backend, frontend)]


def broker(ctx, net, name, backend_identity=None, backend_connect=None):
    """A ROUTER frontend (bound) and a DEALER backend joined by a forwarder. The backend binds, or
    connects to ``backend_connect`` (another broker's frontend). Returns (frontend address,
    backend address or None, greenlets)."""
    front = make(ctx, zmq.ROUTER, rcvtimeo=-1, sndtimeo=-1)
    back = make(ctx, zmq.DEALER, rcvtimeo=-1, sndtimeo=-1)
    if backend_identity:
        back.routing_id = backend_identity
    front_address = net.bind(front, name + "-front")
    if backend_connect:
        back.connect(backend_connect)
        back_address = None
    else:
        back_address = net.bind(back, name + "-back")
    return front_address, back_address, forwarder(front, back)


# -- REQ ---------------------------------------------------------------------------------------


def test_req_recv_before_send_is_efsm(ctx):
    req = make(ctx, zmq.REQ)
    raises_errno(zmq.EFSM, req.recv, zmq.NOBLOCK)
    raises_errno(zmq.EFSM, req.recv)  # not a wait for a reply that can never come


def test_req_strict_alternation(ctx, net):
    rep = make(ctx, zmq.REP)
    req = make(ctx, zmq.REQ)
    with gevent.Timeout(10):
        req.connect(net.bind(rep, "rep"))
        req.send(b"first")
        raises_errno(zmq.EFSM, req.send, b"second", zmq.NOBLOCK)
        raises_errno(zmq.EFSM, req.send, b"second", zmq.SNDMORE)  # refused at the first frame
        raises_errno(zmq.EFSM, req.send_multipart, [b"a", b"b"])
        assert rep.recv_multipart() == [b"first"]  # nothing of the refused sends went out
        rep.send(b"reply")
        assert req.recv() == b"reply"
        raises_errno(zmq.EFSM, req.recv, zmq.NOBLOCK)
        req.send(b"again")  # the cycle starts over
        assert rep.recv() == b"again"


def test_req_events_follow_the_alternation(ctx):
    """As libzmq (pyzmq 27.3 shows the same): no POLLIN for a message no request asked for,
    and no POLLOUT while a reply is awaited (a second send would be EFSM)."""
    router = make(ctx, zmq.ROUTER)
    router.bind("inproc://req-events")
    req = make(ctx, zmq.REQ, routing_id=b"client")
    req.connect("inproc://req-events")  # inproc: joined, and the routing id known, at once
    router.send_multipart([b"client", b"", b"unasked"])
    assert req.getsockopt(zmq.EVENTS) == zmq.POLLOUT
    other = make(ctx, zmq.REQ)
    other.connect("inproc://req-events")
    other.send(b"question")
    assert other.getsockopt(zmq.EVENTS) == 0
    with gevent.Timeout(10):
        routing_id, _, question = router.recv_multipart()
        router.send_multipart([routing_id, b"", b"answer"])
        assert other.poll(1000) == zmq.POLLIN
        assert other.recv() == b"answer"
    assert other.getsockopt(zmq.EVENTS) == zmq.POLLOUT


def test_req_send_that_could_not_go_leaves_the_state_alone(ctx):
    """libzmq: a REQ send that fails with EAGAIN (no peer) is not a request: recv is still EFSM."""
    req = make(ctx, zmq.REQ)
    with pytest.raises(zmq.Again):
        req.send(b"nobody", zmq.NOBLOCK)
    with pytest.raises(zmq.Again):
        req.send(b"nobody", zmq.NOBLOCK)  # not EFSM
    raises_errno(zmq.EFSM, req.recv, zmq.NOBLOCK)


def test_req_adds_the_empty_delimiter(ctx, net):
    router = make(ctx, zmq.ROUTER)
    req = make(ctx, zmq.REQ, routing_id=b"client")
    with gevent.Timeout(10):
        req.connect(net.bind(router, "router"))
        req.send_multipart([b"part1", b"part2"])
        assert router.recv_multipart() == [b"client", b"", b"part1", b"part2"]
        router.send_multipart([b"client", b"", b"answer1", b"answer2"])
        assert req.recv_multipart() == [b"answer1", b"answer2"]


def test_req_round_robin_over_rep_peers(ctx, net):
    reps = [make(ctx, zmq.REP, rcvtimeo=2000) for _ in range(3)]
    req = make(ctx, zmq.REQ)
    with gevent.Timeout(10):
        for i, rep in enumerate(reps):
            req.connect(net.bind(rep, f"rep{i}"))
        for n in range(7):
            req.send(b"request %d" % n)
            rep = reps[n % 3]  # in the order of the connects
            assert rep.recv() == b"request %d" % n
            rep.send(b"reply to %d" % n)
            assert req.recv() == b"reply to %d" % n
        for rep in reps:
            nothing_queued(rep)


def test_req_takes_reply_only_from_the_peer_it_asked(ctx, net):
    asked = make(ctx, zmq.ROUTER)
    other = make(ctx, zmq.ROUTER)
    req = make(ctx, zmq.REQ, routing_id=b"client")
    handshakes = net.wait_handshakes(other)
    with gevent.Timeout(10):
        req.connect(net.bind(asked, "asked"))
        req.connect(net.bind(other, "other"))
        req.send(b"question")  # the first connected peer gets the first request
        assert asked.recv_multipart() == [b"client", b"", b"question"]
        handshakes()  # other knows "client" now
        other.send_multipart([b"client", b"", b"not asked"])
        assert req.poll(5000) == zmq.POLLIN  # the intruder's reply has arrived ...
        nothing_queued(req)  # ... and is dropped
        asked.send_multipart([b"client", b"", b"answer"])
        assert req.recv() == b"answer"


def test_req_relaxed_allows_a_new_request_and_drops_the_late_reply(ctx, net):
    reps = [make(ctx, zmq.REP) for _ in range(2)]
    req = make(ctx, zmq.REQ, req_relaxed=1)
    with gevent.Timeout(10):
        for i, rep in enumerate(reps):
            req.connect(net.bind(rep, f"rep{i}"))
        req.send(b"A")
        assert reps[0].recv() == b"A"
        req.send(b"B")  # no EFSM: the request to reps[0] is abandoned
        assert reps[1].recv() == b"B"
        reps[0].send(b"late reply to A")
        assert req.poll(5000) == zmq.POLLIN
        nothing_queued(req)  # from the peer of the abandoned request: dropped
        reps[1].send(b"reply to B")
        assert req.recv() == b"reply to B"
        raises_errno(zmq.EFSM, req.recv, zmq.NOBLOCK)
        req.send(b"C")  # round robin goes on
        assert reps[0].recv() == b"C"
        reps[0].send(b"reply to C")
        assert req.recv() == b"reply to C"


def test_req_relaxed_without_correlate_takes_a_late_reply_from_the_same_peer(ctx, net):
    """The pitfall zmq_setsockopt(3) describes: with one REP, the late reply passes for the new one."""
    rep = make(ctx, zmq.REP)
    req = make(ctx, zmq.REQ, req_relaxed=1)
    with gevent.Timeout(10):
        req.connect(net.bind(rep, "rep"))
        req.send(b"A")
        req.send(b"B")
        assert rep.recv() == b"A"
        rep.send(b"late reply to A")
        assert rep.recv() == b"B"
        rep.send(b"reply to B")
        assert req.recv() == b"late reply to A"


def test_req_relaxed_with_correlate_drops_the_late_reply(ctx, net):
    rep = make(ctx, zmq.REP)
    req = make(ctx, zmq.REQ, req_relaxed=1, req_correlate=1)
    with gevent.Timeout(10):
        req.connect(net.bind(rep, "rep"))
        req.send(b"A")
        req.send(b"B")
        assert rep.recv() == b"A"
        rep.send(b"late reply to A")
        assert rep.recv() == b"B"
        rep.send(b"reply to B")
        assert req.recv() == b"reply to B"  # the late reply came first, on the same connection
        raises_errno(zmq.EFSM, req.recv, zmq.NOBLOCK)


def test_req_correlate_request_ids(ctx, net):
    router = make(ctx, zmq.ROUTER)
    req = make(ctx, zmq.REQ, req_correlate=1, routing_id=b"client")
    with gevent.Timeout(10):
        req.connect(net.bind(router, "router"))
        req.send(b"one")
        client, first_id, delimiter, body = router.recv_multipart()
        assert (client, delimiter, body) == (b"client", b"", b"one")
        assert len(first_id) == 4
        wrong_id = bytes(b ^ 0xFF for b in first_id)
        router.send_multipart([client, wrong_id, b"", b"wrong id"])
        router.send_multipart([client, b"", b"no id"])
        router.send_multipart([client, first_id, b"", b"right"])
        assert req.recv() == b"right"  # the two before it, on the same connection, were dropped

        req.send(b"two")
        client, second_id, _, body = router.recv_multipart()
        assert body == b"two" and len(second_id) == 4 and second_id != first_id
        router.send_multipart([client, first_id, b"", b"reply to the old request"])
        router.send_multipart([client, second_id, b"", b"reply to two"])
        assert req.recv() == b"reply to two"


# -- REP ---------------------------------------------------------------------------------------


def test_rep_misuse_is_efsm(ctx, net):
    rep = make(ctx, zmq.REP)
    req = make(ctx, zmq.REQ)
    raises_errno(zmq.EFSM, rep.send, b"reply to nothing")
    with gevent.Timeout(10):
        req.connect(net.bind(rep, "rep"))
        req.send(b"q")
        assert rep.recv() == b"q"
        raises_errno(zmq.EFSM, rep.recv, zmq.NOBLOCK)
        rep.send(b"r")
        raises_errno(zmq.EFSM, rep.send, b"r again")
        assert req.recv() == b"r"


def test_rep_restores_the_envelope(ctx, net):
    rep = make(ctx, zmq.REP)
    dealer = make(ctx, zmq.DEALER)
    with gevent.Timeout(10):
        dealer.connect(net.bind(rep, "rep"))
        dealer.send_multipart([b"hop-a", b"hop-b", b"", b"body1", b"", b"body3"])
        assert rep.recv_multipart() == [b"body1", b"", b"body3"]  # only the first empty frame delimits
        rep.send_multipart([b"reply1", b"reply2"])
        assert dealer.recv_multipart() == [b"hop-a", b"hop-b", b"", b"reply1", b"reply2"]
        dealer.send_multipart([b"", b""])  # an empty body is a body
        assert rep.recv_multipart() == [b""]
        rep.send(b"")
        assert dealer.recv_multipart() == [b"", b""]


def test_rep_drops_a_message_without_delimiter_and_keeps_the_connection(ctx, net):
    rep = make(ctx, zmq.REP)
    dealer = make(ctx, zmq.DEALER)
    with gevent.Timeout(10):
        dealer.connect(net.bind(rep, "rep"))
        dealer.send(b"x")
        dealer.send_multipart([b"x", b"y"])
        dealer.send(b"")  # a lone empty frame: a delimiter with no body after it
        dealer.send_multipart([b"", b"proper"])
        assert rep.recv_multipart() == [b"proper"]
        rep.send(b"answer")
        assert dealer.recv_multipart() == [b"", b"answer"]
        nothing_queued(dealer)


def test_rep_drops_an_envelope_with_no_body(ctx, net):
    """libzmq: [address, delimiter] with nothing after the delimiter is malformed and dropped
    (rep_t::xrecv needs the MORE flag on the delimiter); it must not be answered."""
    rep = make(ctx, zmq.REP)
    dealer = make(ctx, zmq.DEALER)
    with gevent.Timeout(10):
        dealer.connect(net.bind(rep, "rep"))
        dealer.send_multipart([b"address", b""])
        dealer.send_multipart([b"", b"proper"])
        assert rep.recv_multipart() == [b"proper"]
        rep.send(b"answer")
        assert dealer.recv_multipart() == [b"", b"answer"]


def test_rep_fair_queues_requests(ctx):
    """With requests already waiting from several peers, REP takes one from each in turn (inproc: all
    of them are queued when the sends return, so the order is exact)."""
    rep = make(ctx, zmq.REP)
    rep.bind("inproc://rep")
    dealers = [make(ctx, zmq.DEALER) for _ in range(3)]
    with gevent.Timeout(10):
        for dealer in dealers:
            dealer.connect("inproc://rep")
        for i, dealer in enumerate(dealers):
            for j in range(3):
                dealer.send_multipart([b"", b"%d-%d" % (i, j)])
        order = []
        for _ in range(9):
            order.append(rep.recv())
            rep.send(b"reply to " + order[-1])
        assert order == [b"%d-%d" % (i, j) for j in range(3) for i in range(3)]
        for i, dealer in enumerate(dealers):
            assert [dealer.recv_multipart() for _ in range(3)] == [[b"", b"reply to %d-%d" % (i, j)] for j in range(3)]


def test_rep_serves_interleaved_clients(ctx, net):
    rep = make(ctx, zmq.REP)
    address = net.bind(rep, "rep")
    clients = [make(ctx, zmq.REQ) for _ in range(3)]

    def client(i):
        sock = clients[i]
        sock.connect(address)
        for j in range(20):
            sock.send_multipart([b"client %d" % i, b"request %d" % j])
            assert sock.recv_multipart() == [b"client %d" % i, b"request %d" % j, b"done"]

    with gevent.Timeout(10):
        greenlets = [gevent.spawn(client, i) for i in range(3)]
        try:
            for _ in range(60):
                rep.send_multipart(rep.recv_multipart() + [b"done"])
            gevent.joinall(greenlets, raise_error=True)
        finally:
            gevent.killall(greenlets)


def test_rep_reply_to_a_vanished_peer_is_dropped(ctx, net):
    rep = make(ctx, zmq.REP)
    if net.transport != "inproc":  # (inproc: the close detaches the peer at once)
        monitor = rep.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        monitor.rcvtimeo = 5000
    address = net.bind(rep, "rep")
    gone = make(ctx, zmq.REQ)
    with gevent.Timeout(10):
        gone.connect(address)
        gone.send(b"ask and leave")
        assert rep.recv() == b"ask and leave"
        gone.close()
        if net.transport != "inproc":
            wait_event(monitor, zmq.EVENT_DISCONNECTED)
        rep.send(b"nobody to take this")  # no error, no wait
        stays = make(ctx, zmq.REQ)
        stays.connect(address)
        stays.send(b"next")
        assert rep.recv() == b"next"
        rep.send(b"answer")
        assert stays.recv() == b"answer"


def test_multi_hop_envelope(ctx, net):
    """REQ -> ROUTER|DEALER -> ROUTER|DEALER -> ROUTER worker: each ROUTER adds a routing id; the
    worker sees the whole stack, and its reply finds the way back as the ids are peeled off."""
    front2, back2, greenlets = broker(ctx, net, "two", backend_identity=b"hop2")
    front1, _, more = broker(ctx, net, "one", backend_identity=b"hop1", backend_connect=front2)
    greenlets += more
    try:
        with gevent.Timeout(10):
            worker = make(ctx, zmq.ROUTER)
            worker.connect(back2)
            client = make(ctx, zmq.REQ, routing_id=b"client")
            client.connect(front1)
            client.send_multipart([b"body", b"more"])
            received = worker.recv_multipart()
            assert received == [b"hop2", b"hop1", b"client", b"", b"body", b"more"]
            worker.send_multipart([*received[:4], b"answer"])
            assert client.recv_multipart() == [b"answer"]
    finally:
        gevent.killall(greenlets)


def test_rep_workers_behind_two_brokers(ctx, net):
    """Two REQ clients, two brokers in a row, two REP workers: every reply reaches the client that asked."""
    front2, back2, greenlets = broker(ctx, net, "two")
    front1, _, more = broker(ctx, net, "one", backend_connect=front2)
    greenlets += more

    def worker(name):
        rep = make(ctx, zmq.REP, rcvtimeo=-1)
        rep.connect(back2)
        while True:
            rep.send_multipart([*rep.recv_multipart(), name])

    def client(i):
        req = make(ctx, zmq.REQ)
        req.connect(front1)
        tags = set()
        for j in range(10):
            req.send_multipart([b"client %d" % i, b"%d" % j])
            *echo, tag = req.recv_multipart()
            assert echo == [b"client %d" % i, b"%d" % j]
            tags.add(tag)
        return tags

    try:
        with gevent.Timeout(10):
            greenlets += [gevent.spawn(worker, b"w0"), gevent.spawn(worker, b"w1")]
            clients = [gevent.spawn(client, i) for i in range(2)]
            greenlets += clients
            gevent.joinall(clients, raise_error=True)
            assert set().union(*(c.value for c in clients)) <= {b"w0", b"w1"}
    finally:
        gevent.killall(greenlets)


# -- DEALER ------------------------------------------------------------------------------------


def test_dealer_round_robin_out(ctx, net):
    routers = [make(ctx, zmq.ROUTER) for _ in range(3)]
    dealer = make(ctx, zmq.DEALER, routing_id=b"dealer")
    with gevent.Timeout(10):
        for i, router in enumerate(routers):
            dealer.connect(net.bind(router, f"router{i}"))
        for n in range(9):
            dealer.send_multipart([b"message", b"%d" % n])
        for i, router in enumerate(routers):
            got = [router.recv_multipart() for _ in range(3)]
            assert got == [[b"dealer", b"message", b"%d" % n] for n in range(i, 9, 3)]
        for router in routers:
            nothing_queued(router)


def test_dealer_fair_queues_in(ctx):
    """inproc: the messages are all queued when the sends return, so the order is exact. (With
    unequal queues the order of the rest is the implementation's: libzmq swaps an emptied pipe
    with the last active one.)"""
    dealer = make(ctx, zmq.DEALER)
    dealer.bind("inproc://dealer")
    peers = [make(ctx, zmq.DEALER) for _ in range(3)]
    for peer in peers:
        peer.connect("inproc://dealer")
    for i, peer in enumerate(peers):
        for j in range(3):
            peer.send_multipart([b"%d" % i, b"%d" % j])
    assert drain(dealer) == [[b"%d" % i, b"%d" % j] for j in range(3) for i in range(3)]


def test_dealer_receives_from_every_peer_in_order(ctx, net):
    dealer = make(ctx, zmq.DEALER)
    address = net.bind(dealer, "dealer")
    peers = [make(ctx, zmq.DEALER) for _ in range(3)]
    with gevent.Timeout(10):
        for i, peer in enumerate(peers):
            peer.connect(address)
            for j in range(50):
                peer.send_multipart([b"%d" % i, b"%d" % j])
        per_peer = {0: [], 1: [], 2: []}
        for _ in range(150):
            i, j = dealer.recv_multipart()
            per_peer[int(i)].append(int(j))
        assert per_peer == {i: list(range(50)) for i in range(3)}


def test_dealer_without_peers_cannot_send(ctx):
    dealer = make(ctx, zmq.DEALER, sndtimeo=50)
    with pytest.raises(zmq.Again):
        dealer.send(b"x", zmq.NOBLOCK)
    with gevent.Timeout(5), pytest.raises(zmq.Again):
        dealer.send(b"x")  # SNDTIMEO


def test_dealer_blocks_at_hwm(ctx, net):
    """A DEALER connected to an address nobody listens on yet queues SNDHWM messages, then blocks
    (NOBLOCK: Again); messages flow, in order, once the peer appears."""
    address = net.unbound("later")
    dealer = make(ctx, zmq.DEALER, sndhwm=4, sndtimeo=50)
    with gevent.Timeout(10):
        dealer.connect(address)
        for n in range(4):
            dealer.send(b"%d" % n, zmq.NOBLOCK)
        with pytest.raises(zmq.Again):
            dealer.send(b"4", zmq.NOBLOCK)
        with pytest.raises(zmq.Again):
            dealer.send(b"4")  # waited SNDTIMEO
        assert not dealer.poll(0, zmq.POLLOUT)
        dealer.sndtimeo = -1
        blocked = gevent.spawn(dealer.send, b"4")
        gevent.sleep(0)
        assert not blocked.ready()
        router = make(ctx, zmq.ROUTER)
        router.bind(address)
        blocked.get()
        got = [router.recv_multipart()[1] for _ in range(5)]
        assert got == [b"%d" % n for n in range(5)]


# -- ROUTER ------------------------------------------------------------------------------------


def test_router_prepends_generated_ids(ctx, net):
    router = make(ctx, zmq.ROUTER)
    address = net.bind(router, "router")
    dealers = [make(ctx, zmq.DEALER) for _ in range(2)]
    with gevent.Timeout(10):
        ids = {}
        for i, dealer in enumerate(dealers):
            dealer.connect(address)
            dealer.send_multipart([b"from %d" % i, b"second frame"])
            routing_id, body, second = router.recv_multipart()
            assert is_generated_id(routing_id), routing_id
            assert (body, second) == (b"from %d" % i, b"second frame")
            ids[i] = routing_id
        assert ids[0] != ids[1]
        for i in (1, 0):
            router.send_multipart([ids[i], b"to %d" % i, b""])
        for i, dealer in enumerate(dealers):
            assert dealer.recv_multipart() == [b"to %d" % i, b""]


def test_router_uses_the_peer_identity(ctx, net):
    router = make(ctx, zmq.ROUTER)
    address = net.bind(router, "router")
    alice = make(ctx, zmq.DEALER, routing_id=b"alice")
    bob = make(ctx, zmq.REQ, routing_id=b"\x00bob")  # a leading zero byte is allowed for ROUTING_ID
    with gevent.Timeout(10):
        alice.connect(address)
        bob.connect(address)
        alice.send(b"hi")
        bob.send(b"hello")
        got = sorted([router.recv_multipart(), router.recv_multipart()])
        assert got == [[b"\x00bob", b"", b"hello"], [b"alice", b"hi"]]
        router.send_multipart([b"\x00bob", b"", b"to bob"])
        router.send_multipart([b"alice", b"to alice"])
        assert bob.recv() == b"to bob"
        assert alice.recv() == b"to alice"


def test_router_mandatory_unroutable(ctx):
    router = make(ctx, zmq.ROUTER, router_mandatory=1)
    router.bind("inproc://router")
    dealer = make(ctx, zmq.DEALER, routing_id=b"known")
    dealer.connect("inproc://router")
    raises_errno(zmq.EHOSTUNREACH, router.send_multipart, [b"unknown", b"x"])
    raises_errno(zmq.EHOSTUNREACH, router.send_multipart, [b"", b"x"])
    router.send(b"known")  # a routing id alone, no body: dropped without error (libzmq)
    router.send_multipart([b"known", b"delivered"])
    assert dealer.recv_multipart() == [b"delivered"]
    nothing_queued(dealer)


def test_router_mandatory_refuses_the_routing_id_frame(ctx):
    """Frame by frame, libzmq's router_t::xsend looks the peer up when it is given the routing id
    frame (with SNDMORE): that send fails with EHOSTUNREACH, and the frames after it start a new
    message."""
    router = make(ctx, zmq.ROUTER, router_mandatory=1)
    router.bind("inproc://router")
    dealer = make(ctx, zmq.DEALER, routing_id=b"known")
    dealer.connect("inproc://router")
    raises_errno(zmq.EHOSTUNREACH, router.send, b"unknown", zmq.SNDMORE)
    router.send(b"known", zmq.SNDMORE)  # the refused id frame is not part of this message
    router.send(b"delivered")
    assert dealer.recv_multipart() == [b"delivered"]


def test_router_mandatory_full_pipe(ctx, net):
    """The peer's pipe is full: Again with NOBLOCK, else a wait (SNDTIMEO) that ends when there is room."""
    address = net.unbound("peer")
    router = make(ctx, zmq.ROUTER, router_mandatory=1, sndhwm=3, sndtimeo=50)
    router.connect_routing_id = b"peer"
    with gevent.Timeout(10):
        router.connect(address)  # the pipe exists before the connection does
        for n in range(3):
            router.send_multipart([b"peer", b"%d" % n], zmq.NOBLOCK)
        with pytest.raises(zmq.Again):
            router.send_multipart([b"peer", b"3"], zmq.NOBLOCK)
        with pytest.raises(zmq.Again):
            router.send_multipart([b"peer", b"3"])
        raises_errno(zmq.EHOSTUNREACH, router.send_multipart, [b"other", b"x"])  # still checked first
        router.sndtimeo = -1
        blocked = gevent.spawn(router.send_multipart, [b"peer", b"3"])
        gevent.sleep(0)
        assert not blocked.ready()
        peer = make(ctx, zmq.DEALER)
        peer.bind(address)
        blocked.get()
        assert [peer.recv() for _ in range(4)] == [b"0", b"1", b"2", b"3"]


def test_router_mandatory_pollout(ctx):
    """zmq_setsockopt(3): with ROUTER_MANDATORY, POLLOUT only when some peer can take a message
    (libzmq: none without peers, none while every peer's pipe is full); without it, always."""
    router = make(ctx, zmq.ROUTER, sndhwm=1)
    assert router.poll(0, zmq.POLLOUT) == zmq.POLLOUT
    router.router_mandatory = 1
    assert router.poll(0, zmq.POLLOUT) == 0
    router.bind("inproc://router")
    dealer = make(ctx, zmq.DEALER, routing_id=b"peer", rcvhwm=1)
    dealer.connect("inproc://router")
    assert router.poll(0, zmq.POLLOUT) == zmq.POLLOUT
    router.send_multipart([b"peer", b"1"])
    router.send_multipart([b"peer", b"2"])  # inproc HWM: SNDHWM + RCVHWM
    with pytest.raises(zmq.Again):
        router.send_multipart([b"peer", b"3"], zmq.NOBLOCK)
    assert router.poll(0, zmq.POLLOUT) == 0
    assert dealer.recv() == b"1"
    assert dealer.recv() == b"2"
    assert router.poll(0, zmq.POLLOUT) == zmq.POLLOUT


def test_router_drops_unroutable_messages_silently(ctx, net):
    """Without ROUTER_MANDATORY, a message for an unknown peer, or for a peer whose pipe is full,
    is dropped without an error."""
    router = make(ctx, zmq.ROUTER, sndhwm=2)
    router.connect_routing_id = b"peer"
    peer = make(ctx, zmq.DEALER, rcvhwm=1)
    with gevent.Timeout(10):
        if net.transport == "inproc":
            # (libzmq loses the CONNECT_ROUTING_ID of an inproc connect made before the bind once
            # messages were dropped, so bind first here; the pipe's HWM is then SNDHWM + RCVHWM)
            address = net.bind(peer, "peer")
            room = 3
        else:
            address = net.unbound("peer")  # connect first: the pipe exists, with SNDHWM, until the peer does
            room = 2
        router.connect(address)
        router.send_multipart([b"nobody", b"lost"])
        for n in range(6):
            router.send_multipart([b"peer", b"%d" % n], zmq.NOBLOCK)  # beyond the HWM: dropped, no error
        if net.transport != "inproc":
            peer.bind(address)
        assert [peer.recv() for _ in range(room)] == [b"%d" % n for n in range(room)]
        router.router_mandatory = 1  # so that the marker waits for room instead of being dropped
        router.send_multipart([b"peer", b"marker"])
        assert peer.recv() == b"marker"  # nothing else came first


def test_router_duplicate_identity_without_handover(ctx, net):
    """A second peer announcing a routing id in use is ignored: the first keeps it."""
    router = make(ctx, zmq.ROUTER)
    handshakes = net.wait_handshakes(router, count=2)
    address = net.bind(router, "router")
    first = make(ctx, zmq.DEALER, routing_id=b"same")
    second = make(ctx, zmq.DEALER, routing_id=b"same")
    with gevent.Timeout(10):
        first.connect(address)
        first.send(b"from first")
        assert router.recv_multipart() == [b"same", b"from first"]
        second.connect(address)
        handshakes()
        for _ in range(3):
            router.send_multipart([b"same", b"to the owner"])
            assert first.recv() == b"to the owner"
        first.send(b"still first")
        assert router.recv_multipart() == [b"same", b"still first"]


def test_router_handover_gives_the_id_to_the_newcomer(ctx, net):
    router = make(ctx, zmq.ROUTER, router_handover=1)
    address = net.bind(router, "router")
    old = make(ctx, zmq.DEALER, routing_id=b"same")
    new = make(ctx, zmq.DEALER, routing_id=b"same")
    with gevent.Timeout(10):
        old.connect(address)
        old.send(b"from old")
        assert router.recv_multipart() == [b"same", b"from old"]
        new.connect(address)
        new.send(b"from new")
        assert router.recv_multipart() == [b"same", b"from new"]
        router.send_multipart([b"same", b"to the new owner"])
        assert new.recv() == b"to the new owner"
        new.send(b"again")
        assert router.recv_multipart() == [b"same", b"again"]


def test_router_handover_cuts_the_old_peer_off(ctx, net):
    """libzmq terminates the old peer's pipe on handover ("disconnect the existing one"): whatever
    the old peer sends afterwards never reaches the application, under any routing id."""
    router = make(ctx, zmq.ROUTER, router_handover=1)
    address = net.bind(router, "router")
    old = make(ctx, zmq.DEALER, routing_id=b"same")
    new = make(ctx, zmq.DEALER, routing_id=b"same")
    with gevent.Timeout(10):
        old.connect(address)
        old.send(b"from old")
        assert router.recv_multipart() == [b"same", b"from old"]
        new.connect(address)
        new.send(b"from new")
        assert router.recv_multipart() == [b"same", b"from new"]
        # libzmq cuts the old link asynchronously, so its next send may still be accepted (and
        # go nowhere); greenmq cuts it at once, so over inproc the old DEALER has no peer left and
        # the send is refused. Either way nothing may reach the ROUTER.
        try:
            old.send(b"stale", zmq.NOBLOCK)
        except zmq.Again:
            assert net.transport == "inproc"
        # Nothing to wait for: give a wrong delivery a generous moment to show up.
        assert router.poll(300) == 0, router.recv_multipart()


def test_probe_router(ctx, net):
    """PROBE_ROUTER: DEALER, REQ and ROUTER send an empty message on connect; the ROUTER sees [id, b""]."""
    router = make(ctx, zmq.ROUTER)
    address = net.bind(router, "router")
    with gevent.Timeout(10):
        for socket_type, name in ((zmq.DEALER, b"dealer"), (zmq.REQ, b"req"), (zmq.ROUTER, b"router")):
            prober = make(ctx, socket_type, probe_router=1, routing_id=name)
            prober.connect(address)
            assert router.recv_multipart() == [name, b""]
        nothing_queued(router)


def test_probe_router_on_the_bound_router(ctx, net):
    """A ROUTER with PROBE_ROUTER greets every peer that connects with an empty message."""
    router = make(ctx, zmq.ROUTER, probe_router=1)
    address = net.bind(router, "router")
    with gevent.Timeout(10):
        dealer = make(ctx, zmq.DEALER)
        dealer.connect(address)
        assert dealer.recv_multipart() == [b""]
        dealer.send(b"hello")
        routing_id, body = router.recv_multipart()
        assert body == b"hello" and is_generated_id(routing_id)


def test_connect_routing_id_names_the_peer(ctx, net):
    server = make(ctx, zmq.ROUTER, routing_id=b"server-identity")
    address = net.bind(server, "server")
    client = make(ctx, zmq.ROUTER, routing_id=b"client", router_mandatory=1)
    with gevent.Timeout(10):
        client.connect_routing_id = b"S"
        client.connect(address)
        client.send_multipart([b"S", b"hello"])  # at once: the name exists from connect() on
        assert server.recv_multipart() == [b"client", b"hello"]
        server.send_multipart([b"client", b"welcome"])
        assert client.recv_multipart() == [b"S", b"welcome"]  # the name we chose, not its identity
        raises_errno(zmq.EHOSTUNREACH, client.send_multipart, [b"server-identity", b"x"])


def test_connect_routing_id_applies_to_the_next_connect_only(ctx, net):
    first = make(ctx, zmq.ROUTER)
    second = make(ctx, zmq.ROUTER, routing_id=b"second-identity")
    client = make(ctx, zmq.ROUTER, routing_id=b"client", router_mandatory=1)
    handshakes = net.wait_handshakes(client, count=2)
    with gevent.Timeout(10):
        client.connect_routing_id = b"named"
        client.connect(net.bind(first, "first"))
        client.connect(net.bind(second, "second"))
        handshakes()
        client.send_multipart([b"named", b"one"])
        client.send_multipart([b"second-identity", b"two"])  # named by its own Identity
        assert first.recv_multipart() == [b"client", b"one"]
        assert second.recv_multipart() == [b"client", b"two"]


def test_router_to_router_with_identities(ctx, net):
    """Neither side names the other: each learns the other's ROUTING_ID from the handshake, and
    either may speak first."""
    server = make(ctx, zmq.ROUTER, routing_id=b"server", router_mandatory=1)
    client = make(ctx, zmq.ROUTER, routing_id=b"client", router_mandatory=1)
    server_ready = net.wait_handshakes(server)
    client_ready = net.wait_handshakes(client)
    with gevent.Timeout(10):
        client.connect(net.bind(server, "server"))
        server_ready()
        server.send_multipart([b"client", b"server speaks first", b"2"])
        assert client.recv_multipart() == [b"server", b"server speaks first", b"2"]
        client_ready()
        client.send_multipart([b"server", b"client answers"])
        assert server.recv_multipart() == [b"client", b"client answers"]


# -- options -----------------------------------------------------------------------------------

SOCKET_TYPES = ["REQ", "REP", "DEALER", "ROUTER", "PUSH", "PULL", "PAIR"]
# (option, value): the socket types on which libzmq 4.3.5 accepts it (pyzmq 27, checked one by one).
ACCEPTED_ON = [
    ("ROUTER_MANDATORY", 1, {"ROUTER", "REP"}),
    ("ROUTER_HANDOVER", 1, {"ROUTER", "REP"}),
    ("PROBE_ROUTER", 1, {"ROUTER", "REP", "DEALER", "REQ"}),
    ("REQ_CORRELATE", 1, {"REQ"}),
    ("REQ_RELAXED", 1, {"REQ"}),
    ("CONNECT_ROUTING_ID", b"peer", {"ROUTER", "REP"}),
]


@pytest.mark.parametrize("socket_type", SOCKET_TYPES)
@pytest.mark.parametrize("option, value, accepted_on", ACCEPTED_ON, ids=[row[0] for row in ACCEPTED_ON])
def test_reqrep_options_apply_to_their_socket_types(ctx, socket_type, option, value, accepted_on):
    sock = ctx.socket(getattr(zmq, socket_type))
    if socket_type in accepted_on:
        sock.setsockopt(getattr(zmq, option), value)
    else:
        raises_errno(zmq.EINVAL, sock.setsockopt, getattr(zmq, option), value)
    raises_errno(zmq.EINVAL, sock.getsockopt, getattr(zmq, option))  # write-only everywhere


@pytest.mark.parametrize("socket_type, option", [
    ("ROUTER", "ROUTER_MANDATORY"), ("ROUTER", "ROUTER_HANDOVER"), ("ROUTER", "PROBE_ROUTER"),
    ("DEALER", "PROBE_ROUTER"), ("REQ", "PROBE_ROUTER"), ("REQ", "REQ_CORRELATE"), ("REQ", "REQ_RELAXED"),
])
def test_reqrep_flag_options_take_any_non_negative_int(ctx, socket_type, option):
    """libzmq reads these as ``value != 0`` after checking ``value >= 0``: 2 and 1000 are accepted."""
    sock = ctx.socket(getattr(zmq, socket_type))
    raises_errno(zmq.EINVAL, sock.setsockopt, getattr(zmq, option), -1)
    for value in (0, 1, 2, 1000):
        sock.setsockopt(getattr(zmq, option), value)


@pytest.mark.parametrize("socket_type", ["REQ", "REP", "DEALER", "ROUTER"])
def test_routing_id_length(ctx, socket_type):
    sock = ctx.socket(getattr(zmq, socket_type))
    raises_errno(zmq.EINVAL, sock.setsockopt, zmq.ROUTING_ID, b"")
    raises_errno(zmq.EINVAL, sock.setsockopt, zmq.ROUTING_ID, b"x" * 256)
    sock.setsockopt(zmq.ROUTING_ID, b"x" * 255)
    assert sock.routing_id == b"x" * 255
    sock.setsockopt(zmq.ROUTING_ID, b"x")
    assert sock.routing_id == b"x"


def test_connect_routing_id_must_not_be_empty(ctx):
    router = ctx.socket(zmq.ROUTER)
    raises_errno(zmq.EINVAL, router.setsockopt, zmq.CONNECT_ROUTING_ID, b"")
    router.setsockopt(zmq.CONNECT_ROUTING_ID, b"x" * 255)


def test_connect_routing_id_has_no_upper_limit(ctx):
    """libzmq's routing_socket_base_t takes any non-empty CONNECT_ROUTING_ID: it only names a pipe
    locally and never goes on the wire, so the 255-byte limit of ROUTING_ID does not apply."""
    router = make(ctx, zmq.ROUTER, router_mandatory=1)
    long_name = bytes(range(256)) * 2
    router.setsockopt(zmq.CONNECT_ROUTING_ID, long_name)
    peer = make(ctx, zmq.DEALER)
    peer.bind("inproc://peer")
    router.connect("inproc://peer")
    router.send_multipart([long_name, b"reached"])
    assert peer.recv() == b"reached"

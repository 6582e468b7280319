"""Request-reply between greenmq and libzmq: REQ, REP, DEALER and ROUTER on both sides.

Each pairing runs over tcp and ipc, with greenmq binding and with libzmq
binding. The libzmq side is tests/interop/libzmq_peer.py: ``serve`` (a REP
worker that answers every message with itself plus a tag frame), ``request``
(a REQ client), ``broker`` (zmq.proxy_steerable between a ROUTER and a DEALER)
and ``ctl`` (one socket driven command by command from the test, for the
exchanges that need a look at every frame: envelopes, routing ids, request ids).
"""

import gevent
import pytest

import greenmq as zmq
from support import WIRE_TRANSPORTS, is_generated_id, wait_handshakes

from .libzmq_peer import BINDERS, greenmq_socket, link, local_endpoint

both_ways = pytest.mark.parametrize("binder", BINDERS)
transports = pytest.mark.parametrize("transport", WIRE_TRANSPORTS)


def hexes(*frames):
    return [frame.hex() for frame in frames]


def spread(socks, peers, binder, transport, tmp_path, role, socket_type, **options):
    """Join several greenmq sockets and one libzmq ``ctl`` peer: each greenmq socket binds an
    endpoint of its own and the peer connects to all, or the peer binds and they all connect."""
    if binder == "libzmq":
        peer = peers.start(role, socket_type, bind=local_endpoint(transport, tmp_path, "peer"), **options)
        endpoint = peer.ready()
        for sock in socks:
            sock.connect(endpoint)
        return peer
    endpoints = []
    for i, sock in enumerate(socks):
        sock.bind(local_endpoint(transport, tmp_path, f"greenmq{i}"))
        endpoints.append(sock.last_endpoint.decode())
    peer = peers.start(role, socket_type, connect=endpoints[0], **options)
    peer.ready()
    for endpoint in endpoints[1:]:
        assert peer.command("connect", endpoint=endpoint)["ok"]
    return peer


# -- REQ and REP --------------------------------------------------------------------------------


@both_ways
@transports
def test_greenmq_req_to_libzmq_rep(ctx, peers, tmp_path, transport, binder):
    req = greenmq_socket(ctx, zmq.REQ)
    with gevent.Timeout(30):
        peer = link(req, peers, binder, local_endpoint(transport, tmp_path), "serve", "REP", tag="lz")
        for i in range(5):
            req.send_multipart([b"request", b"%d" % i])
            with pytest.raises(zmq.ZMQError) as info:
                req.send(b"too early")
            assert info.value.errno == zmq.EFSM
            assert req.recv_multipart() == [b"request", b"%d" % i, b"lz"]
        peer.quit()
        assert peer.result() == {"count": 5}
        assert peer.wait() == 0
    req.close()


@both_ways
@transports
def test_libzmq_req_to_greenmq_rep(ctx, peers, tmp_path, transport, binder):
    rep = greenmq_socket(ctx, zmq.REP)
    with gevent.Timeout(30):
        peer = link(rep, peers, binder, local_endpoint(transport, tmp_path), "request", "REQ",
                    count=5, frames=2, tag="lz")
        for i in range(5):
            assert rep.recv_multipart() == [b"lz:%d:0" % i, b"lz:%d:1" % i]
            rep.send_multipart([b"reply %d" % i, b"gm"])
        result = peer.result()
        assert result == {"replies": [hexes(b"reply %d" % i, b"gm") for i in range(5)], "timed_out": False}
        assert peer.wait() == 0
    rep.close()


@both_ways
@transports
def test_greenmq_req_to_libzmq_router(ctx, peers, tmp_path, transport, binder):
    """libzmq's ROUTER sees the REQ's identity and the empty delimiter greenmq adds."""
    req = greenmq_socket(ctx, zmq.REQ)
    req.routing_id = b"gm-req"
    with gevent.Timeout(30):
        peer = link(req, peers, binder, local_endpoint(transport, tmp_path), "ctl", "ROUTER")
        for i in range(3):
            req.send_multipart([b"hello", b"%d" % i])
            assert peer.recv_frames() == [b"gm-req", b"", b"hello", b"%d" % i]
            assert peer.send_frames([b"gm-req", b"", b"reply", b"%d" % i]) is None
            assert req.recv_multipart() == [b"reply", b"%d" % i]
    req.close()


@both_ways
@transports
def test_libzmq_req_to_greenmq_router(ctx, peers, tmp_path, transport, binder):
    router = greenmq_socket(ctx, zmq.ROUTER)
    with gevent.Timeout(30):
        peer = link(router, peers, binder, local_endpoint(transport, tmp_path), "request", "REQ",
                    count=3, tag="lz", sockopts={"ROUTING_ID": b"lz-req"})
        for i in range(3):
            assert router.recv_multipart() == [b"lz-req", b"", b"lz:%d:0" % i]
            router.send_multipart([b"lz-req", b"", b"answer", b"%d" % i])
        assert peer.result() == {"replies": [hexes(b"answer", b"%d" % i) for i in range(3)], "timed_out": False}
        assert peer.wait() == 0
    router.close()


# -- DEALER and REP -------------------------------------------------------------------------------


@both_ways
@transports
def test_greenmq_dealer_to_libzmq_rep(ctx, peers, tmp_path, transport, binder):
    """libzmq's REP takes everything up to the delimiter as the envelope and puts it back on the reply."""
    dealer = greenmq_socket(ctx, zmq.DEALER)
    with gevent.Timeout(30):
        peer = link(dealer, peers, binder, local_endpoint(transport, tmp_path), "serve", "REP", tag="lz")
        for i in range(5):  # pipelined: a DEALER need not wait
            dealer.send_multipart([b"hop-%d" % i, b"hop", b"", b"body", b"%d" % i])
        for i in range(5):
            assert dealer.recv_multipart() == [b"hop-%d" % i, b"hop", b"", b"body", b"%d" % i, b"lz"]
        peer.quit()
        assert peer.result() == {"count": 5}
    dealer.close()


@both_ways
@transports
def test_libzmq_dealer_to_greenmq_rep(ctx, peers, tmp_path, transport, binder):
    """A request without a delimiter is dropped, and the connection stays: the next one is answered."""
    rep = greenmq_socket(ctx, zmq.REP)
    with gevent.Timeout(30):
        peer = link(rep, peers, binder, local_endpoint(transport, tmp_path), "ctl", "DEALER")
        assert peer.send_frames([b"x"]) is None
        assert peer.send_frames([b"x", b"y"]) is None
        assert peer.send_frames([b"envelope", b"", b"q1", b"q2"]) is None
        assert rep.recv_multipart() == [b"q1", b"q2"]
        rep.send_multipart([b"r1", b"r2"])
        assert peer.recv_frames() == [b"envelope", b"", b"r1", b"r2"]
        assert peer.send_frames([b"", b"again"]) is None
        assert rep.recv_multipart() == [b"again"]
        rep.send(b"answered")
        assert peer.recv_frames() == [b"", b"answered"]
        with pytest.raises(zmq.Again):
            rep.recv(zmq.NOBLOCK)
    rep.close()


# -- DEALER and ROUTER ----------------------------------------------------------------------------


@both_ways
@transports
def test_greenmq_dealers_to_libzmq_router(ctx, peers, tmp_path, transport, binder):
    """A DEALER with ROUTING_ID is known by it; one without gets an id generated by libzmq."""
    named = greenmq_socket(ctx, zmq.DEALER)
    named.routing_id = b"gm-dealer"
    anonymous = greenmq_socket(ctx, zmq.DEALER)
    with gevent.Timeout(30):
        peer = spread([named, anonymous], peers, binder, transport, tmp_path, "ctl", "ROUTER")
        named.send_multipart([b"from named", b"", b"3"])
        anonymous.send_multipart([b"from anonymous"])
        ids = {}
        for _ in range(2):
            routing_id, *body = peer.recv_frames()
            ids[body[0]] = routing_id
            assert body in ([b"from named", b"", b"3"], [b"from anonymous"])
        assert ids[b"from named"] == b"gm-dealer"
        assert is_generated_id(ids[b"from anonymous"]), ids
        assert peer.send_frames([ids[b"from anonymous"], b"to anonymous", b""]) is None
        assert peer.send_frames([b"gm-dealer", b"to named"]) is None
        assert anonymous.recv_multipart() == [b"to anonymous", b""]
        assert named.recv_multipart() == [b"to named"]
    named.close()
    anonymous.close()


@both_ways
@transports
def test_libzmq_dealers_to_greenmq_router(ctx, peers, tmp_path, transport, binder):
    """greenmq's ROUTER knows a libzmq DEALER by its ROUTING_ID, or generates a 5-byte id for it."""
    router = greenmq_socket(ctx, zmq.ROUTER)
    with gevent.Timeout(30):
        if binder == "greenmq":
            router.bind(local_endpoint(transport, tmp_path))
            named = peers.start("ctl", "DEALER", connect=router.last_endpoint, sockopts={"ROUTING_ID": b"lz-dealer"})
            anonymous = peers.start("ctl", "DEALER", connect=router.last_endpoint)
            named.ready()
            anonymous.ready()
        else:
            named = peers.start("ctl", "DEALER", bind=local_endpoint(transport, tmp_path, "named"),
                                sockopts={"ROUTING_ID": b"lz-dealer"})
            anonymous = peers.start("ctl", "DEALER", bind=local_endpoint(transport, tmp_path, "anonymous"))
            router.connect(named.ready())
            router.connect(anonymous.ready())
        assert named.send_frames([b"from named", b"", b"3"]) is None
        assert anonymous.send_frames([b"from anonymous"]) is None
        ids = {}
        for _ in range(2):
            routing_id, *body = router.recv_multipart()
            ids[body[0]] = routing_id
            assert body in ([b"from named", b"", b"3"], [b"from anonymous"])
        assert ids[b"from named"] == b"lz-dealer"
        assert is_generated_id(ids[b"from anonymous"]), ids
        router.send_multipart([ids[b"from anonymous"], b"to anonymous", b""])
        router.send_multipart([b"lz-dealer", b"to named"])
        assert anonymous.recv_frames() == [b"to anonymous", b""]
        assert named.recv_frames() == [b"to named"]
    router.close()


# -- ROUTER and ROUTER ----------------------------------------------------------------------------


@both_ways
@transports
def test_router_to_router_with_connect_routing_id(ctx, peers, tmp_path, transport, binder):
    """The connecting ROUTER names its peer (CONNECT_ROUTING_ID) and speaks at once; the bound one
    knows it by its ROUTING_ID."""
    router = greenmq_socket(ctx, zmq.ROUTER)
    router.routing_id = b"gm"
    router.router_mandatory = 1
    with gevent.Timeout(30):
        if binder == "greenmq":
            router.bind(local_endpoint(transport, tmp_path))
            peer = peers.start("ctl", "ROUTER", connect=router.last_endpoint, sockopts={
                "ROUTING_ID": b"lz", "ROUTER_MANDATORY": 1, "CONNECT_ROUTING_ID": b"gm-peer"})
            peer.ready()
            assert peer.send_frames([b"gm-peer", b"hello", b"2"]) is None
            assert router.recv_multipart() == [b"lz", b"hello", b"2"]
            router.send_multipart([b"lz", b"back"])
            assert peer.recv_frames() == [b"gm-peer", b"back"]
        else:
            peer = peers.start("ctl", "ROUTER", bind=local_endpoint(transport, tmp_path),
                               sockopts={"ROUTING_ID": b"lz", "ROUTER_MANDATORY": 1})
            router.connect_routing_id = b"lz-peer"
            router.connect(peer.ready())
            router.send_multipart([b"lz-peer", b"hello", b"2"])
            assert peer.recv_frames() == [b"gm", b"hello", b"2"]
            assert peer.send_frames([b"gm", b"back"]) is None
            assert router.recv_multipart() == [b"lz-peer", b"back"]
    router.close()


@both_ways
@transports
def test_router_to_router_with_identities(ctx, peers, tmp_path, transport, binder):
    """No CONNECT_ROUTING_ID: each side knows the other by the ROUTING_ID it announced; greenmq
    speaks first once its handshake is done."""
    router = greenmq_socket(ctx, zmq.ROUTER)
    router.routing_id = b"gm"
    router.router_mandatory = 1
    handshake = wait_handshakes(router)
    with gevent.Timeout(30):
        peer = link(router, peers, binder, local_endpoint(transport, tmp_path), "ctl", "ROUTER",
                    sockopts={"ROUTING_ID": b"lz", "ROUTER_MANDATORY": 1})
        handshake()
        router.send_multipart([b"lz", b"hello", b""])
        assert peer.recv_frames() == [b"gm", b"hello", b""]
        assert peer.send_frames([b"gm", b"back"]) is None
        assert router.recv_multipart() == [b"lz", b"back"]
    router.close()


# -- REQ_CORRELATE and REQ_RELAXED ----------------------------------------------------------------


@both_ways
@transports
def test_greenmq_req_correlate_with_libzmq_router(ctx, peers, tmp_path, transport, binder):
    req = greenmq_socket(ctx, zmq.REQ)
    req.routing_id = b"gm-req"
    req.req_correlate = 1
    with gevent.Timeout(30):
        peer = link(req, peers, binder, local_endpoint(transport, tmp_path), "ctl", "ROUTER")
        req.send(b"one")
        routing_id, first_id, delimiter, body = peer.recv_frames()
        assert (routing_id, delimiter, body) == (b"gm-req", b"", b"one")
        assert len(first_id) == 4
        wrong_id = bytes(b ^ 0x5A for b in first_id)
        assert peer.send_frames([b"gm-req", wrong_id, b"", b"wrong id"]) is None
        assert peer.send_frames([b"gm-req", b"", b"no id"]) is None
        assert peer.send_frames([b"gm-req", first_id, b"", b"right"]) is None
        assert req.recv() == b"right"

        req.send(b"two")
        _, second_id, _, body = peer.recv_frames()
        assert body == b"two" and len(second_id) == 4 and second_id != first_id
        assert peer.send_frames([b"gm-req", first_id, b"", b"reply to one"]) is None
        assert peer.send_frames([b"gm-req", second_id, b"", b"reply to two"]) is None
        assert req.recv() == b"reply to two"
    req.close()


@transports
def test_libzmq_req_correlate_with_greenmq_router(ctx, peers, tmp_path, transport):
    router = greenmq_socket(ctx, zmq.ROUTER)
    with gevent.Timeout(30):
        peer = link(router, peers, "greenmq", local_endpoint(transport, tmp_path), "ctl", "REQ",
                    sockopts={"ROUTING_ID": b"lz-req", "REQ_CORRELATE": 1})
        assert peer.send_frames([b"question"]) is None
        routing_id, request_id, delimiter, body = router.recv_multipart()
        assert (routing_id, delimiter, body) == (b"lz-req", b"", b"question")
        assert len(request_id) == 4
        router.send_multipart([b"lz-req", bytes(b ^ 0x5A for b in request_id), b"", b"wrong id"])
        router.send_multipart([b"lz-req", request_id, b"", b"right"])
        assert peer.recv_frames() == [b"right"]
    router.close()


@transports
def test_greenmq_req_relaxed_correlate_with_libzmq_rep(ctx, peers, tmp_path, transport):
    """A second request before the reply: libzmq's REP answers both, in order, the request id in
    its envelope; greenmq's REQ takes only the answer to the second."""
    req = greenmq_socket(ctx, zmq.REQ)
    req.req_relaxed = 1
    req.req_correlate = 1
    with gevent.Timeout(30):
        peer = link(req, peers, "libzmq", local_endpoint(transport, tmp_path), "serve", "REP", tag="lz")
        req.send(b"first")
        req.send(b"second")
        assert req.recv_multipart() == [b"second", b"lz"]
        req.send(b"third")
        assert req.recv_multipart() == [b"third", b"lz"]
        peer.quit()
        assert peer.result() == {"count": 3}
    req.close()


# -- ROUTER_HANDOVER and PROBE_ROUTER -------------------------------------------------------------


@transports
def test_libzmq_router_handover_to_greenmq_dealer(ctx, peers, tmp_path, transport):
    old = greenmq_socket(ctx, zmq.DEALER)
    new = greenmq_socket(ctx, zmq.DEALER)
    old.routing_id = new.routing_id = b"same"
    with gevent.Timeout(30):
        peer = peers.start("ctl", "ROUTER", bind=local_endpoint(transport, tmp_path), sockopts={"ROUTER_HANDOVER": 1})
        endpoint = peer.ready()
        old.connect(endpoint)
        old.send(b"from old")
        assert peer.recv_frames() == [b"same", b"from old"]
        new.connect(endpoint)
        new.send(b"from new")
        assert peer.recv_frames() == [b"same", b"from new"]
        assert peer.send_frames([b"same", b"to the new owner"]) is None
        assert new.recv() == b"to the new owner"
    old.close()
    new.close()


@transports
def test_greenmq_router_handover_to_libzmq_dealer(ctx, peers, tmp_path, transport):
    router = greenmq_socket(ctx, zmq.ROUTER)
    router.router_handover = 1
    with gevent.Timeout(30):
        router.bind(local_endpoint(transport, tmp_path))
        old = peers.start("ctl", "DEALER", connect=router.last_endpoint, sockopts={"ROUTING_ID": b"same"})
        old.ready()
        assert old.send_frames([b"from old"]) is None
        assert router.recv_multipart() == [b"same", b"from old"]
        new = peers.start("ctl", "DEALER", connect=router.last_endpoint, sockopts={"ROUTING_ID": b"same"})
        new.ready()
        assert new.send_frames([b"from new"]) is None
        assert router.recv_multipart() == [b"same", b"from new"]
        router.send_multipart([b"same", b"to the new owner"])
        assert new.recv_frames() == [b"to the new owner"]
    router.close()


@transports
def test_probes_between_greenmq_router_and_libzmq_dealer(ctx, peers, tmp_path, transport):
    """Both sides with PROBE_ROUTER: each gets the other's empty message on connect."""
    router = greenmq_socket(ctx, zmq.ROUTER)
    router.probe_router = 1
    with gevent.Timeout(30):
        peer = link(router, peers, "greenmq", local_endpoint(transport, tmp_path), "ctl", "DEALER",
                    sockopts={"ROUTING_ID": b"lz-probe", "PROBE_ROUTER": 1})
        assert router.recv_multipart() == [b"lz-probe", b""]
        assert peer.recv_frames() == [b""]
    router.close()


@transports
def test_probes_between_libzmq_router_and_greenmq_dealer(ctx, peers, tmp_path, transport):
    dealer = greenmq_socket(ctx, zmq.DEALER)
    dealer.routing_id = b"gm-probe"
    dealer.probe_router = 1
    with gevent.Timeout(30):
        peer = link(dealer, peers, "libzmq", local_endpoint(transport, tmp_path), "ctl", "ROUTER",
                    sockopts={"PROBE_ROUTER": 1})
        assert peer.recv_frames() == [b"gm-probe", b""]
        assert dealer.recv_multipart() == [b""]
    dealer.close()


# -- brokers --------------------------------------------------------------------------------------


def _forwarder(frontend, backend):
    """A hand-written ROUTER/DEALER proxy: one greenlet per direction, whole messages."""
    def pump(source, sink):
        while True:
            sink.send_multipart(source.recv_multipart())
    return [gevent.spawn(pump, frontend, backend), gevent.spawn(pump, backend, frontend)]


@transports
def test_greenmq_broker_between_libzmq_clients_and_workers(ctx, peers, tmp_path, transport):
    frontend = greenmq_socket(ctx, zmq.ROUTER, timeout_ms=-1)
    backend = greenmq_socket(ctx, zmq.DEALER, timeout_ms=-1)
    workers_ready = wait_handshakes(backend, count=2)
    frontend.bind(local_endpoint(transport, tmp_path, "frontend"))
    backend.bind(local_endpoint(transport, tmp_path, "backend"))
    greenlets = _forwarder(frontend, backend)
    try:
        with gevent.Timeout(30):
            workers = [peers.start("serve", "REP", connect=backend.last_endpoint, tag=f"w{i}") for i in range(2)]
            for worker in workers:
                worker.ready()
            workers_ready()  # both attached: the backend deals requests to both
            clients = [peers.start("request", "REQ", connect=frontend.last_endpoint, count=10, frames=2,
                                   tag=f"c{i}") for i in range(2)]
            served_by = set()
            for i, client in enumerate(clients):
                client.ready()
                result = client.result()
                assert not result["timed_out"]
                assert len(result["replies"]) == 10
                for j, reply in enumerate(result["replies"]):
                    *echo, tag = (bytes.fromhex(frame) for frame in reply)
                    assert echo == [b"c%d:%d:0" % (i, j), b"c%d:%d:1" % (i, j)]
                    served_by.add(tag)
            assert served_by == {b"w0", b"w1"}
            counts = []
            for worker in workers:
                worker.quit()
                counts.append(worker.result()["count"])
            assert sum(counts) == 20 and min(counts) > 0, counts
    finally:
        gevent.killall(greenlets)
    frontend.close()
    backend.close()


@transports
def test_libzmq_broker_between_greenmq_clients_and_workers(ctx, peers, tmp_path, transport):
    def worker(name, endpoint):
        rep = greenmq_socket(ctx, zmq.REP, timeout_ms=-1)
        rep.connect(endpoint)
        while True:
            rep.send_multipart([*rep.recv_multipart(), name])

    def client(i, endpoint):
        req = greenmq_socket(ctx, zmq.REQ)
        req.connect(endpoint)
        tags = []
        for j in range(10):
            req.send_multipart([b"c%d" % i, b"%d" % j])
            *echo, tag = req.recv_multipart()
            assert echo == [b"c%d" % i, b"%d" % j]
            tags.append(tag)
        req.close()
        return tags

    greenlets = []
    try:
        with gevent.Timeout(30):
            broker = peers.start("broker", "ROUTER", bind=local_endpoint(transport, tmp_path, "frontend"),
                                 backend=local_endpoint(transport, tmp_path, "backend"))
            frontend = broker.ready()
            backend = broker.ready()
            greenlets += [gevent.spawn(worker, b"w%d" % i, backend) for i in range(2)]
            clients = [gevent.spawn(client, i, frontend) for i in range(2)]
            greenlets += clients
            gevent.joinall(clients, raise_error=True)
            for c in clients:
                assert set(c.value) <= {b"w0", b"w1"}
            broker.quit()
            assert broker.wait() == 0
    finally:
        gevent.killall(greenlets)

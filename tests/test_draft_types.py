"""The thread-safe socket types (libzmq's drafts, stable in greenmq): CLIENT/SERVER, RADIO/DISH,
SCATTER/GATHER, CHANNEL and PEER, greenmq to greenmq over tcp, ipc and inproc, each side binding
in turn; their errors as libzmq gives them; many greenlets on one socket.

The wire form of RADIO/DISH, byte by byte, is in test_draft_wire.py.
"""

from functools import partial

import gevent
import pytest

import greenmq as zmq
from greenmq.zmtp.sockettypes import compatible

from support import TIMEOUT, endpoint_for, new_socket, raises_errno, wait_handshakes

# zmq.h (libzmq 4.3): the numbers of the draft socket types.
DRAFT_TYPES = {"SERVER": 12, "CLIENT": 13, "RADIO": 14, "DISH": 15, "GATHER": 16, "SCATTER": 17, "DGRAM": 18,
               "PEER": 19, "CHANNEL": 20}
SENDING_TYPES = [zmq.CLIENT, zmq.SERVER, zmq.RADIO, zmq.SCATTER, zmq.CHANNEL, zmq.PEER]


def connected(ctx, transport, tmp_path, binder_type, connector_type, **options):
    """(binder, connector) of the two types over ``transport``, their handshake done."""
    binder = new_socket(ctx, binder_type, **options)
    connector = new_socket(ctx, connector_type, **options)
    binder.bind(endpoint_for(transport, tmp_path))
    handshakes = wait_handshakes(connector, transport=transport)
    connector.connect(binder.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        handshakes()
    return binder, connector


@pytest.fixture(params=["first binds", "second binds"])
def make_pair(request, ctx, transport, tmp_path):
    """make_pair(first_type, second_type) -> (first, second), connected over each transport, either side binding."""
    def make(first_type, second_type, **options):
        if request.param == "first binds":
            return connected(ctx, transport, tmp_path, first_type, second_type, **options)
        second, first = connected(ctx, transport, tmp_path, second_type, first_type, **options)
        return first, second
    return make


def receive_broadcast(radio, dish, group, body=b"data"):
    """Send ``body`` to ``group`` until the DISH has it (its JOIN travels to the RADIO meanwhile); the Frame."""
    with gevent.Timeout(TIMEOUT):
        while not dish.poll(10):
            radio.send(body, group=group)
        return dish.recv(copy=False)


# -- constants and capabilities ----------------------------------------------------

def test_draft_api_is_on():
    assert zmq.DRAFT_API is True
    assert zmq.has("draft")


@pytest.mark.parametrize("name", sorted(DRAFT_TYPES))
def test_socket_type_numbers_are_libzmqs(name):
    assert getattr(zmq, name) == DRAFT_TYPES[name]
    assert zmq.SocketType[name] == DRAFT_TYPES[name]


def test_related_constants():
    assert zmq.GROUP_MAX_LENGTH == 255
    assert (zmq.NOTIFY_CONNECT, zmq.NOTIFY_DISCONNECT) == (1, 2)


@pytest.mark.parametrize("socket_type", sorted(set(DRAFT_TYPES.values()) - {zmq.DGRAM}))
def test_every_draft_type_can_be_made(ctx, socket_type):
    s = ctx.socket(socket_type)
    assert s.type == socket_type
    assert s.getsockopt(zmq.TYPE) == socket_type
    s.close()


@pytest.mark.parametrize(("ours", "theirs", "expected"), [
    (b"CLIENT", b"SERVER", True), (b"SERVER", b"CLIENT", True), (b"CLIENT", b"CLIENT", False),
    (b"SERVER", b"DEALER", False), (b"RADIO", b"DISH", True), (b"DISH", b"RADIO", True), (b"RADIO", b"SUB", False),
    (b"SCATTER", b"GATHER", True), (b"GATHER", b"SCATTER", True), (b"SCATTER", b"SCATTER", False),
    (b"GATHER", b"GATHER", False), (b"CHANNEL", b"CHANNEL", True), (b"CHANNEL", b"PAIR", False),
    (b"PEER", b"PEER", True), (b"PEER", b"SERVER", False),
])
def test_socket_type_compatibility(ours, theirs, expected):
    # zmq_socket.adoc lists SCATTER-SCATTER and GATHER-GATHER; libzmq's working pairs are SCATTER-GATHER.
    assert compatible(ours, theirs) is expected


# -- greenmq to greenmq ------------------------------------------------------------------

def test_client_server(make_pair):
    client, server = make_pair(zmq.CLIENT, zmq.SERVER)
    with gevent.Timeout(TIMEOUT):
        client.send(b"request")
        request = server.recv(copy=False)
        assert request.bytes == b"request"
        assert 0 < request.routing_id < 2**32
        server.send(b"reply", routing_id=request.routing_id)
        assert client.recv() == b"reply"
        server.send(request)  # a received Frame carries its routing id back (pyzmq's test_client_server_frame)
        assert client.recv() == b"request"


def test_server_tells_clients_apart(ctx, transport, tmp_path):
    server = new_socket(ctx, zmq.SERVER)
    server.bind(endpoint_for(transport, tmp_path))
    clients = [new_socket(ctx, zmq.CLIENT) for _ in range(3)]
    with gevent.Timeout(TIMEOUT):
        for index, client in enumerate(clients):
            client.connect(server.last_endpoint)
            client.send(b"%d" % index)
        ids = {}
        for _ in clients:
            frame = server.recv(copy=False)
            ids[frame.bytes] = frame.routing_id
        assert len(set(ids.values())) == 3
        for name, routing_id in ids.items():
            server.send(b"for " + name, routing_id=routing_id)
        assert [client.recv() for client in clients] == [b"for 0", b"for 1", b"for 2"]


def test_server_routing_ids_count_up_and_are_never_zero(ctx, transport, tmp_path):
    server = new_socket(ctx, zmq.SERVER)
    server.bind(endpoint_for(transport, tmp_path))
    seen = []
    with gevent.Timeout(TIMEOUT):
        for _ in range(4):
            client = new_socket(ctx, zmq.CLIENT)
            client.connect(server.last_endpoint)
            client.send(b"hi")
            seen.append(server.recv(copy=False).routing_id)
    assert all(routing_id != 0 for routing_id in seen)
    assert [(b - a) % 2**32 for a, b in zip(seen, seen[1:])] == [1, 1, 1]


def test_radio_dish_groups(make_pair):
    radio, dish = make_pair(zmq.RADIO, zmq.DISH)
    dish.join("weather")
    dish.join(b"news")
    frame = receive_broadcast(radio, dish, "weather", b"sunny")
    assert (frame.bytes, frame.group) == (b"sunny", "weather")
    with gevent.Timeout(TIMEOUT):
        radio.send(b"not joined", group="sports")
        radio.send(b"no group")
        radio.send(b"headline", group=b"news")
        received = dish.recv(copy=False)
        while received.bytes == b"sunny":  # broadcasts sent before the first one arrived
            received = dish.recv(copy=False)
    assert (received.bytes, received.group) == (b"headline", "news")


def test_dish_leave_stops_a_group(make_pair):
    radio, dish = make_pair(zmq.RADIO, zmq.DISH)
    dish.join("a")
    dish.join("b")
    receive_broadcast(radio, dish, "a", b"before")
    dish.leave("a")
    # (That the RADIO itself stops sending the group is checked on the wire, in test_draft_wire.py:
    # a DISH also filters by its own groups.)
    with gevent.Timeout(TIMEOUT):
        radio.send(b"after leave", group="a")
        radio.send(b"last", group="b")
        frame = dish.recv(copy=False)
        while frame.bytes == b"before":
            frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"last", "b")


def test_radio_reaches_every_dish_of_a_group_only(ctx, transport, tmp_path):
    radio = new_socket(ctx, zmq.RADIO)
    radio.bind(endpoint_for(transport, tmp_path))
    members = [new_socket(ctx, zmq.DISH) for _ in range(2)]
    other = new_socket(ctx, zmq.DISH)
    for dish, group in ((members[0], "g"), (members[1], "g"), (other, "h")):
        dish.connect(radio.last_endpoint)
        dish.join(group)
    for dish in members:
        receive_broadcast(radio, dish, "g")
    receive_broadcast(radio, other, "h")
    for dish in (*members, other):
        while dish.poll(50):
            dish.recv()
    with gevent.Timeout(TIMEOUT):
        radio.send(b"to g", group="g")
        assert [dish.recv() for dish in members] == [b"to g", b"to g"]
    assert not other.poll(100)


def test_dish_joins_again_after_the_radio_comes_back(ctx, tmp_path):
    radio = new_socket(ctx, zmq.RADIO)
    radio.bind("tcp://127.0.0.1:*")
    endpoint = radio.last_endpoint
    dish = new_socket(ctx, zmq.DISH, reconnect_ivl=10)
    dish.connect(endpoint)
    dish.join("g")
    receive_broadcast(radio, dish, "g")
    radio.close()
    dish.join("later")  # made while the RADIO is away
    radio = new_socket(ctx, zmq.RADIO)
    with gevent.Timeout(TIMEOUT):
        while True:  # the closed socket's listener may linger briefly
            try:
                radio.bind(endpoint)
                break
            except zmq.ZMQError as error:
                assert error.errno == zmq.EADDRINUSE
                gevent.sleep(0.01)
    assert receive_broadcast(radio, dish, "g", b"again").bytes == b"again"
    assert receive_broadcast(radio, dish, "later", b"too").group == "later"


def test_scatter_gather(make_pair):
    scatter, gather = make_pair(zmq.SCATTER, zmq.GATHER)
    with gevent.Timeout(TIMEOUT):
        for index in range(10):
            scatter.send(b"%d" % index)
        assert [gather.recv() for _ in range(10)] == [b"%d" % index for index in range(10)]


def test_scatter_round_robins(ctx, transport, tmp_path):
    scatter = new_socket(ctx, zmq.SCATTER)
    scatter.bind(endpoint_for(transport, tmp_path))
    gathers = [new_socket(ctx, zmq.GATHER) for _ in range(2)]
    handshakes = wait_handshakes(scatter, count=2, transport=transport)
    for gather in gathers:
        gather.connect(scatter.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        handshakes()
        for index in range(6):
            scatter.send(b"%d" % index)
        counts = [len([gather.recv() for _ in range(3)]) for gather in gathers]
    assert counts == [3, 3]


def test_channel(make_pair):
    first, second = make_pair(zmq.CHANNEL, zmq.CHANNEL)
    with gevent.Timeout(TIMEOUT):
        first.send(b"ping")
        assert second.recv() == b"ping"
        second.send(b"pong")
        assert first.recv() == b"pong"


def test_channel_keeps_to_one_peer(ctx, transport, tmp_path):
    channel = new_socket(ctx, zmq.CHANNEL)
    channel.bind(endpoint_for(transport, tmp_path))
    first = new_socket(ctx, zmq.CHANNEL)
    first.connect(channel.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        first.send(b"one")
        assert channel.recv() == b"one"
    second = new_socket(ctx, zmq.CHANNEL)
    second.connect(channel.last_endpoint)
    try:
        second.send(b"ignored", zmq.NOBLOCK)  # queued where nobody reads (or, inproc, no room at all)
    except zmq.Again:
        pass
    with gevent.Timeout(TIMEOUT):
        channel.send(b"reply")
        assert first.recv() == b"reply"
    assert not channel.poll(100)
    assert not second.poll(10)


def test_peer_to_peer(ctx, transport, tmp_path):
    listener = new_socket(ctx, zmq.PEER)
    listener.bind(endpoint_for(transport, tmp_path))
    caller = new_socket(ctx, zmq.PEER)
    routing_id = caller.connect_peer(listener.last_endpoint)
    assert 0 < routing_id < 2**32
    with gevent.Timeout(TIMEOUT):
        caller.send(b"hello", routing_id=routing_id)  # queued until the connection is made
        frame = listener.recv(copy=False)
        assert frame.bytes == b"hello"
        listener.send(b"hi back", routing_id=frame.routing_id)
        reply = caller.recv(copy=False)
    assert (reply.bytes, reply.routing_id) == (b"hi back", routing_id)


def test_peer_connects_to_several_peers(ctx, transport, tmp_path):
    peers = [new_socket(ctx, zmq.PEER) for _ in range(2)]
    hub = new_socket(ctx, zmq.PEER)
    ids = []
    for index, peer in enumerate(peers):
        peer.bind(endpoint_for(transport, tmp_path, f"peer{index}"))
        ids.append(hub.connect_peer(peer.last_endpoint))
    assert len(set(ids)) == 2
    with gevent.Timeout(TIMEOUT):
        for index, routing_id in enumerate(ids):
            hub.send(b"to %d" % index, routing_id=routing_id)
        assert [peer.recv() for peer in peers] == [b"to 0", b"to 1"]


# -- the one-frame rule and the other errors ------------------------------------------

@pytest.mark.parametrize("socket_type", SENDING_TYPES)
def test_sndmore_is_einval(ctx, socket_type):
    s = new_socket(ctx, socket_type)
    raises_errno(zmq.EINVAL, s.send, b"first", zmq.SNDMORE)
    raises_errno(zmq.EINVAL, s.send_multipart, [b"first", b"second"])
    s.close()


@pytest.mark.parametrize(("socket_type", "call"), [
    (zmq.DISH, "send"), (zmq.GATHER, "send"), (zmq.RADIO, "recv"), (zmq.SCATTER, "recv"),
])
def test_the_direction_a_type_lacks_is_enotsup(ctx, socket_type, call):
    s = new_socket(ctx, socket_type)
    if call == "send":
        raises_errno(zmq.ENOTSUP, s.send, b"x", zmq.NOBLOCK)
        raises_errno(zmq.ENOTSUP, s.send, b"x", zmq.SNDMORE)
    else:
        raises_errno(zmq.ENOTSUP, s.recv, zmq.NOBLOCK)
    s.close()


@pytest.mark.parametrize("socket_type", [zmq.SERVER, zmq.PEER])
def test_server_and_peer_need_a_known_routing_id(ctx, transport, tmp_path, socket_type):
    other = zmq.CLIENT if socket_type == zmq.SERVER else zmq.PEER
    server, client = connected(ctx, transport, tmp_path, socket_type, other)
    raises_errno(zmq.EHOSTUNREACH, server.send, b"no routing id")
    raises_errno(zmq.EHOSTUNREACH, partial(server.send, b"unknown", routing_id=12345))
    raises_errno(zmq.EHOSTUNREACH, server.send, zmq.Frame(b"untagged frame"))


def test_routing_id_values_are_checked_as_pyzmq_does(ctx):
    server = new_socket(ctx, zmq.SERVER)
    raises_errno(zmq.EINVAL, partial(server.send, b"x", routing_id=0))
    with pytest.raises(OverflowError):
        server.send(b"x", routing_id=-1)
    with pytest.raises(OverflowError):
        server.send(b"x", routing_id=2**32)
    with pytest.raises(TypeError):
        server.send(b"x", routing_id="7")


def test_connect_peer_errors(ctx, transport, tmp_path):
    peer = new_socket(ctx, zmq.PEER, immediate=1)
    raises_errno(zmq.EFAULT, peer.connect_peer, endpoint_for(transport, tmp_path))
    client = new_socket(ctx, zmq.CLIENT)
    raises_errno(zmq.ENOTSUP, client.connect_peer, endpoint_for(transport, tmp_path))
    closed = new_socket(ctx, zmq.PEER)
    closed.close()
    raises_errno(zmq.ENOTSOCK, closed.connect_peer, endpoint_for(transport, tmp_path))


def test_join_and_leave_follow_libzmqs_rules(ctx):
    dish = new_socket(ctx, zmq.DISH)
    dish.join("g")
    raises_errno(zmq.EINVAL, dish.join, "g")  # twice
    raises_errno(zmq.EINVAL, dish.join, "x" * 256)
    dish.join("x" * 255)
    raises_errno(zmq.EINVAL, dish.leave, "never joined")
    raises_errno(zmq.EINVAL, dish.leave, "x" * 256)
    dish.leave("g")
    raises_errno(zmq.EINVAL, dish.leave, "g")
    dish.join(b"g")  # joinable again


@pytest.mark.parametrize("socket_type", [zmq.RADIO, zmq.SUB, zmq.CLIENT, zmq.SERVER])
def test_join_on_other_types_is_enotsup(ctx, socket_type):
    s = new_socket(ctx, socket_type)
    raises_errno(zmq.ENOTSUP, s.join, "g")
    raises_errno(zmq.ENOTSUP, s.leave, "g")


def test_dish_lingers_zero_by_default_as_libzmq(ctx):
    dish = ctx.socket(zmq.DISH)
    radio = ctx.socket(zmq.RADIO)
    assert (dish.linger, radio.linger) == (0, -1)
    dish.close()
    radio.close()


def test_radio_takes_xpub_nodrop(ctx):
    radio = new_socket(ctx, zmq.RADIO)
    radio.xpub_nodrop = 1
    dish = new_socket(ctx, zmq.DISH)
    raises_errno(zmq.EINVAL, dish.setsockopt, zmq.XPUB_NODROP, 1)


def test_radio_nodrop_waits_for_a_full_dish(ctx):
    radio = new_socket(ctx, zmq.RADIO, sndhwm=1, xpub_nodrop=1)
    radio.bind("inproc://nodrop")
    dish = new_socket(ctx, zmq.DISH, rcvhwm=1)
    dish.connect("inproc://nodrop")
    dish.join("g")
    with gevent.Timeout(TIMEOUT):
        sent = 0
        while True:
            try:
                radio.send(b"%d" % sent, zmq.NOBLOCK, group="g")
            except zmq.Again:
                break
            sent += 1
        assert [dish.recv() for _ in range(sent)] == [b"%d" % i for i in range(sent)]
        radio.send(b"room again", zmq.NOBLOCK, group="g")
        assert dish.recv() == b"room again"


def test_client_blocks_while_no_server_has_room(ctx):
    client = new_socket(ctx, zmq.CLIENT, sndtimeo=100)
    raises_errno(zmq.EAGAIN, client.send, b"nobody")
    server = new_socket(ctx, zmq.SERVER, rcvhwm=1)
    server.bind("inproc://full")
    client.sndhwm = 1
    client.connect("inproc://full")
    with gevent.Timeout(TIMEOUT):
        while True:
            try:
                client.send(b"fill", zmq.NOBLOCK)
            except zmq.Again:
                break
    raises_errno(zmq.EAGAIN, client.send, b"too much")


def test_server_waits_for_room_at_its_peer(ctx):
    server = new_socket(ctx, zmq.SERVER, sndhwm=1)
    server.bind("inproc://server-full")
    client = new_socket(ctx, zmq.CLIENT, rcvhwm=1)
    client.connect("inproc://server-full")
    with gevent.Timeout(TIMEOUT):
        client.send(b"hi")
        routing_id = server.recv(copy=False).routing_id
        sent = 0
        while True:
            try:
                server.send(b"%d" % sent, zmq.NOBLOCK, routing_id=routing_id)
            except zmq.Again:
                break
            sent += 1
        waiter = gevent.spawn(server.send, b"last", routing_id=routing_id)
        gevent.sleep(0.05)
        assert not waiter.ready()
        received = [client.recv() for _ in range(sent + 1)]
        waiter.get()
    assert received[-1] == b"last"


# -- frames --------------------------------------------------------------------------

def test_frame_routing_id_and_group():
    frame = zmq.Frame(b"x")
    raises_errno(zmq.EINVAL, getattr, frame, "routing_id")
    assert frame.group == ""
    frame.routing_id = 7
    frame.group = "g"
    assert (frame.routing_id, frame.group, frame.get("routing_id"), frame["group"]) == (7, "g", 7, "g")
    frame.group = b"bytes group"
    assert frame.group == "bytes group"
    frame.group = b"cut\0here"
    assert frame.group == "cut"  # a C string to libzmq
    frame.group = "x" * 300
    assert frame.group == "x" * 255  # zmq_msg_set_group cuts silently
    raises_errno(zmq.EINVAL, setattr, frame, "routing_id", 0)
    with pytest.raises(OverflowError):
        frame.routing_id = 2**32
    copy = frame.fast_copy()
    assert (copy.routing_id, copy.group) == (7, "x" * 255)


def test_send_with_a_group_on_a_frame(ctx):
    radio = new_socket(ctx, zmq.RADIO)
    radio.bind("inproc://frame-group")
    dish = new_socket(ctx, zmq.DISH)
    dish.connect("inproc://frame-group")
    dish.join("g")
    frame = zmq.Frame(b"tagged")
    frame.group = "g"
    with gevent.Timeout(TIMEOUT):
        radio.send(frame)
        received = dish.recv_multipart(copy=False)
    assert [(f.bytes, f.group) for f in received] == [(b"tagged", "g")]


def test_received_frames_of_a_client_have_no_routing_id(ctx):
    server = new_socket(ctx, zmq.SERVER)
    server.bind("inproc://no-id")
    client = new_socket(ctx, zmq.CLIENT)
    client.connect("inproc://no-id")
    with gevent.Timeout(TIMEOUT):
        client.send(b"hi")
        server.send(b"back", routing_id=server.recv(copy=False).routing_id)
        reply = client.recv(copy=False)
    raises_errno(zmq.EINVAL, getattr, reply, "routing_id")


def test_zero_copy_sends(ctx, transport, tmp_path):
    server, client = connected(ctx, transport, tmp_path, zmq.SERVER, zmq.CLIENT)
    payload = bytearray(b"z" * 100_000)
    with gevent.Timeout(TIMEOUT):
        client.send(payload, copy=False)
        request = server.recv(copy=False)
        assert request.bytes == bytes(payload)
        tracker = server.send(memoryview(payload), copy=False, track=True, routing_id=request.routing_id)
        assert client.recv() == bytes(payload)
        tracker.wait(TIMEOUT)


# -- many greenlets on one socket ----------------------------------------------------

def test_many_greenlets_share_one_client(ctx, transport, tmp_path):
    server, client = connected(ctx, transport, tmp_path, zmq.SERVER, zmq.CLIENT)

    def serve():
        while True:
            frame = server.recv(copy=False)
            server.send(b"re:" + frame.bytes, routing_id=frame.routing_id)

    def ask(index):
        for round_ in range(20):
            client.send(b"%d-%d" % (index, round_))
        return [client.recv() for _ in range(20)]

    serving = gevent.spawn(serve)
    try:
        with gevent.Timeout(TIMEOUT):
            replies = [r for batch in gevent.joinall([gevent.spawn(ask, i) for i in range(10)], raise_error=True)
                       for r in batch.value]
    finally:
        serving.kill()
    assert sorted(replies) == sorted(b"re:%d-%d" % (i, r) for i in range(10) for r in range(20))


def test_many_greenlets_wait_on_one_dish(ctx):
    radio = new_socket(ctx, zmq.RADIO)
    radio.bind("inproc://waiters")
    dish = new_socket(ctx, zmq.DISH)
    dish.connect("inproc://waiters")
    dish.join("g")
    waiters = [gevent.spawn(dish.recv) for _ in range(5)]
    gevent.sleep(0)
    with gevent.Timeout(TIMEOUT):
        for index in range(5):
            radio.send(b"%d" % index, group="g")
        gevent.joinall(waiters, raise_error=True)
    assert sorted(w.value for w in waiters) == [b"%d" % i for i in range(5)]


# -- encrypted ---------------------------------------------------------------------------

@pytest.mark.curve
def test_radio_dish_and_client_server_over_curve(ctx):
    """JOIN commands and hello messages are sealed like any other traffic."""
    from security_support import CLIENT_PUBLIC, CLIENT_SECRET, SERVER_PUBLIC, SERVER_SECRET

    def secured(socket_type, server):
        s = new_socket(ctx, socket_type)
        if server:
            s.curve_server = 1
            s.curve_secretkey = SERVER_SECRET
        else:
            s.curve_serverkey = SERVER_PUBLIC
            s.curve_publickey = CLIENT_PUBLIC
            s.curve_secretkey = CLIENT_SECRET
        return s

    radio, dish = secured(zmq.RADIO, True), secured(zmq.DISH, False)
    radio.bind("tcp://127.0.0.1:*")
    dish.join("secret group")
    dish.connect(radio.last_endpoint)
    frame = receive_broadcast(radio, dish, "secret group", b"sealed")
    assert (frame.bytes, frame.group) == (b"sealed", "secret group")

    server, client = secured(zmq.SERVER, True), secured(zmq.CLIENT, False)
    server.hello_msg = b"sealed hello"
    server.bind("tcp://127.0.0.1:*")
    client.connect(server.last_endpoint)
    with gevent.Timeout(TIMEOUT):
        assert client.recv() == b"sealed hello"


def test_addresses_through_the_other_send_forms(ctx):
    server = new_socket(ctx, zmq.SERVER)
    server.bind("inproc://forms")
    client = new_socket(ctx, zmq.CLIENT)
    client.connect("inproc://forms")
    with gevent.Timeout(TIMEOUT):
        client.send(b"hi")
        routing_id = server.recv(copy=False).routing_id
        server.send_multipart([b"multipart form"], routing_id=routing_id)
        server.send_string("string form", routing_id=routing_id)
        server.send_json({"json": "form"}, routing_id=routing_id)
        server.send_pyobj(("pyobj", "form"), routing_id=routing_id)
        assert client.recv() == b"multipart form"
        assert client.recv_string() == "string form"
        assert client.recv_json() == {"json": "form"}
        assert client.recv_pyobj() == ("pyobj", "form")
    raises_errno(zmq.EINVAL, partial(server.send_multipart, [b"a", b"b"], routing_id=routing_id))

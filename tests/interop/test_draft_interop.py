"""greenmq's draft socket types and draft options against a libzmq 4.3.4 built with drafts, over tcp.

Each test runs both ways: greenmq in one role and a draft libzmq process
(draft_peer.py) in the other, and each side binding in turn. The two sides
are wrapped in one small interface (:class:`GreenEnd`, :class:`DraftEnd`),
so that one test body serves every combination: what it checks is what
crosses the wire -- routing ids on received frames, groups, JOIN/LEAVE,
the order of frames, and the messages the draft options make (HELLO_MSG,
DISCONNECT_MSG, ROUTER_NOTIFY; libzmq 4.3.4 has no HICCUP_MSG) -- in the
clear and over CURVE, and again after the bound side restarts -- and what
the publish-subscribe, reconnection and ZAP draft options change between
the two (ONLY_FIRST_SUBSCRIBE, XPUB_MANUAL_LAST_VALUE, RECONNECT_STOP,
ZAP_ENFORCE_DOMAIN; libzmq 4.3.4 has them all).
"""

import time
from typing import NamedTuple

import gevent
import pytest

import greenmq as zmq

from .draft_support import DraftRefused
from .libzmq_peer import greenmq_socket

pytestmark = pytest.mark.draft_interop

TCP = "tcp://127.0.0.1:*"
STEP = 30  # seconds, the bound on each test's exchange
QUIET_MS = 100  # how long "nothing more arrives" is watched


class Got(NamedTuple):
    """One frame received: routing id 0 and group b"" when it has none (as libzmq's accessors)."""

    data: bytes
    routing_id: int
    group: bytes


class GreenEnd:
    """A greenmq socket of the test process."""

    def __init__(self, ctx, socket_type, options):
        self._made = (ctx, socket_type, options)
        self.sock = self._new_socket()

    def _new_socket(self):
        ctx, socket_type, options = self._made
        sock = greenmq_socket(ctx, getattr(zmq, socket_type))
        for option, value in options.items():
            sock.setsockopt(getattr(zmq, option), value)
        return sock

    def bind(self, endpoint=TCP):
        self.sock.bind(endpoint)
        self.endpoint = self.sock.last_endpoint.decode()
        return self.endpoint

    def restart(self):
        """Close the socket; bind a new one like it where it was bound (the peer's reconnection finds it)."""
        self.sock.close()
        self.sock = self._new_socket()
        _bind_again(self.bind, self.endpoint, zmq.ZMQError, lambda error: error.errno == zmq.EADDRINUSE)

    def connect(self, endpoint):
        self.sock.connect(endpoint)

    def connect_peer(self, endpoint):
        return self.sock.connect_peer(endpoint)

    def send(self, data, routing_id=None, group=None):
        address = {key: value for key, value in (("routing_id", routing_id), ("group", group)) if value is not None}
        self.sock.send(data, **address)

    def recv(self):
        frame = self.sock.recv(copy=False)
        try:
            routing_id = frame.routing_id
        except zmq.ZMQError as error:  # none set: libzmq's 0
            assert error.errno == zmq.EINVAL
            routing_id = 0
        return Got(frame.bytes, routing_id, frame.group.encode())

    def quiet(self):
        """Whether nothing arrives within QUIET_MS."""
        return self.sock.poll(QUIET_MS) == 0

    def poll_in(self, ms):
        return self.sock.poll(ms) != 0

    def send_multipart(self, frames):
        self.sock.send_multipart(frames)

    def recv_multipart(self):
        return self.sock.recv_multipart()

    def setsockopt(self, option, value):
        self.sock.setsockopt(getattr(zmq, option), value)

    def join(self, group):
        self.sock.join(group)

    def leave(self, group):
        self.sock.leave(group)

    def close(self):
        self.sock.close()


def _bind_again(bind, endpoint, refusal, in_use):
    """``bind(endpoint)``, tried again while the port is still in use (a closed socket frees it a little later)."""
    for _ in range(500):
        try:
            return bind(endpoint)
        except refusal as error:
            if not in_use(error):
                raise
        gevent.sleep(0.01)
    raise AssertionError(f"{endpoint} stayed in use")


class DraftEnd:
    """A socket of a draft libzmq peer process (a new one after :meth:`restart`)."""

    def __init__(self, draft_peers, socket_type, options):
        self.peer = draft_peers.start()
        self.peer.ready()
        self._made = (socket_type, options)
        self.sock = self._new_socket()

    def _new_socket(self):
        socket_type, options = self._made
        sock = self.peer.socket(socket_type)
        for option, value in options.items():
            self.peer.setsockopt(sock, option, value)
        return sock

    def bind(self, endpoint=TCP):
        self.endpoint = self.peer.bind(self.sock, endpoint)
        return self.endpoint

    def restart(self):
        self.close()
        self.sock = self._new_socket()
        _bind_again(self.bind, self.endpoint, DraftRefused, lambda refused: refused.error == "EADDRINUSE")

    def connect(self, endpoint):
        self.peer.connect(self.sock, endpoint)

    def connect_peer(self, endpoint):
        return self.peer.connect_peer(self.sock, endpoint)

    def send(self, data, routing_id=None, group=None):
        self.peer.send(self.sock, data, routing_id=routing_id, group=group)

    def recv(self):
        got = self.peer.recv(self.sock)
        assert not got.more
        return Got(got.data, got.routing_id, got.group)

    def quiet(self):
        return not self.poll_in(QUIET_MS)

    def poll_in(self, ms):
        return self.peer.poll([(self.sock, 1)], timeout=ms) == [1]  # ZMQ_POLLIN

    def send_multipart(self, frames):
        self.peer.send_multipart(self.sock, frames)

    def recv_multipart(self):
        return self.peer.recv_multipart(self.sock)

    def setsockopt(self, option, value):
        self.peer.setsockopt(self.sock, option, value)

    def join(self, group):
        self.peer.join(self.sock, group)

    def leave(self, group):
        self.peer.leave(self.sock, group)

    def close(self):
        self.peer.close_socket(self.sock, linger=0)


class Ends:
    """Makes the two sides of a test: ``make(side, socket_type, **options)``, side "greenmq" or "libzmq"."""

    def __init__(self, ctx, draft_peers):
        self._ctx = ctx
        self._draft_peers = draft_peers
        self._green = []

    def make(self, side, socket_type, **options):
        if side == "greenmq":
            end = GreenEnd(self._ctx, socket_type, options)
            self._green.append(end)
            return end
        return DraftEnd(self._draft_peers, socket_type, options)

    def close(self):
        for end in self._green:
            end.sock.close()


@pytest.fixture
def ends(ctx, draft_peers):
    made = Ends(ctx, draft_peers)
    try:
        yield made
    finally:
        made.close()


OTHER = {"greenmq": "libzmq", "libzmq": "greenmq"}
SIDES = pytest.mark.parametrize("first", ["greenmq", "libzmq"], ids=lambda side: f"{side}-first")
BINDS = pytest.mark.parametrize("first_binds", [True, False], ids=["first-binds", "second-binds"])


def _pair(ends, first_side, first_type, second_type, first_binds, first_options=None, second_options=None):
    """The first end of ``first_side``, the second of the other side; one binds, the other connects."""
    first = ends.make(first_side, first_type, **(first_options or {}))
    second = ends.make(OTHER[first_side], second_type, **(second_options or {}))
    binder, connecter = (first, second) if first_binds else (second, first)
    connecter.connect(binder.bind())
    return first, second


# -- CLIENT / SERVER ------------------------------------------------------------------------------


@SIDES
@BINDS
def test_client_and_server(ends, first, first_binds):
    """A CLIENT's requests reach the SERVER with a routing id (never 0); the reply through it comes back."""
    with gevent.Timeout(STEP):
        client, server = _pair(ends, first, "CLIENT", "SERVER", first_binds)
        client.send(b"request 1")
        client.send(b"request 2")
        first, second = server.recv(), server.recv()
        assert (first.data, second.data) == (b"request 1", b"request 2")
        assert first.routing_id != 0 and second.routing_id == first.routing_id
        assert first.group == b""
        server.send(b"reply 1", routing_id=first.routing_id)
        assert client.recv() == Got(b"reply 1", 0, b"")


@pytest.mark.parametrize("server_side", ["greenmq", "libzmq"])
def test_server_routes_replies_to_each_client(ends, server_side):
    """A bound SERVER with two CLIENTs of the other side answers each through its routing id, in any order."""
    with gevent.Timeout(STEP):
        server = ends.make(server_side, "SERVER")
        endpoint = server.bind()
        clients = [ends.make(OTHER[server_side], "CLIENT") for _ in range(2)]
        routing_ids = {}
        for number, client in enumerate(clients):
            client.connect(endpoint)
            client.send(b"from client %d" % number)
            got = server.recv()
            assert got.routing_id != 0
            routing_ids[got.data] = got.routing_id
        assert len(set(routing_ids.values())) == 2
        for data, routing_id in reversed(list(routing_ids.items())):
            server.send(b"reply to " + data, routing_id=routing_id)
        for number, client in enumerate(clients):
            assert client.recv().data == b"reply to from client %d" % number
            assert client.quiet()


# -- RADIO / DISH over tcp --------------------------------------------------------------------------


def _until_joined(radio, dish, group, probe):
    """Send ``probe`` to ``group`` until the DISH receives one: then the RADIO has its JOIN.

    A RADIO drops what no peer joined, and nothing else tells that the JOIN
    arrived (a bound libzmq DISH sends it only at its next recv or poll:
    receiving here is what makes it go)."""
    for _ in range(500):
        radio.send(probe, group=group)
        if dish.poll_in(20):
            got = dish.recv()
            assert (got.data, got.group) == (probe, group)
            return
    raise AssertionError(f"the DISH never received a probe sent to {group!r}")


def _next_real(dish, probe):
    """The next frame that is not a probe left over from :func:`_until_joined`."""
    while True:
        got = dish.recv()
        if got.data != probe:
            return got


@SIDES
@BINDS
def test_radio_and_dish(ends, first, first_binds):
    """The DISH gets the frames of the groups it joined, each with its group; leave and join change that."""
    with gevent.Timeout(STEP):
        radio, dish = _pair(ends, first, "RADIO", "DISH", first_binds)
        dish.join(b"weather")
        _until_joined(radio, dish, b"weather", b"weather probe")
        radio.send(b"sunny", group=b"weather")
        radio.send(b"goal", group=b"sports")  # not joined: never delivered
        radio.send(b"rainy", group=b"weather")
        assert _next_real(dish, b"weather probe") == Got(b"sunny", 0, b"weather")
        assert dish.recv() == Got(b"rainy", 0, b"weather")

        dish.leave(b"weather")
        dish.join(b"sports")
        _until_joined(radio, dish, b"sports", b"sports probe")
        radio.send(b"cloudy", group=b"weather")  # left: the RADIO no longer sends it
        radio.send(b"match", group=b"sports")
        assert _next_real(dish, b"sports probe") == Got(b"match", 0, b"sports")
        assert dish.quiet()


# -- SCATTER / GATHER -------------------------------------------------------------------------------


MESSAGES = [b"one", b"", b"x" * 300, b"y" * 70000]  # empty, past 255 bytes (long size), large


@SIDES
@BINDS
def test_scatter_and_gather(ends, first, first_binds):
    """Every frame a SCATTER sends reaches the GATHER whole and in order, without routing id or group."""
    with gevent.Timeout(STEP):
        scatter, gather = _pair(ends, first, "SCATTER", "GATHER", first_binds)
        for data in MESSAGES:
            scatter.send(data)
        assert [gather.recv() for _ in MESSAGES] == [Got(data, 0, b"") for data in MESSAGES]
        assert gather.quiet()


# -- CHANNEL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("binder", ["greenmq", "libzmq"], ids=lambda side: f"{side}-binds")
def test_channel_both_directions(ends, binder):
    """Two CHANNELs exchange frames both ways, in order."""
    with gevent.Timeout(STEP):
        bound, connected = _pair(ends, binder, "CHANNEL", "CHANNEL", True)
        for data in MESSAGES:
            connected.send(data)
        assert [bound.recv().data for _ in MESSAGES] == MESSAGES
        for data in reversed(MESSAGES):
            bound.send(data)
        assert [connected.recv() for _ in MESSAGES] == [Got(data, 0, b"") for data in reversed(MESSAGES)]


# -- PEER ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("binder", ["greenmq", "libzmq"], ids=lambda side: f"{side}-binds")
def test_peer_connect_peer(ends, binder):
    """connect_peer returns a routing id at once; a frame sent to it queues until the connection is up; the
    bound PEER replies through the routing id the frame came with, and the reply names the connecting one."""
    with gevent.Timeout(STEP):
        bound = ends.make(binder, "PEER")
        connecting = ends.make(OTHER[binder], "PEER")
        routing_id = connecting.connect_peer(bound.bind())
        assert routing_id != 0
        connecting.send(b"first", routing_id=routing_id)  # before the handshake: queued
        got = bound.recv()
        assert got.data == b"first" and got.routing_id != 0
        bound.send(b"answer", routing_id=got.routing_id)
        assert connecting.recv() == Got(b"answer", routing_id, b"")


@pytest.mark.parametrize("first", ["greenmq", "libzmq"])
def test_peers_connect_to_each_other(ends, first):
    """Each PEER binds and connect_peers the other: two connections, each side routing by its own ids."""
    with gevent.Timeout(STEP):
        a, b = ends.make(first, "PEER"), ends.make(OTHER[first], "PEER")
        a_endpoint, b_endpoint = a.bind(), b.bind()
        a_to_b, b_to_a = a.connect_peer(b_endpoint), b.connect_peer(a_endpoint)
        assert 0 not in (a_to_b, b_to_a)
        a.send(b"a over its connection", routing_id=a_to_b)
        b.send(b"b over its connection", routing_id=b_to_a)
        at_b, at_a = b.recv(), a.recv()
        assert at_b.data == b"a over its connection" and at_a.data == b"b over its connection"
        # The accepted connections have routing ids of their own, apart from those connect_peer gave.
        assert at_b.routing_id not in (0, b_to_a) and at_a.routing_id not in (0, a_to_b)
        b.send(b"back to a", routing_id=at_b.routing_id)
        assert a.recv() == Got(b"back to a", a_to_b, b"")


# -- the draft options on the wire ----------------------------------------------------------------


@SIDES
@pytest.mark.parametrize("sender", ["CLIENT", "SERVER"], ids=["client-says-hello", "server-says-hello"])
def test_hello_msg(ends, first, sender):
    """HELLO_MSG goes to the peer first on a connection, ahead of a frame queued before it (first: the side
    that sets it; the SERVER binds)."""
    with gevent.Timeout(STEP):
        options = {"HELLO_MSG": b"hello from " + sender.encode()}
        if sender == "CLIENT":
            client, server = _pair(ends, first, "CLIENT", "SERVER", False, first_options=options)
        else:
            server, client = _pair(ends, first, "SERVER", "CLIENT", True, first_options=options)
        client.send(b"request")
        if sender == "CLIENT":
            hello = server.recv()
            assert hello.data == b"hello from CLIENT" and hello.routing_id != 0
            assert server.recv() == Got(b"request", hello.routing_id, b"")
        else:
            assert client.recv() == Got(b"hello from SERVER", 0, b"")
            assert server.recv().data == b"request"
            assert client.quiet()


@SIDES
@pytest.mark.parametrize(("bound_type", "connecting_type"), [("SERVER", "CLIENT"), ("ROUTER", "DEALER")])
def test_disconnect_msg(ends, first, bound_type, connecting_type):
    """DISCONNECT_MSG on a bound SERVER or ROUTER (first): when the peer closes, the message comes from it."""
    with gevent.Timeout(STEP):
        bound, connecting = _pair(ends, first, bound_type, connecting_type, True,
                                  first_options={"DISCONNECT_MSG": b"gone"},
                                  second_options={"ROUTING_ID": b"peer-1"} if connecting_type == "DEALER" else {})
        if bound_type == "SERVER":
            connecting.send(b"hi")
            hi = bound.recv()
            assert hi.data == b"hi"
            connecting.close()
            assert bound.recv() == Got(b"gone", hi.routing_id, b"")
        else:
            connecting.send_multipart([b"hi"])
            assert bound.recv_multipart() == [b"peer-1", b"hi"]
            connecting.close()
            assert bound.recv_multipart() == [b"peer-1", b"gone"]
        assert bound.quiet()


@SIDES
@BINDS
def test_router_notify(ends, first, first_binds):
    """ROUTER_NOTIFY on a ROUTER (first): an empty frame from a DEALER's routing id when it connects and when
    it goes, around its own messages."""
    with gevent.Timeout(STEP):
        router, dealer = _pair(ends, first, "ROUTER", "DEALER", first_binds,
                               first_options={"ROUTER_NOTIFY": zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT},
                               second_options={"ROUTING_ID": b"dealer-1"})
        assert router.recv_multipart() == [b"dealer-1", b""]
        dealer.send_multipart([b"work"])
        assert router.recv_multipart() == [b"dealer-1", b"work"]
        dealer.close()
        assert router.recv_multipart() == [b"dealer-1", b""]


# -- over CURVE --------------------------------------------------------------------------------------


SERVER_PUBLIC, SERVER_SECRET = zmq.curve_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = zmq.curve_keypair()
CURVE_SERVER = {"CURVE_SERVER": 1, "CURVE_SECRETKEY": SERVER_SECRET}
CURVE_CLIENT = {"CURVE_SERVERKEY": SERVER_PUBLIC, "CURVE_PUBLICKEY": CLIENT_PUBLIC, "CURVE_SECRETKEY": CLIENT_SECRET}


@SIDES
@BINDS
def test_radio_and_dish_over_curve(ends, first, first_binds):
    """JOIN and LEAVE travel as CURVE MESSAGE commands (the RADIO is the CURVE server here), and the
    two-frame group messages come back sealed: the groups work as in the clear."""
    with gevent.Timeout(STEP):
        radio, dish = _pair(ends, first, "RADIO", "DISH", first_binds, CURVE_SERVER, CURVE_CLIENT)
        dish.join(b"weather")
        _until_joined(radio, dish, b"weather", b"weather probe")
        radio.send(b"sunny", group=b"weather")
        assert _next_real(dish, b"weather probe") == Got(b"sunny", 0, b"weather")
        dish.leave(b"weather")
        dish.join(b"sports")
        _until_joined(radio, dish, b"sports", b"sports probe")
        radio.send(b"cloudy", group=b"weather")
        radio.send(b"match", group=b"sports")
        assert _next_real(dish, b"sports probe") == Got(b"match", 0, b"sports")


@SIDES
def test_client_and_server_over_curve(ends, first):
    """A CURVE SERVER (first, bound) and CLIENT: the request keeps its routing id, the reply comes back."""
    with gevent.Timeout(STEP):
        server, client = _pair(ends, first, "SERVER", "CLIENT", True, CURVE_SERVER, CURVE_CLIENT)
        client.send(b"secret request")
        got = server.recv()
        assert got.data == b"secret request" and got.routing_id != 0
        server.send(b"secret reply", routing_id=got.routing_id)
        assert client.recv() == Got(b"secret reply", 0, b"")


# -- when the bound side restarts ---------------------------------------------------------------------

RECONNECTING = {"RECONNECT_IVL": 20}  # ms: the connecting side finds the restarted socket soon


RESTARTS = pytest.mark.parametrize("restarting", ["greenmq", "libzmq"], ids=lambda side: f"{side}-restarts")


@RESTARTS
def test_hello_again_after_the_server_restarts(ends, restarting):
    """A connecting CLIENT with HELLO_MSG says hello again on its new connection to a restarted SERVER."""
    with gevent.Timeout(STEP):
        server, client = _pair(ends, restarting, "SERVER", "CLIENT", True,
                               second_options={"HELLO_MSG": b"hello", **RECONNECTING})
        assert server.recv().data == b"hello"
        server.restart()
        hello = server.recv()
        assert hello.data == b"hello"
        client.send(b"after")
        assert server.recv() == Got(b"after", hello.routing_id, b"")


@RESTARTS
def test_dish_joins_again_after_the_radio_restarts(ends, restarting):
    """A connecting DISH sends its groups again to a restarted RADIO, which sends it those only."""
    with gevent.Timeout(STEP):
        radio, dish = _pair(ends, restarting, "RADIO", "DISH", True, second_options=RECONNECTING)
        dish.join(b"weather")
        _until_joined(radio, dish, b"weather", b"probe")
        radio.restart()
        _until_joined(radio, dish, b"weather", b"probe again")
        radio.send(b"goal", group=b"sports")
        radio.send(b"sunny", group=b"weather")
        assert _next_real(dish, b"probe again") == Got(b"sunny", 0, b"weather")


@RESTARTS
def test_router_notify_across_a_reconnection(ends, restarting):
    """A connecting ROUTER with ROUTER_NOTIFY: the DEALER's going, then its coming back, each an empty frame
    from its routing id, then its messages."""
    with gevent.Timeout(STEP):
        dealer, router = _pair(ends, restarting, "DEALER", "ROUTER", True, first_options={"ROUTING_ID": b"dealer-1"},
                               second_options={"ROUTER_NOTIFY": zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT,
                                               **RECONNECTING})
        assert router.recv_multipart() == [b"dealer-1", b""]
        dealer.restart()
        assert router.recv_multipart() == [b"dealer-1", b""]  # disconnected
        assert router.recv_multipart() == [b"dealer-1", b""]  # connected again
        dealer.send_multipart([b"back"])
        assert router.recv_multipart() == [b"dealer-1", b"back"]


# -- the publish-subscribe, reconnection and ZAP draft options ---------------------------------------


@SIDES
@pytest.mark.parametrize("only_first", [1, 0], ids=["only-first", "every-part"])
def test_only_first_subscribe(ends, first, only_first):
    """An XSUB (the other side) sends a data message whose second part looks like a subscription: with
    ONLY_FIRST_SUBSCRIBE on both it stays data, without it the XPUB (first) subscribes the XSUB to X."""
    options = {"ONLY_FIRST_SUBSCRIBE": only_first}
    with gevent.Timeout(STEP):
        xpub, xsub = _pair(ends, first, "XPUB", "XSUB", True, options, options)
        xsub.send_multipart([b"\x01ready"])
        assert xpub.recv_multipart() == [b"\x01ready"]
        xsub.send_multipart([b"data", b"\x01X"])
        assert xpub.recv_multipart() == [b"data", b"\x01X"]
        xpub.send_multipart([b"X"])
        xpub.send_multipart([b"ready"])
        if not only_first:
            assert xsub.recv_multipart() == [b"X"]
        assert xsub.recv_multipart() == [b"ready"]


@SIDES
def test_xpub_manual_last_value(ends, first):
    """An XPUB (first) with XPUB_MANUAL_LAST_VALUE answers each new subscriber with the cached value: it
    goes to that SUB alone; the next message goes to both."""
    with gevent.Timeout(STEP):
        xpub = ends.make(first, "XPUB", XPUB_MANUAL_LAST_VALUE=1)
        endpoint = xpub.bind()
        subs = []
        for _ in range(2):
            sub = ends.make(OTHER[first], "SUB", SUBSCRIBE=b"t")
            sub.connect(endpoint)
            subs.append(sub)
            assert xpub.recv_multipart() == [b"\x01t"]
            xpub.setsockopt("SUBSCRIBE", b"t")
            xpub.send_multipart([b"t cached"])
            assert sub.recv_multipart() == [b"t cached"]
        assert subs[0].quiet()  # the first SUB did not get the value twice
        xpub.send_multipart([b"t next"])
        assert [sub.recv_multipart() for sub in subs] == [[b"t next"]] * 2


@pytest.mark.parametrize("connector", ["greenmq", "libzmq"], ids=lambda side: f"{side}-connects")
@pytest.mark.parametrize("stop", [True, False], ids=["stop", "retry"])
def test_reconnect_stop_handshake_failed(ends, connector, stop):
    """A DEALER (connector) whose handshakes a ROUTER refuses (a PLAIN server, no ZAP handler): with
    RECONNECT_STOP_HANDSHAKE_FAILED it tries once, else again and again (counted on greenmq's side)."""
    bits = 2 if stop else 0  # RECONNECT_STOP_HANDSHAKE_FAILED in 4.3.4 as in 4.3.5
    with gevent.Timeout(STEP):
        router = ends.make(OTHER[connector], "ROUTER", PLAIN_SERVER=1)
        dealer = ends.make(connector, "DEALER", RECONNECT_STOP=bits, RECONNECT_IVL=10,
                           PLAIN_USERNAME=b"user", PLAIN_PASSWORD=b"password")
        green = router if connector == "libzmq" else dealer
        monitor = green.sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_ACCEPTED
                                                | zmq.EVENT_CONNECTED)
        dealer.connect(router.bind())
        attempts = _events_within(monitor, 0.5 if stop else None, 3)
        assert attempts >= (1 if stop else 3)
        if stop:
            assert attempts == 1


def _events_within(monitor, seconds, enough):
    """How many connection attempts ``monitor`` reports (ACCEPTED or CONNECTED): all within ``seconds``,
    or (None) as soon as there are ``enough``."""
    count = 0
    deadline = time.monotonic() + seconds if seconds else None
    while deadline is not None or count < enough:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not monitor.poll(int(left * 1000) + 1):
                break
        header, _endpoint = monitor.recv_multipart()
        if int.from_bytes(header[:2], "little") in (zmq.EVENT_ACCEPTED, zmq.EVENT_CONNECTED):
            count += 1
    return count


@SIDES
@pytest.mark.parametrize("enforce", [1, 0], ids=["enforce", "lenient"])
def test_zap_enforce_domain_without_a_handler(ends, first, enforce):
    """A NULL PULL (first) with a ZAP_DOMAIN and no ZAP handler: enforcing, it lets no PUSH in;
    lenient (libzmq's default), the message arrives."""
    with gevent.Timeout(STEP):
        pull, push = _pair(ends, first, "PULL", "PUSH", True, {"ZAP_DOMAIN": b"domain", "ZAP_ENFORCE_DOMAIN": enforce},
                           {"LINGER": 0})
        push.send_multipart([b"let me in"])
        if enforce:
            assert not pull.poll_in(300)
        else:
            assert pull.recv_multipart() == [b"let me in"]

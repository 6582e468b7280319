"""PLAIN, CURVE and ZAP between greenmq and real libzmq (pyzmq in a subprocess).

Each side takes its turn as the server, with its own ZAP handler: greenmq's
``greenmq.auth.thread.ThreadAuthenticator`` in this process, pyzmq's
``zmq.auth.thread.ThreadAuthenticator`` in the peer process (libzmq_peer.py
``auth=``). Hand-made handlers (a REP at inproc://zeromq.zap.01, on either
side) show what a server actually asks: the ZAP domain, the mechanism, the
peer's address.

A refused client must get nothing through, must be told why
(HANDSHAKE_FAILED_AUTH with the handler's status code, on whichever side
can be watched) and -- libzmq's behaviour -- must not reconnect: the clients
here reconnect every RECONNECT_IVL_MS, and a short watch shows no second
connection. The CURVE tests use the test key pairs of zmq_curve(7).
"""

import os
import struct
from contextlib import contextmanager

import gevent
import pytest

import greenmq as zmq
from greenmq.auth import CURVE_ALLOW_ANY
from greenmq.auth.thread import ThreadAuthenticator
from greenmq.utils import z85
from security_support import (
    CLIENT_PUBLIC,
    CLIENT_PUBLIC_Z85,
    CLIENT_SECRET,
    CLIENT_SECRET_Z85,
    SERVER_PUBLIC,
    SERVER_PUBLIC_Z85,
    SERVER_SECRET,
    SERVER_SECRET_Z85,
    ZAP_ENDPOINT,
)
from support import WIRE_TRANSPORTS, assert_nothing_arrives

from .libzmq_peer import (
    WAIT,
    assert_same_message,
    greenmq_socket,
    local_endpoint,
    message_digest,
    plan_message,
    write_public_certificate,
)

RECONNECT_IVL_MS = 20  # refused clients would try again this often...
NO_RECONNECT_WATCH = 0.5  # ...during this many seconds
QUIET_MS = 300  # how long "nothing arrives" is watched for

USERS = {"admin": "s3cret"}
ZAP_DOMAIN = "interop-domain"
BIG = 10 * 1024 * 1024
# The large-message plans: one frame of 10 MB, then a multipart message around one.
LARGE_PLAN = [[BIG], [5, BIG, 0, 1000, 1]]

SERVERS = ["greenmq", "libzmq"]
server_and_transport = pytest.mark.parametrize(
    ("server", "transport"), [(server, transport) for server in SERVERS for transport in WIRE_TRANSPORTS])


# -- helpers ----------------------------------------------------------------------------------------


class Monitor:
    """A greenmq socket's monitor events as (name, value) pairs, read when the test asks."""

    def __init__(self, sock):
        self.sock = sock
        self.socket = sock.get_monitor_socket()
        self.events = []

    def _read(self, timeout_ms=100):
        if self.socket.poll(timeout_ms):
            header, _ = self.socket.recv_multipart()
            event, value = struct.unpack("=HI", header)
            self.events.append((zmq.Event(event).name, value))

    def count(self, name):
        return sum(1 for event, _ in self.events if event == name)

    def values(self, name):
        return [value for event, value in self.events if event == name]

    def wait_for(self, *names, count=1, timeout=10):
        """Read events until one of ``names`` has been seen ``count`` times."""
        try:
            with gevent.Timeout(timeout):
                while max(self.count(name) for name in names) < count:
                    self._read()
        except gevent.Timeout:
            raise AssertionError(f"fewer than {count} {names} events within {timeout} s: {self.events}") from None

    def collect(self, seconds):
        """Read events for ``seconds`` (to show that something does *not* happen)."""
        with gevent.Timeout(seconds, False):
            while True:
                self._read()

    def close(self):
        self.sock.disable_monitor()
        self.socket.close(0)


@contextmanager
def greenmq_authenticator(ctx, plain=None, curve=None, allow=(), deny=()):
    """greenmq's ThreadAuthenticator on ``ctx``: PLAIN ``{user: password}``, CURVE certificate directory
    (or CURVE_ALLOW_ANY), address lists -- the ``auth=`` of a libzmq peer, on this side."""
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        if allow:
            auth.allow(*allow)
        if deny:
            auth.deny(*deny)
        if plain is not None:
            auth.configure_plain(domain="*", passwords=plain)
        if curve is not None:
            auth.configure_curve(domain="*", location=curve)
        yield auth
    finally:
        auth.stop()


@contextmanager
def greenmq_zap_handler(ctx, statuses):
    """A hand-made ZAP handler on ``ctx``: answers the n-th request with ``statuses[n]`` (the last one
    from then on) and user id b"gm-user" when admitting; yields the list of requests it got."""
    handler = ctx.socket(zmq.REP)
    handler.linger = 0
    handler.bind(ZAP_ENDPOINT)
    requests = []

    def serve():
        while True:
            request = handler.recv_multipart()
            status = statuses[min(len(requests), len(statuses) - 1)]
            requests.append(request)
            user_id = b"gm-user" if status == b"200" else b""
            handler.send_multipart([request[0], request[1], status, b"interop", user_id, b""])

    greenlet = gevent.spawn(serve)
    try:
        yield requests
    finally:
        greenlet.kill()
        handler.close()


def curve_server_options(secret=SERVER_SECRET_Z85):
    return {"CURVE_SERVER": 1, "CURVE_SECRETKEY": z85_text(secret)}


def curve_client_options(public=CLIENT_PUBLIC_Z85, secret=CLIENT_SECRET_Z85, server=SERVER_PUBLIC_Z85):
    return {"CURVE_SERVERKEY": z85_text(server), "CURVE_PUBLICKEY": z85_text(public),
            "CURVE_SECRETKEY": z85_text(secret)}


def z85_text(key):
    """A Z85 key as text, the way the options above hand it to either side."""
    return key.decode() if isinstance(key, bytes) else key


def plain_client_options(user, password):
    return {"PLAIN_USERNAME": user, "PLAIN_PASSWORD": password}


def set_options(sock, options):
    """pyzmq-style option names (as the peer takes them) on a greenmq socket; str values as text."""
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name), value.encode() if isinstance(value, str) else value)


def client_options(options):
    """A refused client's options: reconnect fast, so that a client that does reconnect is seen to."""
    return {**options, "RECONNECT_IVL": RECONNECT_IVL_MS}


def certificate_dir(tmp_path, *public_keys):
    """A directory of public certificates (for configure_curve) admitting ``public_keys`` (Z85)."""
    directory = tmp_path / "certificates"
    directory.mkdir()
    for i, key in enumerate(public_keys):
        write_public_certificate(directory / f"client{i}.key", key)
    return str(directory)


def expected_peer_address(transport, pid):
    """What libzmq gives as a peer's address (ZAP request, Peer-Address): the IP for tcp, and for ipc
    ``localhost:UID:GID:PID`` (the peer process's SO_PEERCRED)."""
    if transport == "tcp":
        return "127.0.0.1"
    return f"localhost:{os.getuid()}:{os.getgid()}:{pid}"


def greenmq_receive(sock, timeout_ms=10000):
    """A message from a greenmq socket as Frames (for their metadata), or None within ``timeout_ms``."""
    if not sock.poll(timeout_ms):
        return None
    return sock.recv_multipart(copy=False)


def try_send(sock, message):
    """Queue a message on a client that is being refused (a greenmq socket or a libzmq ctl peer):
    it must never arrive. Its connection may already have failed, leaving nowhere to queue it."""
    if isinstance(sock, zmq.Socket):
        try:
            sock.send(message, zmq.DONTWAIT)
        except zmq.Again:
            pass
    else:
        assert sock.send_frames([message], dontwait=True) in (None, "EAGAIN")


def properties(frame):
    """User-Id and Peer-Address of a greenmq Frame, None where it has none."""
    found = {}
    for name in ("User-Id", "Peer-Address"):
        try:
            found[name] = frame.get(name)
        except zmq.ZMQError:
            found[name] = None
    return found


# -- the test keys -------------------------------------------------------------------------------------


@pytest.mark.curve  # zmq.curve_public needs PyNaCl
def test_curve_test_keys():
    """zmq_curve(7)'s key pairs: the Z85 texts encode the hex keys, and each public key is its secret's."""
    for raw, text in ((CLIENT_PUBLIC, CLIENT_PUBLIC_Z85), (CLIENT_SECRET, CLIENT_SECRET_Z85),
                      (SERVER_PUBLIC, SERVER_PUBLIC_Z85), (SERVER_SECRET, SERVER_SECRET_Z85)):
        assert z85.decode(text.decode()) == raw
        assert z85.encode(raw) == text
    assert zmq.curve_public(CLIENT_SECRET_Z85) == CLIENT_PUBLIC_Z85
    assert zmq.curve_public(SERVER_SECRET_Z85) == SERVER_PUBLIC_Z85
    assert zmq.curve_public(SERVER_SECRET_Z85.decode()) == SERVER_PUBLIC_Z85


# -- PLAIN ---------------------------------------------------------------------------------------------

# libzmq 4.3.5 writes PLAIN's ERROR command name as "\x05ERROR" in C, where the hex escape eats the E:
# its PLAIN server sends b"^RROR" + reason, and its PLAIN client recognises nothing else. So a libzmq
# client refused by a conforming server (greenmq) reports this instead of HANDSHAKE_FAILED_AUTH 400.
LIBZMQ_PLAIN_ERROR_MISREAD = ("HANDSHAKE_FAILED_PROTOCOL", zmq.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND)
HANDSHAKE_FAILURES = ("HANDSHAKE_FAILED_AUTH", "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL")


def failures(events):
    return [event for event in events if event[0] in HANDSHAKE_FAILURES]


@server_and_transport
def test_plain_right_and_wrong_password(ctx, peers, tmp_path, transport, server):
    """One server, two clients: the right password gets through (User-Id is the user name), the
    wrong one gets nothing through, does not reconnect, and is reported as HANDSHAKE_FAILED_AUTH 400."""
    right = plain_client_options("admin", USERS["admin"])
    wrong = client_options(plain_client_options("admin", "guess"))
    endpoint = local_endpoint(transport, tmp_path)
    with gevent.Timeout(WAIT):
        if server == "greenmq":
            _plain_greenmq_server(ctx, peers, endpoint, transport, right, wrong)
        else:
            _plain_libzmq_server(ctx, peers, endpoint, transport, right, wrong)


def _plain_greenmq_server(ctx, peers, endpoint, transport, right, wrong):
    router = greenmq_socket(ctx, zmq.ROUTER)
    router.plain_server = True
    monitor = Monitor(router)
    try:
        with greenmq_authenticator(ctx, plain=USERS):
            router.bind(endpoint)
            endpoint = router.last_endpoint.decode()
            intruder = peers.start("ctl", "DEALER", connect=endpoint, monitor=True, sockopts=wrong)
            intruder.ready()
            try_send(intruder, b"intruder")
            monitor.wait_for("HANDSHAKE_FAILED_AUTH")
            intruder.wait_for_events("DISCONNECTED", 1)

            client = peers.start("ctl", "DEALER", connect=endpoint, sockopts=right)
            client.ready()
            assert client.send_frames([b"hello", b"world"]) is None
            routing_id, *body = greenmq_receive(router)
            assert [frame.bytes for frame in body] == [b"hello", b"world"]
            for frame in body:
                assert properties(frame)["User-Id"] == "admin"
                if transport == "tcp":  # ipc: see test_zap_address_of_ipc_peer_is_libzmqs
                    assert properties(frame)["Peer-Address"] == "127.0.0.1"
            router.send_multipart([routing_id.bytes, b"welcome"])
            assert client.recv_frames() == [b"welcome"]

            monitor.collect(NO_RECONNECT_WATCH)
            intruder.collect_events(0.1)
            assert_nothing_arrives(router, QUIET_MS / 1000)
        assert failures(intruder.events) in ([("HANDSHAKE_FAILED_AUTH", 400)], [LIBZMQ_PLAIN_ERROR_MISREAD])
        assert intruder.event_count("CONNECTED") == 1, intruder.events
        assert failures(monitor.events) == [("HANDSHAKE_FAILED_AUTH", 400)]
        assert monitor.count("ACCEPTED") == 2, monitor.events
        assert monitor.count("HANDSHAKE_SUCCEEDED") == 1, monitor.events
    finally:
        monitor.close()
        router.close()


def _plain_libzmq_server(ctx, peers, endpoint, transport, right, wrong):
    peer = peers.start("ctl", "ROUTER", bind=endpoint, monitor=True, sockopts={"PLAIN_SERVER": 1},
                       auth={"plain": USERS})
    endpoint = peer.ready()
    intruder = greenmq_socket(ctx, zmq.DEALER)
    client = greenmq_socket(ctx, zmq.DEALER)
    set_options(intruder, wrong)
    set_options(client, right)
    monitor = Monitor(intruder)
    try:
        intruder.connect(endpoint)
        try_send(intruder, b"intruder")
        monitor.wait_for(*HANDSHAKE_FAILURES)
        peer.wait_for_events("HANDSHAKE_FAILED_AUTH", 1)

        client.connect(endpoint)
        client.send_multipart([b"hello", b"world"])
        got = peer.recv_message(properties=["User-Id", "Peer-Address"])
        routing_id, *body = got["frames"]
        assert body == [b"hello", b"world"]
        assert got["properties"] == {"User-Id": "admin", "Peer-Address": expected_peer_address(transport, os.getpid())}
        assert peer.send_frames([routing_id, b"welcome"]) is None
        assert client.recv_multipart() == [b"welcome"]

        monitor.collect(NO_RECONNECT_WATCH)
        assert peer.recv_message(timeout=QUIET_MS) is None
        assert monitor.count("CONNECTED") == 1, monitor.events
        assert peer.event_count("ACCEPTED") == 2, peer.events
        assert failures(peer.events) == [("HANDSHAKE_FAILED_AUTH", 400)]
        # As a libzmq client does (with libzmq's own ERROR command, b"^RROR400"):
        assert failures(monitor.events) == [("HANDSHAKE_FAILED_AUTH", 400)]
    finally:
        monitor.close()
        intruder.close()
        client.close()


# -- CURVE ---------------------------------------------------------------------------------------------

# What a server reports for a client that has the wrong server key: it cannot open the client's HELLO.
CRYPTO_FAILURE = ("HANDSHAKE_FAILED_PROTOCOL", zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)


@pytest.mark.curve  # greenmq's CURVE side needs PyNaCl
@server_and_transport
def test_curve_allowed_refused_and_wrong_server_key(ctx, peers, tmp_path, transport, server):
    """The server (zmq_curve(7)'s server keys) admits the clients in its certificate directory.

    Three clients: the test client key pair is admitted (data both ways,
    User-Id its Z85 public key); a fresh key pair is refused by the ZAP
    handler (400); one with the wrong server key never completes a handshake.
    """
    stranger_public, stranger_secret = (key.decode() for key in zmq.curve_keypair())
    wrong_server_key = zmq.curve_keypair()[0].decode()
    clients = {
        "allowed": curve_client_options(),
        "stranger": client_options(curve_client_options(stranger_public, stranger_secret)),
        "misdirected": client_options(curve_client_options(server=wrong_server_key)),
    }
    certificates = certificate_dir(tmp_path, CLIENT_PUBLIC_Z85.decode())
    endpoint = local_endpoint(transport, tmp_path)
    with gevent.Timeout(WAIT):
        if server == "greenmq":
            _curve_greenmq_server(ctx, peers, endpoint, transport, certificates, clients)
        else:
            _curve_libzmq_server(ctx, peers, endpoint, transport, certificates, clients)


def _curve_greenmq_server(ctx, peers, endpoint, transport, certificates, clients):
    router = greenmq_socket(ctx, zmq.ROUTER)
    set_options(router, curve_server_options())
    monitor = Monitor(router)
    try:
        with greenmq_authenticator(ctx, curve=certificates):
            router.bind(endpoint)
            endpoint = router.last_endpoint.decode()
            stranger = peers.start("ctl", "DEALER", connect=endpoint, monitor=True, sockopts=clients["stranger"])
            misdirected = peers.start("ctl", "DEALER", connect=endpoint, monitor=True,
                                      sockopts=clients["misdirected"])
            for intruder in (stranger, misdirected):
                intruder.ready()
                try_send(intruder, b"intruder")
            stranger.wait_for_events("HANDSHAKE_FAILED_AUTH", 1)
            misdirected.wait_for_events("CONNECTED", 2)  # refused, and reconnecting

            client = peers.start("ctl", "DEALER", connect=endpoint, sockopts=clients["allowed"])
            client.ready()
            for i in range(3):
                assert client.send_frames([b"hello", b"%d" % i]) is None
                routing_id, *body = greenmq_receive(router)
                assert [frame.bytes for frame in body] == [b"hello", b"%d" % i]
                assert properties(body[-1])["User-Id"] == CLIENT_PUBLIC_Z85.decode()
                if transport == "tcp":  # ipc: see test_zap_address_of_ipc_peer_is_libzmqs
                    assert properties(body[-1])["Peer-Address"] == "127.0.0.1"
                router.send_multipart([routing_id.bytes, b"welcome", b"%d" % i])
                assert client.recv_frames() == [b"welcome", b"%d" % i]

            monitor.collect(NO_RECONNECT_WATCH)
            stranger.collect_events(0.1)
            assert_nothing_arrives(router, QUIET_MS / 1000)
        assert [event for event in stranger.events if event[0] == "HANDSHAKE_FAILED_AUTH"] == [
            ("HANDSHAKE_FAILED_AUTH", 400)]
        assert stranger.event_count("CONNECTED") == 1, stranger.events
        assert misdirected.event_count("HANDSHAKE_SUCCEEDED") == 0, misdirected.events
        assert set(failures(monitor.events)) == {("HANDSHAKE_FAILED_AUTH", 400), CRYPTO_FAILURE}, monitor.events
        assert monitor.values("HANDSHAKE_FAILED_AUTH") == [400], monitor.events
        assert monitor.count("HANDSHAKE_SUCCEEDED") == 1, monitor.events
    finally:
        monitor.close()
        router.close()


def _curve_libzmq_server(ctx, peers, endpoint, transport, certificates, clients):
    peer = peers.start("ctl", "ROUTER", bind=endpoint, monitor=True, sockopts=curve_server_options(),
                       auth={"curve": certificates})
    endpoint = peer.ready()
    socks = {name: greenmq_socket(ctx, zmq.DEALER) for name in clients}
    monitors = {}
    try:
        for name in ("stranger", "misdirected"):
            set_options(socks[name], clients[name])
            monitors[name] = Monitor(socks[name])
            socks[name].connect(endpoint)
            try_send(socks[name], b"intruder")
        monitors["stranger"].wait_for("HANDSHAKE_FAILED_AUTH")
        monitors["misdirected"].wait_for("CONNECTED", count=2)  # refused, and reconnecting

        client = socks["allowed"]
        set_options(client, clients["allowed"])
        client.connect(endpoint)
        for i in range(3):
            client.send_multipart([b"hello", b"%d" % i])
            got = peer.recv_message(properties=["User-Id", "Peer-Address"])
            routing_id, *body = got["frames"]
            assert body == [b"hello", b"%d" % i]
            assert got["properties"] == {"User-Id": CLIENT_PUBLIC_Z85.decode(),
                                         "Peer-Address": expected_peer_address(transport, os.getpid())}
            assert peer.send_frames([routing_id, b"welcome", b"%d" % i]) is None
            assert client.recv_multipart() == [b"welcome", b"%d" % i]

        monitors["stranger"].collect(NO_RECONNECT_WATCH)
        assert peer.recv_message(timeout=QUIET_MS) is None
        assert monitors["stranger"].values("HANDSHAKE_FAILED_AUTH") == [400], monitors["stranger"].events
        assert monitors["stranger"].count("CONNECTED") == 1, monitors["stranger"].events
        assert monitors["misdirected"].count("HANDSHAKE_SUCCEEDED") == 0, monitors["misdirected"].events
        assert set(failures(peer.events)) == {("HANDSHAKE_FAILED_AUTH", 400), CRYPTO_FAILURE}, peer.events
        assert peer.event_count("HANDSHAKE_FAILED_AUTH") == 1, peer.events
        assert peer.event_count("HANDSHAKE_SUCCEEDED") == 1, peer.events
    finally:
        for monitor in monitors.values():
            monitor.close()
        for sock in socks.values():
            sock.close()


@pytest.mark.curve  # greenmq's CURVE side needs PyNaCl
@pytest.mark.parametrize("policy", ["allow", "deny"])
@pytest.mark.parametrize("server", SERVERS)
def test_curve_allow_any_with_address_list(ctx, peers, tmp_path, server, policy):
    """CURVE_ALLOW_ANY admits any client key (User-Id: that key), unless the address list keeps it out:
    an allow list naming 127.0.0.1 lets a tcp client in, a deny list naming it refuses it (400)."""
    public, secret = (key.decode() for key in zmq.curve_keypair())
    options = client_options(curve_client_options(public, secret))
    auth = {"curve": CURVE_ALLOW_ANY, policy: ["127.0.0.1"]}
    admitted = policy == "allow"
    with gevent.Timeout(WAIT):
        if server == "greenmq":
            router = greenmq_socket(ctx, zmq.ROUTER)
            set_options(router, curve_server_options())
            try:
                with greenmq_authenticator(ctx, **auth):
                    router.bind(local_endpoint("tcp", tmp_path))
                    client = peers.start("ctl", "DEALER", connect=router.last_endpoint, monitor=True, sockopts=options)
                    client.ready()
                    if admitted:
                        assert client.send_frames([b"hello"]) is None
                        routing_id, frame = greenmq_receive(router)
                        assert (frame.bytes, frame.get("User-Id")) == (b"hello", public)
                        client.wait_for_events("HANDSHAKE_SUCCEEDED", 1)
                    else:
                        try_send(client, b"hello")
                        client.wait_for_events("HANDSHAKE_FAILED_AUTH", 1)
                        client.collect_events(NO_RECONNECT_WATCH)
                        assert_nothing_arrives(router, QUIET_MS / 1000)
            finally:
                router.close()
            events = client.events
        else:
            peer = peers.start("ctl", "ROUTER", bind=local_endpoint("tcp", tmp_path), sockopts=curve_server_options(),
                               auth=auth)
            sock = greenmq_socket(ctx, zmq.DEALER)
            set_options(sock, options)
            monitor = Monitor(sock)
            try:
                sock.connect(peer.ready())
                if admitted:
                    sock.send(b"hello")
                    got = peer.recv_message(properties=["User-Id"])
                    assert (got["frames"][1:], got["properties"]) == ([b"hello"], {"User-Id": public})
                    monitor.wait_for("HANDSHAKE_SUCCEEDED")
                else:
                    try_send(sock, b"hello")
                    monitor.wait_for("HANDSHAKE_FAILED_AUTH")
                    monitor.collect(NO_RECONNECT_WATCH)
                    assert peer.recv_message(timeout=QUIET_MS) is None
            finally:
                monitor.close()
                sock.close()
            events = monitor.events
    assert failures(events) == ([] if admitted else [("HANDSHAKE_FAILED_AUTH", 400)]), events
    assert [name for name, _ in events].count("CONNECTED") == 1, events


# Monitor events that tell a connection's story (CONNECT_DELAYED and the like are left out).
STORY_EVENTS = ("ACCEPTED", "CONNECTED", "HANDSHAKE_SUCCEEDED", *HANDSHAKE_FAILURES, "DISCONNECTED", "CONNECT_RETRIED")


def connection_story(events, first, last):
    """The events from the first ``first`` up to (not including) the next ``last`` after it: names,
    and the value of handshake failures that is not an errno."""
    names = [name for name, _ in events]
    start = names.index(first)
    end = names.index(last, start + 1)
    return [(name, value if name in ("HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_AUTH") else None)
            for name, value in events[start:end] if name in STORY_EVENTS]


@pytest.mark.curve  # greenmq's CURVE side needs PyNaCl
@pytest.mark.parametrize("server", SERVERS)
def test_wrong_server_key_monitor_events_match_libzmq(ctx, peers, tmp_path, server):
    """A client with the wrong server key: the server cannot open its HELLO and closes the connection.

    libzmq reports it on both ends -- server: ACCEPTED, HANDSHAKE_FAILED_PROTOCOL
    (ZMTP_CRYPTOGRAPHIC), DISCONNECTED; client: CONNECTED, HANDSHAKE_FAILED_NO_DETAIL
    (an errno), DISCONNECTED, then CONNECT_RETRIED -- and greenmq in libzmq's place must
    report the same story. Both run side by side against the same kind of peer.
    """
    misdirected = client_options(curve_client_options(server=zmq.curve_keypair()[0].decode()))
    with gevent.Timeout(WAIT):
        if server == "libzmq":  # the clients' side: a greenmq and a libzmq client, one libzmq server
            peer = peers.start("idle", "ROUTER", bind=local_endpoint("tcp", tmp_path), sockopts=curve_server_options())
            endpoint = peer.ready()
            libzmq_client = peers.start("idle", "DEALER", connect=endpoint, monitor=True, sockopts=misdirected)
            libzmq_client.ready()
            sock = greenmq_socket(ctx, zmq.DEALER)
            set_options(sock, misdirected)
            monitor = Monitor(sock)
            try:
                sock.connect(endpoint)
                libzmq_client.wait_for_events("CONNECT_RETRIED", 1)
                monitor.wait_for("CONNECT_RETRIED")
                expected = connection_story(libzmq_client.events, "CONNECTED", "CONNECT_RETRIED")
                assert [name for name, _ in expected] == [
                    "CONNECTED", "HANDSHAKE_FAILED_NO_DETAIL", "DISCONNECTED"], libzmq_client.events
                assert connection_story(monitor.events, "CONNECTED", "CONNECT_RETRIED") == expected
            finally:
                monitor.close()
                sock.close()
        else:  # the servers' side: a greenmq and a libzmq server, one libzmq client each
            peer = peers.start("idle", "ROUTER", bind=local_endpoint("tcp", tmp_path), monitor=True,
                               sockopts=curve_server_options())
            peers.start("idle", "DEALER", connect=peer.ready(), sockopts=misdirected).ready()
            sock = greenmq_socket(ctx, zmq.ROUTER)
            set_options(sock, curve_server_options())
            monitor = Monitor(sock)
            try:
                sock.bind(local_endpoint("tcp", tmp_path))
                peers.start("idle", "DEALER", connect=sock.last_endpoint, sockopts=misdirected).ready()
                peer.wait_for_events("ACCEPTED", 2)
                monitor.wait_for("ACCEPTED", count=2)
                expected = connection_story(peer.events, "ACCEPTED", "ACCEPTED")
                assert expected == [("ACCEPTED", None), CRYPTO_FAILURE, ("DISCONNECTED", None)], peer.events
                assert connection_story(monitor.events, "ACCEPTED", "ACCEPTED") == expected
            finally:
                monitor.close()
                sock.close()


# -- large messages over CURVE ----------------------------------------------------------------------------

# (greenmq's socket type, which side is the CURVE server, which side binds, transport)
LARGE_REQREP = [
    ("REQ", "libzmq", "greenmq", "tcp"),
    ("REQ", "greenmq", "libzmq", "ipc"),
    ("REP", "greenmq", "greenmq", "ipc"),
    ("REP", "libzmq", "libzmq", "tcp"),
]
LARGE_PUBSUB = [
    ("PUB", "greenmq", "greenmq", "tcp"),
    ("PUB", "greenmq", "libzmq", "ipc"),
    ("SUB", "libzmq", "greenmq", "ipc"),
    ("SUB", "libzmq", "libzmq", "tcp"),
]
CURVE_ROLES = {"server": curve_server_options(), "client": curve_client_options()}


def _curve_link(ctx, peers, tmp_path, greenmq_type, server, binder, transport, role, peer_type, **options):
    """A greenmq socket and a libzmq ``role`` peer over CURVE (test keys, no ZAP handler)."""
    sock = greenmq_socket(ctx, getattr(zmq, greenmq_type), timeout_ms=20000)
    set_options(sock, CURVE_ROLES["server" if server == "greenmq" else "client"])
    sockopts = {**options.pop("sockopts", {}), **CURVE_ROLES["client" if server == "greenmq" else "server"]}
    endpoint = local_endpoint(transport, tmp_path)
    if binder == "greenmq":
        sock.bind(endpoint)
        peer = peers.start(role, peer_type, connect=sock.last_endpoint, sockopts=sockopts, **options)
        peer.ready()
    else:
        peer = peers.start(role, peer_type, bind=endpoint, sockopts=sockopts, **options)
        sock.connect(peer.ready())
    return sock, peer


def _check_digest(answer, index, what):
    """A ctl recv answer with digest: first frame, then the rest of plan_message(LARGE_PLAN, index)."""
    expected = plan_message(LARGE_PLAN, index)
    assert answer is not None, f"{what}: nothing arrived"
    assert answer["frames"] == expected[:1], what
    assert answer["rest"] == message_digest(expected[1:]), what


@pytest.mark.curve  # greenmq's CURVE side needs PyNaCl
@pytest.mark.parametrize(("greenmq_type", "server", "binder", "transport"), LARGE_REQREP)
def test_curve_req_rep_large_messages(ctx, peers, tmp_path, greenmq_type, server, binder, transport):
    """10 MB frames, alone and in a multipart message, both ways between REQ and REP over CURVE."""
    with gevent.Timeout(WAIT * 2):
        if greenmq_type == "REQ":
            sock, peer = _curve_link(ctx, peers, tmp_path, "REQ", server, binder, transport, "serve", "REP",
                                     tag="lz", rcvtimeo=20000, sndtimeo=20000)
            try:
                for i in range(len(LARGE_PLAN)):
                    sock.send_multipart(plan_message(LARGE_PLAN, i))
                    assert_same_message(sock.recv_multipart(), [*plan_message(LARGE_PLAN, i), b"lz"], f"reply {i}")
                peer.quit()
                assert peer.result() == {"count": len(LARGE_PLAN)}
            finally:
                sock.close()
        else:
            sock, peer = _curve_link(ctx, peers, tmp_path, "REP", server, binder, transport, "ctl", "REQ")
            try:
                for i in range(len(LARGE_PLAN)):
                    assert peer.send_planned(i, LARGE_PLAN[i]) is None
                    request = sock.recv_multipart()
                    assert_same_message(request, plan_message(LARGE_PLAN, i), f"request {i}")
                    sock.send_multipart([b"re", *reversed(request)])
                    answer = peer.recv_message(timeout=20000, digest=True)
                    assert answer["frames"] == [b"re"]
                    assert answer["rest"] == message_digest(list(reversed(plan_message(LARGE_PLAN, i))))
            finally:
                sock.close()


def _sync_until_received(send, receive):
    """Send a b"sync" message until one arrives: the subscription has reached the publisher."""
    while True:
        send()
        got = receive()
        if got is not None:
            return got


@pytest.mark.curve  # greenmq's CURVE side needs PyNaCl
@pytest.mark.parametrize(("greenmq_type", "server", "binder", "transport"), LARGE_PUBSUB)
def test_curve_pub_sub_large_messages(ctx, peers, tmp_path, greenmq_type, server, binder, transport):
    """10 MB frames, alone and in a multipart message, from PUB to SUB over CURVE, either side publishing."""
    with gevent.Timeout(WAIT * 2):
        if greenmq_type == "PUB":
            sock, peer = _curve_link(ctx, peers, tmp_path, "PUB", server, binder, transport, "ctl", "SUB",
                                     sockopts={"SUBSCRIBE": b""})
            try:
                _sync_until_received(lambda: sock.send(b"sync"), lambda: peer.recv_frames(timeout=100))
                for i in range(len(LARGE_PLAN)):
                    sock.send_multipart(plan_message(LARGE_PLAN, i))
                for i in range(len(LARGE_PLAN)):
                    answer = peer.recv_message(timeout=20000, digest=True)
                    while answer is not None and answer["frames"] == [b"sync"]:  # still in flight
                        answer = peer.recv_message(timeout=20000, digest=True)
                    _check_digest(answer, i, f"message {i}")
            finally:
                sock.close()
        else:
            sock, peer = _curve_link(ctx, peers, tmp_path, "SUB", server, binder, transport, "ctl", "PUB")
            try:
                sock.subscribe(b"")
                _sync_until_received(lambda: peer.send_frames([b"sync"]),
                                     lambda: sock.recv_multipart() if sock.poll(100) else None)
                for i in range(len(LARGE_PLAN)):
                    assert peer.send_planned(i, LARGE_PLAN[i]) is None
                for i in range(len(LARGE_PLAN)):
                    message = sock.recv_multipart()
                    while message == [b"sync"]:
                        message = sock.recv_multipart()
                    assert_same_message(message, plan_message(LARGE_PLAN, i), f"message {i}")
            finally:
                sock.close()


# -- ZAP requests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", WIRE_TRANSPORTS)
def test_greenmq_null_server_asks_zap_for_its_domain(ctx, peers, tmp_path, transport):
    """A NULL server with ZAP_DOMAIN asks its handler about each libzmq client: the first is
    admitted (200), the second refused (400) and kept out, without reconnecting."""
    pull = greenmq_socket(ctx, zmq.PULL)
    pull.zap_domain = ZAP_DOMAIN.encode()
    monitor = Monitor(pull)
    try:
        with gevent.Timeout(WAIT), greenmq_zap_handler(ctx, [b"200", b"400"]) as requests:
            pull.bind(local_endpoint(transport, tmp_path))
            endpoint = pull.last_endpoint.decode()
            admitted = peers.start("ctl", "PUSH", connect=endpoint)
            admitted.ready()
            assert admitted.send_frames([b"admitted"]) is None
            frame = greenmq_receive(pull)[0]
            assert frame.bytes == b"admitted"
            assert frame.get("User-Id") == "gm-user"

            refused = peers.start("ctl", "PUSH", connect=endpoint, monitor=True,
                                  sockopts={"RECONNECT_IVL": RECONNECT_IVL_MS})
            refused.ready()
            try_send(refused, b"refused")
            refused.wait_for_events("HANDSHAKE_FAILED_AUTH", 1)
            monitor.collect(NO_RECONNECT_WATCH)
            refused.collect_events(0.1)
            assert_nothing_arrives(pull, QUIET_MS / 1000)
            assert len(requests) == 2, requests
        for request in requests:
            version, request_id, domain, address, identity, mechanism, *credentials = request
            assert (version, request_id, domain, mechanism, credentials) == (
                b"1.0", b"1", ZAP_DOMAIN.encode(), b"NULL", [])
            assert identity == b""
            if transport == "tcp":
                assert address == b"127.0.0.1"
        assert [event for event in refused.events if event[0] == "HANDSHAKE_FAILED_AUTH"] == [
            ("HANDSHAKE_FAILED_AUTH", 400)]
        assert refused.event_count("CONNECTED") == 1, refused.events
        assert monitor.values("HANDSHAKE_FAILED_AUTH") == [400], monitor.events
    finally:
        monitor.close()
        pull.close()


def test_zap_address_of_ipc_peer_is_libzmqs(ctx, peers, tmp_path):
    """The address a ZAP request gives for an ipc peer, and its Peer-Address: libzmq's form is
    ``localhost:UID:GID:PID`` of the peer process (SO_PEERCRED); greenmq's must be the same."""
    with gevent.Timeout(WAIT):
        # libzmq asks about a greenmq client.
        peer = peers.start("ctl", "PULL", bind=local_endpoint("ipc", tmp_path, "libzmq"), zap_handler="200",
                           sockopts={"ZAP_DOMAIN": ZAP_DOMAIN})
        push = greenmq_socket(ctx, zmq.PUSH)
        try:
            push.connect(peer.ready())
            push.send(b"to libzmq")
            got = peer.recv_message(properties=["Peer-Address", "User-Id"])
            assert got["frames"] == [b"to libzmq"]
            libzmq_request = peer.wait_for_zap_requests(1)[0]
        finally:
            push.close()
        libzmq_address = libzmq_request[3]
        assert libzmq_address == expected_peer_address("ipc", os.getpid()).encode()
        assert got["properties"] == {"Peer-Address": libzmq_address.decode(), "User-Id": "zap-user"}

        # greenmq asks about a libzmq client.
        pull = greenmq_socket(ctx, zmq.PULL)
        pull.zap_domain = ZAP_DOMAIN.encode()
        try:
            with greenmq_zap_handler(ctx, [b"200"]) as requests:
                pull.bind(local_endpoint("ipc", tmp_path, "greenmq"))
                client = peers.start("ctl", "PUSH", connect=pull.last_endpoint)
                client.ready()
                assert client.send_frames([b"to greenmq"]) is None
                frame = greenmq_receive(pull)[0]
                assert frame.bytes == b"to greenmq"
        finally:
            pull.close()
        expected = expected_peer_address("ipc", client.proc.pid)
        assert {"zap": requests[0][3].decode(), **properties(frame)} == {
            "zap": expected, "Peer-Address": expected, "User-Id": "gm-user"}


@pytest.mark.parametrize("mechanism", ["PLAIN", pytest.param("CURVE", marks=pytest.mark.curve)])
@pytest.mark.parametrize("server", SERVERS)
def test_zap_request_is_libzmqs(ctx, peers, tmp_path, server, mechanism):
    """What a server asks its handler about a tcp client: version, request id, ZAP_DOMAIN, the
    peer's IP, the server socket's ROUTING_ID, the mechanism and the credentials (PLAIN: user name
    and password; CURVE: the client's 32-byte public key) -- the same frames from greenmq as from libzmq."""
    if mechanism == "PLAIN":
        server_options = {"PLAIN_SERVER": 1}
        client = plain_client_options("admin", USERS["admin"])
        credentials = [b"admin", USERS["admin"].encode()]
    else:
        server_options = curve_server_options()
        client = curve_client_options()
        credentials = [CLIENT_PUBLIC]
    server_options = {**server_options, "ZAP_DOMAIN": ZAP_DOMAIN, "ROUTING_ID": b"server-id"}
    expected = [b"1.0", b"1", ZAP_DOMAIN.encode(), b"127.0.0.1", b"server-id", mechanism.encode(), *credentials]
    with gevent.Timeout(WAIT):
        if server == "libzmq":
            peer = peers.start("ctl", "PULL", bind=local_endpoint("tcp", tmp_path), zap_handler="200",
                               sockopts=server_options)
            push = greenmq_socket(ctx, zmq.PUSH)
            set_options(push, client)
            try:
                push.connect(peer.ready())
                push.send(b"hello")
                assert peer.recv_frames() == [b"hello"]
            finally:
                push.close()
            requests = peer.wait_for_zap_requests(1)
        else:
            pull = greenmq_socket(ctx, zmq.PULL)
            set_options(pull, server_options)
            try:
                with greenmq_zap_handler(ctx, [b"200"]) as requests:
                    pull.bind(local_endpoint("tcp", tmp_path))
                    pusher = peers.start("ctl", "PUSH", connect=pull.last_endpoint, sockopts=client)
                    pusher.ready()
                    assert pusher.send_frames([b"hello"]) is None
                    assert greenmq_receive(pull)[0].bytes == b"hello"
            finally:
                pull.close()
    assert requests == [expected]

"""Quiet under attack: what a remote peer does wrong goes to the monitor and to DEBUG, not to WARNING.

libzmq prints nothing when peers send garbage or fail their handshakes; an
application that logs WARNING to stderr must not get a line per bad
connection from greenmq either. Each test lets many bad peers at a bound
socket, collects every record of the ``greenmq`` loggers (DEBUG and up),
and checks: nothing at WARNING or above, the failures were reported through
the monitor (and logged at DEBUG), and a good peer still works afterwards.
A local fault -- a PLAIN server with no ZAP handler -- still warns.
"""

import logging
import random
import struct

import gevent
import pytest
from gevent import socket

import greenmq as zmq
from raw_peer_support import exchange, read_until_eof
from security_support import CLIENT_PUBLIC, CLIENT_SECRET, SERVER_PUBLIC_Z85, SERVER_SECRET_Z85, ZAP_ENDPOINT
from support import TIMEOUT, new_socket
from zmtp_support import command, frame, greeting, properties

BATCH = 20  # bad connections open at once
GARBAGE_ROUNDS = 40  # x 5 kinds = 200 bad connections


def _ready(socket_type):
    return command(b"READY", properties((b"Socket-Type", socket_type)))


# Each kind of garbage, the monitor event its connection's handshake ends with (None: it
# completes the handshake and breaks the protocol afterwards, which libzmq does not report), and
# whether the bad peer hangs up after sending it.
GARBAGE = {
    # Read as a ZMTP 1.0 peer's identity frame ("G": 70 bytes), which the hang-up leaves incomplete.
    "http": (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, True),
    "all-ff": (b"\xff" * 64, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, False),
    "unknown-mechanism": (greeting(b"BOGUS"), zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, False),
    "incompatible-type": (greeting(b"NULL") + _ready(b"PULL"), zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, False),
    "bad-frame": (greeting(b"NULL") + _ready(b"PUSH") + frame(b"x", flags=0xF0), None, False),
}


@pytest.fixture
def greenmq_log(caplog):
    caplog.set_level(logging.DEBUG, logger="greenmq")
    return caplog


def _loud(caplog):
    return [f"{record.levelname} {record.name}: {record.getMessage()}" for record in caplog.records
            if record.name.startswith("greenmq") and record.levelno >= logging.WARNING]


class EventLog:
    """Every monitor event of a socket, read as they come (so that none is dropped at the HWM)."""

    def __init__(self, sock):
        self._sock = sock
        self._monitor = sock.get_monitor_socket()
        self.events = []
        self._reader = gevent.spawn(self._read)

    def _read(self):
        try:
            while True:
                header, _ = self._monitor.recv_multipart()
                self.events.append(struct.unpack("=HI", header)[0])
        except zmq.ZMQError:
            pass  # the monitor closed under us: a test that failed is cleaning up

    def count(self, event):
        return self.events.count(event)

    def wait_for(self, event, count):
        with gevent.Timeout(TIMEOUT):
            while self.count(event) < count:
                gevent.sleep(0.01)

    def close(self):
        self._reader.kill()
        self._sock.disable_monitor()
        self._monitor.close()


def _attack(port, payload, hang_up=False):
    """One bad peer: connect, send ``payload`` (then, with ``hang_up``, half-close: a payload
    that ends inside a frame would otherwise wait for the rest), read until greenmq hangs up."""
    with gevent.Timeout(TIMEOUT):
        raw = socket.create_connection(("127.0.0.1", port))
    try:
        raw.sendall(payload)
        if hang_up:
            raw.shutdown(socket.SHUT_WR)
        read_until_eof(raw)
    except ConnectionResetError:
        pass  # closed with our unread input still queued: also an end
    finally:
        raw.close()


def test_garbage_connections_are_quiet(ctx, greenmq_log, hub_errors):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    events = EventLog(pull)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    payloads = [(payload, hang_up) for _ in range(GARBAGE_ROUNDS) for payload, _, hang_up in GARBAGE.values()]
    for start in range(0, len(payloads), BATCH):
        gevent.joinall([gevent.spawn(_attack, port, payload, hang_up)
                        for payload, hang_up in payloads[start:start + BATCH]], raise_error=True)
    events.wait_for(zmq.EVENT_DISCONNECTED, len(payloads))
    for failed in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
        events.wait_for(failed, GARBAGE_ROUNDS * sum(1 for _, event, _ in GARBAGE.values() if event == failed))
    assert events.count(zmq.EVENT_ACCEPTED) == len(payloads)

    push = new_socket(ctx, zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    exchange(push, pull, b"good")
    events.close()

    assert _loud(greenmq_log) == []
    debug = [record for record in greenmq_log.records if record.name == "greenmq" and record.levelno == logging.DEBUG]
    assert len(debug) >= len(payloads), "each bad connection is still worth a DEBUG line"
    assert hub_errors.getvalue() == ""


def test_random_bytes_after_a_greeting_are_quiet(ctx, greenmq_log, hub_errors):
    """Seeded noise behind a valid NULL greeting (and sometimes a valid READY): whatever part
    of the decoder it upsets, the connection ends quietly and nothing looks like a bug."""
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    events = EventLog(pull)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    noise = random.Random("greenmq quiet logs")
    payloads = [greeting(b"NULL") + (_ready(b"PUSH") if i % 2 else b"") + noise.randbytes(noise.randrange(1, 300))
                for i in range(100)]
    for start in range(0, len(payloads), BATCH):
        gevent.joinall([gevent.spawn(_attack, port, payload, True) for payload in payloads[start:start + BATCH]],
                       raise_error=True)
    events.wait_for(zmq.EVENT_DISCONNECTED, len(payloads))
    push = new_socket(ctx, zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    exchange(push, pull, b"good")
    events.close()
    assert _loud(greenmq_log) == []
    assert hub_errors.getvalue() == ""


def test_a_client_refused_by_the_server_is_quiet_too(ctx, greenmq_log):
    """The connecting side of a failed handshake (greenmq PUSH to an incompatible greenmq PUSH):
    refused with an ERROR, it stops reconnecting, and says so at DEBUG."""
    server = new_socket(ctx, zmq.PUSH)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    clients = [new_socket(ctx, zmq.PUSH) for _ in range(10)]
    logs = [EventLog(client) for client in clients]
    for client in clients:
        client.connect(f"tcp://127.0.0.1:{port}")
    for log in logs:
        log.wait_for(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, 1)
        log.wait_for(zmq.EVENT_DISCONNECTED, 1)
        log.close()
    assert _loud(greenmq_log) == []


@pytest.mark.curve
def test_bad_curve_handshakes_are_quiet(ctx, greenmq_log, hub_errors):
    """Clients with the wrong server key (the server cannot open their HELLO), and raw bytes that
    are not CURVE at all, against a CURVE server."""
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000, curve_server=1, curve_secretkey=SERVER_SECRET_Z85)
    events = EventLog(pull)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    wrong_key = zmq.curve_keypair()[0]
    bad_clients = []
    for _ in range(30):
        client = new_socket(ctx, zmq.PUSH, curve_serverkey=wrong_key, curve_publickey=CLIENT_PUBLIC,
                            curve_secretkey=CLIENT_SECRET)
        client.connect(f"tcp://127.0.0.1:{port}")
        bad_clients.append(client)
    hello = greeting(b"CURVE") + command(b"HELLO", b"\x01\x00" + bytes(198))  # all-zero: no valid box
    gevent.joinall([gevent.spawn(_attack, port, hello) for _ in range(BATCH)], raise_error=True)
    events.wait_for(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, 30 + BATCH)
    events.wait_for(zmq.EVENT_DISCONNECTED, 30 + BATCH)

    good = new_socket(ctx, zmq.PUSH, curve_serverkey=SERVER_PUBLIC_Z85, curve_publickey=CLIENT_PUBLIC,
                      curve_secretkey=CLIENT_SECRET)
    good.connect(f"tcp://127.0.0.1:{port}")
    exchange(good, pull, b"good")
    events.close()
    assert _loud(greenmq_log) == []
    assert hub_errors.getvalue() == ""


@pytest.fixture
def denying_zap_handler(ctx):
    """A ZAP handler that refuses every peer (400), counting the requests."""
    router = new_socket(ctx, zmq.ROUTER)
    router.bind(ZAP_ENDPOINT)
    asked = []

    def serve():
        while True:
            route, _, version, request_id, *_ = router.recv_multipart()
            asked.append(request_id)
            router.send_multipart([route, b"", version, request_id, b"400", b"denied", b"", b""])

    server = gevent.spawn(serve)
    yield asked
    server.kill()
    router.close()


def test_zap_denials_are_quiet(ctx, greenmq_log, denying_zap_handler):
    pull = new_socket(ctx, zmq.PULL, plain_server=1)
    events = EventLog(pull)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    clients = [new_socket(ctx, zmq.PUSH, plain_username=b"intruder", plain_password=b"guess") for _ in range(20)]
    for client in clients:
        client.connect(f"tcp://127.0.0.1:{port}")
    events.wait_for(zmq.EVENT_HANDSHAKE_FAILED_AUTH, len(clients))
    events.close()
    assert len(denying_zap_handler) >= len(clients)
    assert _loud(greenmq_log) == []


def test_a_local_fault_still_warns(ctx, greenmq_log):
    """A PLAIN server with no ZAP handler is the application's mistake: worth a WARNING."""
    pull = new_socket(ctx, zmq.PULL, plain_server=1)
    events = EventLog(pull)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = new_socket(ctx, zmq.PUSH, plain_username=b"admin", plain_password=b"secret")
    push.connect(f"tcp://127.0.0.1:{port}")
    events.wait_for(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, 1)
    events.close()
    assert _loud(greenmq_log), "no warning for a PLAIN server without a ZAP handler"

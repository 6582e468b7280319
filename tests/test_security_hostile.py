"""Hostile and broken peers over loopback TCP against greenmq CURVE and PLAIN server sockets.

Each test binds a PULL that is a CURVE (or PLAIN) server on 127.0.0.1, with a
ZAP handler, connects a well-behaved greenmq PUSH client to it, then lets a
raw gevent socket send a greeting and a malformed command -- built with
PyNaCl by :class:`curve_support.RawCurve` when it must be correctly
encrypted to get past the outer checks. For every case:

- greenmq closes the raw connection (it reads EOF, within TIMEOUT), without answering malformed CURVE input;
- a failure during the handshake is reported on the monitor as HANDSHAKE_FAILED_PROTOCOL with a
  ``ZMQ_PROTOCOL_ERROR_*`` code: libzmq 4.3.5's (asked for each case with pyzmq in a separate process),
  except where a comment says libzmq reports none or an arbitrary one;
- nothing is logged at ERROR level or with a traceback, and no greenlet dies (a hostile peer is a
  protocol error, not a bug);
- the PUSH connected before keeps delivering, and a new PUSH can connect and deliver.
"""

import logging
import struct
import time

import gevent
import pytest

import greenmq as zmq
from greenmq.constants import ProtocolError

from curve_support import RawCurve, nacl, short_nonce
from raw_peer_support import connect_raw, exchange, read_until_eof, recv_exactly
from security_support import CLIENT_PUBLIC, CLIENT_SECRET, SERVER_PUBLIC_Z85, SERVER_SECRET_Z85, ZAP_ENDPOINT
from support import TIMEOUT
from zmtp_support import PUSH_METADATA, command, flip_last_byte, frame, greeting, properties, split_command

EVENT_WAIT = 3  # seconds to wait for a monitor event that should already be there
HANDSHAKE_FAILURES = {zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                      zmq.EVENT_HANDSHAKE_FAILED_AUTH}


# -- fixtures -----------------------------------------------------------------


@pytest.fixture
def greenmq_log(caplog):
    caplog.set_level(logging.DEBUG, logger="greenmq")
    return caplog


@pytest.fixture
def zap_requests(ctx):
    """A ZAP handler (RFC 27) on a ROUTER: admits admin/secret (PLAIN) and the official client key (CURVE),
    checking every request frame by frame; the fixture's value is the list of (mechanism, credentials) asked.

    (test_security.py's zap_handler fixture is a factory for handlers with any policy.)"""
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    router.bind(ZAP_ENDPOINT)
    requests = []

    def serve():
        while True:
            route, delimiter, version, request_id, domain, address, identity, mechanism, *credentials = (
                router.recv_multipart())
            # RFC 27 request frames, as libzmq sends them: the address is the peer's IP alone.
            assert (delimiter, version, request_id, address) == (b"", b"1.0", b"1", b"127.0.0.1")
            requests.append((mechanism, credentials))
            admitted = ((mechanism == b"PLAIN" and credentials == [b"admin", b"secret"])
                        or (mechanism == b"CURVE" and credentials == [CLIENT_PUBLIC]))
            status, user = (b"200", b"admin") if admitted else (b"400", b"")
            router.send_multipart([route, b"", b"1.0", request_id, status, b"", user, b""])

    server = gevent.spawn(serve)
    yield requests
    server.kill()
    router.close()


class Server:
    """The server PULL, its monitor, its port and a well-behaved client PUSH."""

    def __init__(self, ctx, mechanism, caplog, with_client=True, **pull_options):
        self.ctx = ctx
        self.mechanism = mechanism
        self.caplog = caplog
        self.pull = ctx.socket(zmq.PULL)
        self.pull.linger = 0
        # Set before the bind: a listener keeps the options it was bound with, as in libzmq.
        for name, value in pull_options.items():
            setattr(self.pull, name, value)
        if mechanism == "CURVE":
            self.pull.curve_server = 1
            self.pull.curve_secretkey = SERVER_SECRET_Z85
        elif mechanism == "PLAIN":
            self.pull.plain_server = 1
        self.monitor = self.pull.get_monitor_socket()
        self.port = self.pull.bind_to_random_port("tcp://127.0.0.1")
        self.push = None
        if with_client:
            self.push = self.client()
            exchange(self.push, self.pull, b"warmup", 1)

    def client(self, mechanism=None):
        push = self.ctx.socket(zmq.PUSH)
        push.linger = 0
        mechanism = mechanism or self.mechanism
        if mechanism == "CURVE":
            push.curve_serverkey = SERVER_PUBLIC_Z85
            push.curve_publickey = CLIENT_PUBLIC
            push.curve_secretkey = CLIENT_SECRET
        elif mechanism == "PLAIN":
            push.plain_username = b"admin"
            push.plain_password = b"secret"
        push.connect(f"tcp://127.0.0.1:{self.port}")
        return push

    def close(self):
        if self.push is not None:
            self.push.close()
        self.pull.disable_monitor()
        self.monitor.close()
        self.pull.close()


@pytest.fixture
def curve(request, ctx, zap_requests, hub_errors, greenmq_log):
    """A CURVE server; indirect parametrization passes options for its PULL."""
    server = Server(ctx, "CURVE", greenmq_log, **getattr(request, "param", {}))
    yield server
    server.close()


@pytest.fixture
def plain(request, ctx, zap_requests, hub_errors, greenmq_log):
    """A PLAIN server; indirect parametrization passes options for its PULL."""
    server = Server(ctx, "PLAIN", greenmq_log, **getattr(request, "param", {}))
    yield server
    server.close()


# -- helpers --------------------------------------------------------------------


def recv_frame(raw):
    """One frame's body."""
    header = recv_exactly(raw, 2)
    long_size = header[0] & 0x02
    size = int.from_bytes(header[1:] + recv_exactly(raw, 7), "big") if long_size else header[1]
    return recv_exactly(raw, size)


def wait_for_event(monitor, wanted, timeout=EVENT_WAIT):
    """Read monitor events until one of ``wanted`` comes; return (event, value)."""
    seen = []
    try:
        with gevent.Timeout(timeout):
            while True:
                header, _endpoint = monitor.recv_multipart()
                event, value = struct.unpack("=HI", header)
                seen.append((zmq.Event(event).name, hex(value)))
                if event in wanted:
                    return event, value
    except gevent.Timeout:
        raise AssertionError(f"no {[zmq.Event(e).name for e in wanted]} event; saw {seen}") from None


def check_log(caplog):
    """A hostile peer must never look like a greenmq bug: no ERROR records, no tracebacks."""
    bad = [record for record in caplog.records
           if record.name.startswith("greenmq") and (record.levelno >= logging.ERROR or record.exc_info)]
    assert not bad, "greenmq logged:\n" + "\n".join(
        caplog.handler.formatter.format(record) for record in bad)


def check_still_working(server):
    """The old PUSH keeps delivering, a fresh PUSH can connect and deliver, no greenlet died, log is clean."""
    exchange(server.push, server.pull, b"after")
    push2 = server.client()
    try:
        exchange(push2, server.pull, b"fresh", 5)
    finally:
        push2.close()
    exchange(server.push, server.pull, b"last", 5)
    errors = gevent.get_hub().exception_stream
    assert errors.getvalue() == "", "a greenlet died:\n" + errors.getvalue()
    check_log(server.caplog)


def curve_welcome(raw_curve, raw):
    raw.sendall(raw_curve.hello())
    raw_curve.read_welcome(recv_frame(raw))


def curve_handshake(raw_curve, raw):
    curve_welcome(raw_curve, raw)
    raw.sendall(raw_curve.initiate())
    nonce, metadata = raw_curve.read_ready(recv_frame(raw))
    assert nonce == 1
    assert metadata == properties((b"Socket-Type", b"PULL"))


def run_hostile(server, script, expected_code=None, answer=b""):
    """Connect a raw peer, let ``script(raw)`` misbehave, and check every promise of the module docstring.

    ``expected_code`` is the HANDSHAKE_FAILED_PROTOCOL value the monitor must report (None: the
    failure comes after the handshake, or has no libzmq-defined event); ``answer`` what greenmq may
    still send before closing."""
    raw = connect_raw(server.port)
    try:
        raw.sendall(greeting(server.mechanism.encode()))
        peer_greeting = recv_exactly(raw, 64)
        assert peer_greeting[12:32] == server.mechanism.encode().ljust(20, b"\x00")
        script(raw)
        # While greenmq deals with the raw peer, the good client's traffic flows.
        exchange(server.push, server.pull, b"during")
        assert read_until_eof(raw) == answer
    finally:
        raw.close()
    check_log(server.caplog)
    if expected_code is not None:
        event, value = wait_for_event(server.monitor, HANDSHAKE_FAILURES)
        assert (zmq.Event(event).name, ProtocolError(value).name) == ("HANDSHAKE_FAILED_PROTOCOL",
                                                                     expected_code.name)
    check_still_working(server)


# -- CURVE ------------------------------------------------------------------------


def _hello_body(raw_curve):
    return split_command(raw_curve.hello()[2:])[1]


# name: (what the raw peer does after the greetings, the monitor's ZMQ_PROTOCOL_ERROR_* code)
CURVE_CASES = {
    "hello-wrong-size": (lambda c, raw: raw.sendall(command(b"HELLO", _hello_body(c)[:-1])),
                         ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-corrupt-box": (lambda c, raw: raw.sendall(flip_last_byte(c.hello())), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "hello-version-2.0": (lambda c, raw: raw.sendall(c.hello(version=b"\x02\x00")),
                          ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-zero-ephemeral-key": (lambda c, raw: raw.sendall(c.hello(eph_public=bytes(32))),
                                 ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-too-short": (lambda c, raw: (curve_welcome(c, raw),
                                           raw.sendall(command(b"INITIATE", c.cookie + short_nonce(2) + bytes(143)))),
                           ProtocolError.ZMTP_MALFORMED_COMMAND_INITIATE),
    "initiate-forged-cookie": (lambda c, raw: (curve_welcome(c, raw), raw.sendall(c.initiate(cookie=bytes(96)))),
                               ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-bad-vouch": (lambda c, raw: (curve_welcome(c, raw),
                                           raw.sendall(c.initiate(vouch=flip_last_byte(c.vouch())))),
                           ProtocolError.ZMTP_CRYPTOGRAPHIC),
    # libzmq closes without any HANDSHAKE_FAILED event.
    "initiate-truncated-metadata": (lambda c, raw: (curve_welcome(c, raw),
                                                    raw.sendall(c.initiate(metadata=PUSH_METADATA[:-2]))),
                                    ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-zero-client-key": (lambda c, raw: (curve_welcome(c, raw),
                                                 raw.sendall(c.initiate(client_public=bytes(32)))),
                                 ProtocolError.ZMTP_CRYPTOGRAPHIC),
    # libzmq parses the data frame as a command: MALFORMED_COMMAND_UNSPECIFIED for these bytes.
    "data-before-hello": (lambda c, raw: raw.sendall(frame(b"too early")), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-initiate": (lambda c, raw: (curve_welcome(c, raw), raw.sendall(c.message(b"too early"))),
                             ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    # After the handshake libzmq reports MESSAGE failures as HANDSHAKE_FAILED_PROTOCOL too; greenmq
    # reports no event once the handshake has succeeded, so only the closing is checked.
    "message-bad-box": (lambda c, raw: (curve_handshake(c, raw), raw.sendall(flip_last_byte(c.message(b"x")))),
                        None),
    "message-too-short": (lambda c, raw: (curve_handshake(c, raw),
                                          raw.sendall(frame(b"\x07MESSAGE" + short_nonce(3) + bytes(16)))), None),
    "clear-data-frame-after-handshake": (lambda c, raw: (curve_handshake(c, raw), raw.sendall(frame(b"clear"))),
                                         None),
    "clear-command-after-handshake": (lambda c, raw: (curve_handshake(c, raw),
                                                      raw.sendall(command(b"PING", b"\x00\x00"))), None),
}


@pytest.mark.curve
@pytest.mark.parametrize("case", CURVE_CASES)
def test_curve_server_drops_malformed_command(curve, case):
    script, code = CURVE_CASES[case]
    raw_curve = RawCurve()
    run_hostile(curve, lambda raw: script(raw_curve, raw), code)


@pytest.mark.curve
def test_curve_replayed_message_is_dropped_after_one_delivery(curve):
    raw_curve = RawCurve()

    def script(raw):
        curve_handshake(raw_curve, raw)
        first = raw_curve.message(b"only once")
        raw.sendall(first)
        with gevent.Timeout(TIMEOUT):
            assert curve.pull.recv() == b"only once"
        raw.sendall(first)

    run_hostile(curve, script)
    # The replay was not delivered: the next message is the good client's.
    with gevent.Timeout(TIMEOUT):
        curve.push.send(b"marker")
        assert curve.pull.recv() == b"marker"


@pytest.mark.curve
def test_curve_multipart_from_raw_client_is_delivered(curve):
    # The raw client is a correct CURVE client when it wants to be (guards the cases above).
    raw_curve = RawCurve()
    raw = connect_raw(curve.port)
    try:
        raw.sendall(greeting(b"CURVE"))
        recv_exactly(raw, 64)
        curve_handshake(raw_curve, raw)
        raw.sendall(raw_curve.message(b"a", flags=1) + raw_curve.message(b"b" * 300))
        with gevent.Timeout(TIMEOUT):
            assert curve.pull.recv_multipart() == [b"a", b"b" * 300]
    finally:
        raw.close()
    check_still_working(curve)


@pytest.mark.curve
def test_curve_client_key_refused_by_zap(curve, zap_requests):
    # Another client key: the handler answers 400, greenmq sends ERROR "400" and closes.
    public, secret = nacl.crypto_box_keypair()
    raw_curve = RawCurve(public=public, secret=secret)

    def script(raw):
        curve_welcome(raw_curve, raw)
        raw.sendall(raw_curve.initiate())

    run_hostile(curve, script, answer=command(b"ERROR", b"\x03400"))
    assert (b"CURVE", [public]) in zap_requests
    assert wait_for_event(curve.monitor, {zmq.EVENT_HANDSHAKE_FAILED_AUTH}) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)


@pytest.mark.curve
@pytest.mark.parametrize("when", ["instead-of-hello", "instead-of-initiate"])
def test_curve_client_answering_with_error(curve, when):
    # libzmq 4.3.5 reports a client's ERROR as ZMTP_UNEXPECTED_COMMAND; greenmq treats it as the
    # peer's refusal. Either way the connection closes quietly.
    raw_curve = RawCurve()

    def script(raw):
        if when == "instead-of-initiate":
            curve_welcome(raw_curve, raw)
        raw.sendall(command(b"ERROR", b"\x0bnot for me"))

    run_hostile(curve, script)


# -- PLAIN ------------------------------------------------------------------------

HELLO = command(b"HELLO", b"\x05admin\x06secret")
WELCOME = command(b"WELCOME")


def plain_welcome(raw):
    raw.sendall(HELLO)
    assert recv_exactly(raw, len(WELCOME)) == WELCOME


PLAIN_CASES = {
    "hello-username-overruns": (lambda raw: raw.sendall(command(b"HELLO", b"\xc8admin\x06secret")),
                                ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-password-overruns": (lambda raw: raw.sendall(command(b"HELLO", b"\x05admin\x09secret")),
                                ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-trailing-bytes": (lambda raw: raw.sendall(command(b"HELLO", b"\x05admin\x06secret??")),
                             ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    # libzmq closes without any HANDSHAKE_FAILED event.
    "initiate-truncated-metadata": (lambda raw: (plain_welcome(raw),
                                                 raw.sendall(command(b"INITIATE", PUSH_METADATA[:-1]))),
                                    ProtocolError.ZMTP_INVALID_METADATA),
    # libzmq: MALFORMED_COMMAND_UNSPECIFIED (it parses the frame as a command), then ZMTP_UNSPECIFIED.
    "data-before-hello": (lambda raw: raw.sendall(frame(b"too early")), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-initiate": (lambda raw: (plain_welcome(raw), raw.sendall(frame(b"too early"))),
                             ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    # libzmq reports a client's ERROR as ZMTP_UNEXPECTED_COMMAND (HELLO) or ZMTP_UNSPECIFIED (INITIATE);
    # greenmq takes it as the peer's refusal. Only the quiet closing is checked.
    "client-error-instead-of-hello": (lambda raw: raw.sendall(command(b"ERROR", b"\x04nope")), None),
    "client-error-instead-of-initiate": (lambda raw: (plain_welcome(raw),
                                                      raw.sendall(command(b"ERROR", b"\x04nope"))), None),
}


@pytest.mark.parametrize("case", PLAIN_CASES)
def test_plain_server_drops_malformed_command(plain, case):
    script, code = PLAIN_CASES[case]
    run_hostile(plain, script, code)


def test_plain_wrong_password_gets_error_400(plain, zap_requests):
    run_hostile(plain, lambda raw: raw.sendall(command(b"HELLO", b"\x05admin\x05guess")),
                answer=command(b"ERROR", b"\x03400"))
    assert (b"PLAIN", [b"admin", b"guess"]) in zap_requests
    assert wait_for_event(plain.monitor, {zmq.EVENT_HANDSHAKE_FAILED_AUTH}) == (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)


def test_plain_server_without_zap_handler_closes(ctx, hub_errors, greenmq_log):
    # No handler bound: like libzmq, close at HELLO and report HANDSHAKE_FAILED_NO_DETAIL with EFAULT.
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.plain_server = 1
    monitor = pull.get_monitor_socket()
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    raw = connect_raw(port)
    try:
        raw.sendall(greeting(b"PLAIN") + HELLO)
        recv_exactly(raw, 64)
        assert read_until_eof(raw) == b""
    finally:
        raw.close()
    assert wait_for_event(monitor, {zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL}) == (
        zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, 14)
    check_log(greenmq_log)
    pull.disable_monitor()
    monitor.close()
    pull.close()


# -- HANDSHAKE_IVL and mechanism mismatch ------------------------------------------


@pytest.mark.curve
@pytest.mark.parametrize("curve", [{"handshake_ivl": 200}], indirect=True)
@pytest.mark.parametrize("sent", ["greeting", "hello"])
def test_stalled_curve_handshake_times_out(curve, sent):
    raw_curve = RawCurve()
    start = time.monotonic()

    def script(raw):
        if sent == "hello":
            curve_welcome(raw_curve, raw)

    run_hostile(curve, script)
    elapsed = time.monotonic() - start
    assert elapsed >= 0.15, f"closed after {elapsed:.3f}s, before HANDSHAKE_IVL"
    # (The value is an errno; libzmq's is whatever errno held at the time.)
    event, _ = wait_for_event(curve.monitor, HANDSHAKE_FAILURES)
    assert event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL


@pytest.mark.parametrize("plain", [{"handshake_ivl": 200}], indirect=True)
def test_stalled_plain_handshake_times_out(plain):
    start = time.monotonic()
    run_hostile(plain, plain_welcome)  # HELLO admitted, then no INITIATE
    assert time.monotonic() - start >= 0.15
    event, _ = wait_for_event(plain.monitor, HANDSHAKE_FAILURES)
    assert event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL


@pytest.mark.parametrize("server_mechanism, client_mechanism", [
    pytest.param("CURVE", "PLAIN", marks=pytest.mark.curve),
    pytest.param("CURVE", "NULL", marks=pytest.mark.curve),
    pytest.param("NULL", "CURVE", marks=pytest.mark.curve),
    pytest.param("PLAIN", "CURVE", marks=pytest.mark.curve),
])
def test_mechanism_mismatch(ctx, zap_requests, hub_errors, greenmq_log, server_mechanism, client_mechanism):
    server = Server(ctx, server_mechanism, greenmq_log, with_client=False)
    pull = server.pull
    push = server.client(client_mechanism)
    client_monitor = push.get_monitor_socket()
    try:
        for monitor in (server.monitor, client_monitor):
            event, value = wait_for_event(monitor, {zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                                    zmq.EVENT_HANDSHAKE_SUCCEEDED}, timeout=TIMEOUT)
            assert (event, value) == (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, ProtocolError.ZMTP_MECHANISM_MISMATCH)
        # A raw peer with the wrong mechanism gets the server's greeting and nothing else.
        raw = connect_raw(server.port)
        try:
            raw.sendall(greeting(client_mechanism.encode()))
            assert recv_exactly(raw, 64)[12:32] == server_mechanism.encode().ljust(20, b"\x00")
            assert read_until_eof(raw) == b""
        finally:
            raw.close()
        assert pull.poll(200) == 0  # nothing was delivered
        check_log(greenmq_log)
        # A client with the right mechanism still gets through.
        good = server.client(server_mechanism)
        try:
            exchange(good, pull, b"good", 3)
        finally:
            good.close()
    finally:
        push.disable_monitor()
        client_monitor.close()
        push.close()
        server.close()


@pytest.mark.curve
@pytest.mark.parametrize("curve", [{"handshake_ivl": 2000}], indirect=True)
def test_many_hostile_curve_peers_at_once(curve):
    # Every malformed CURVE peer above at the same time (less the ones that show the low-order key bug,
    # which have their own tests), while the good client keeps sending.
    cases = [case for case in CURVE_CASES if "zero" not in case]
    raws = [connect_raw(curve.port) for _ in cases]

    def misbehave(raw, case):
        raw.sendall(greeting(b"CURVE"))
        recv_exactly(raw, 64)
        CURVE_CASES[case][0](RawCurve(), raw)
        return read_until_eof(raw)

    try:
        peers = [gevent.spawn(misbehave, raw, case) for raw, case in zip(raws, cases)]
        exchange(curve.push, curve.pull, b"during", 50)
        with gevent.Timeout(TIMEOUT):
            gevent.joinall(peers, raise_error=True)
        assert [peer.value for peer in peers] == [b""] * len(cases)
    finally:
        for raw in raws:
            raw.close()
    check_still_working(curve)

"""The ZAP handler (greenmq.auth, pyzmq's zmq.auth), tested as a handler.

Requests are sent by hand from a REQ (or DEALER) socket connected to
``inproc://zeromq.zap.01``, the way a PLAIN/CURVE server would send them, and
every frame of every reply is checked. The expected status texts and edge
cases were taken from pyzmq 27's authenticator, and
``test_replies_match_pyzmq`` replays one long script of configuration calls
and requests against pyzmq's ThreadAuthenticator in a subprocess (pyzmq's
sockets never open in this process) and against greenmq's, and compares the
replies.

Where greenmq answers differently, on purpose: a request too short to carry a
request id is answered (pyzmq leaves it unanswered, and its REP socket is
stuck from then on), a CURVE key that is not 32 bytes is "Invalid
credentials", and a credentials provider that raises gets "500 Internal
error" instead of ending the handler.
"""

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from importlib.util import find_spec

import gevent
import pytest

import greenmq as zmq
from greenmq.auth import CURVE_ALLOW_ANY, Authenticator, create_certificates, load_certificate
from greenmq.auth.thread import GreenletAuthenticator, ThreadAuthenticator
from greenmq.utils import z85

from security_support import ZAP_ENDPOINT
from support import SHORT_TIMEOUT


def zap_request(mechanism=b"NULL", *credentials, domain=b"", address=b"127.0.0.1", request_id=b"42",
                identity=b"", version=b"1.0"):
    return [version, request_id, domain, address, identity, mechanism, *credentials]


def ok(user_id, request_id=b"42"):
    return [b"1.0", request_id, b"200", b"OK", user_id, b""]


def denied(text, request_id=b"42", code=b"400"):
    return [b"1.0", request_id, code, text, b"", b""]


class ZapClient:
    """A REQ socket that plays the server side of ZAP: one request, one reply."""

    def __init__(self, context):
        self.context = context
        self.sock = self._connect()

    def _connect(self):
        sock = self.context.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(ZAP_ENDPOINT)
        return sock

    def ask(self, frames):
        try:
            with gevent.Timeout(SHORT_TIMEOUT):
                self.sock.send_multipart(frames)
                return self.sock.recv_multipart()
        except gevent.Timeout:
            # No reply: a fresh socket, so the next request is not refused with EFSM.
            self.sock.close()
            self.sock = self._connect()
            raise AssertionError(f"no ZAP reply to {frames!r}") from None

    def close(self):
        self.sock.close()


@pytest.fixture
def auth(ctx):
    """A running ThreadAuthenticator on the test's context."""
    authenticator = ThreadAuthenticator(ctx)
    authenticator.start()
    try:
        yield authenticator
    finally:
        authenticator.stop()


@pytest.fixture
def zap(ctx):
    client = ZapClient(ctx)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def cert_dir(tmp_path):
    """Certificates of two known clients in ``keys/`` and of a stranger elsewhere: name -> (public, secret).

    Making them needs PyNaCl: the tests that use it are marked ``curve``."""
    keys = tmp_path / "keys"
    other = tmp_path / "other"
    keys.mkdir()
    other.mkdir()
    certs = {}
    for name, where in (("alice", keys), ("bob", keys), ("stranger", other)):
        certs[name] = load_certificate(create_certificates(where, name)[1])
    return keys, certs


def raw(z85_key):
    return z85.decode(z85_key)


# -- NULL and the address lists -------------------------------------------------------


def test_null_is_allowed_without_configuration(auth, zap):
    assert zap.ask(zap_request(b"NULL")) == ok(b"anonymous")
    assert zap.ask(zap_request(b"NULL", request_id=b"")) == ok(b"anonymous", request_id=b"")
    assert zap.ask(zap_request(b"NULL", request_id=b"\x00\xffid")) == ok(b"anonymous", request_id=b"\x00\xffid")


def test_unknown_mechanism_is_refused_without_an_address_list(auth, zap):
    assert zap.ask(zap_request(b"FOO")) == denied(b"NO ACCESS")


def test_allow_list_admits_listed_addresses_only(auth, zap):
    auth.allow("10.0.0.1", "10.0.0.2")
    assert zap.ask(zap_request(b"NULL", address=b"10.0.0.1")) == ok(b"anonymous")
    assert zap.ask(zap_request(b"NULL", address=b"10.0.0.2")) == ok(b"anonymous")
    assert zap.ask(zap_request(b"NULL", address=b"127.0.0.1")) == denied(b"Address not allowed")
    assert zap.ask(zap_request(b"NULL", address=b"")) == denied(b"Address not allowed")
    # As in pyzmq, an allowed address passes with any mechanism the handler does not check ...
    assert zap.ask(zap_request(b"FOO", address=b"10.0.0.1")) == ok(b"anonymous")
    # ... but PLAIN must still authenticate, and a refused address never gets that far.
    auth.configure_plain("*", {"admin": "secret"})
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"wrong", address=b"10.0.0.1")) == denied(b"Invalid password")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", address=b"10.0.0.1")) == ok(b"admin")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", address=b"10.0.0.9")) == denied(b"Address not allowed")


def test_deny_list_refuses_listed_addresses_only(auth, zap):
    auth.deny("192.168.0.66")
    assert zap.ask(zap_request(b"NULL", address=b"192.168.0.66")) == denied(b"Address denied")
    assert zap.ask(zap_request(b"NULL", address=b"192.168.0.67")) == ok(b"anonymous")
    assert zap.ask(zap_request(b"FOO", address=b"192.168.0.67")) == ok(b"anonymous")
    assert zap.ask(zap_request(b"PLAIN", b"u", b"p", address=b"192.168.0.67")) == denied(b"No passwords defined")
    auth.deny("192.168.0.67")
    assert zap.ask(zap_request(b"NULL", address=b"192.168.0.67")) == denied(b"Address denied")


def test_allow_and_deny_cannot_be_combined(ctx):
    allowing = Authenticator(ctx)
    allowing.allow("10.0.0.1")
    with pytest.raises(ValueError):
        allowing.deny("10.0.0.2")
    denying = Authenticator(ctx)
    denying.deny("10.0.0.1")
    with pytest.raises(ValueError):
        denying.allow("10.0.0.2")
    # Neither list was changed by the refused call.
    assert allowing._allowed == {"10.0.0.1"} and not allowing._denied
    assert denying._denied == {"10.0.0.1"} and not denying._allowed


# -- malformed requests ---------------------------------------------------------------


def test_wrong_version_is_refused(auth, zap):
    assert zap.ask(zap_request(b"NULL", version=b"1.1")) == denied(b"Invalid version")
    assert zap.ask(zap_request(b"NULL", version=b"")) == denied(b"Invalid version")
    assert zap.ask(zap_request(b"NULL")) == ok(b"anonymous")


def test_too_few_frames(auth, zap):
    assert zap.ask([b"1.0", b"7", b"", b"127.0.0.1", b""]) == denied(b"Not enough frames", request_id=b"7")
    assert zap.ask([b"1.0", b"8"]) == denied(b"Not enough frames", request_id=b"8")
    # No request id to echo: pyzmq stays silent and its REP socket is stuck for good;
    # greenmq answers with an empty id and goes on serving.
    assert zap.ask([b"1.0"]) == denied(b"Not enough frames", request_id=b"")
    assert zap.ask(zap_request(b"NULL")) == ok(b"anonymous")


def test_dealer_with_delimiter_gets_the_same_reply(ctx, auth):
    dealer = ctx.socket(zmq.DEALER)
    try:
        dealer.linger = 0
        dealer.connect(ZAP_ENDPOINT)
        dealer.send_multipart([b""] + zap_request(b"NULL", request_id=b"d1"))
        dealer.send_multipart([b""] + zap_request(b"FOO", request_id=b"d2"))
        with gevent.Timeout(SHORT_TIMEOUT):
            assert dealer.recv_multipart() == [b""] + ok(b"anonymous", request_id=b"d1")
            assert dealer.recv_multipart() == [b""] + denied(b"NO ACCESS", request_id=b"d2")
    finally:
        dealer.close()


# -- PLAIN ----------------------------------------------------------------------------


def test_plain(auth, zap):
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret")) == denied(b"No passwords defined")
    auth.configure_plain(passwords={"admin": "secret", "guest": ""})
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret")) == ok(b"admin")
    assert zap.ask(zap_request(b"PLAIN", b"guest", b"")) == ok(b"guest")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"Secret")) == denied(b"Invalid password")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"")) == denied(b"Invalid password")
    assert zap.ask(zap_request(b"PLAIN", b"root", b"secret")) == denied(b"Invalid username")
    assert zap.ask(zap_request(b"PLAIN", b"admin")) == denied(b"Invalid credentials")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", b"more")) == denied(b"Invalid credentials")


def test_plain_domains(auth, zap):
    auth.configure_plain("*", {"admin": "secret"})
    # An empty domain means "*", which also may be named outright ...
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", domain=b"")) == ok(b"admin")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", domain=b"*")) == ok(b"admin")
    # ... but "*" is no wildcard: any other domain must be configured by name (pyzmq's rule).
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", domain=b"global")) == denied(b"Invalid domain")
    auth.configure_plain("global", {"ops": "pw"})
    assert zap.ask(zap_request(b"PLAIN", b"ops", b"pw", domain=b"global")) == ok(b"ops")
    assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret", domain=b"global")) == denied(b"Invalid username")
    assert zap.ask(zap_request(b"PLAIN", b"ops", b"pw", domain=b"")) == denied(b"Invalid username")


def test_plain_passwords_are_kept_by_reference(auth, zap):
    passwords = {"admin": "secret"}
    auth.configure_plain("*", passwords)
    assert zap.ask(zap_request(b"PLAIN", b"new", b"pw")) == denied(b"Invalid username")
    passwords["new"] = "pw"
    assert zap.ask(zap_request(b"PLAIN", b"new", b"pw")) == ok(b"new")
    # An empty dict does not replace the configuration (pyzmq's rule).
    auth.configure_plain("*", {})
    assert zap.ask(zap_request(b"PLAIN", b"new", b"pw")) == ok(b"new")


def test_plain_text_is_decoded_with_the_encoding(ctx, zap):
    auth = ThreadAuthenticator(ctx, encoding="latin-1")
    auth.start()
    try:
        auth.configure_plain("dömain", {"jürgen": "paß"})
        request = zap_request(b"PLAIN", "jürgen".encode("latin-1"), "paß".encode("latin-1"),
                              domain="dömain".encode("latin-1"))
        assert zap.ask(request) == ok("jürgen".encode("latin-1"))
        # Undecodable bytes do not break the handler (utf-8 with replacement characters).
        auth.encoding = "utf-8"
        assert zap.ask(zap_request(b"PLAIN", b"\xff", b"\xfe", domain=b"\xfd")) == denied(b"Invalid domain")
    finally:
        auth.stop()


# -- CURVE ----------------------------------------------------------------------------


def test_curve_is_refused_until_configured(auth, zap):
    assert zap.ask(zap_request(b"CURVE", bytes(32))) == denied(b"Unknown domain")


@pytest.mark.curve
def test_curve_certificate_directory(auth, zap, cert_dir):
    keys, certs = cert_dir
    auth.configure_curve("*", keys)
    for name in ("alice", "bob"):
        public = certs[name][0]
        assert zap.ask(zap_request(b"CURVE", raw(public))) == ok(public)
    assert zap.ask(zap_request(b"CURVE", raw(certs["stranger"][0]))) == denied(b"Unknown key")
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]), domain=b"global")) == denied(b"Unknown domain")
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]), domain=b"*")) == ok(certs["alice"][0])
    # A secret key is no public key.
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][1]))) == denied(b"Unknown key")


@pytest.mark.curve
def test_curve_directory_is_read_when_configured(auth, zap, cert_dir, tmp_path):
    keys, certs = cert_dir
    auth.configure_curve("*", keys)
    newcomer, _ = load_certificate(create_certificates(keys, "newcomer")[0])
    assert zap.ask(zap_request(b"CURVE", raw(newcomer))) == denied(b"Unknown key")
    auth.configure_curve("*", keys)
    assert zap.ask(zap_request(b"CURVE", raw(newcomer))) == ok(newcomer)


@pytest.mark.curve
def test_curve_unreadable_directory_is_logged_and_keeps_the_keys(auth, zap, cert_dir, tmp_path, caplog):
    keys, certs = cert_dir
    auth.configure_curve("*", keys)
    with caplog.at_level(logging.ERROR, logger="greenmq.auth"):
        auth.configure_curve("*", tmp_path / "missing")
    assert any("missing" in record.getMessage() for record in caplog.records)
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]))) == ok(certs["alice"][0])


def test_curve_credentials_must_be_one_32_byte_key(auth, zap):
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    assert zap.ask(zap_request(b"CURVE")) == denied(b"Invalid credentials")
    assert zap.ask(zap_request(b"CURVE", bytes(32), bytes(32))) == denied(b"Invalid credentials")
    assert zap.ask(zap_request(b"CURVE", bytes(31))) == denied(b"Invalid credentials")
    assert zap.ask(zap_request(b"CURVE", bytes(40))) == denied(b"Invalid credentials")


@pytest.mark.curve
def test_curve_allow_any(auth, zap, cert_dir):
    keys, certs = cert_dir
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    key = bytes(range(32))
    assert zap.ask(zap_request(b"CURVE", key)) == ok(z85.encode(key))
    # Any key in any domain, as long as allow-any is on (pyzmq's rule) ...
    assert zap.ask(zap_request(b"CURVE", key, domain=b"elsewhere")) == ok(z85.encode(key))
    # ... which a later directory turns off.
    auth.configure_curve("*", keys)
    assert zap.ask(zap_request(b"CURVE", key)) == denied(b"Unknown key")
    assert zap.ask(zap_request(b"CURVE", raw(certs["bob"][0]))) == ok(certs["bob"][0])


class Provider:
    """A credentials provider that accepts the Z85 keys in ``accept`` and records its calls."""

    def __init__(self, *accept):
        self.accept = set(accept)
        self.calls = []

    def callback(self, domain, key):
        self.calls.append((domain, key))
        return key in self.accept


def test_curve_callback(auth, zap):
    good, bad = bytes(range(32)), bytes(range(1, 33))
    provider = Provider(z85.encode(good))
    auth.configure_curve_callback("*", provider)
    assert zap.ask(zap_request(b"CURVE", good)) == ok(z85.encode(good))
    assert zap.ask(zap_request(b"CURVE", bad, domain=b"*")) == denied(b"Unknown key")
    assert zap.ask(zap_request(b"CURVE", good, domain=b"global")) == denied(b"Unknown domain")
    # The provider sees the domain ("*" for an empty one) and the key as Z85 bytes.
    assert provider.calls == [("*", z85.encode(good)), ("*", z85.encode(bad))]


@pytest.mark.curve
def test_curve_callback_takes_precedence_over_directories(auth, zap, cert_dir):
    keys, certs = cert_dir
    auth.configure_curve("*", keys)
    auth.configure_curve_callback("other", Provider())
    # pyzmq consults certificate directories only while no provider is configured, in any domain.
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]))) == denied(b"Unknown domain")
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]))) == ok(certs["alice"][0])
    # configure_curve_callback turns allow-any off again; None is logged, not stored.
    auth.configure_curve_callback("*", None)
    assert zap.ask(zap_request(b"CURVE", raw(certs["alice"][0]))) == denied(b"Unknown domain")


def test_curve_callback_that_fails_gets_500_and_the_handler_goes_on(auth, zap, caplog):
    class Broken:
        def callback(self, domain, key):
            raise RuntimeError("database is down")

    auth.configure_curve_callback("*", Broken())
    with caplog.at_level(logging.ERROR, logger="greenmq.auth"):
        assert zap.ask(zap_request(b"CURVE", bytes(32))) == denied(b"Internal error", code=b"500")
    assert any(record.exc_info and "database is down" in str(record.exc_info[1]) for record in caplog.records)
    assert auth.is_alive()
    assert zap.ask(zap_request(b"NULL")) == ok(b"anonymous")


def test_curve_callback_may_be_a_coroutine(auth, zap):
    class AsyncProvider:
        async def callback(self, domain, key):
            return key == z85.encode(bytes(32))

    auth.configure_curve_callback("*", AsyncProvider())
    assert zap.ask(zap_request(b"CURVE", bytes(32))) == ok(z85.encode(bytes(32)))
    assert zap.ask(zap_request(b"CURVE", bytes(range(32)))) == denied(b"Unknown key")


def test_curve_user_id_can_be_overridden(ctx, zap):
    class Named(ThreadAuthenticator):
        def curve_user_id(self, client_public_key):
            return "user-%d" % client_public_key[0]

    auth = Named(ctx)
    auth.start()
    try:
        auth.configure_curve(location=CURVE_ALLOW_ANY)
        assert zap.ask(zap_request(b"CURVE", bytes([7]) * 32)) == ok(b"user-7")
    finally:
        auth.stop()


def test_curve_user_id_is_the_z85_text():
    key = bytes(range(32))
    user_id = Authenticator(zmq.Context.instance()).curve_user_id(key)
    assert user_id == z85.encode(key).decode("ascii")
    assert isinstance(user_id, str) and len(user_id) == 40


# -- GSSAPI ---------------------------------------------------------------------------


def test_gssapi_is_answered_as_pyzmq_does(auth, zap):
    auth.configure_gssapi()  # a no-op, and it does not raise
    assert zap.ask(zap_request(b"GSSAPI", b"alice@EXAMPLE.COM")) == ok(b"alice@EXAMPLE.COM")
    assert zap.ask(zap_request(b"GSSAPI")) == denied(b"Invalid credentials")


# -- lifecycle ------------------------------------------------------------------------


def test_stop_frees_the_endpoint_for_another_handler(ctx, zap):
    first = ThreadAuthenticator(ctx)
    first.start()
    try:
        assert first.is_alive()
        first.deny("127.0.0.1")
        assert zap.ask(zap_request(b"NULL")) == denied(b"Address denied")
    finally:
        first.stop()
    assert not first.is_alive() and first.zap_socket is None and first.thread is None
    second = ThreadAuthenticator(ctx)
    second.start()
    # As with libzmq, an inproc connection does not move to a new binder; a server
    # opens a new one to the ZAP endpoint for every handshake, and so does this test.
    client = ZapClient(ctx)
    try:
        assert client.ask(zap_request(b"NULL")) == ok(b"anonymous")
    finally:
        client.close()
        second.stop()


def test_stop_is_safe_before_start_and_twice(ctx):
    auth = ThreadAuthenticator(ctx)
    auth.stop()
    assert not auth.is_alive()
    auth.start()
    sock = auth.zap_socket
    greenlet = auth.greenlet
    auth.stop()
    auth.stop()
    assert sock.closed and greenlet.dead
    plain = Authenticator(ctx)
    plain.stop()
    plain.start()
    plain.stop()
    plain.stop()


def test_restart_after_stop(ctx):
    auth = ThreadAuthenticator(ctx)
    auth.configure_plain("*", {"admin": "secret"})
    auth.start()
    auth.stop()
    auth.start()
    client = ZapClient(ctx)
    try:
        assert client.ask(zap_request(b"PLAIN", b"admin", b"secret")) == ok(b"admin")
    finally:
        client.close()
        auth.stop()


def test_second_handler_in_one_context_is_refused(ctx, auth, zap):
    other = ThreadAuthenticator(ctx)
    with pytest.raises(zmq.ZMQError) as raised:
        other.start()
    assert raised.value.errno == zmq.EADDRINUSE
    assert other.zap_socket is None and not other.is_alive()
    with pytest.raises(RuntimeError):
        auth.start()
    assert zap.ask(zap_request(b"NULL")) == ok(b"anonymous")
    other.stop()


def test_two_contexts_have_independent_handlers():
    contexts = [zmq.Context(), zmq.Context()]
    auths = [ThreadAuthenticator(c) for c in contexts]
    clients = []
    try:
        for auth in auths:
            auth.start()
        auths[0].configure_plain("*", {"one": "1"})
        auths[1].configure_plain("*", {"two": "2"})
        clients = [ZapClient(c) for c in contexts]
        assert clients[0].ask(zap_request(b"PLAIN", b"one", b"1")) == ok(b"one")
        assert clients[0].ask(zap_request(b"PLAIN", b"two", b"2")) == denied(b"Invalid username")
        assert clients[1].ask(zap_request(b"PLAIN", b"two", b"2")) == ok(b"two")
        assert clients[1].ask(zap_request(b"PLAIN", b"one", b"1")) == denied(b"Invalid username")
    finally:
        for client in clients:
            client.close()
        for auth in auths:
            auth.stop()
        with gevent.Timeout(SHORT_TIMEOUT):
            for c in contexts:
                c.term()


def test_context_term_ends_the_handler():
    context = zmq.Context()
    auth = ThreadAuthenticator(context)
    try:
        auth.start()
        gevent.sleep(0)  # let the handler block in recv
        with gevent.Timeout(SHORT_TIMEOUT):
            context.term()
            auth.greenlet.join()
        assert not auth.is_alive() and auth.zap_socket.closed
    finally:
        auth.stop()
        with gevent.Timeout(SHORT_TIMEOUT):
            context.destroy(linger=0)


def test_requests_from_another_os_thread(ctx, auth):
    """Sockets of the context used in another thread are served while this thread's hub runs."""
    auth.configure_plain("*", {"admin": "secret"})
    replies = []

    def server_thread():
        req = ctx.socket(zmq.REQ)
        try:
            req.linger = 0
            req.rcvtimeo = req.sndtimeo = SHORT_TIMEOUT * 1000
            req.connect(ZAP_ENDPOINT)
            for password in (b"secret", b"guess"):
                req.send_multipart(zap_request(b"PLAIN", b"admin", password))
                replies.append(req.recv_multipart())
        finally:
            req.close()

    thread = threading.Thread(target=server_thread)
    thread.start()
    # Join from the hub's thread pool, so that this thread's hub (and the handler) keeps running.
    gevent.get_hub().threadpool.spawn(thread.join).get(timeout=SHORT_TIMEOUT * 3)
    assert replies == [ok(b"admin"), denied(b"Invalid password")]


def test_stop_from_inside_the_handler(ctx, zap):
    auth = ThreadAuthenticator(ctx)

    class Stopper:
        def callback(self, domain, key):
            auth.stop()
            return True

    auth.configure_curve_callback("*", Stopper())
    auth.start()
    greenlet = auth.greenlet
    try:
        zap.sock.send_multipart(zap_request(b"CURVE", bytes(32)))
        with gevent.Timeout(SHORT_TIMEOUT):
            greenlet.join()
        assert greenlet.dead and greenlet.exception is None
        assert not auth.is_alive() and auth.zap_socket is None
    finally:
        auth.stop()


def test_plain_authenticator_served_by_hand(ctx, zap):
    auth = Authenticator(ctx)
    auth.start()

    def serve(count):
        for _ in range(count):
            auth.handle_zap_message(auth.zap_socket.recv_multipart())

    server = gevent.spawn(serve, 2)
    try:
        auth.configure_plain(passwords={"admin": "secret"})
        assert zap.ask(zap_request(b"PLAIN", b"admin", b"secret")) == ok(b"admin")
        assert zap.ask(zap_request(b"PLAIN", b"admin", b"nope")) == denied(b"Invalid password")
        with gevent.Timeout(SHORT_TIMEOUT):
            server.join()
        assert server.successful()
    finally:
        server.kill()
        auth.stop()


def test_default_context_is_the_shared_instance():
    auth = Authenticator()
    assert auth.context is zmq.Context.instance()
    assert ThreadAuthenticator().context is zmq.Context.instance()


def test_names():
    import greenmq.auth as auth_module

    assert CURVE_ALLOW_ANY == "*"
    assert GreenletAuthenticator is ThreadAuthenticator
    assert issubclass(ThreadAuthenticator, Authenticator)
    for name in ("Authenticator", "CURVE_ALLOW_ANY", "create_certificates", "load_certificate",
                 "load_certificates"):
        assert name in auth_module.__all__ and hasattr(auth_module, name)


# -- the same script against pyzmq --------------------------------------------------------

# Runs a list of operations against an authenticator class and returns what each
# gave. Executed here with greenmq and in a subprocess with pyzmq; frames travel
# as latin-1 text in JSON.
DRIVER = textwrap.dedent('''
    def run(zmq, authenticator_class, ops, timeout_ms):
        ctx = zmq.Context()
        auth = authenticator_class(ctx)
        auth.start()
        calls = []

        class Provider:
            def __init__(self, accept):
                self.accept = accept

            def callback(self, domain, key):
                calls.append([domain, key.decode("ascii")])
                return key.decode("ascii") in self.accept

        results = []
        try:
            for op, *args in ops:
                if op == "ask":
                    req = ctx.socket(zmq.REQ)
                    req.linger = 0
                    req.rcvtimeo = timeout_ms
                    req.connect("inproc://zeromq.zap.01")
                    req.send_multipart([f.encode("latin-1") for f in args[0]])
                    try:
                        results.append([f.decode("latin-1") for f in req.recv_multipart()])
                    except zmq.Again:
                        results.append("no reply")
                    req.close()
                elif op in ("allow", "deny"):
                    try:
                        getattr(auth, op)(*args[0])
                        results.append(None)
                    except ValueError:
                        results.append("ValueError")
                elif op == "plain":
                    results.append(auth.configure_plain(args[0], args[1]))
                elif op == "curve":
                    results.append(auth.configure_curve(args[0], args[1]))
                elif op == "callback":
                    results.append(auth.configure_curve_callback(args[0], Provider(args[1])))
                elif op == "calls":
                    results.append(list(calls))
        finally:
            auth.stop()
            ctx.destroy(linger=0)
        return results
''')

PYZMQ_RUNNER = DRIVER + textwrap.dedent('''
    import json, sys
    import zmq
    from zmq.auth.thread import ThreadAuthenticator
    print(json.dumps(run(zmq, ThreadAuthenticator, json.load(sys.stdin), 5000)))
''')


def _ask(mechanism, *credentials, **fields):
    return ["ask", [f.decode("latin-1") for f in zap_request(mechanism, *credentials, **fields)]]


def _script(keys_dir, known, stranger):
    k, s = raw(known), raw(stranger)
    return [
        _ask(b"NULL"), _ask(b"NULL", domain=b"x", identity=b"me"), _ask(b"FOO"),
        _ask(b"NULL", version=b"1.1"), _ask(b"NULL", version=b"1"),
        ["ask", ["1.0", "r"]], ["ask", ["1.0", "r", "", "127.0.0.1", ""]],
        _ask(b"PLAIN", b"admin", b"secret"),
        ["plain", "*", {"admin": "secret", "guest": ""}],
        _ask(b"PLAIN", b"admin", b"secret"), _ask(b"PLAIN", b"admin", b"secret", domain=b"*"),
        _ask(b"PLAIN", b"admin", b"secret", domain=b"global"), _ask(b"PLAIN", b"guest", b""),
        _ask(b"PLAIN", b"admin", b"x"), _ask(b"PLAIN", b"root", b"secret"),
        _ask(b"PLAIN", b"admin"), _ask(b"PLAIN", b"a", b"b", b"c"), _ask(b"PLAIN"),
        ["plain", "global", {"ops": "pw"}], ["plain", "*", {}],
        _ask(b"PLAIN", b"ops", b"pw", domain=b"global"), _ask(b"PLAIN", b"admin", b"secret", domain=b"global"),
        _ask(b"PLAIN", b"admin", b"secret"),
        _ask(b"CURVE", k),
        ["curve", "*", keys_dir],
        _ask(b"CURVE", k), _ask(b"CURVE", s), _ask(b"CURVE", k, domain=b"global"), _ask(b"CURVE", k, domain=b"*"),
        _ask(b"CURVE"), _ask(b"CURVE", k, s),
        ["curve", "*", CURVE_ALLOW_ANY],
        _ask(b"CURVE", s), _ask(b"CURVE", s, domain=b"global"),
        ["curve", "*", keys_dir],
        _ask(b"CURVE", s),
        ["curve", "*", os.path.join(keys_dir, "missing")],
        _ask(b"CURVE", k),
        ["callback", "*", [stranger.decode()]],
        _ask(b"CURVE", s), _ask(b"CURVE", k), _ask(b"CURVE", s, domain=b"global"),
        ["callback", "global", [known.decode()]],
        _ask(b"CURVE", k, domain=b"global"), _ask(b"CURVE", s, domain=b"global"),
        ["calls"],
        _ask(b"GSSAPI", b"alice@EXAMPLE.COM"), _ask(b"GSSAPI"),
        ["allow", ["10.0.0.1", "10.0.0.2"]], ["deny", ["10.0.0.3"]],
        _ask(b"NULL"), _ask(b"NULL", address=b"10.0.0.2"), _ask(b"FOO", address=b"10.0.0.1"),
        _ask(b"PLAIN", b"admin", b"x", address=b"10.0.0.1"), _ask(b"PLAIN", b"admin", b"secret", address=b"10.0.0.1"),
        _ask(b"CURVE", s, address=b"10.0.0.1"), _ask(b"CURVE", s, address=b"10.0.0.9"),
    ]


def _deny_script():
    return [
        ["deny", ["10.0.0.3"]], ["allow", ["10.0.0.1"]],
        _ask(b"NULL", address=b"10.0.0.3"), _ask(b"NULL", address=b"10.0.0.4"), _ask(b"FOO", address=b"10.0.0.4"),
        _ask(b"PLAIN", b"u", b"p", address=b"10.0.0.4"), _ask(b"PLAIN", b"u", b"p", address=b"10.0.0.3"),
    ]


def _run_pyzmq(ops, cwd):
    done = subprocess.run([sys.executable, "-c", PYZMQ_RUNNER], input=json.dumps(ops), capture_output=True,
                          text=True, timeout=60, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_greenmq(ops):
    namespace = {}
    exec(DRIVER, namespace)
    with gevent.Timeout(60):
        return namespace["run"](zmq, ThreadAuthenticator, ops, 5000)


@pytest.mark.skipif(find_spec("zmq") is None, reason="needs pyzmq as the reference")
@pytest.mark.curve
def test_replies_match_pyzmq(tmp_path):
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    known, _ = load_certificate(create_certificates(keys_dir, "known")[0])
    stranger, _ = load_certificate(create_certificates(tmp_path, "stranger")[0])
    replies = []
    for ops in (_script(str(keys_dir), known, stranger), _deny_script()):
        expected = _run_pyzmq(ops, tmp_path)
        got = _run_greenmq(ops)
        assert len(expected) == len(got) == len(ops)
        for op, want, have in zip(ops, expected, got):
            assert have == want, f"{op}: pyzmq {want!r}, greenmq {have!r}"
        replies.extend(got)
    # Not vacuous: the script saw both verdicts, every kind of refusal, and the provider's calls.
    texts = {tuple(r[2:4]) for r in replies if isinstance(r, list) and len(r) == 6}
    assert {("200", "OK"), ("400", "Invalid version"), ("400", "Invalid domain"), ("400", "Unknown key"),
            ("400", "Address not allowed"), ("400", "Address denied")} <= texts
    calls = replies[[op[0] for op in _script("", known, stranger)].index("calls")]
    assert ["*", known.decode()] in calls and ["global", stranger.decode()] in calls

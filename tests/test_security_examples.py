"""The security examples (examples/security/) run, and each level keeps out whom it says it does.

First every example runs as a subprocess, with a timeout, and must print its
one OK line and exit 0. Then each level's own server setup (``start_server``
and ``client_socket``, imported from the example) is attacked in this
process: a client that the level should refuse -- from an address not
allowed, with a wrong password, trusting the wrong server key, with a key that
has no certificate -- connects next to one that should get in. The refused
client must see its handshake fail (monitor events), and receive nothing,
while the good client of the same server gets every message: so a server that
admitted everybody, or nobody, fails these tests.

Every client connects from 127.0.0.1: the address tests give the server an
allow or deny list that does or does not name it.
"""

import importlib
import os
import re
import struct
import subprocess
import sys
from importlib.util import find_spec

import gevent
import pytest

import greenmq as zmq
from greenmq.auth import create_certificates, load_certificate

from example_support import EXAMPLES, EXAMPLE_TIMEOUT, run
from support import SHORT_TIMEOUT

SECURITY = EXAMPLES / "security"
QUIET = 0.3  # seconds a refused client is watched for messages that must not come
MESSAGES = 4
LEVELS = ["grasslands", "strawhouse", "woodhouse", "stonehouse", "ironhouse"]
CURVE_LEVELS = ("stonehouse", "ironhouse")
# On greenmq the CURVE levels need PyNaCl; on pyzmq (libzmq has CURVE built in) they do not.
GREENMQ_LEVELS = [pytest.param(level, marks=pytest.mark.curve) if level in CURVE_LEVELS else level for level in LEVELS]

OUTCOMES = {zmq.EVENT_HANDSHAKE_SUCCEEDED, zmq.EVENT_HANDSHAKE_FAILED_AUTH,
            zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL}
SUCCEEDED = (zmq.EVENT_HANDSHAKE_SUCCEEDED, 0)
REFUSED = (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)  # the ZAP status, as libzmq reports it on both sides



def example(name):
    """Import examples/security/NAME.py, its directory on sys.path as when it runs as a script."""
    if str(SECURITY) not in sys.path:
        sys.path.insert(0, str(SECURITY))
    return importlib.import_module(name)


# -- the examples as programs ------------------------------------------------------------


@pytest.mark.parametrize("level", GREENMQ_LEVELS)
def test_example_runs_and_says_ok(level):
    result = run(f"security/{level}.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"{level.capitalize()} test OK\n"
    assert result.stderr == ""


@pytest.mark.skipif(find_spec("zmq") is None, reason="needs pyzmq")
@pytest.mark.parametrize("level", LEVELS)
def test_example_is_a_pyzmq_program(tmp_path, level):
    """With ``import zmq`` for ``import greenmq as zmq`` (greenmq.auth: zmq.auth), it runs on pyzmq alike."""
    for script in SECURITY.glob("*.py"):
        text = script.read_text().replace("import greenmq as zmq\n", "import zmq\n")
        text = text.replace("from greenmq.", "from zmq.")
        assert not re.search(r"^\s*(import|from) greenmq", text, re.MULTILINE), f"{script.name} still uses greenmq"
        (tmp_path / script.name).write_text(text)
    result = subprocess.run([sys.executable, str(tmp_path / f"{level}.py")], capture_output=True, text=True,
                            timeout=EXAMPLE_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"{level.capitalize()} test OK\n"


@pytest.mark.curve
def test_ironhouse_removes_its_certificates(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))  # tempfile makes its directory here
    result = subprocess.run([sys.executable, str(SECURITY / "ironhouse.py")], capture_output=True, text=True,
                            timeout=EXAMPLE_TIMEOUT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.curve
def test_generate_certificates_script(tmp_path):
    result = run("security/generate_certificates.py", str(tmp_path / "certs"))
    assert result.returncode == 0, result.stderr
    public_dir, secret_dir = tmp_path / "certs" / "public_keys", tmp_path / "certs" / "secret_keys"
    assert result.stdout.splitlines() == [f"public certificates in {public_dir}",
                                          f"secret certificates in {secret_dir}"]
    assert sorted(p.name for p in public_dir.iterdir()) == ["client.key", "server.key"]
    assert sorted(p.name for p in secret_dir.iterdir()) == ["client.key_secret", "server.key_secret"]
    for name in ("client", "server"):
        public, no_secret = load_certificate(public_dir / f"{name}.key")
        same_public, secret = load_certificate(secret_dir / f"{name}.key_secret")
        assert no_secret is None
        assert same_public == public
        assert zmq.curve_public(secret) == public
        assert (secret_dir / f"{name}.key_secret").stat().st_mode & 0o077 == 0


# -- the shared exchange: its verdict can be "FAILED" ---------------------------------------


def test_exchange_reports_a_refused_client(ctx, started):
    """The verdict the scripts print is not OK when the protection does its job."""
    exchange, woodhouse = example("exchange"), example("woodhouse")
    server, endpoint = start(started, woodhouse, ctx)
    intruder = woodhouse.client_socket(ctx, password="wrong")
    intruder.connect(endpoint)
    with gevent.Timeout(SHORT_TIMEOUT):
        error = exchange.exchange(server, intruder, timeout=0.3)
    assert error == "the server admitted no client within 0.3 s"


def test_exchange_reports_a_wrong_message(ctx):
    exchange = example("exchange")
    server, client = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    client.connect(exchange.bind_loopback(server))
    with gevent.Timeout(SHORT_TIMEOUT):
        server.send(b"stale")  # arrives before the greeting
        error = exchange.exchange(server, client, timeout=1)
    assert error == f"the client received b'stale' instead of {exchange.GREETING!r}"


def test_report_prints_one_line_and_the_exit_status(capsys):
    exchange = example("exchange")
    assert exchange.report("Woodhouse", None) == 0
    assert exchange.report("Woodhouse", "the client received nothing") == 1
    assert capsys.readouterr().out == "Woodhouse test OK\nWoodhouse test FAILED: the client received nothing\n"


# -- the protection, in process ------------------------------------------------------------


def handshake_outcome(monitor):
    """The first handshake verdict among a socket's monitor events: ``(event, value)``."""
    with gevent.Timeout(SHORT_TIMEOUT, AssertionError(f"no handshake verdict in {SHORT_TIMEOUT} s")):
        while True:
            header, _endpoint = monitor.recv_multipart()
            event, value = struct.unpack("=HI", header)
            if event in OUTCOMES:
                return zmq.Event(event), value


def connect(sock, endpoint):
    """Connect ``sock`` and return its monitor socket.

    The monitor starts before the connection, so no event is missed.
    """
    monitor = sock.get_monitor_socket()
    sock.connect(endpoint)
    return monitor


def send_all(server, count=MESSAGES):
    with gevent.Timeout(SHORT_TIMEOUT, AssertionError("the server could not send: no client admitted")):
        for number in range(count):
            server.send(b"message %d" % number)


def assert_gets_everything(client, count=MESSAGES):
    with gevent.Timeout(SHORT_TIMEOUT, AssertionError("the admitted client did not get every message")):
        assert [client.recv() for _ in range(count)] == [b"message %d" % n for n in range(count)]


def assert_gets_nothing(client):
    assert client.poll(QUIET * 1000) == 0, "a refused client received a message"


def assert_refused_beside_a_good_client(server, endpoint, intruder, friend):
    """``intruder`` is refused by ZAP and receives nothing; ``friend``, connected next, receives everything.

    If the intruder had been let in, PUSH would deal it some of the messages.
    """
    intruder_events = connect(intruder, endpoint)
    assert handshake_outcome(intruder_events) == REFUSED
    friend_events = connect(friend, endpoint)
    assert handshake_outcome(friend_events) == SUCCEEDED
    send_all(server)
    assert_gets_everything(friend)
    assert_gets_nothing(intruder)


@pytest.fixture
def started():
    """Authenticators a test started, stopped at the end (before the ``ctx`` fixture destroys the context)."""
    authenticators = []
    yield authenticators
    for auth in authenticators:
        auth.stop()


def start(started, module, *args, **kwargs):
    auth, server, endpoint = module.start_server(*args, **kwargs)
    started.append(auth)
    return server, endpoint


def assert_refused_alone(server, client, endpoint):
    """``client`` is refused by ZAP, receives nothing, and the server has no peer to send to."""
    assert handshake_outcome(connect(client, endpoint)) == REFUSED
    assert server.poll(QUIET * 1000, zmq.POLLOUT) == 0, "the server has a peer to send to"
    assert_gets_nothing(client)


def test_strawhouse_refuses_an_address_not_on_the_allow_list(ctx, started):
    strawhouse = example("strawhouse")
    # 192.0.2.7 (a documentation address) is only configuration: every socket stays on loopback.
    server, endpoint = start(started, strawhouse, ctx, allowed=("192.0.2.7",))
    assert_refused_alone(server, strawhouse.client_socket(ctx), endpoint)


def test_strawhouse_admits_an_address_on_the_allow_list(ctx, started):
    strawhouse = example("strawhouse")
    server, endpoint = start(started, strawhouse, ctx, allowed=("192.0.2.7", "127.0.0.1"))
    client = strawhouse.client_socket(ctx)
    assert handshake_outcome(connect(client, endpoint)) == SUCCEEDED
    send_all(server)
    assert_gets_everything(client)


def test_strawhouse_deny_list_refuses_127_0_0_1(ctx, started):
    strawhouse = example("strawhouse")
    server, endpoint = start(started, strawhouse, ctx, allowed=(), denied=("127.0.0.1",))
    assert_refused_alone(server, strawhouse.client_socket(ctx), endpoint)


def test_strawhouse_deny_list_admits_others(ctx, started):
    strawhouse = example("strawhouse")
    server, endpoint = start(started, strawhouse, ctx, allowed=(), denied=("192.0.2.7",))
    client = strawhouse.client_socket(ctx)
    assert handshake_outcome(connect(client, endpoint)) == SUCCEEDED
    send_all(server)
    assert_gets_everything(client)


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("admin", "Secret"), ("mallory", "secret")])
def test_woodhouse_refuses_a_wrong_password_or_user(ctx, started, username, password):
    woodhouse = example("woodhouse")
    server, endpoint = start(started, woodhouse, ctx)
    intruder = woodhouse.client_socket(ctx, username=username, password=password)
    assert_refused_beside_a_good_client(server, endpoint, intruder, woodhouse.client_socket(ctx))


def test_woodhouse_keeps_the_address_allow_list(ctx, started):
    woodhouse = example("woodhouse")
    # The right password, from an address (127.0.0.1) not on the list.
    server, endpoint = start(started, woodhouse, ctx, allowed=("192.0.2.7",))
    assert_refused_alone(server, woodhouse.client_socket(ctx), endpoint)


@pytest.mark.curve
def test_stonehouse_admits_any_client_key(ctx, started):
    stonehouse = example("stonehouse")
    server_keys = zmq.curve_keypair()
    server, endpoint = start(started, stonehouse, ctx, server_keys)
    clients = [stonehouse.client_socket(ctx, server_keys[0]) for _ in range(2)]  # two fresh key pairs
    for client in clients:
        assert handshake_outcome(connect(client, endpoint)) == SUCCEEDED
    send_all(server)
    with gevent.Timeout(SHORT_TIMEOUT, AssertionError("PUSH did not deal the messages to both clients")):
        received = sorted(client.recv() for client in clients for _ in range(MESSAGES // 2))
    assert received == [b"message %d" % n for n in range(MESSAGES)]


@pytest.mark.curve
def test_stonehouse_client_with_the_wrong_server_key_gets_nothing(ctx, started):
    stonehouse = example("stonehouse")
    server_keys = zmq.curve_keypair()
    server, endpoint = start(started, stonehouse, ctx, server_keys)
    server_events = server.get_monitor_socket()
    impostor_public_key, _ = zmq.curve_keypair()
    fooled = stonehouse.client_socket(ctx, impostor_public_key)
    fooled.connect(endpoint)
    # The server cannot open a HELLO sealed for another key: a cryptographic protocol error.
    assert handshake_outcome(server_events) == (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                                zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
    friend = stonehouse.client_socket(ctx, server_keys[0])
    assert handshake_outcome(connect(friend, endpoint)) == SUCCEEDED
    send_all(server)
    assert_gets_everything(friend)
    assert_gets_nothing(fooled)


@pytest.fixture
def certificates(tmp_path):
    """Ironhouse certificates (server, client, partner) and a stranger's, outside the public directory.

    Making them needs PyNaCl: the tests that use it are marked ``curve``."""
    generate = example("generate_certificates").generate_certificates
    public_keys_dir, secret_keys_dir = generate(tmp_path, clients=("client", "partner"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _, stranger_secret_file = create_certificates(elsewhere, "stranger")
    return public_keys_dir, secret_keys_dir, stranger_secret_file


@pytest.mark.curve
def test_ironhouse_refuses_a_client_key_not_in_the_directory(ctx, started, certificates):
    ironhouse = example("ironhouse")
    public_keys_dir, secret_keys_dir, stranger_secret_file = certificates
    server, endpoint = start(started, ironhouse, ctx, public_keys_dir, secret_keys_dir)
    server_public_file = os.path.join(public_keys_dir, "server.key")
    stranger = ironhouse.client_socket(ctx, stranger_secret_file, server_public_file)
    client = ironhouse.client_socket(ctx, os.path.join(secret_keys_dir, "client.key_secret"), server_public_file)
    assert_refused_beside_a_good_client(server, endpoint, stranger, client)


@pytest.mark.curve
def test_ironhouse_refuses_a_client_whose_certificate_was_removed(ctx, started, certificates):
    ironhouse = example("ironhouse")
    public_keys_dir, secret_keys_dir, _ = certificates
    os.remove(os.path.join(public_keys_dir, "client.key"))  # before start_server reads the directory
    server, endpoint = start(started, ironhouse, ctx, public_keys_dir, secret_keys_dir)
    server_public_file = os.path.join(public_keys_dir, "server.key")
    client = ironhouse.client_socket(ctx, os.path.join(secret_keys_dir, "client.key_secret"), server_public_file)
    partner = ironhouse.client_socket(ctx, os.path.join(secret_keys_dir, "partner.key_secret"), server_public_file)
    assert_refused_beside_a_good_client(server, endpoint, client, partner)

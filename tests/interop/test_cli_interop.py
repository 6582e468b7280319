"""The ``greenmq`` command line against libzmq: each subcommand with a pyzmq peer in another process.

The commands run as subprocesses (``python -m greenmq ...``, cli_support.py),
the peers as libzmq_peer.py processes; where either side can bind, each does
in turn (``binder``). tests/test_cli.py runs the same commands against greenmq.
"""

import json

import gevent
import pytest

from cli_support import CliGroup, assert_one_line_error
from support import TIMEOUT

from .libzmq_peer import BINDERS

ANY_PORT = "tcp://127.0.0.1:*"


@pytest.fixture
def cli():
    group = CliGroup()
    try:
        yield group
    finally:
        group.close()


def start_pair(cli, peers, binder, cli_args, role, peer_type, **peer_options):
    """A command and a libzmq peer joined over tcp: ``binder`` ("greenmq": the command, or "libzmq") binds,
    the other connects. Returns (command, peer) once both are set up."""
    if binder == "libzmq":
        peer = peers.start(role, peer_type, bind=ANY_PORT, **peer_options)
        process = cli.start(*cli_args, "--connect", peer.ready())
    else:
        process = cli.start(*cli_args, "-v", "--bind", ANY_PORT)
        peer = peers.start(role, peer_type, connect=process.endpoint(), **peer_options)
        peer.ready()
    return process, peer


def keygen_json(cli):
    status, out, err = cli.run("keygen", "--json")
    assert status == 0, err
    keys = json.loads(out[0])
    return keys["public"], keys["secret"]


# -- send and recv ------------------------------------------------------------------------------

@pytest.mark.parametrize("binder", BINDERS)
def test_send_to_libzmq_pull(cli, peers, binder):
    process, peer = start_pair(cli, peers, binder, ["send", "-f", "hex", "00ff 41", "", "42"], "ctl", "PULL")
    assert peer.recv_frames() == [b"\x00\xff", b"A"]
    assert peer.recv_frames() == [b""]
    assert peer.recv_frames() == [b"B"]
    status, _, err = process.finish()
    assert status == 0, err


@pytest.mark.parametrize("binder", BINDERS)
def test_send_stdin_lines_to_libzmq_pull(cli, peers, binder):
    process, peer = start_pair(cli, peers, binder, ["send", "-s", "|"], "ctl", "PULL")
    process.write(b"topic|body\nsolo\n")
    assert peer.recv_frames() == [b"topic", b"body"]
    assert peer.recv_frames() == [b"solo"]
    status, _, err = process.finish()
    assert status == 0, err


@pytest.mark.parametrize("binder", BINDERS)
def test_recv_from_libzmq_push(cli, peers, binder):
    process, peer = start_pair(cli, peers, binder, ["recv", "-f", "json", "-n", "2"], "ctl", "PUSH")
    assert peer.send_frames([b"text", b"\xff\x00"]) is None
    assert peer.send_frames([b"second"]) is None
    status, out, err = process.finish()
    assert status == 0, err
    assert [json.loads(line) for line in out] == [["text", {"base64": "/wA="}], ["second"]]


@pytest.mark.parametrize("binder", BINDERS)
def test_recv_subscribes_to_libzmq_pub(cli, peers, binder):
    process, peer = start_pair(cli, peers, binder, ["recv", "-t", "SUB", "--subscribe", "w", "-s", "|", "-n", "2"],
                               "ctl", "PUB")
    with gevent.Timeout(TIMEOUT):
        while True:  # until the subscription has reached libzmq
            peer.send_frames([b"x", b"filtered out"])
            peer.send_frames([b"w", b"first"])
            try:
                assert process.line(timeout=0.1) == b"w|first"
                break
            except AssertionError as error:
                if "no output line" not in str(error):
                    raise
    peer.send_frames([b"x", b"filtered out"])
    peer.send_frames([b"w", b"last"])
    status, out, err = process.finish()
    assert status == 0, err
    assert out[-1] == b"w|last" and b"x|filtered out" not in out


def test_recv_timeout_against_a_silent_libzmq_push(cli, peers):
    peer = peers.start("ctl", "PUSH", bind=ANY_PORT)
    status, out, err = cli.run("recv", "-c", peer.ready(), "--timeout", "0.3")
    assert (status, out) == (3, [])
    assert_one_line_error(err, "no message within 0.3 s")


# -- req and rep --------------------------------------------------------------------------------

@pytest.mark.parametrize("binder", BINDERS)
def test_req_to_libzmq_rep(cli, peers, binder):
    process, _ = start_pair(cli, peers, binder, ["req", "-s", "|", "hello|x", "again"], "serve", "REP")
    status, out, err = process.finish()
    assert (status, out) == (0, [b"hello|x|libzmq", b"again|libzmq"]), err


def test_req_retries_against_a_silent_libzmq_router(cli, peers):
    peer = peers.start("ctl", "ROUTER", bind=ANY_PORT)
    status, out, err = cli.run("req", "-c", peer.ready(), "--timeout", "0.3", "--retries", "1", "ping")
    assert (status, out) == (3, [])
    assert "retrying (1 of 1)" in err and err.strip().endswith("no reply after 2 attempts (0.3 s each)")
    first, second = peer.recv_frames(), peer.recv_frames()
    assert first[-1] == second[-1] == b"ping" and first[0] != second[0]


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("mode", ["echo", "exec"])
def test_rep_answers_libzmq_req(cli, peers, binder, mode):
    answer = ["--echo"] if mode == "echo" else ["--exec", "tr a-z A-Z"]
    process, peer = start_pair(cli, peers, binder, ["rep", *answer, "-s", "|", "-n", "2"], "request", "REQ",
                               count=2, frames=2, tag="lz")
    result = peer.result()
    requests = [[f"lz:{i}:{j}".encode() for j in range(2)] for i in range(2)]
    expected = requests if mode == "echo" else [[frame.upper() for frame in request] for request in requests]
    assert [[bytes.fromhex(frame) for frame in reply] for reply in result["replies"]] == expected
    status, _, err = process.finish()
    assert status == 0, err


# -- proxy --------------------------------------------------------------------------------------

def test_proxy_brokers_between_libzmq_client_and_worker(cli, peers):
    worker = peers.start("serve", "REP", bind=ANY_PORT, tag="worker")
    process = cli.start("proxy", "-v", f"router:{ANY_PORT}", f"dealer:>{worker.ready()}")
    client = peers.start("request", "REQ", connect=process.endpoint("frontend ROUTER"), count=3)
    client.ready()
    replies = [[bytes.fromhex(frame) for frame in reply] for reply in client.result()["replies"]]
    assert replies == [[f"libzmq:{i}:0".encode(), b"worker"] for i in range(3)]
    process.interrupt()
    assert process.finish()[0] == 130


def test_proxy_forwards_libzmq_pubsub(cli, peers):
    process = cli.start("proxy", "-v", f"xsub:{ANY_PORT}", f"xpub:@{ANY_PORT}")
    frontend = process.endpoint("frontend XSUB")
    backend = process.endpoint("backend XPUB")
    pub = peers.start("ctl", "PUB", connect=frontend)
    sub = peers.start("ctl", "SUB", connect=backend)
    pub.ready()
    sub.ready()
    assert sub.set_option("SUBSCRIBE", b"") is None
    with gevent.Timeout(TIMEOUT):
        while True:  # until the subscription has gone through the proxy to the publisher
            pub.send_frames([b"news", b"flash"])
            frames = sub.recv_frames(timeout=100)
            if frames is not None:
                break
    assert frames == [b"news", b"flash"]
    process.interrupt()
    assert process.finish()[0] == 130


# -- monitor ------------------------------------------------------------------------------------

def _until(process, name):
    """Monitor lines (split) up to and including the first ``name`` event."""
    events = []
    with gevent.Timeout(TIMEOUT):
        while not events or events[-1][0] != name:
            events.append(process.line().decode().split(" "))
    return events


def test_monitor_connects_to_libzmq(cli, peers):
    peer = peers.start("idle", "ROUTER", bind=ANY_PORT)
    endpoint = peer.ready()
    process = cli.start("monitor", endpoint)
    events = _until(process, "HANDSHAKE_SUCCEEDED")
    assert "CONNECTED" in [event[0] for event in events]
    assert all(event[1] == endpoint for event in events)


def test_monitor_binds_and_sees_libzmq_connect(cli, peers):
    process = cli.start("monitor", "--bind", "-t", "ROUTER", "-v", ANY_PORT)
    endpoint = process.endpoint("ROUTER")
    peers.start("idle", "DEALER", connect=endpoint).ready()
    names = [event[0] for event in _until(process, "HANDSHAKE_SUCCEEDED")]
    assert names[0] == "LISTENING" and "ACCEPTED" in names


@pytest.mark.curve
def test_monitor_decodes_a_libzmq_client_with_the_wrong_server_key(cli, peers):
    server_public, server_secret = keygen_json(cli)
    wrong_public, _ = keygen_json(cli)
    client_public, client_secret = keygen_json(cli)
    process = cli.start("monitor", "--bind", "-t", "ROUTER", "-v", ANY_PORT, "--curve-server",
                        "--curve-secretkey", server_secret)
    endpoint = process.endpoint("ROUTER")
    peers.start("idle", "DEALER", connect=endpoint, sockopts={
        "CURVE_SERVERKEY": wrong_public, "CURVE_PUBLICKEY": client_public, "CURVE_SECRETKEY": client_secret,
    }).ready()
    failure = _until(process, "HANDSHAKE_FAILED_PROTOCOL")[-1]
    assert failure == ["HANDSHAKE_FAILED_PROTOCOL", endpoint, "PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC"]
    assert server_public != wrong_public  # the client really had another server's key


def test_monitor_reports_a_refused_plain_login_to_libzmq(cli, peers):
    peer = peers.start("idle", "ROUTER", bind=ANY_PORT, auth={"plain": {"bob": "pw"}}, sockopts={"PLAIN_SERVER": 1})
    endpoint = peer.ready()
    process = cli.start("monitor", endpoint, "--plain-username", "bob", "--plain-password", "wrong")
    assert _until(process, "HANDSHAKE_FAILED_AUTH")[-1] == ["HANDSHAKE_FAILED_AUTH", endpoint, "400"]


# -- keygen and security ------------------------------------------------------------------------

@pytest.mark.curve
def test_keygen_certificate_serves_a_libzmq_curve_client(cli, peers, tmp_path):
    assert cli.run("keygen", "--cert", str(tmp_path / "server"))[0] == 0
    server_public = (tmp_path / "server.key").read_text().split('public-key = "')[1][:40]
    client_public, client_secret = keygen_json(cli)
    process = cli.start("recv", "-v", "-b", ANY_PORT, "-n", "1", "--curve-server",
                        "--cert", str(tmp_path / "server.key_secret"))
    peer = peers.start("ctl", "PUSH", connect=process.endpoint("PULL"), sockopts={
        "CURVE_SERVERKEY": server_public, "CURVE_PUBLICKEY": client_public, "CURVE_SECRETKEY": client_secret})
    peer.ready()
    assert peer.send_frames([b"sealed by libzmq"]) is None
    status, out, err = process.finish()
    assert (status, out) == (0, [b"sealed by libzmq"]), err


@pytest.mark.curve
def test_curve_client_sends_to_a_libzmq_server(cli, peers):
    public, secret = keygen_json(cli)
    peer = peers.start("ctl", "PULL", bind=ANY_PORT, sockopts={"CURVE_SERVER": 1, "CURVE_SECRETKEY": secret})
    status, _, err = cli.run("send", "-c", peer.ready(), "--curve-serverkey", public, "sealed by greenmq")
    assert status == 0, err
    assert peer.recv_frames() == [b"sealed by greenmq"]


def test_plain_server_answers_a_libzmq_client(cli, peers):
    process = cli.start("rep", "--echo", "-v", "-b", ANY_PORT, "-n", "1", "--plain-server",
                        "--plain-username", "alice", "--plain-password", "secret")
    peer = peers.start("request", "REQ", connect=process.endpoint("REP"), count=1,
                       sockopts={"PLAIN_USERNAME": "alice", "PLAIN_PASSWORD": "secret"})
    peer.ready()
    assert peer.result()["replies"] == [[b"libzmq:0:0".hex()]]
    assert process.finish()[0] == 0


def test_plain_client_logs_in_to_libzmq(cli, peers):
    peer = peers.start("serve", "REP", bind=ANY_PORT, auth={"plain": {"bob": "pw"}}, sockopts={"PLAIN_SERVER": 1})
    status, out, err = cli.run("req", "-c", peer.ready(), "-s", "|", "--plain-username", "bob",
                               "--plain-password", "pw", "q")
    assert (status, out) == (0, [b"q|libzmq"]), err

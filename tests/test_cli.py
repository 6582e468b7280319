"""The ``greenmq`` command line (greenmq/cli/): each subcommand end to end against greenmq peers.

The commands run as subprocesses (``python -m greenmq ...``, cli_support.py);
the peers are greenmq sockets in this process. tests/interop/test_cli_interop.py
runs the same commands against libzmq. The line codecs, the proxy's socket
syntax and the monitor's event lines are also tested directly.
"""

import argparse
import errno
import json
import os

import gevent
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq.auth.certs import load_certificate
from greenmq.auth.thread import ThreadAuthenticator
from greenmq.cli.formats import FormatError, Framing
from greenmq.cli.monitor import format_event
from greenmq.cli.proxy import parse_spec
from greenmq.utils.monitor import parse_monitor_message

from cli_support import CliGroup, assert_one_line_error
from support import TIMEOUT, new_socket, wait_handshakes

SUBCOMMANDS = ["send", "recv", "req", "rep", "proxy", "monitor", "keygen"]


@pytest.fixture
def cli():
    group = CliGroup()
    try:
        yield group
    finally:
        group.close()


def bound(ctx, socket_type, **options):
    """A greenmq socket bound to a free loopback port; (socket, endpoint)."""
    sock = new_socket(ctx, socket_type, rcvtimeo=TIMEOUT * 1000, sndtimeo=TIMEOUT * 1000, **options)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return sock, f"tcp://127.0.0.1:{port}"


def connected(ctx, socket_type, endpoint, **options):
    sock = new_socket(ctx, socket_type, rcvtimeo=TIMEOUT * 1000, sndtimeo=TIMEOUT * 1000, **options)
    sock.connect(endpoint)
    return sock


# -- messages as lines --------------------------------------------------------------------------

BINARY_MESSAGES = [[b""], [b"\x00\xff\n\r", b"", "h\u00e9llo".encode()], [b"plain", b" spaced out "]]


@pytest.mark.parametrize("fmt", ["hex", "base64", "json"])
@pytest.mark.parametrize("frame_lines", [False, True])
def test_binary_safe_formats_round_trip(fmt, frame_lines):
    framing = Framing(fmt, frame_lines=frame_lines)
    messages = [m for m in BINARY_MESSAGES if not (frame_lines and b"" in m)]  # an empty line ends a message
    written = b"".join(framing.output(message) for message in messages)
    assert list(framing.messages(written.split(b"\n")[:-1])) == messages  # [:-1]: after the last newline


def test_text_lines_pass_bytes_through_and_split_at_the_separator():
    text = Framing("text")
    assert list(text.messages([b"a|b \xff", b""])) == [[b"a|b \xff"], [b""]]
    assert text.output([b"topic", b"body"]) == b"topic body\n"  # no separator: joined by a space
    piped = Framing("text", separator=b"|")
    assert piped.decode_line(b"a||c") == [b"a", b"", b"c"]
    assert piped.output([b"a", b"", b"c"]) == b"a||c\n"


def test_json_frames_are_text_or_base64_and_accept_hex_and_bare_values():
    framing = Framing("json")
    assert json.loads(framing.output([b"caf\xc3\xa9", b"\xff"])) == ["caf\u00e9", {"base64": "/w=="}]
    assert framing.decode_line(b'"one"') == [b"one"]
    assert framing.decode_line(b'{"hex": "00ff"}') == [b"\x00\xff"]
    for bad in (b"[]", b"[1]", b'{"hex": "zz"}', b"not json", b'{"base64": "/w=", "hex": ""}'):
        with pytest.raises(FormatError):
            framing.decode_line(bad)


def test_frame_lines_end_messages_at_empty_lines():
    framing = Framing("text", frame_lines=True)
    assert list(framing.messages([b"a", b"b", b"", b"", b"c"])) == [[b"a", b"b"], [b"c"]]
    assert framing.output([b"a", b"b"]) == b"a\nb\n\n"
    assert framing.parse_block(b"x\ny\n") == [b"x", b"y"]


def test_bad_hex_and_base64_are_format_errors():
    with pytest.raises(FormatError, match="not hex"):
        Framing("hex").decode_line(b"abc")
    with pytest.raises(FormatError, match="not base64"):
        Framing("base64").decode_line(b"@@@")


def test_separator_does_not_apply_to_json():
    with pytest.raises(ValueError, match="json"):
        Framing("json", separator=b",")


# -- the proxy's socket syntax, the monitor's lines --------------------------------------------

def test_proxy_socket_specs_bind_unless_marked_connect():
    spec = parse_spec("xsub:tcp://*:5555")
    assert (spec.kind, spec.binds, spec.connects) == (zmq.XSUB, ("tcp://*:5555",), ())
    spec = parse_spec("DEALER:>tcp://10.0.0.2:6000,@ipc:///tmp/x,inproc://y")
    assert spec.kind == zmq.DEALER
    assert spec.binds == ("ipc:///tmp/x", "inproc://y")
    assert spec.connects == ("tcp://10.0.0.2:6000",)
    assert parse_spec(">tcp://h:1", zmq.PUB).kind == zmq.PUB  # --capture's type is optional
    for bad in ("tcp://*:5555", "bogus:tcp://*:1", "pub:tcp://*:1,,"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_spec(bad)


def test_monitor_lines_decode_protocol_errors_and_errnos():
    assert format_event(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                        b"tcp://127.0.0.1:1") == \
        "HANDSHAKE_FAILED_PROTOCOL tcp://127.0.0.1:1 PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH"
    assert format_event(zmq.EVENT_BIND_FAILED, errno.EADDRINUSE, b"tcp://*:1") == "BIND_FAILED tcp://*:1 EADDRINUSE"
    assert format_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400, b"x") == "HANDSHAKE_FAILED_AUTH x 400"
    assert format_event(zmq.EVENT_CONNECTED, 7, b"x") == "CONNECTED x 7"
    assert format_event(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, 0x10000099, b"x") == \
        "HANDSHAKE_FAILED_PROTOCOL x 0x10000099"


# -- send ---------------------------------------------------------------------------------------

def test_send_connects_and_sends_each_stdin_line(ctx, cli):
    pull, endpoint = bound(ctx, zmq.PULL)
    status, out, err = cli.run("send", "--connect", endpoint, "-s", "|", input=b"a|b\nhello\n\nlast")
    assert status == 0, err
    assert [pull.recv_multipart() for _ in range(4)] == [[b"a", b"b"], [b"hello"], [b""], [b"last"]]
    assert out == []


def test_send_binds_and_sends_its_arguments_in_hex(ctx, cli):
    process = cli.start("send", "-v", "--bind", "tcp://127.0.0.1:*", "-f", "hex", "00ff 41", "42")
    pull = connected(ctx, zmq.PULL, process.endpoint("PUSH"))
    assert pull.recv_multipart() == [b"\x00\xff", b"A"]
    assert pull.recv_multipart() == [b"B"]
    status, _, err = process.finish()
    assert status == 0, err


def test_send_count_stops_reading(ctx, cli):
    pull, endpoint = bound(ctx, zmq.PULL)
    status, _, err = cli.run("send", "-c", endpoint, "--count", "2", input=b"1\n2\n3\n")
    assert status == 0, err
    assert [pull.recv(), pull.recv()] == [b"1", b"2"]
    pull.rcvtimeo = 200
    with pytest.raises(zmq.Again):
        pull.recv()


def test_send_from_a_dealer_with_an_identity_reaches_a_router(ctx, cli):
    router, endpoint = bound(ctx, zmq.ROUTER)
    status, _, err = cli.run("send", "-t", "dealer", "--identity", "cli-1", "-c", endpoint, "hi")
    assert status == 0, err
    assert router.recv_multipart() == [b"cli-1", b"hi"]


# -- recv ---------------------------------------------------------------------------------------

def test_recv_binds_and_prints_binary_frames_as_json(ctx, cli):
    process = cli.start("recv", "-v", "-b", "tcp://127.0.0.1:*", "-f", "json", "--count", "2")
    push = connected(ctx, zmq.PUSH, process.endpoint("PULL"))
    push.send_multipart([b"text", b"\xff\x00"])
    push.send(b"second")
    status, out, err = process.finish()
    assert status == 0, err
    assert [json.loads(line) for line in out] == [["text", {"base64": "/wA="}], ["second"]]


def test_recv_connects_and_prints_frame_lines(ctx, cli):
    push, endpoint = bound(ctx, zmq.PUSH)
    process = cli.start("recv", "-c", endpoint, "--frame-lines", "-n", "1")
    push.send_multipart([b"one", b"two"])
    status, out, err = process.finish()
    assert (status, out) == (0, [b"one", b"two", b""]), err


def test_recv_subscribes_to_a_topic(ctx, cli):
    pub, endpoint = bound(ctx, zmq.PUB)
    process = cli.start("recv", "-t", "SUB", "--subscribe", "weather", "-c", endpoint, "-s", "|", "-n", "3")
    # A subscription takes a moment to reach the publisher: publish until the first line shows.
    with gevent.Timeout(TIMEOUT):
        while True:
            pub.send_multipart([b"news", b"ignored"])
            pub.send_multipart([b"weather", b"sunny"])
            if _printed(process):
                break
    pub.send_multipart([b"news", b"ignored"])
    pub.send_multipart([b"weather", b"rain"])
    pub.send_multipart([b"weather", b"snow"])
    status, out, err = process.finish()
    assert status == 0, err
    assert out == [b"weather|rain", b"weather|snow"]


def _printed(process):
    try:
        assert process.line(timeout=0.1) == b"weather|sunny"
    except AssertionError as error:
        if "no output line" in str(error):
            return False
        raise
    return True


def test_recv_from_a_router_shows_the_routing_id(ctx, cli):
    dealer, endpoint = bound(ctx, zmq.DEALER, routing_id=b"peer-7")
    process = cli.start("recv", "-t", "ROUTER", "-c", endpoint, "-s", ",", "-n", "1")
    dealer.send(b"hello")
    status, out, err = process.finish()
    assert (status, out) == (0, [b"peer-7,hello"]), err


def test_recv_with_an_identity_gets_what_a_router_sends_it(ctx, cli):
    router, endpoint = bound(ctx, zmq.ROUTER)
    wait = wait_handshakes(router)
    process = cli.start("recv", "-t", "DEALER", "--identity", "cli-1", "-c", endpoint, "-n", "1")
    wait()
    router.send_multipart([b"cli-1", b"for you"])
    status, out, err = process.finish()
    assert (status, out) == (0, [b"for you"]), err


def test_send_pipes_into_recv(cli):
    receiver = cli.start("recv", "-v", "-b", "tcp://127.0.0.1:*", "-f", "base64", "-n", "2")
    endpoint = receiver.endpoint("PULL")
    status, _, err = cli.run("send", "-c", endpoint, "-f", "json", input=b'["a", {"hex": "00"}]\n"b"\n')
    assert status == 0, err
    status, out, err = receiver.finish()
    assert (status, out) == (0, [b"YQ== AA==", b"Yg=="]), err


# -- timeouts, bad endpoints, usage -------------------------------------------------------------

def test_recv_timeout_exits_3(ctx, cli):
    _, endpoint = bound(ctx, zmq.PUSH)
    status, out, err = cli.run("recv", "-c", endpoint, "--timeout", "0.2")
    assert (status, out) == (3, [])
    assert_one_line_error(err, "greenmq recv:", "no message within 0.2 s")


def test_send_timeout_without_a_peer_exits_3(ctx, cli):
    sock, endpoint = bound(ctx, zmq.PUSH)
    sock.close()  # a free port, nobody there
    status, _, err = cli.run("send", "-c", endpoint, "--timeout", "0.2", "hello")
    assert status == 3
    assert_one_line_error(err, "greenmq send:", "no peer took message 1 within 0.2 s")


BAD_ENDPOINT_COMMANDS = [
    ["send", "-c", "{}", "x"],
    ["recv", "-b", "{}"],
    ["req", "-c", "{}", "x"],
    ["rep", "--echo", "-b", "{}"],
    ["monitor", "{}"],
    ["proxy", "xsub:{}", "xpub:tcp://127.0.0.1:*"],
]


@pytest.mark.parametrize("command", BAD_ENDPOINT_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("endpoint", "why"), [("bogus://x", "Protocol not supported"),
                                               ("tcp://127.0.0.1:notaport", "Invalid argument")])
def test_bad_endpoint_exits_1_with_one_line(cli, command, endpoint, why):
    args = [arg.replace("{}", endpoint) for arg in command]
    status, out, err = cli.run(*args)
    assert (status, out) == (1, [])
    assert_one_line_error(err, f"greenmq {command[0]}:", repr(endpoint), why)


def test_address_in_use_is_reported(ctx, cli):
    _, endpoint = bound(ctx, zmq.PULL)
    status, _, err = cli.run("recv", "-b", endpoint)
    assert status == 1
    assert_one_line_error(err, "cannot bind PULL", "Address already in use")


@pytest.mark.parametrize(("args", "message"), [
    (["send", "x"], "at least one --bind or --connect"),
    (["recv", "-c", "tcp://127.0.0.1:1", "-t", "PUSH"], "cannot receive"),
    (["recv", "-c", "tcp://127.0.0.1:1", "--subscribe", "x"], "--subscribe is for SUB"),
    (["recv", "-c", "tcp://127.0.0.1:1", "-f", "json", "-s", ","], "does not apply to --format json"),
    (["rep", "-b", "tcp://127.0.0.1:*"], "one of the arguments --echo --exec is required"),
    (["send", "-t", "nosuch", "-c", "tcp://127.0.0.1:1"], "unknown socket type"),
    (["recv", "-c", "tcp://127.0.0.1:1", "--timeout", "0"], "more than 0 seconds"),
    (["proxy", "tcp://*:1", "xpub:tcp://*:2"], "expected TYPE:ENDPOINTS"),
])
def test_usage_errors_exit_2(cli, args, message):
    status, _, err = cli.run(*args)
    assert status == 2
    assert message in err


def test_bad_input_line_exits_1(ctx, cli):
    _, endpoint = bound(ctx, zmq.PULL)
    status, _, err = cli.run("send", "-c", endpoint, "-f", "hex", input=b"zz\n")
    assert status == 1
    assert_one_line_error(err, "greenmq send:", "not hex")


# -- Ctrl-C -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["recv", "-v", "-b", "tcp://127.0.0.1:*"],
    ["send", "-v", "-b", "tcp://127.0.0.1:*"],  # waiting on stdin
    ["rep", "-v", "--echo", "-b", "tcp://127.0.0.1:*"],
    ["proxy", "-v", "xsub:tcp://127.0.0.1:*", "xpub:tcp://127.0.0.1:*"],
    ["monitor", "-v", "--bind", "tcp://127.0.0.1:*"],
], ids=lambda a: a[0])
def test_ctrl_c_exits_130_quietly(cli, args):
    process = cli.start(*args)
    process.endpoint()
    process.interrupt()
    status, _, err = process.finish(close_stdin=False)  # send would end at EOF on stdin
    assert status == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


# -- req and rep --------------------------------------------------------------------------------

@pytest.mark.parametrize("binder", ["peer", "cli"])
def test_req_prints_replies_from_a_rep(ctx, cli, binder):
    if binder == "peer":
        rep, endpoint = bound(ctx, zmq.REP)
        process = cli.start("req", "-c", endpoint, "-s", "|")
    else:
        process = cli.start("req", "-v", "-b", "tcp://127.0.0.1:*", "-s", "|")
        rep = connected(ctx, zmq.REP, process.endpoint("REQ"))
    process.write(b"one|1\ntwo\n")
    for _ in range(2):
        rep.send_multipart([b"re"] + rep.recv_multipart())
    status, out, err = process.finish()
    assert (status, out) == (0, [b"re|one|1", b"re|two"]), err


def test_req_retries_on_a_new_socket_until_answered(ctx, cli):
    router, endpoint = bound(ctx, zmq.ROUTER)
    process = cli.start("req", "-c", endpoint, "--timeout", "1", "--retries", "3", "ping")
    first = router.recv_multipart()  # left unanswered
    second = router.recv_multipart()
    assert first[0] != second[0], "the retry came from the same socket"
    assert first[-1] == second[-1] == b"ping"
    router.send_multipart(second[:-1] + [b"pong"])
    status, out, err = process.finish()
    assert (status, out) == (0, [b"pong"]), err
    assert "no reply within 1 s, retrying (1 of 3)" in err


def test_req_gives_up_after_its_retries(ctx, cli):
    router, endpoint = bound(ctx, zmq.ROUTER)
    status, out, err = cli.run("req", "-c", endpoint, "--timeout", "0.2", "--retries", "2", "ping")
    assert (status, out) == (3, [])
    assert err.strip().splitlines()[-1] == "greenmq req: no reply after 3 attempts (0.2 s each)"
    assert "Traceback" not in err
    assert [router.recv_multipart()[-1] for _ in range(3)] == [b"ping"] * 3


@pytest.mark.parametrize(("mode", "binder"), [("echo", "cli"), ("echo", "peer"), ("exec", "cli"), ("exec", "peer")])
def test_rep_answers_a_req(ctx, cli, mode, binder):
    answer = ["--echo"] if mode == "echo" else ["--exec", "tr a-z A-Z"]
    if binder == "peer":
        req, endpoint = bound(ctx, zmq.REQ)
        process = cli.start("rep", *answer, "-s", "|", "-n", "2", "-c", endpoint)
    else:
        process = cli.start("rep", *answer, "-s", "|", "-n", "2", "-v", "-b", "tcp://127.0.0.1:*")
        req = connected(ctx, zmq.REQ, process.endpoint("REP"))
    replies = []
    for request in ([b"hello", b"world"], [b"again"]):
        req.send_multipart(request)
        replies.append(req.recv_multipart())
    status, _, err = process.finish()
    assert status == 0, err
    expected = [[b"hello", b"world"], [b"again"]]
    assert replies == (expected if mode == "echo" else [[f.upper() for f in m] for m in expected])


def test_rep_exec_feeds_the_command_the_request_in_the_format(ctx, cli):
    req, endpoint = bound(ctx, zmq.REQ)
    process = cli.start("rep", "-f", "hex", "--exec", "cat; echo 00", "-n", "1", "-c", endpoint)
    req.send(b"\xff")
    assert req.recv_multipart() == [b"\xff\x00"]  # "ff\n00\n": the command saw hex, its hex is the reply
    status, _, err = process.finish()
    assert status == 0, err


def test_rep_exec_reports_a_failing_command_and_still_answers(ctx, cli):
    req, endpoint = bound(ctx, zmq.REQ)
    process = cli.start("rep", "--exec", "echo partial; exit 5", "-n", "1", "-c", endpoint)
    req.send(b"x")
    assert req.recv() == b"partial"
    status, _, err = process.finish()
    assert status == 0
    assert "exited with status 5" in err


def test_rep_timeout_exits_3(cli):
    status, _, err = cli.run("rep", "--echo", "-b", "tcp://127.0.0.1:*", "--timeout", "0.2")
    assert status == 3
    assert_one_line_error(err, "greenmq rep:", "no request within 0.2 s")


# -- proxy --------------------------------------------------------------------------------------

def test_proxy_forwards_pubsub_and_captures(ctx, cli):
    capture, capture_endpoint = bound(ctx, zmq.PULL)
    process = cli.start("proxy", "-v", "xsub:tcp://127.0.0.1:*", "xpub:@tcp://127.0.0.1:*",
                        "--capture", f"push:>{capture_endpoint}")
    frontend = process.endpoint("frontend XSUB")
    backend = process.endpoint("backend XPUB")
    pub = connected(ctx, zmq.PUB, frontend)
    sub = connected(ctx, zmq.SUB, backend)
    sub.subscribe(b"t")
    sub.rcvtimeo = 50
    with gevent.Timeout(TIMEOUT):
        while True:  # until the subscription has travelled through the proxy to the publisher
            pub.send_multipart([b"t", b"first"])
            try:
                assert sub.recv_multipart() == [b"t", b"first"]
                break
            except zmq.Again:
                pass
    assert capture.recv_multipart() == [b"\x01t"]  # the subscription went backend to frontend, captured
    assert capture.recv_multipart() == [b"t", b"first"]
    process.interrupt()
    assert process.finish()[0] == 130


def test_proxy_broker_connects_its_backend_to_a_worker(ctx, cli):
    worker, worker_endpoint = bound(ctx, zmq.REP)
    process = cli.start("proxy", "-v", "router:tcp://127.0.0.1:*", f"dealer:>{worker_endpoint}")
    client = connected(ctx, zmq.REQ, process.endpoint("frontend ROUTER"))
    client.send(b"job")
    assert worker.recv() == b"job"
    worker.send(b"done")
    assert client.recv() == b"done"
    process.interrupt()
    assert process.finish()[0] == 130


# -- monitor ------------------------------------------------------------------------------------

def _events(process, count):
    return [line.decode().split(" ") for line in process.lines(count)]


def test_monitor_connects_and_prints_the_handshake(ctx, cli):
    _, endpoint = bound(ctx, zmq.ROUTER)
    process = cli.start("monitor", endpoint)
    names = []
    while "HANDSHAKE_SUCCEEDED" not in names:
        name, where, value = _events(process, 1)[0]
        assert where == endpoint
        int(value)
        names.append(name)
    assert "CONNECTED" in names


def test_monitor_binds_and_sees_a_peer_arrive(ctx, cli):
    process = cli.start("monitor", "--bind", "-t", "ROUTER", "-v", "tcp://127.0.0.1:*")
    endpoint = process.endpoint("ROUTER")
    assert _events(process, 1)[0][:2] == ["LISTENING", endpoint]
    connected(ctx, zmq.DEALER, endpoint)
    assert [event[0] for event in _events(process, 2)] == ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]


@pytest.mark.curve
def test_monitor_decodes_a_mechanism_mismatch(ctx, cli):
    _, endpoint = bound(ctx, zmq.ROUTER)
    server_public, _ = zmq.curve_keypair()
    process = cli.start("monitor", endpoint, "--curve-serverkey", server_public.decode())
    with gevent.Timeout(TIMEOUT):
        while True:
            event = _events(process, 1)[0]
            if event[0] == "HANDSHAKE_FAILED_PROTOCOL":
                break
    assert event == ["HANDSHAKE_FAILED_PROTOCOL", endpoint, "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH"]


def test_monitor_reports_a_failed_plain_login(ctx, cli):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_plain("*", {"alice": "right"})
        _, endpoint = bound(ctx, zmq.ROUTER, plain_server=True)
        process = cli.start("monitor", endpoint, "--plain-username", "alice", "--plain-password", "wrong")
        with gevent.Timeout(TIMEOUT):
            while True:
                event = _events(process, 1)[0]
                if event[0].startswith("HANDSHAKE_"):
                    break
        assert event == ["HANDSHAKE_FAILED_AUTH", endpoint, "400"]
    finally:
        auth.stop()


# -- keygen and security ------------------------------------------------------------------------

@pytest.mark.curve
def test_keygen_prints_a_matching_pair(cli):
    status, out, err = cli.run("keygen")
    assert status == 0, err
    (public_label, public), (secret_label, secret) = (line.decode().split(" ") for line in out)
    assert (public_label, secret_label) == ("public-key:", "secret-key:")
    assert zmq.curve_public(secret).decode() == public
    status, out, err = cli.run("keygen", "--json")
    keys = json.loads(out[0])
    assert zmq.curve_public(keys["secret"]).decode() == keys["public"]


@pytest.mark.curve
def test_keygen_writes_certificates_and_never_overwrites(cli, tmp_path):
    base = str(tmp_path / "server")
    status, out, err = cli.run("keygen", "--cert", base, "--metadata", "name=srv")
    assert status == 0, err
    assert out == [f"{base}.key".encode(), f"{base}.key_secret".encode()]
    public, secret = load_certificate(base + ".key_secret")
    assert zmq.curve_public(secret) == public and load_certificate(base + ".key") == (public, None)
    assert "name = srv" in (tmp_path / "server.key_secret").read_text()
    assert os.stat(base + ".key_secret").st_mode & 0o077 == 0
    status, _, err = cli.run("keygen", "--cert", base)
    assert status == 1
    assert_one_line_error(err, "exists: not overwritten")
    assert load_certificate(base + ".key") == (public, None)


@pytest.mark.curve
def test_curve_server_from_a_certificate_receives_from_a_greenmq_client(ctx, cli, tmp_path):
    assert cli.run("keygen", "--cert", str(tmp_path / "server"))[0] == 0
    public, _ = load_certificate(tmp_path / "server.key")
    process = cli.start("recv", "-v", "-b", "tcp://127.0.0.1:*", "-n", "1", "--curve-server",
                        "--cert", str(tmp_path / "server.key_secret"))
    client_public, client_secret = zmq.curve_keypair()
    push = connected(ctx, zmq.PUSH, process.endpoint("PULL"), curve_serverkey=public,
                     curve_publickey=client_public, curve_secretkey=client_secret)
    push.send(b"sealed")
    status, out, err = process.finish()
    assert (status, out) == (0, [b"sealed"]), err


@pytest.mark.curve
@pytest.mark.parametrize("serverkey_from", ["z85", "certificate"])
def test_curve_client_sends_to_a_greenmq_server(ctx, cli, tmp_path, serverkey_from):
    public, secret = zmq.curve_keypair()
    pull, endpoint = bound(ctx, zmq.PULL, curve_server=True, curve_secretkey=secret, curve_publickey=public)
    if serverkey_from == "z85":
        serverkey = public.decode()
    else:
        serverkey = str(tmp_path / "server.key")
        with open(serverkey, "w") as cert:
            cert.write(f'curve\n    public-key = "{public.decode()}"\n')
    status, _, err = cli.run("send", "-c", endpoint, "--curve-serverkey", serverkey, "sealed")
    assert status == 0, err
    assert pull.recv() == b"sealed"


@pytest.mark.parametrize(("args", "message"), [
    (["--curve-server"], "needs this socket's secret key"),
    (["--curve-secretkey", "short"], "40 characters"),
    (["--cert", "/nonexistent/x.key_secret", "--curve-server"], "cannot read the certificate"),
    (["--plain-username", "u"], "go together"),
    (["--plain-server", "--curve-server"], "not both"),
])
def test_bad_security_options_exit_1(cli, args, message):
    status, _, err = cli.run("recv", "-c", "tcp://127.0.0.1:1", *args)
    assert status == 1
    assert_one_line_error(err, message)


def test_plain_server_admits_only_its_user(ctx, cli):
    process = cli.start("rep", "-v", "--echo", "-b", "tcp://127.0.0.1:*", "--plain-server",
                        "--plain-username", "alice", "--plain-password", "secret", "-n", "1")
    endpoint = process.endpoint("REP")
    intruder = connected(ctx, zmq.REQ, endpoint, plain_username=b"alice", plain_password=b"guess")
    monitor = intruder.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    monitor.rcvtimeo = TIMEOUT * 1000
    intruder.send(b"let me in")
    event, _ = monitor.recv_multipart()
    assert parse_monitor_message([event, b""])["value"] == 400
    user = connected(ctx, zmq.REQ, endpoint, plain_username=b"alice", plain_password=b"secret")
    user.send(b"hi")
    assert user.recv() == b"hi"
    assert process.finish()[0] == 0


def test_plain_client_logs_in_to_a_greenmq_server(ctx, cli):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_plain("*", {"bob": "pw"})
        rep, endpoint = bound(ctx, zmq.REP, plain_server=True)
        process = cli.start("req", "-c", endpoint, "--plain-username", "bob", "--plain-password", "pw", "q")
        assert rep.recv() == b"q"
        rep.send(b"a")
        status, out, err = process.finish()
        assert (status, out) == (0, [b"a"]), err
    finally:
        auth.stop()


# -- help, and the commands that stay ----------------------------------------------------------

def test_top_level_help_lists_every_command(cli):
    status, out, err = cli.run("--help")
    assert status == 0, err
    text = b"\n".join(out).decode()
    for name in SUBCOMMANDS + ["demo", "bench", "fuzz", "run"]:
        assert f"\n    {name} " in text
    assert "Exit status" in text


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help_with_examples(cli, name):
    status, out, err = cli.run(name, "--help")
    assert status == 0, err
    text = b"\n".join(out).decode()
    assert text.startswith(f"usage: greenmq {name} ")
    examples = text.partition("\nexamples:\n")[2]
    assert examples.startswith("  ") and f"greenmq {name}" in examples.partition("\n\n")[0]
    assert "Exit status" in text


def test_fuzz_keeps_its_own_command_line(cli):
    status, out, err = cli.run("fuzz", "--list")
    assert status == 0, err
    names = {line.split()[0].decode() for line in out if line.strip()}
    assert {"frames", "greeting", "engine", "z85"} <= names
    status, out, err = cli.run("fuzz", "z85", "--runs", "200", "--seed", "1", "--engine", "builtin")
    assert status == 0, err
    assert b"z85: no invariant broken" in out


def test_bench_and_run_keep_their_own_command_lines(cli, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import sys, zmq\nprint(zmq.__name__, sys.argv[1:])\n")
    status, out, err = cli.run("run", str(script), "--help", "-x")
    assert (status, out) == (0, [b"greenmq ['--help', '-x']"]), err
    status, out, err = cli.run("bench", "--help")
    assert status == 0, err
    assert b"\n".join(out).decode().startswith("usage: python -m greenmq bench")


def test_recv_into_a_closed_pipe_exits_141_quietly(ctx, cli):
    push, endpoint = bound(ctx, zmq.PUSH)
    process = cli.start("recv", "-c", endpoint)
    push.send(b"first")
    assert process.line() == b"first"
    process.stop_reading_stdout()  # as ``head -1`` does after its line
    with gevent.Timeout(TIMEOUT):
        while True:  # each message is a write into the closed pipe, until one fails
            try:
                push.send(b"more", zmq.NOBLOCK)
            except zmq.Again:  # the command has exited: no peer left
                pass
            try:
                process.proc.wait(timeout=0.01)
                break
            except gevent.subprocess.TimeoutExpired:
                pass
    status, _, err = process.finish()
    assert status == 141
    assert err == ""

"""PLAIN (RFC 24) in greenmq's sans-I/O layer: the exact commands, and malformed ones.

Wire facts: /work/shared/specs/README.md, checklist bullet 30. The ZAP side
of PLAIN (what the handler's answers do) is in test_zmtp_zap.py. Where
libzmq 4.3.5 was asked (pyzmq in a separate process), the test says so.
"""

import pytest

from greenmq.constants import ProtocolError
from greenmq.zmtp import HANDSHAKE, READY, ZmtpError, ZmtpPeerError
from greenmq.zmtp.errors import ZapUnavailable
from greenmq.zmtp.zap import ZapReply

from security_support import admit, plain_client, plain_server, pump
from zmtp_support import PUSH_METADATA, as_bytes, command, frame, greet, greeting, properties

PLAIN_GREETING = greeting(b"PLAIN")
HELLO = b"\x04\x13\x05HELLO\x05admin\x06secret"
WELCOME = b"\x04\x08\x07WELCOME"
INITIATE = command(b"INITIATE", PUSH_METADATA)


def server_after_greeting(**kwargs):
    server = plain_server(**kwargs)
    assert server.receive(greet(server, PLAIN_GREETING)) == []
    assert server.data_to_send() == b""  # the client speaks first
    return server


def server_after_hello():
    server = server_after_greeting()
    assert server.receive(HELLO) == []
    assert server.zap_request == (b"PLAIN", [b"admin", b"secret"])
    assert server.zap_reply(admit(*server.zap_request)) == []
    assert server.data_to_send() == WELCOME
    return server


def client_after_greeting(**kwargs):
    client = plain_client(**kwargs)
    assert client.receive(greet(client, greeting(b"PLAIN", as_server=True))) == []
    return client


# -- the commands, byte for byte ---------------------------------------------


def test_commands_byte_for_byte():
    client = client_after_greeting(socket_type=b"DEALER", identity=b"id")
    assert client.data_to_send() == HELLO
    assert client.receive(WELCOME) == []
    initiate_metadata = properties((b"Socket-Type", b"DEALER"), (b"Identity", b"id"))
    assert client.data_to_send() == b"\x04" + bytes((9 + len(initiate_metadata),)) + b"\x08INITIATE" + initiate_metadata
    assert client.state is HANDSHAKE

    server = server_after_hello()
    assert server.receive(INITIATE) == []
    ready_metadata = properties((b"Socket-Type", b"PULL"))
    assert server.data_to_send() == b"\x04" + bytes((6 + len(ready_metadata),)) + b"\x05READY" + ready_metadata
    assert server.state is READY
    assert server.peer_metadata["Socket-Type"] == b"PUSH"

    assert client.receive(command(b"READY", properties((b"Socket-Type", b"ROUTER")))) == []
    assert client.state is READY
    assert client.peer_metadata["Socket-Type"] == b"ROUTER"


def test_handshake_and_traffic_between_greenmq_connections():
    client, server = plain_client(b"REQ", username=b"u" * 255, password=b"p" * 255), plain_server(b"REP")
    asked = []

    def zap(mechanism, credentials):
        asked.append((mechanism, credentials))
        return ZapReply(b"200", user_id=b"u")

    assert pump(client, server, zap=zap) == ([], [])
    assert asked == [(b"PLAIN", [b"u" * 255, b"p" * 255])]
    assert client.state is READY and server.state is READY
    assert server.peer_metadata["User-Id"] == b"u"
    out = []
    client.encode_messages([[b"", b"request"]], out)
    data = b"".join(out)
    assert data == b"\x01\x00\x00\x07request"  # traffic is not encrypted
    assert server.receive(data) == [[b"", b"request"]]


@pytest.mark.parametrize("username, password", [(b"", b""), (b"a", b""), (b"", b"b"), (b"\x00\xff", b"\r\n")])
def test_any_byte_strings_are_credentials(username, password):
    server = server_after_greeting()
    body = bytes((len(username),)) + username + bytes((len(password),)) + password
    assert server.receive(command(b"HELLO", body)) == []
    assert server.zap_request == (b"PLAIN", [username, password])


def test_whole_client_stream_one_byte_at_a_time():
    server = server_after_greeting()
    for byte in HELLO:
        assert server.receive(bytes((byte,))) == []
    assert server.zap_reply(admit(*server.zap_request)) == []
    assert server.data_to_send() == WELCOME
    for byte in INITIATE + frame(b"first"):
        messages = server.receive(bytes((byte,)))
    assert server.state is READY
    assert messages == [b"first"]


def test_no_zap_handler_closes_without_error():
    # libzmq 4.3.5 closes too, with HANDSHAKE_FAILED_NO_DETAIL and no ERROR command.
    server = server_after_greeting()
    assert server.receive(HELLO) == []
    with pytest.raises(ZapUnavailable):
        server.zap_reply(None)
    assert server.data_to_send() == b""


# -- bad input at the server --------------------------------------------------

# (stage, bytes, expected code): stage "hello" is right after the greeting, "initiate" after WELCOME.
SERVER_CASES = {
    "hello-empty": ("hello", command(b"HELLO"), ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-username-overruns": ("hello", command(b"HELLO", b"\xc8admin\x06secret"),
                                ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-password-overruns": ("hello", command(b"HELLO", b"\x05admin\x09secret"),
                                ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-password-missing": ("hello", command(b"HELLO", b"\x05admin"), ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-trailing-byte": ("hello", command(b"HELLO", b"\x05admin\x06secret!"),
                            ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-as-data-frame": ("hello", frame(HELLO[2:]), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "initiate-before-hello": ("hello", INITIATE, ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "welcome-from-client": ("hello", WELCOME, ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-hello": ("hello", frame(b"too early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "multipart-before-hello": ("hello", b"\x01\x01a\x00\x01b", ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "empty-command": ("hello", b"\x04\x00", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
    "command-name-overruns": ("hello", b"\x04\x03\x09HE", ProtocolError.ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
    "hello-again": ("initiate", HELLO, ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "initiate-truncated-metadata": ("initiate", command(b"INITIATE", PUSH_METADATA[:-1]),
                                    ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-metadata-cut-in-length": ("initiate", command(b"INITIATE", PUSH_METADATA[:14]),
                                        ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-metadata-huge-value": ("initiate", command(b"INITIATE", b"\x0bSocket-Type\xff\xff\xff\xffPUSH"),
                                     ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-without-socket-type": ("initiate", command(b"INITIATE"), ProtocolError.ZMTP_INVALID_METADATA),
    "ready-from-client": ("initiate", command(b"READY", PUSH_METADATA), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-initiate": ("initiate", frame(b"too early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
}


@pytest.mark.parametrize("case", SERVER_CASES)
def test_server_rejects_bad_input(case):
    stage, data, code = SERVER_CASES[case]
    server = server_after_greeting() if stage == "hello" else server_after_hello()
    with pytest.raises(ZmtpError) as info:
        server.receive(data)
    assert info.value.code == code, f"{info.value!r}: {ProtocolError(info.value.code).name}, expected {code.name}"
    assert not isinstance(info.value, ZmtpPeerError)
    assert server.zap_request is None  # a malformed HELLO never reaches the ZAP handler
    assert server.state is HANDSHAKE


@pytest.mark.parametrize("case", ["hello-username-overruns", "hello-trailing-byte", "initiate-truncated-metadata"])
def test_malformed_command_gets_no_error_reply(case):
    # libzmq 4.3.5 closes on these without sending anything.
    stage, data, _ = SERVER_CASES[case]
    server = server_after_greeting() if stage == "hello" else server_after_hello()
    with pytest.raises(ZmtpError):
        server.receive(data)
    assert server.data_to_send() == b""


@pytest.mark.parametrize("stage", ["hello", "initiate"])
def test_client_error_is_a_peer_error(stage):
    server = server_after_greeting() if stage == "hello" else server_after_hello()
    with pytest.raises(ZmtpPeerError) as info:
        server.receive(command(b"ERROR", b"\x07go away"))
    assert info.value.reason == "go away"


def test_malformed_error_from_client():
    server = server_after_greeting()
    with pytest.raises(ZmtpError) as info:
        server.receive(command(b"ERROR", b"\x05abc"))
    assert info.value.code == ProtocolError.ZMTP_MALFORMED_COMMAND_ERROR


@pytest.mark.parametrize("mechanism", [b"NULL", b"CURVE", b"PLAINX"])
def test_mechanism_mismatch(mechanism):
    for conn in (plain_server(), plain_client()):
        with pytest.raises(ZmtpError) as info:
            conn.receive(greet(conn, greeting(mechanism)))
        assert info.value.code == ProtocolError.ZMTP_MECHANISM_MISMATCH
        assert conn.data_to_send() == b""


# -- bad input at the client --------------------------------------------------

CLIENT_CASES = {
    "welcome-with-body": ("hello", command(b"WELCOME", b"x"), ProtocolError.ZMTP_MALFORMED_COMMAND_WELCOME),
    "ready-before-welcome": ("hello", command(b"READY", properties((b"Socket-Type", b"PULL"))),
                             ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "hello-to-client": ("hello", HELLO, ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-welcome": ("hello", frame(b"early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "malformed-error": ("hello", command(b"ERROR"), ProtocolError.ZMTP_MALFORMED_COMMAND_ERROR),
    "welcome-again": ("initiate", WELCOME, ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "ready-truncated-metadata": ("initiate", command(b"READY", properties((b"Socket-Type", b"PULL"))[:-1]),
                                 ProtocolError.ZMTP_INVALID_METADATA),
    "ready-incompatible-type": ("initiate", command(b"READY", properties((b"Socket-Type", b"PUSH"))),
                                ProtocolError.ZMTP_INVALID_METADATA),
}


@pytest.mark.parametrize("case", CLIENT_CASES)
def test_client_rejects_bad_input(case):
    stage, data, code = CLIENT_CASES[case]
    client = client_after_greeting()
    assert client.data_to_send() == HELLO
    if stage == "initiate":
        assert client.receive(WELCOME) == []
        assert client.data_to_send() == INITIATE
    with pytest.raises(ZmtpError) as info:
        client.receive(data)
    assert info.value.code == code, f"{info.value!r}: {ProtocolError(info.value.code).name}, expected {code.name}"
    assert not isinstance(info.value, ZmtpPeerError)


@pytest.mark.parametrize("reason", [b"400", b"500", b"bad password"])
def test_client_gets_server_error(reason):
    client = client_after_greeting()
    client.data_to_send()
    with pytest.raises(ZmtpPeerError) as info:
        client.receive(command(b"ERROR", bytes((len(reason),)) + reason))
    assert info.value.reason == reason.decode()


def test_messages_after_ready_in_same_chunk():
    client = client_after_greeting()
    client.data_to_send()
    assert client.receive(WELCOME) == []
    client.data_to_send()
    data = command(b"READY", properties((b"Socket-Type", b"PULL"))) + frame(b"a", 0x01) + frame(b"b") + frame(b"c")
    assert as_bytes(client.receive(data)) == [[b"a", b"b"], [b"c"]]

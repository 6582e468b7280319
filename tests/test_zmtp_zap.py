"""The ZAP pause in greenmq's sans-I/O layer, for NULL (with a ZAP domain), PLAIN and CURVE servers.

A server connection sets ``zap_request`` at the point where libzmq asks its
ZAP handler (NULL: after the greeting; PLAIN: after HELLO; CURVE: after
INITIATE, whose vouch proves the client key) and processes nothing more
until the engine passes the handler's answer to ``zap_reply``. What the
answers do: checklist bullets 21, 30, 37 and 38 of /work/shared/specs/README.md.
"""

import pytest

from greenmq.constants import ProtocolError
from greenmq.zmtp import HANDSHAKE, READY, Metadata, ZmtpConnection, ZmtpError, ZmtpPeerError
from greenmq.zmtp.errors import ZapRefused, ZapUnavailable
from greenmq.zmtp.security import SecurityConfig
from greenmq.zmtp.zap import ZapReply

from security_support import CLIENT_PUBLIC, curve_client, curve_server, plain_client, plain_server, pump
from zmtp_support import command, greet, greeting, parse_frames, properties, split_command

MECHANISMS = ["NULL", "PLAIN", pytest.param("CURVE", marks=pytest.mark.curve)]
CREDENTIALS = {"NULL": [], "PLAIN": [b"admin", b"secret"], "CURVE": [CLIENT_PUBLIC]}


def pair(mechanism):
    if mechanism == "NULL":
        return ZmtpConnection(b"PUSH"), ZmtpConnection(b"PULL", security=SecurityConfig(zap_domain=b"global"))
    if mechanism == "PLAIN":
        return plain_client(), plain_server()
    return curve_client(), curve_server()


def waiting_for_zap(mechanism):
    """A client and a server that has asked ZAP; everything either side had to say has been delivered."""
    client, server = pair(mechanism)
    assert pump(client, server) == ([], [])  # no ZAP answers
    assert server.zap_request == (mechanism.encode(), CREDENTIALS[mechanism])
    assert server.state is HANDSHAKE and client.state is HANDSHAKE
    return client, server


def names(data):
    return [split_command(body)[0] for _, _, body in parse_frames(data)]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_request_comes_at_the_right_step(mechanism):
    client, server = pair(mechanism)
    name = mechanism.encode()
    # The greetings (what the client answers to the server's comes out in the loop).
    assert client.receive(greet(client, greeting(name, as_server=mechanism != "NULL"))) == []
    assert server.receive(greet(server, greeting(name))) == []
    sent = []
    while server.zap_request is None:
        data = client.data_to_send()
        assert data, "the client has nothing more to say and the server never asked ZAP"
        assert server.receive(data) == []
        data = server.data_to_send()
        sent.extend(names(data))
        assert client.receive(data) == []
    assert server.zap_request == (mechanism.encode(), CREDENTIALS[mechanism])
    # What the server had sent by the time it asked: nothing after the greeting (NULL, PLAIN), WELCOME (CURVE).
    assert sent == ([b"WELCOME"] if mechanism == "CURVE" else [])


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_nothing_is_processed_until_the_reply(mechanism):
    client, server = waiting_for_zap(mechanism)
    # More bytes while waiting: kept, not processed, no output.
    extra = {
        "NULL": b"",  # the client's READY is already waiting in the decoder
        "PLAIN": command(b"INITIATE", properties((b"Socket-Type", b"PUSH"))),  # from a client that does not wait
        "CURVE": command(b"BOGUS", b"x"),  # fails the connection once processed
    }[mechanism]
    assert server.receive(extra) == []
    assert server.data_to_send() == b""
    assert server.zap_request is not None
    assert server.state is HANDSHAKE
    if mechanism == "CURVE":
        # Processed only now, after READY: a clear command where a MESSAGE must be.
        with pytest.raises(ZmtpError) as info:
            server.zap_reply(ZapReply(b"200"))
        assert info.value.code == ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE
        assert names(server.data_to_send()) == [b"READY"]
        return
    assert server.mechanism.peer_metadata is None  # the client's READY/INITIATE is not read yet
    assert server.zap_reply(ZapReply(b"200")) == []
    assert server.state is READY
    assert server.peer_metadata["Socket-Type"] == b"PUSH"
    expected = {"NULL": [b"READY"], "PLAIN": [b"WELCOME", b"READY"]}[mechanism]
    assert names(server.data_to_send()) == expected


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_status_200_admits_with_user_id_and_metadata(mechanism):
    client, server = waiting_for_zap(mechanism)
    reply = ZapReply(b"200", b"OK", b"alice", Metadata([("X-Role", b"admin"), ("X-Empty", b"")]))
    assert server.zap_reply(reply) == []
    assert pump(client, server) == ([], [])
    assert client.state is READY and server.state is READY
    metadata = server.peer_metadata
    assert metadata["User-Id"] == b"alice"
    assert metadata["X-Role"] == b"admin"
    assert metadata["X-Empty"] == b""
    assert metadata["Socket-Type"] == b"PUSH"
    # The client learns nothing of it.
    assert "User-Id" not in client.peer_metadata and "X-Role" not in client.peer_metadata


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_status_200_with_empty_user_id_still_sets_it(mechanism):
    # libzmq sets User-Id for every peer its ZAP handler admitted, even to the empty string.
    client, server = waiting_for_zap(mechanism)
    server.zap_reply(ZapReply(b"200"))
    pump(client, server)
    assert server.state is READY
    assert server.peer_metadata["User-Id"] == b""


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_status_300_closes_silently(mechanism):
    client, server = waiting_for_zap(mechanism)
    with pytest.raises(ZapRefused) as info:
        server.zap_reply(ZapReply(b"300", b"try later"))
    assert info.value.status == 300
    assert server.data_to_send() == b""  # no ERROR, so that the client retries
    assert server.state is HANDSHAKE


@pytest.mark.parametrize("status", [b"400", b"500"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_status_400_and_500_send_error_with_the_code(mechanism, status):
    client, server = waiting_for_zap(mechanism)
    with pytest.raises(ZapRefused) as info:
        server.zap_reply(ZapReply(status, b"denied"))
    assert info.value.status == int(status)
    assert info.value.code  # a ZmtpError with a code, like every protocol failure
    error = server.data_to_send()
    # A clear ERROR command whose reason is the status code, not the status text (libzmq does the same).
    assert error == command(b"ERROR", b"\x03" + status)
    assert server.state is HANDSHAKE
    with pytest.raises(ZmtpPeerError) as peer_error:
        client.receive(error)
    assert peer_error.value.reason == status.decode()


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_no_handler(mechanism):
    client, server = waiting_for_zap(mechanism)
    if mechanism == "PLAIN":
        # A PLAIN server admits nobody on its own: it closes, without ERROR (as libzmq does).
        with pytest.raises(ZapUnavailable):
            server.zap_reply(None)
        assert server.data_to_send() == b""
        return
    # NULL sends its READY now; CURVE admits any client key ("Stonehouse", checklist 37).
    assert server.zap_reply(None) == []
    assert pump(client, server) == ([], [])
    assert client.state is READY and server.state is READY
    assert "User-Id" not in server.peer_metadata


def test_null_without_zap_domain_asks_nothing():
    client, server = ZmtpConnection(b"PUSH"), ZmtpConnection(b"PULL")
    pump(client, server)
    assert server.zap_request is None and server.state is READY


def test_messages_pipelined_after_null_ready_wait_for_the_reply():
    server = ZmtpConnection(b"PULL", security=SecurityConfig(zap_domain=b"d"))
    assert server.receive(greet(server, greeting(b"NULL"))) == []
    assert server.zap_request == (b"NULL", [])
    ready = command(b"READY", properties((b"Socket-Type", b"PUSH")))
    # A client that sends READY and does not wait for ours: its bytes wait in the decoder.
    assert server.receive(ready) == []
    assert server.data_to_send() == b""
    assert server.zap_reply(ZapReply(b"200")) == []
    assert names(server.data_to_send()) == [b"READY"]
    assert server.state is READY


def test_null_refusal_waits_for_the_clients_ready():
    # A libzmq NULL client takes an ERROR as final only once it has sent READY; an ERROR read
    # before that (with the end of our greeting, say) makes it reconnect.
    server = ZmtpConnection(b"PULL", security=SecurityConfig(zap_domain=b"d"))
    assert server.receive(greet(server, greeting(b"NULL"))) == []
    assert server.zap_request == (b"NULL", [])
    assert server.zap_reply(ZapReply(b"400")) == []
    assert server.data_to_send() == b""
    with pytest.raises(ZapRefused) as info:
        server.receive(command(b"READY", properties((b"Socket-Type", b"PUSH"))))
    assert info.value.status == 400
    assert server.data_to_send() == command(b"ERROR", b"\x03400")

"""CURVE (RFC 25/26, CurveZMQ) in greenmq's sans-I/O layer: handshake, wire bytes, traffic and bad input.

greenmq's output is checked against :class:`curve_support.RawCurve`, a
CurveZMQ peer written from RFC 26 with PyNaCl alone, so that a wrong nonce
prefix, counter or box layout cannot hide behind the same mistake on both
sides. Wire facts: /work/shared/specs/README.md, checklist bullets 31-37.
Where libzmq 4.3.5 was asked (pyzmq in a separate process), the test says so.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from greenmq.constants import ProtocolError
from greenmq.utils import z85
from greenmq.zmtp import HANDSHAKE, READY, MessageTooLarge, Ping, Pong, Subscription, ZmtpError, ZmtpPeerError
from greenmq.zmtp.zap import ZapReply

from curve_support import RawCurve, nacl, short_nonce
from security_support import (
    CLIENT_PUBLIC,
    CLIENT_PUBLIC_Z85,
    CLIENT_SECRET,
    CLIENT_SECRET_Z85,
    SERVER_PUBLIC,
    SERVER_PUBLIC_Z85,
    SERVER_SECRET,
    SERVER_SECRET_Z85,
    admit,
    curve_client,
    curve_server,
    pump,
)
from zmtp_support import (
    ENGINE_LARGE_BODY,
    PUSH_METADATA,
    ReusedBuffer,
    greet,
    as_bytes,
    command,
    flip_last_byte,
    frame,
    greeting,
    parse_frames,
    properties,
    split_command,
)

pytestmark = pytest.mark.curve  # greenmq's CURVE and RawCurve both need PyNaCl

CURVE_GREETING = greeting(b"CURVE")
PULL_METADATA = properties((b"Socket-Type", b"PULL"))
PUB_METADATA = properties((b"Socket-Type", b"PUB"))


def only_frame(data):
    """The single frame in ``data``: (flags, header length, body)."""
    frames = parse_frames(data)
    assert len(frames) == 1, f"expected one frame, got {len(frames)}"
    return frames[0]


def established(client_type=b"PUSH", server_type=b"PULL", client_kwargs=None, server_kwargs=None):
    client = curve_client(client_type, **(client_kwargs or {}))
    server = curve_server(server_type, **(server_kwargs or {}))
    assert pump(client, server, zap=admit) == ([], [])
    assert client.state is READY and server.state is READY
    return client, server


def raw_client_at_initiate(server=None):
    """A RawCurve client that has exchanged HELLO/WELCOME with a greenmq CURVE server."""
    server = server or curve_server()
    raw = RawCurve()
    assert server.receive(greet(server, CURVE_GREETING) + raw.hello()) == []
    raw.read_welcome(only_frame(server.data_to_send())[2])
    return raw, server


def raw_client_established(server=None, metadata=PUSH_METADATA):
    raw, server = raw_client_at_initiate(server)
    assert server.receive(raw.initiate(metadata=metadata)) == []
    assert server.zap_request == (b"CURVE", [CLIENT_PUBLIC])
    assert server.zap_reply(admit(*server.zap_request)) == []
    assert server.state is READY
    nonce, ready_metadata = raw.read_ready(only_frame(server.data_to_send())[2])
    assert (nonce, ready_metadata) == (1, server_metadata(server))
    return raw, server


def server_metadata(server):
    return properties((b"Socket-Type", server.socket_type))


def raw_server_at_welcome(client=None, minor=1):
    """A RawCurve server that has read a greenmq CURVE client's HELLO (nothing answered yet)."""
    client = client or curve_client()
    raw = RawCurve(as_server=True)
    assert client.receive(greet(client, greeting(b"CURVE", as_server=True, minor=minor))) == []
    assert raw.read_hello(only_frame(client.data_to_send())[2]) == 1
    return raw, client


def raw_server_established(client=None, minor=1, metadata=PULL_METADATA):
    raw, client = raw_server_at_welcome(client, minor)
    assert client.receive(raw.welcome()) == []
    raw.read_initiate(only_frame(client.data_to_send())[2])
    assert client.receive(raw.ready(metadata)) == []
    assert client.state is READY
    return raw, client


def sealed(conn, messages):
    out = []
    conn.encode_messages(messages, out)
    return b"".join(bytes(chunk) for chunk in out)


# -- keys and handshake -------------------------------------------------------


def test_official_test_keys_are_consistent():
    # libzmq/zmq_curve.adoc gives each key in hex and in Z85; the pairs must belong together.
    assert z85.encode(CLIENT_PUBLIC) == CLIENT_PUBLIC_Z85
    assert z85.encode(CLIENT_SECRET) == CLIENT_SECRET_Z85
    assert z85.encode(SERVER_PUBLIC) == SERVER_PUBLIC_Z85
    assert z85.encode(SERVER_SECRET) == SERVER_SECRET_Z85
    assert nacl.crypto_scalarmult_base(CLIENT_SECRET) == CLIENT_PUBLIC
    assert nacl.crypto_scalarmult_base(SERVER_SECRET) == SERVER_PUBLIC


def test_handshake_between_greenmq_connections_with_official_keys():
    client = curve_client(b"DEALER", identity=b"me")
    server = curve_server(b"ROUTER")
    asked = []

    def zap(mechanism, credentials):
        asked.append((mechanism, credentials))
        return ZapReply(b"200", user_id=b"alice")

    assert pump(client, server, zap=zap) == ([], [])
    assert asked == [(b"CURVE", [CLIENT_PUBLIC])]
    assert client.state is READY and server.state is READY
    assert client.peer_metadata["Socket-Type"] == b"ROUTER"
    assert server.peer_metadata["Socket-Type"] == b"DEALER"
    assert server.peer_metadata["Identity"] == b"me"
    assert server.peer_metadata["User-Id"] == b"alice"
    assert "User-Id" not in client.peer_metadata
    # And traffic flows both ways.
    assert server.receive(sealed(client, [[b"", b"hello"]])) == [[b"", b"hello"]]
    assert as_bytes(client.receive(sealed(server, [b"world"]))) == [[b"world"]]


def test_greetings_name_curve():
    client, server = curve_client(), curve_server()
    for conn in (client, server):
        conn.data_to_send()  # the signature
        assert conn.receive(CURVE_GREETING[:11]) == []
        assert conn.data_to_send()[2:22] == b"CURVE" + bytes(15)  # after the major and minor bytes


def test_hello_is_200_bytes_and_boxes_64_zeros_to_the_server_key():
    client = curve_client()
    assert client.receive(greet(client, greeting(b"CURVE", as_server=True))) == []
    out = client.data_to_send()
    assert out[:2] == b"\x04\xc8" and len(out) == 2 + 200
    body = out[2:]
    assert body[:6] == b"\x05HELLO"
    assert body[6:8] == b"\x01\x00"  # CurveZMQ 1.0
    assert body[8:80] == bytes(72)  # 72 zero bytes of padding (the RFC prose's "70" is wrong)
    client_ephemeral = body[80:112]
    assert client_ephemeral not in (CLIENT_PUBLIC, bytes(32))
    assert body[112:120] == short_nonce(1)
    # The box opens with the server's secret key and C' to 64 zero bytes.
    plaintext = nacl.crypto_box_open(body[120:], b"CurveZMQHELLO---" + short_nonce(1), client_ephemeral,
                                     SERVER_SECRET)
    assert plaintext == bytes(64)
    # Nothing more until WELCOME.
    assert client.data_to_send() == b""
    assert client.state is HANDSHAKE


def test_each_connection_uses_a_new_ephemeral_key():
    keys = set()
    for _ in range(3):
        raw, _client = raw_server_at_welcome()
        keys.add(raw.peer_eph)
    assert len(keys) == 3


def test_welcome_is_168_bytes_and_carries_ephemeral_key_and_cookie():
    raw = RawCurve()
    server = curve_server()
    assert server.receive(greet(server, CURVE_GREETING)) == []
    assert server.data_to_send() == b""  # the server speaks only after HELLO
    assert server.receive(raw.hello()) == []
    out = server.data_to_send()
    assert out[:2] == b"\x04\xa8" and len(out) == 2 + 168
    assert out[2:10] == b"\x07WELCOME"
    raw.read_welcome(out[2:])  # opens Box[S' + cookie](S -> C') with the long nonce "WELCOME-" + 16 bytes
    assert raw.peer_eph not in (SERVER_PUBLIC, bytes(32))
    assert len(raw.cookie) == 96
    assert server.zap_request is None  # ZAP is asked only once INITIATE proves the client key


def test_initiate_is_a_long_frame_with_cookie_vouch_and_metadata():
    raw, client = raw_server_at_welcome(curve_client(b"DEALER", identity=b"abc"))
    assert client.receive(raw.welcome()) == []
    out = client.data_to_send()
    flags, header, body = only_frame(out)
    assert flags == 0x06 and header == 9  # always long: at least 257 bytes
    assert len(body) >= 257
    assert body[:9] == b"\x08INITIATE"
    assert body[9:105] == raw.cookie  # our cookie comes back unchanged
    nonce, client_public, metadata = raw.read_initiate(body)  # checks the vouch: Box[C' + S](C -> S')
    assert nonce == 2  # HELLO was 1
    assert client_public == CLIENT_PUBLIC
    assert metadata == properties((b"Socket-Type", b"DEALER"), (b"Identity", b"abc"))
    assert client.state is HANDSHAKE


def test_ready_is_sealed_metadata_with_short_nonce_1():
    raw, server = raw_client_at_initiate()
    assert server.receive(raw.initiate()) == []
    assert server.zap_reply(None) == []  # no ZAP handler: a CURVE server admits (checklist 37)
    flags, header, body = only_frame(server.data_to_send())
    assert flags == 0x04
    assert len(body) >= 30 and body[:6] == b"\x05READY"
    nonce, metadata = raw.read_ready(body)
    assert nonce == 1
    assert metadata == PULL_METADATA
    assert server.peer_metadata["Socket-Type"] == b"PUSH"


def test_client_messages_are_sealed_with_client_prefix_from_nonce_3():
    raw, client = raw_server_established()
    data = sealed(client, [[b"a", b"bb"], b"c", b""])
    frames = parse_frames(data)
    opened = []
    for flags, _, body in frames:
        assert flags == 0x00  # no MORE, no COMMAND outside the box (checklist 36)
        assert len(body) >= 33 and body[:8] == b"\x07MESSAGE"
        opened.append(raw.open_message(body))  # prefix "CurveZMQMESSAGEC"
    assert opened == [(3, 0x01, b"a"), (4, 0x00, b"bb"), (5, 0x00, b"c"), (6, 0x00, b"")]


def test_server_messages_are_sealed_with_server_prefix_from_nonce_2():
    raw, server = raw_client_established()
    frames = parse_frames(sealed(server, [b"x", [b"y", b"z"]]))
    assert [flags for flags, _, _ in frames] == [0, 0, 0]
    assert [raw.open_message(body) for _, _, body in frames] == [(2, 0, b"x"), (3, 1, b"y"), (4, 0, b"z")]


@pytest.mark.parametrize("size", [222, 223, 1000, 65536, 200000])
def test_long_message_outer_frame_is_0x02(size):
    # A MESSAGE is the payload + 33 bytes; above 255 the outer frame is long (0x02), never 0x03.
    raw, client = raw_server_established()
    payload = bytes(range(256)) * (size // 256) + b"p" * (size % 256)
    frames = parse_frames(sealed(client, [[payload, payload]]))
    expected_flags = 0x02 if size + 33 > 255 else 0x00
    assert [flags for flags, _, _ in frames] == [expected_flags, expected_flags]
    assert [raw.open_message(body) for _, _, body in frames] == [(3, 1, payload), (4, 0, payload)]


def test_received_messages_are_opened():
    raw, server = raw_client_established()
    data = raw.message(b"one") + raw.message(b"a", flags=1) + raw.message(b"b" * 300, flags=1) + raw.message(b"")
    assert as_bytes(server.receive(data)) == [[b"one"], [b"a", b"b" * 300, b""]]


def test_message_in_an_outer_command_frame_is_opened():
    # Checklist 36: a post-handshake body starting with 07 'MESSAGE' is a MESSAGE whatever the outer flags.
    raw, server = raw_client_established()
    assert as_bytes(server.receive(raw.message(b"in a command frame", outer_flags=0x04))) == [[b"in a command frame"]]


def test_subscribe_travels_as_sealed_command_to_zmtp31_peer():
    raw, client = raw_server_established(curve_client(b"SUB"), minor=1, metadata=PUB_METADATA)
    frames = parse_frames(sealed(client, [Subscription(True, b"topic"), Subscription(False, b"topic")]))
    assert [flags for flags, _, _ in frames] == [0, 0]
    assert [raw.open_message(body) for _, _, body in frames] == [
        (3, 0x02, b"\x09SUBSCRIBEtopic"),
        (4, 0x02, b"\x06CANCELtopic"),
    ]


def test_subscribe_travels_as_sealed_message_to_zmtp30_peer():
    raw, client = raw_server_established(curve_client(b"SUB"), minor=0, metadata=PUB_METADATA)
    frames = parse_frames(sealed(client, [Subscription(True, b"A"), Subscription(False, b"A")]))
    assert [raw.open_message(body) for _, _, body in frames] == [(3, 0x00, b"\x01A"), (4, 0x00, b"\x00A")]


def test_sealed_subscribe_and_cancel_received():
    raw, server = raw_client_established(curve_server(b"XPUB"), metadata=properties((b"Socket-Type", b"SUB")))
    assert server.receive(raw.message(b"\x09SUBSCRIBEnews", flags=0x02)
                          + raw.message(b"\x06CANCELnews", flags=0x02)) == []
    assert server.take_events() == [Subscription(True, b"news"), Subscription(False, b"news")]


def test_ping_and_pong_are_sealed_in_messages():
    raw, client = raw_server_established()
    client.ping(50, b"ctx")
    frames = parse_frames(client.data_to_send())
    assert [flags for flags, _, _ in frames] == [0x00]
    assert raw.open_message(frames[0][2]) == (3, 0x02, b"\x04PING\x00\x32ctx")
    # The raw server pings; the PONG comes back sealed, echoing the context.
    assert client.receive(raw.message(b"\x04PING\x00\x00hello", flags=0x02)) == []
    frames = parse_frames(client.data_to_send())
    assert [flags for flags, _, _ in frames] == [0x00]
    assert raw.open_message(frames[0][2]) == (4, 0x02, b"\x04PONGhello")
    assert client.take_events() == [Ping(0)]
    assert client.receive(raw.message(b"\x04PONGctx", flags=0x02)) == []
    assert client.take_events() == [Pong()]


def test_ping_pong_between_greenmq_connections():
    client, server = established()
    client.ping(30)
    assert server.receive(client.data_to_send()) == []
    assert server.take_events() == [Ping(30)]
    pong = server.data_to_send()
    assert pong[2:10] == b"\x07MESSAGE"  # not a clear PONG command
    assert client.receive(pong) == []
    assert client.take_events() == [Pong()]


def test_unknown_sealed_command_is_ignored():
    # Checklist 22: unknown commands after the handshake are dropped, not fatal.
    raw, server = raw_client_established()
    assert server.receive(raw.message(b"\x05HELLOworld", flags=0x02) + raw.message(b"after")) == [b"after"]


def test_everything_in_one_chunk():
    # The server's READY and first messages reach the client in one read.
    raw, client = raw_server_at_welcome()
    assert client.receive(raw.welcome()) == []
    raw.read_initiate(only_frame(client.data_to_send())[2])
    data = raw.ready() + raw.message(b"first") + raw.message(b"x", flags=1) + raw.message(b"y")
    assert as_bytes(client.receive(data)) == [[b"first"], [b"x", b"y"]]


def test_handshake_byte_by_byte():
    client, server = curve_client(), curve_server()
    for _ in range(4):
        for byte in client.data_to_send():
            assert server.receive(bytes((byte,))) == []
        if server.zap_request is not None:
            server.zap_reply(None)
        for byte in server.data_to_send():
            assert client.receive(bytes((byte,))) == []
    assert client.state is READY and server.state is READY


def test_client_without_server_key_cannot_start():
    with pytest.raises(ZmtpError) as info:
        curve_client(server_key=b"")
    assert info.value.code == ProtocolError.ZMTP_KEY_EXCHANGE


def test_hello_boxed_to_another_server_key_is_refused():
    other_public, _ = nacl.crypto_box_keypair()
    client = curve_client(server_key=other_public)
    server = curve_server()
    with pytest.raises(ZmtpError) as info:
        pump(client, server, zap=admit)
    # The server could not open HELLO (boxed to another key).
    assert info.value.code == ProtocolError.ZMTP_CRYPTOGRAPHIC
    assert server.state is HANDSHAKE
    assert server.data_to_send() == b""  # no WELCOME, no ERROR


# -- MAXMSGSIZE ---------------------------------------------------------------


def test_maxmsgsize_limits_the_payload_not_the_message_command():
    # greenmq's choice: MAXMSGSIZE is about what the application receives. (libzmq 4.3.5 compares it
    # with the encrypted frame, 33 bytes more, and so refuses a 1000-byte message under MAXMSGSIZE 1000.)
    client, server = established(server_kwargs={"max_message_size": 1000})
    assert server.receive(sealed(client, [b"m" * 1000, [b"a" * 1000, b"b" * 1000]])) == [
        b"m" * 1000, [b"a" * 1000, b"b" * 1000]]
    with pytest.raises(MessageTooLarge):
        server.receive(sealed(client, [b"m" * 1001]))


def test_maxmsgsize_refuses_from_the_header_alone():
    client, server = established(server_kwargs={"max_message_size": 1000})
    data = sealed(client, [b"m" * 1001])
    with pytest.raises(MessageTooLarge):
        server.receive(data[:9])  # the long header announcing 1034 bytes


def test_maxmsgsize_on_the_client_side():
    client, server = established(client_kwargs={"max_message_size": 300})
    assert client.receive(sealed(server, [b"s" * 300])) == [b"s" * 300]
    with pytest.raises(MessageTooLarge):
        client.receive(sealed(server, [b"s" * 301]))


# -- round trips --------------------------------------------------------------


def test_large_messages_through_a_reused_read_buffer():
    # The engine reads large frames into one reused buffer (ReusedBuffer plays it and scribbles over it
    # after each call): nothing opened from a MESSAGE may still point into it.
    client, server = established()
    big = [bytes(range(256)) * 1200, b"tail", b"x" * 70000]
    data = sealed(client, [big, b"single"])
    buffer = ReusedBuffer()
    received = []
    for start in range(0, len(data), ENGINE_LARGE_BODY):
        received.extend(buffer.feed(server.receive, data[start:start + ENGINE_LARGE_BODY]))
    assert as_bytes(received) == [big, [b"single"]]


messages_strategy = st.lists(
    st.lists(st.binary(max_size=600), min_size=1, max_size=4),
    min_size=1, max_size=8,
)


def feed_in_chunks(conn, data, cuts):
    """Feed ``data`` cut at the (sorted, deduplicated) positions ``cuts``; return all messages."""
    received = []
    start = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        received.extend(conn.receive(data[start:cut]))
        start = cut
    return received


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages_strategy, messages_strategy, st.lists(st.integers(min_value=0), max_size=12),
       st.lists(st.integers(min_value=0), max_size=12))
def test_round_trip_random_multipart_with_random_chunking(upstream, downstream, cuts_up, cuts_down):
    client, server = curve_client(b"DEALER"), curve_server(b"ROUTER")
    # The handshake itself is cut at random too.
    handshake_up = client.data_to_send()
    handshake_down = server.data_to_send()
    assert feed_in_chunks(server, handshake_up, cuts_up) == []
    assert feed_in_chunks(client, handshake_down, cuts_down) == []
    for _ in range(3):
        data = client.data_to_send()
        assert feed_in_chunks(server, data, cuts_up) == []
        if server.zap_request is not None:
            server.zap_reply(admit(*server.zap_request))
        assert feed_in_chunks(client, server.data_to_send(), cuts_down) == []
    assert client.state is READY and server.state is READY
    # Several rounds, so that nonces keep increasing across calls.
    for _ in range(2):
        assert as_bytes(feed_in_chunks(server, sealed(client, upstream), cuts_up)) == upstream
        assert as_bytes(feed_in_chunks(client, sealed(server, downstream), cuts_down)) == downstream


# -- bad input at the server --------------------------------------------------


def hello_body(raw, **kwargs):
    return split_command(parse_frames(raw.hello(**kwargs))[0][2])[1]


def _corrupt_hello_nonce(raw):
    hello = bytearray(raw.hello())
    hello[2 + 113] ^= 0x01  # the short nonce's last byte: the box no longer opens
    return bytes(hello)


def wrong_key_pair():
    return nacl.crypto_box_keypair()


def other_cookie():
    """A cookie from another connection to another server instance (its cookie key differs)."""
    raw, _server = raw_client_at_initiate()
    return raw.cookie


# Each case: the bytes a RawCurve client sends after the greeting (it may run the handshake first),
# and the ProtocolError code the greenmq server must fail with. Most cases were also tried against libzmq
# 4.3.5 (pyzmq in a separate process); for those the code is libzmq's unless a comment says otherwise.
HELLO_CASES = {
    "hello-199-bytes": (lambda raw: command(b"HELLO", hello_body(raw)[:-1]),
                        ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-201-bytes": (lambda raw: command(b"HELLO", hello_body(raw) + b"\0"),
                        ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-empty": (lambda raw: command(b"HELLO"), ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-version-2.0": (lambda raw: raw.hello(version=b"\x02\x00"), ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-version-1.1": (lambda raw: raw.hello(version=b"\x01\x01"), ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO),
    "hello-corrupt-box": (lambda raw: flip_last_byte(raw.hello()), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "hello-to-another-server": (lambda raw: raw.hello(server_public=wrong_key_pair()[0]),
                                ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "hello-corrupt-nonce": (lambda raw: _corrupt_hello_nonce(raw), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    # libzmq does not look at the COMMAND flag during the handshake and takes this HELLO; greenmq does.
    "hello-as-data-frame": (lambda raw: frame(raw.hello()[2:]), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "initiate-before-hello": (lambda raw: command(b"INITIATE", bytes(300)), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "ready-from-client": (lambda raw: command(b"READY", bytes(30)), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    # libzmq parses these bytes as a command, and reports MALFORMED_COMMAND_UNSPECIFIED.
    "data-before-hello": (lambda raw: frame(b"too early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
}


def _after_welcome(server, raw, build):
    assert server.receive(raw.hello()) == []
    raw.read_welcome(only_frame(server.data_to_send())[2])
    return build(raw)


INITIATE_CASES = {
    "hello-replayed": (lambda raw: raw.hello(nonce=short_nonce(1)), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "initiate-256-bytes": (lambda raw: command(b"INITIATE", raw.cookie + short_nonce(2) + bytes(143)),
                           ProtocolError.ZMTP_MALFORMED_COMMAND_INITIATE),
    "initiate-forged-cookie": (lambda raw: raw.initiate(cookie=nacl.randombytes(96)),
                               ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-cookie-of-another-connection": (lambda raw: raw.initiate(cookie=other_cookie()),
                                              ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-corrupt-cookie": (lambda raw: raw.initiate(cookie=flip_last_byte(raw.cookie)),
                                ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-corrupt-box": (lambda raw: flip_last_byte(raw.initiate()), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-vouch-not-by-client-key": (lambda raw: raw.initiate(vouch=raw.vouch(key_secret=wrong_key_pair()[1])),
                                         ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-claims-another-client-key": (lambda raw: raw.initiate(client_public=wrong_key_pair()[0]),
                                           ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "initiate-corrupt-vouch": (lambda raw: raw.initiate(vouch=flip_last_byte(raw.vouch())),
                               ProtocolError.ZMTP_CRYPTOGRAPHIC),
    # libzmq does not check S in the vouch (it admits this client); greenmq does, as RFC 26 says.
    "initiate-vouch-for-another-server": (lambda raw: raw.initiate(vouch=raw.vouch(server_public=CLIENT_PUBLIC)),
                                          ProtocolError.ZMTP_CRYPTOGRAPHIC),
    # libzmq accepts INITIATE reusing HELLO's short nonce; greenmq wants the nonces to increase (RFC 26).
    "initiate-replays-hello-nonce": (lambda raw: raw.initiate(nonce=short_nonce(1)),
                                     ProtocolError.ZMTP_MALFORMED_COMMAND_INITIATE),
    # libzmq closes on bad metadata without a HANDSHAKE_FAILED event, and admits an empty name.
    "initiate-truncated-metadata": (lambda raw: raw.initiate(metadata=PUSH_METADATA[:-1]),
                                    ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-metadata-value-overruns": (lambda raw: raw.initiate(metadata=b"\x0bSocket-Type\x00\x00\x01\x00PUSH"),
                                         ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-metadata-empty-name": (lambda raw: raw.initiate(metadata=b"\x00\x00\x00\x00\x00"),
                                     ProtocolError.ZMTP_INVALID_METADATA),
    "initiate-metadata-name-only": (lambda raw: raw.initiate(metadata=b"\x0bSocket-Type"),
                                    ProtocolError.ZMTP_INVALID_METADATA),
    # libzmq takes this INITIATE too (and admits the client).
    "initiate-as-data-frame": (lambda raw: frame(raw.initiate()[9:]), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "message-before-ready": (lambda raw: raw.message(b"early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
}


def _established(server, raw, build):
    _after_welcome(server, raw, lambda raw: None)
    assert server.receive(raw.initiate()) == []
    server.zap_reply(None)
    raw.read_ready(only_frame(server.data_to_send())[2])
    return build(raw)


TRAFFIC_CASES = {
    "message-replayed": (lambda raw: raw.message(b"first") + raw.message(b"again", nonce=short_nonce(3)),
                         ProtocolError.ZMTP_INVALID_SEQUENCE),
    "message-replays-initiate-nonce": (lambda raw: raw.message(b"x", nonce=short_nonce(2)),
                                       ProtocolError.ZMTP_INVALID_SEQUENCE),
    "message-corrupt-box": (lambda raw: flip_last_byte(raw.message(b"x")), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "message-server-prefix": (lambda raw: _as_server(raw).message(b"x"), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "message-32-bytes": (lambda raw: frame(b"\x07MESSAGE" + short_nonce(4) + bytes(16)),
                         ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
    "message-empty-box": (lambda raw: frame(b"\x07MESSAGE" + short_nonce(4)
                                            + nacl.crypto_box(b"", b"CurveZMQMESSAGEC" + short_nonce(4),
                                                              raw.peer_eph, raw.eph_secret)),
                          ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
    # libzmq: 0x10000011 or UNEXPECTED_COMMAND depending on the first bytes; greenmq: MALFORMED_COMMAND_MESSAGE.
    "clear-data-frame": (lambda raw: frame(b"not sealed"), ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
    "clear-long-data-frame": (lambda raw: frame(b"n" * 1000), ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
    # libzmq: UNEXPECTED_COMMAND.
    "clear-ping-command": (lambda raw: command(b"PING", b"\x00\x00"), ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
    # libzmq answers this PING (and keeps the connection); greenmq refuses commands inside a multipart.
    "command-inside-multipart": (lambda raw: raw.message(b"part", flags=1) + raw.message(b"\x04PING\0\0", flags=2),
                                 ProtocolError.ZMTP_UNEXPECTED_COMMAND),
}


def _as_server(raw):
    raw.as_server = True  # seals with "CurveZMQMESSAGES", the other direction's prefix
    return raw


SERVER_CASES = {
    **{name: (None, build, code) for name, (build, code) in HELLO_CASES.items()},
    **{name: (_after_welcome, build, code) for name, (build, code) in INITIATE_CASES.items()},
    **{name: (_established, build, code) for name, (build, code) in TRAFFIC_CASES.items()},
}


@pytest.mark.parametrize("case", SERVER_CASES)
def test_server_rejects_bad_input(case):
    stage, build, code = SERVER_CASES[case]
    raw = RawCurve()
    server = curve_server()
    assert server.receive(greet(server, CURVE_GREETING)) == []
    data = build(raw) if stage is None else stage(server, raw, build)
    delivered = []
    # Only a ZmtpError may come out: anything else would reach the engine as a bug.
    with pytest.raises(ZmtpError) as info:
        delivered.extend(server.receive(data))
    assert info.value.code == code, f"{info.value!r}: {ProtocolError(info.value.code).name}, expected {code.name}"
    assert not isinstance(info.value, ZmtpPeerError)
    # Malformed CURVE input gets no answer (RFC 26; libzmq sends none either).
    assert server.data_to_send() == b""
    assert server.zap_request is None
    assert delivered == []


def test_replayed_message_is_delivered_once():
    raw, server = raw_client_established()
    first = raw.message(b"once")
    assert server.receive(first) == [b"once"]
    with pytest.raises(ZmtpError) as info:
        server.receive(first)
    assert info.value.code == ProtocolError.ZMTP_INVALID_SEQUENCE


def test_nonces_may_skip_but_not_go_back():
    raw, server = raw_client_established()
    assert server.receive(raw.message(b"a", nonce=short_nonce(10)) + raw.message(b"b", nonce=short_nonce(11))) == [
        b"a", b"b"]
    with pytest.raises(ZmtpError) as info:
        server.receive(raw.message(b"c", nonce=short_nonce(9)))
    assert info.value.code == ProtocolError.ZMTP_INVALID_SEQUENCE


def test_client_error_instead_of_hello_is_a_peer_error():
    server = curve_server()
    with pytest.raises(ZmtpPeerError) as info:
        server.receive(greet(server, CURVE_GREETING) + command(b"ERROR", b"\x03bye"))
    assert info.value.reason == "bye"
    assert server.data_to_send() == b""


@pytest.mark.parametrize("mechanism", [b"NULL", b"PLAIN"])
def test_mechanism_mismatch(mechanism):
    for conn in (curve_server(), curve_client()):
        with pytest.raises(ZmtpError) as info:
            conn.receive(greet(conn, greeting(mechanism)))
        assert info.value.code == ProtocolError.ZMTP_MECHANISM_MISMATCH
        assert conn.data_to_send() == b""  # closed without ERROR (checklist 7)


# -- bad input at the client --------------------------------------------------


def _welcome_body(raw):
    return split_command(parse_frames(raw.welcome())[0][2])[1]


def _at_ready(client, raw, build):
    assert client.receive(raw.welcome()) == []
    raw.read_initiate(only_frame(client.data_to_send())[2])
    return build(raw)


def _client_established(client, raw, build):
    _at_ready(client, raw, lambda raw: None)
    assert client.receive(raw.ready()) == []
    return build(raw)


def _welcome_from_another_server(raw):
    other = RawCurve(True, *wrong_key_pair())
    other.peer_eph = raw.peer_eph
    return other.welcome()


def _ready_with(raw, nonce, plaintext):
    return command(b"READY", nonce + nacl.crypto_box(plaintext, b"CurveZMQREADY---" + nonce, raw.peer_eph,
                                                     raw.eph_secret))


CLIENT_CASES = {
    "welcome-167-bytes": (None, lambda raw: command(b"WELCOME", _welcome_body(raw)[:-1]),
                          ProtocolError.ZMTP_MALFORMED_COMMAND_WELCOME),
    "welcome-169-bytes": (None, lambda raw: command(b"WELCOME", _welcome_body(raw) + b"\0"),
                          ProtocolError.ZMTP_MALFORMED_COMMAND_WELCOME),
    "welcome-corrupt-box": (None, lambda raw: flip_last_byte(raw.welcome()), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "welcome-from-another-server": (None, lambda raw: _welcome_from_another_server(raw),
                                    ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "ready-before-welcome": (None, lambda raw: command(b"READY", bytes(30)), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "hello-to-client": (None, lambda raw: command(b"HELLO", bytes(194)), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "data-before-welcome": (None, lambda raw: frame(b"early"), ProtocolError.ZMTP_UNEXPECTED_COMMAND),
    "ready-29-bytes": (_at_ready, lambda raw: command(b"READY", bytes(23)), ProtocolError.ZMTP_MALFORMED_COMMAND_READY),
    "ready-corrupt-box": (_at_ready, lambda raw: flip_last_byte(raw.ready()), ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "ready-nonce-0": (_at_ready, lambda raw: raw.ready(nonce=short_nonce(0)),
                      ProtocolError.ZMTP_MALFORMED_COMMAND_READY),
    "ready-truncated-metadata": (_at_ready, lambda raw: raw.ready(metadata=PULL_METADATA[:-2]),
                                 ProtocolError.ZMTP_INVALID_METADATA),
    "ready-sealed-with-long-term-keys": (_at_ready, lambda raw: command(b"READY", short_nonce(1) + nacl.crypto_box(
        PULL_METADATA, b"CurveZMQREADY---" + short_nonce(1), CLIENT_PUBLIC, SERVER_SECRET)),
        ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "ready-empty-box": (_at_ready, lambda raw: _ready_with(raw, short_nonce(1), b""),
                        ProtocolError.ZMTP_INVALID_METADATA),  # no Socket-Type
    "message-replays-ready-nonce": (_client_established, lambda raw: raw.message(b"x", nonce=short_nonce(1)),
                                    ProtocolError.ZMTP_INVALID_SEQUENCE),
    "message-client-prefix": (_client_established, lambda raw: _as_client(raw).message(b"x"),
                              ProtocolError.ZMTP_CRYPTOGRAPHIC),
    "clear-data-after-ready": (_client_established, lambda raw: frame(b"clear"),
                               ProtocolError.ZMTP_MALFORMED_COMMAND_MESSAGE),
}


def _as_client(raw):
    raw.as_server = False
    return raw


@pytest.mark.parametrize("case", CLIENT_CASES)
def test_client_rejects_bad_input(case):
    stage, build, code = CLIENT_CASES[case]
    raw, client = raw_server_at_welcome()
    data = build(raw) if stage is None else stage(client, raw, build)
    with pytest.raises(ZmtpError) as info:
        client.receive(data)
    assert info.value.code == code, f"{info.value!r}: {ProtocolError(info.value.code).name}, expected {code.name}"
    assert not isinstance(info.value, ZmtpPeerError)


def test_client_gets_server_error():
    raw, client = raw_server_at_welcome()
    with pytest.raises(ZmtpPeerError) as info:
        client.receive(command(b"ERROR", b"\x03400"))
    assert info.value.reason == "400"


# -- greenmq bugs -------------------------------------------------------------


@pytest.mark.parametrize("case", ["hello-zero-ephemeral-key", "initiate-zero-client-key"])
def test_low_order_public_key_is_a_protocol_error(case):
    # A key whose shared secret with ours is all zeros makes libsodium's crypto_box_beforenm fail; PyNaCl
    # raises nacl.exceptions.RuntimeError. libzmq 4.3.5 reports both cases as ZMTP_CRYPTOGRAPHIC and closes.
    raw = RawCurve()
    server = curve_server()
    assert server.receive(greet(server, CURVE_GREETING)) == []
    if case == "hello-zero-ephemeral-key":
        data = raw.hello(eph_public=bytes(32))
    else:
        data = _after_welcome(server, raw, lambda raw: raw.initiate(client_public=bytes(32)))
    with pytest.raises(ZmtpError) as info:
        server.receive(data)
    assert info.value.code == ProtocolError.ZMTP_CRYPTOGRAPHIC


def test_low_order_server_ephemeral_key_is_a_protocol_error():
    # The same at the client: a WELCOME whose S' is all zeros (a hostile server can box anything).
    # (libzmq 4.3.5 has no answer to copy here: it aborts the process, curve_client_tools.hpp:106.)
    raw, client = raw_server_at_welcome()
    raw.eph_public = bytes(32)
    with pytest.raises(ZmtpError) as info:
        client.receive(raw.welcome())
    assert info.value.code == ProtocolError.ZMTP_CRYPTOGRAPHIC


def test_vouch_for_another_connection_reports_key_exchange_like_libzmq():
    # The vouch opens but names another C'. libzmq 4.3.5 reports ZMTP_KEY_EXCHANGE (0x10000003) here
    # (asked with pyzmq in a separate process); errors.py promises libzmq's codes to monitors.
    raw = RawCurve()
    server = curve_server()
    assert server.receive(greet(server, CURVE_GREETING)) == []
    data = _after_welcome(server, raw, lambda raw: raw.initiate(vouch=raw.vouch(eph_public=wrong_key_pair()[0])))
    with pytest.raises(ZmtpError) as info:
        server.receive(data)
    assert info.value.code == ProtocolError.ZMTP_KEY_EXCHANGE


def test_incompatible_socket_type_gets_no_ready():
    # libzmq 4.3.5 checks INITIATE's metadata before it answers and closes without READY. greenmq
    # sends a sealed READY (the client then believes the handshake succeeded) and then a clear ERROR
    # command, which is no longer valid once CURVE traffic has started (checklist 36).
    raw, server = raw_client_at_initiate()
    with pytest.raises(ZmtpError) as info:
        server.receive(raw.initiate(metadata=PULL_METADATA))
        server.zap_reply(None)
    assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA
    names = [split_command(body)[0] for _, _, body in parse_frames(server.data_to_send())]
    assert b"READY" not in names


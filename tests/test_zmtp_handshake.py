"""ZMTP 3.x greeting, NULL handshake, metadata and traffic commands (greenmq.zmtp, sans-I/O).

Wire facts come from /work/shared/specs/README.md ("Wire-protocol checklist",
bullets 1-9, 15-23, 27) and rfc37-zmtp-3.1.md.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from greenmq.constants import ProtocolError
from greenmq.zmtp import (
    GREETING_SIZE,
    HANDSHAKE,
    READY,
    MessageTooLarge,
    Metadata,
    Ping,
    Pong,
    Subscription,
    ZmtpConnection,
    ZmtpError,
    ZmtpPeerError,
    ZmtpVersionError,
    decode_properties,
    encode_command,
    encode_properties,
    make_greeting,
)

from zmtp_support import ENGINE_BODY_MAX, ENGINE_LARGE_BODY, ReusedBuffer, as_bytes, greet, parse_commands

# greenmq's greeting as libzmq's: "routing-id length + 1" in the padding (checklist 2; rfc37 "Detecting ZMTP 1.0
# and 2.0 Peers"), so that a ZMTP 1.0 peer reads the signature as the header of an identity frame.
NULL_GREETING = b"\xff" + (1).to_bytes(8, "big") + b"\x7f" + b"\x03\x01" + b"NULL" + bytes(16) + b"\x00" + bytes(31)
# What libzmq 4.0 to 4.3.2 sends: ZMTP 3.0 (checklist 6).
LIBZMQ_GREETING = NULL_GREETING[:11] + b"\x00" + NULL_GREETING[12:]


# -- helpers -----------------------------------------------------------------


def ready(*properties):
    return encode_command(b"READY", encode_properties(properties))


def wire(messages):
    out = []
    ZmtpConnection(b"PUSH").encode_messages(messages, out)
    return b"".join(bytes(c) for c in out)


def after_greeting(socket_type=b"PULL", **kwargs):
    """A connection that has sent its greeting and READY and got the peer's greeting."""
    conn = ZmtpConnection(socket_type, **kwargs)
    assert conn.receive(greet(conn, NULL_GREETING)) == []
    assert conn.state == HANDSHAKE
    out = conn.data_to_send()
    assert parse_commands(out)[0][0] == b"READY"
    return conn


def established(socket_type=b"PULL", peer_type=b"PUSH", **kwargs):
    conn = after_greeting(socket_type, **kwargs)
    assert conn.receive(ready(("Socket-Type", peer_type))) == []
    assert conn.state == READY
    assert conn.data_to_send() == b""
    return conn


# -- greeting ----------------------------------------------------------------


def test_greeting_layout():
    greeting = make_greeting(b"NULL")
    assert len(greeting) == GREETING_SIZE == 64
    assert greeting[0] == 0xFF
    assert greeting[9] == 0x7F
    assert greeting[10:12] == b"\x03\x01"
    assert greeting[12:32] == b"NULL" + bytes(16)
    assert greeting[32] == 0x00
    assert greeting[33:] == bytes(31)
    assert greeting == NULL_GREETING


def test_greeting_options():
    assert make_greeting(b"NULL", as_server=True)[32] == 0x01
    assert make_greeting(b"NULL", minor=0)[10:12] == b"\x03\x00"
    plain = make_greeting(b"PLAIN")
    assert plain[12:32] == b"PLAIN" + bytes(15)
    assert len(plain) == 64


def test_connection_sends_only_the_signature_first():
    conn = ZmtpConnection(b"PUSH")
    assert conn.state == "GREETING"
    assert conn.data_to_send() == NULL_GREETING[:10]
    assert conn.data_to_send() == b""


def test_signature_padding_is_identity_length_plus_one():
    # rfc37 "Detecting ZMTP 1.0 and 2.0 Peers": a 1.0 peer reads it as the length of our identity frame.
    assert ZmtpConnection(b"DEALER", identity=b"abc").data_to_send() == b"\xff" + (4).to_bytes(8, "big") + b"\x7f"
    assert make_greeting(b"NULL", identity_size=255)[1:9] == (256).to_bytes(8, "big")


def test_greeting_goes_out_in_stages():
    # Checklist 4, as libzmq: the major version after the peer's signature, the rest after its revision.
    conn = ZmtpConnection(b"PUSH")
    conn.data_to_send()
    assert conn.receive(NULL_GREETING[:9]) == []
    assert conn.data_to_send() == b""
    assert conn.receive(NULL_GREETING[9:10]) == []
    assert conn.data_to_send() == NULL_GREETING[10:11]
    assert conn.receive(NULL_GREETING[10:11]) == []
    assert conn.data_to_send() == NULL_GREETING[11:]
    assert conn.state == "GREETING"


def test_whole_peer_greeting_gets_the_rest_of_ours_and_ready_at_once():
    conn = ZmtpConnection(b"PUSH")
    conn.data_to_send()
    assert conn.receive(NULL_GREETING) == []
    out = conn.data_to_send()
    assert out[:54] == NULL_GREETING[10:]
    assert parse_commands(out[54:]) == [(b"READY", b"\x0bSocket-Type\x00\x00\x00\x04PUSH")]


def test_ready_waits_for_whole_peer_greeting():
    conn = ZmtpConnection(b"PUSH")
    rest = greet(conn, NULL_GREETING)
    assert conn.receive(rest[:-1]) == []
    assert conn.state == "GREETING"
    assert conn.data_to_send() == b""
    assert conn.receive(rest[-1:]) == []
    assert conn.state == HANDSHAKE
    assert parse_commands(conn.data_to_send()) == [(b"READY", b"\x0bSocket-Type\x00\x00\x00\x04PUSH")]


def test_greeting_one_byte_at_a_time():
    conn = ZmtpConnection(b"PUSH")
    for i in range(64):
        assert conn.state == "GREETING"
        assert conn.receive(NULL_GREETING[i:i + 1]) == []
    assert conn.state == HANDSHAKE
    assert conn.peer_minor == 1


def test_libzmq_greeting_padding_and_minor_zero_accepted():
    conn = ZmtpConnection(b"PUSH")
    conn.receive(LIBZMQ_GREETING)
    assert conn.state == HANDSHAKE
    assert conn.peer_minor == 0


@pytest.mark.parametrize("padding", [bytes(8), b"\xff" * 8, (256).to_bytes(8, "big")])
def test_greeting_padding_never_checked(padding):
    conn = ZmtpConnection(b"PUSH")
    conn.receive(b"\xff" + padding + NULL_GREETING[9:])
    assert conn.state == HANDSHAKE


@pytest.mark.parametrize("major, minor", [(3, 0), (3, 1), (3, 7), (4, 0), (255, 255)])
def test_any_major_3_or_later_accepted(major, minor):
    conn = ZmtpConnection(b"PUSH")
    conn.receive(NULL_GREETING[:10] + bytes((major, minor)) + NULL_GREETING[12:])
    assert conn.state == HANDSHAKE
    assert conn.peer_minor == minor


def test_as_server_byte_never_rejected():
    conn = ZmtpConnection(b"PUSH")
    conn.receive(make_greeting(b"NULL", as_server=True))
    assert conn.state == HANDSHAKE


def test_greeting_filler_not_checked():
    conn = ZmtpConnection(b"PUSH")
    conn.receive(NULL_GREETING[:33] + b"\x01" * 31)
    assert conn.state == HANDSHAKE


# -- version detection (ZMTP 2.0 and 1.0 peers: test_zmtp_legacy.py) -----------------


def test_version_error_is_a_zmtp_error():
    assert issubclass(ZmtpVersionError, ZmtpError)


# -- mechanism ---------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", [
    b"PLAIN" + bytes(15),
    b"CURVE" + bytes(15),
    b"NULL" + bytes(15) + b"X",  # NUL padding must match too
    b"null" + bytes(16),
])
def test_mechanism_mismatch(mechanism):
    conn = ZmtpConnection(b"PUSH")
    rest = greet(conn, NULL_GREETING)
    with pytest.raises(ZmtpError) as info:
        conn.receive(rest[:1] + mechanism + rest[21:])
    assert info.value.code == ProtocolError.ZMTP_MECHANISM_MISMATCH
    # libzmq closes without sending ERROR (checklist 7), and no READY may follow.
    assert conn.data_to_send() == b""


# -- READY and metadata --------------------------------------------------------------


def test_dealer_ready_bytes_match_rfc_example():
    # Checklist 17: 04 29 05 READY 0B Socket-Type 00 00 00 06 DEALER 08 Identity 00 00 00 00.
    conn = ZmtpConnection(b"DEALER")
    conn.receive(greet(conn, NULL_GREETING))
    expected = (
        b"\x04\x29" + b"\x05READY" + b"\x0bSocket-Type" + b"\x00\x00\x00\x06DEALER"
        + b"\x08Identity" + b"\x00\x00\x00\x00"
    )
    assert len(expected) == 2 + 41
    assert conn.data_to_send() == expected


@pytest.mark.parametrize("socket_type", [b"REQ", b"DEALER", b"ROUTER"])
def test_identity_sent_by_req_dealer_router(socket_type):
    conn = ZmtpConnection(socket_type, identity=b"me")
    conn.receive(greet(conn, NULL_GREETING))
    ((name, data),) = parse_commands(conn.data_to_send())
    assert name == b"READY"
    assert decode_properties(data).items() == [("Socket-Type", socket_type), ("Identity", b"me")]


@pytest.mark.parametrize("socket_type", [b"PUSH", b"PULL", b"PAIR", b"REP", b"PUB", b"SUB"])
def test_no_identity_from_other_types(socket_type):
    conn = ZmtpConnection(socket_type, identity=b"me")
    conn.receive(greet(conn, NULL_GREETING))
    ((name, data),) = parse_commands(conn.data_to_send())
    assert decode_properties(data).items() == [("Socket-Type", socket_type)]


def test_extra_metadata_sent_after_basic_properties():
    conn = ZmtpConnection(b"PUSH", metadata=[("X-Hello", b"world"), ("X-Empty", b"")])
    conn.receive(greet(conn, NULL_GREETING))
    ((_, data),) = parse_commands(conn.data_to_send())
    assert data == (
        b"\x0bSocket-Type\x00\x00\x00\x04PUSH" + b"\x07X-Hello\x00\x00\x00\x05world" + b"\x07X-Empty\x00\x00\x00\x00"
    )


def test_peer_metadata_case_insensitive_and_extras_kept():
    conn = after_greeting(b"PULL")
    conn.receive(ready(("socket-type", b"push"), ("X-Foo", b"bar"), ("User-Id", b"u"), ("Resource", b"/r")))
    assert conn.state == READY
    md = conn.peer_metadata
    assert md.get("Socket-Type") == b"push"
    assert md.get("SOCKET-TYPE") == b"push"
    assert md["x-foo"] == b"bar"
    assert "user-id" in md
    assert md.get("Resource") == b"/r"
    assert md.get("Identity") is None
    assert md.get("missing", b"dflt") == b"dflt"
    assert ("X-Foo", b"bar") in md.items()


def test_metadata_lookup():
    md = Metadata([("Socket-Type", b"PUB"), ("X-a", b"1")])
    assert md.get("socket-type") == b"PUB"
    assert "X-A" in md
    assert "X-B" not in md
    with pytest.raises(KeyError):
        md["X-B"]
    md.set("Peer-Address", b"127.0.0.1")
    assert md.get("peer-address") == b"127.0.0.1"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=255),
    st.binary(max_size=300),
), max_size=6, unique_by=lambda item: item[0].lower()))
def test_properties_round_trip(properties):
    encoded = encode_properties(properties)
    assert decode_properties(encoded).items() == properties
    # Any strict prefix is truncated (unless it ends exactly at a property boundary).
    boundaries = {0}
    pos = 0
    for name, value in properties:
        pos += 1 + len(name) + 4 + len(value)
        boundaries.add(pos)
    for cut in range(len(encoded)):
        if cut in boundaries:
            continue
        with pytest.raises(ZmtpError) as info:
            decode_properties(encoded[:cut])
        assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA


@pytest.mark.parametrize("name", ["", "x" * 256])
def test_encode_properties_rejects_bad_names(name):
    with pytest.raises(ValueError):
        encode_properties([(name, b"v")])


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\x00\x00",  # zero-length name
    b"\x0bSocket-Typ",  # name cut short
    b"\x0bSocket-Type\x00\x00",  # value length cut short
    b"\x0bSocket-Type\x00\x00\x00\x10PUSH",  # value shorter than announced
    b"\x01X\x80\x00\x00\x00",  # value length above 2**31 - 1
    b"\x01X\xff\xff\xff\xff",
    b"\x02\xc3\xa9\x00\x00\x00\x00",  # non-ASCII name
])
def test_decode_properties_rejects(data):
    with pytest.raises(ZmtpError) as info:
        decode_properties(data)
    assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA


@pytest.mark.parametrize("body", [
    b"\x0bSocket-Type\x00\x00\x00\x10PUSH",
    b"\x0bSocket-Type\x00\x00\x00\x04PUSH\x05",
    b"\x00",
])
def test_truncated_ready_metadata_fails_handshake(body):
    conn = after_greeting()
    with pytest.raises(ZmtpError) as info:
        conn.receive(encode_command(b"READY", body))
    assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA
    assert conn.state != READY


def test_missing_socket_type():
    conn = after_greeting()
    with pytest.raises(ZmtpError) as info:
        conn.receive(ready(("Identity", b"")))
    assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA
    assert conn.state != READY
    ((name, data),) = parse_commands(conn.data_to_send())
    assert name == b"ERROR"


@pytest.mark.parametrize("ours, theirs", [
    (b"PULL", b"PULL"), (b"PULL", b"PUB"), (b"PUSH", b"PUSH"), (b"PAIR", b"DEALER"),
    (b"REQ", b"REQ"), (b"SUB", b"SUB"), (b"PULL", b"BOGUS"), (b"PULL", b""),
])
def test_incompatible_socket_type_queues_error(ours, theirs):
    conn = after_greeting(ours)
    with pytest.raises(ZmtpError) as info:
        conn.receive(ready(("Socket-Type", theirs)))
    assert not isinstance(info.value, ZmtpPeerError)
    assert info.value.code == ProtocolError.ZMTP_INVALID_METADATA
    assert conn.state != READY
    # The ERROR command was queued before the exception: checklist 21 format.
    out = conn.data_to_send()
    assert out[0] == 0x04
    assert out[1] == len(out) - 2
    assert out[2:8] == b"\x05ERROR"
    assert out[8] == len(out) - 9
    reason = out[9:]
    assert 0 < len(reason) <= 255
    assert all(32 <= c < 127 for c in reason)


@pytest.mark.parametrize("ours, theirs", [
    (b"PULL", b"PUSH"), (b"PUSH", b"PULL"), (b"PAIR", b"PAIR"), (b"REQ", b"ROUTER"), (b"REP", b"DEALER"),
    (b"DEALER", b"DEALER"), (b"ROUTER", b"REQ"), (b"PUB", b"XSUB"), (b"SUB", b"XPUB"), (b"PULL", b"push"),
])
def test_compatible_socket_types(ours, theirs):
    established(ours, theirs)


def test_fail_truncates_reason_to_255():
    conn = ZmtpConnection(b"PUSH")
    conn.data_to_send()
    with pytest.raises(ZmtpError):
        conn.fail("x" * 1000)
    ((name, data),) = parse_commands(conn.data_to_send())
    assert name == b"ERROR"
    assert data == b"\xff" + b"x" * 255


# -- handshake sequencing ------------------------------------------------------------


def cross_greetings(left, right):
    """Two connections exchange their greetings stage by stage (signature, major version,
    the rest), each stage crossing the other's, as between two libzmq peers (checklist 4)."""
    for stage in (NULL_GREETING[:10], NULL_GREETING[10:11], NULL_GREETING[11:]):
        left_out, right_out = left.data_to_send(), right.data_to_send()
        assert left_out[:len(stage)] == right_out[:len(stage)] == stage
        assert right.receive(left_out) == []
        assert left.receive(right_out) == []


def test_full_handshake_between_two_connections():
    push = ZmtpConnection(b"PUSH")
    pull = ZmtpConnection(b"PULL")
    cross_greetings(push, pull)
    assert push.state == pull.state == HANDSHAKE
    assert pull.receive(push.data_to_send()) == []
    assert push.receive(pull.data_to_send()) == []
    assert push.state == pull.state == READY
    assert push.peer_metadata.get("Socket-Type") == b"PULL"
    assert pull.peer_metadata.get("Socket-Type") == b"PUSH"
    assert push.peer_minor == pull.peer_minor == 1
    assert push.data_to_send() == pull.data_to_send() == b""


def test_everything_in_one_chunk_with_messages():
    conn = ZmtpConnection(b"PULL")
    conn.data_to_send()
    data = NULL_GREETING + ready(("Socket-Type", b"PUSH")) + wire([[b"one"], [b"two", b"three"], [b""]])
    assert as_bytes(conn.receive(data)) == [[b"one"], [b"two", b"three"], [b""]]
    assert conn.state == READY


def test_messages_in_same_chunk_as_ready():
    conn = after_greeting()
    big = random.Random(1).randbytes(70000)
    data = ready(("Socket-Type", b"PUSH")) + wire([[b"a"], [big], [b"x", b"y"]])
    assert as_bytes(conn.receive(data)) == [[b"a"], [big], [b"x", b"y"]]


def test_commands_in_same_chunk_as_ready_are_processed():
    conn = after_greeting()
    data = (ready(("Socket-Type", b"PUSH")) + encode_command(b"PING", b"\x00\x05ctx")
            + wire([[b"m"]]) + encode_command(b"SUBSCRIBE", b"A"))
    assert as_bytes(conn.receive(data)) == [[b"m"]]
    assert conn.take_events() == [Ping(5), Subscription(True, b"A")]
    assert parse_commands(conn.data_to_send()) == [(b"PONG", b"ctx")]


def test_partial_large_frame_after_ready_through_reused_buffer():
    conn = after_greeting()
    big = random.Random(2).randbytes(200000)
    data = ready(("Socket-Type", b"PUSH")) + wire([[b"head", big]])
    reused = ReusedBuffer()
    assert conn.receive(data[:5000]) == []
    assert conn.state == READY
    remaining = data[5000:]
    assert conn.bytes_expected() == len(remaining)
    assert reused.feed(conn.receive, remaining[:100000]) == []
    assert conn.bytes_expected() == len(remaining) - 100000
    got = reused.feed(conn.receive, remaining[100000:])
    assert as_bytes(got) == [[b"head", big]]
    assert all(type(frame) is bytes for frame in got[0])
    assert conn.bytes_expected() == 0


def test_large_ready_split_through_reused_buffer():
    # A READY with a long metadata value, completed from the engine's reused buffer during
    # the handshake; the buffer is overwritten right after, the metadata must not change.
    conn = after_greeting()
    value = random.Random(3).randbytes(100000)
    data = ready(("Socket-Type", b"PUSH"), ("X-Big", value)) + wire([[b"after"]])
    assert conn.receive(data[:1000]) == []
    assert conn.state == HANDSHAKE
    count = conn.bytes_expected()
    assert count >= ENGINE_LARGE_BODY
    reused = ReusedBuffer()
    assert reused.feed(conn.receive, data[1000:1000 + count]) == []
    assert conn.state == READY
    assert conn.peer_metadata.get("x-big") == value
    assert as_bytes(conn.receive(data[1000 + count:])) == [[b"after"]]


def test_ready_and_messages_in_one_reused_buffer_chunk():
    # A chunk that completes a split READY and carries messages and commands behind it.
    conn = after_greeting()
    value = random.Random(4).randbytes(70000)
    big = random.Random(5).randbytes(80000)
    data = (ready(("Socket-Type", b"PUSH"), ("X-Big", value)) + wire([[b"a"], [big]])
            + encode_command(b"SUBSCRIBE", b"topic") + wire([[b"b", b"c"]]))
    assert conn.receive(data[:500]) == []
    reused = ReusedBuffer()
    got = reused.feed(conn.receive, data[500:])
    assert conn.state == READY
    assert conn.peer_metadata.get("x-big") == value
    assert as_bytes(got) == [[b"a"], [big], [b"b", b"c"]]
    assert conn.take_events() == [Subscription(True, b"topic")]


def test_data_message_before_handshake():
    conn = after_greeting()
    with pytest.raises(ZmtpError) as info:
        conn.receive(wire([[b"too early"]]))
    assert info.value.code == ProtocolError.ZMTP_UNEXPECTED_COMMAND
    assert conn.state != READY


def test_data_message_in_same_chunk_as_greeting():
    conn = ZmtpConnection(b"PULL")
    with pytest.raises(ZmtpError):
        conn.receive(NULL_GREETING + wire([[b"too early"]]) + ready(("Socket-Type", b"PUSH")))
    assert conn.state != READY


def test_partial_multipart_before_ready():
    conn = after_greeting()
    with pytest.raises(ZmtpError):
        conn.receive(b"\x01\x01a" + ready(("Socket-Type", b"PUSH")))


@pytest.mark.parametrize("command", [
    encode_command(b"PING", b"\x00\x00"),
    encode_command(b"SUBSCRIBE", b"A"),
    encode_command(b"HELLO", bytes(10)),
])
def test_unexpected_command_in_handshake(command):
    conn = after_greeting()
    with pytest.raises(ZmtpError) as info:
        conn.receive(command)
    assert info.value.code == ProtocolError.ZMTP_UNEXPECTED_COMMAND


def test_peer_error_during_handshake():
    conn = after_greeting()
    with pytest.raises(ZmtpPeerError) as info:
        conn.receive(encode_command(b"ERROR", b"\x03400"))
    assert info.value.reason == "400"


def test_peer_error_before_ready_in_same_chunk_as_greeting():
    conn = ZmtpConnection(b"PUSH")
    with pytest.raises(ZmtpPeerError) as info:
        conn.receive(NULL_GREETING + encode_command(b"ERROR", b"\x0bgo away now"))
    assert info.value.reason == "go away now"


def test_peer_error_after_handshake():
    conn = established()
    with pytest.raises(ZmtpPeerError) as info:
        conn.receive(wire([[b"m"]]) + encode_command(b"ERROR", b"\x04oops"))
    assert info.value.reason == "oops"


@pytest.mark.parametrize("data", [b"", b"\x05abc"])
def test_malformed_error_command(data):
    conn = after_greeting()
    with pytest.raises(ZmtpError) as info:
        conn.receive(encode_command(b"ERROR", data))
    assert not isinstance(info.value, ZmtpPeerError)
    assert info.value.code == ProtocolError.ZMTP_MALFORMED_COMMAND_ERROR


@pytest.mark.parametrize("frame", [b"\x04\x00", b"\x04\x02\x05A", b"\x04\x01\x01"])
def test_malformed_command_frame(frame):
    conn = established()
    with pytest.raises(ZmtpError):
        conn.receive(frame)


def test_malformed_command_frame_in_handshake():
    conn = after_greeting()
    with pytest.raises(ZmtpError):
        conn.receive(b"\x04\x00")


def test_reserved_flags_rejected_in_handshake_and_traffic():
    with pytest.raises(ZmtpError):
        after_greeting().receive(b"\x10\x00")
    with pytest.raises(ZmtpError):
        established().receive(b"\x80\x00")


def test_more_on_command_rejected_by_connection():
    conn = established()
    with pytest.raises(ZmtpError):
        conn.receive(b"\x05\x06\x04PING\x00")


def test_command_inside_multipart_rejected_by_connection():
    conn = established()
    with pytest.raises(ZmtpError):
        conn.receive(b"\x01\x01a" + encode_command(b"PING", b"\x00\x00") + b"\x00\x01b")


def test_receive_empty_bytes_before_greeting():
    # Sans-I/O: an empty read must not break the state machine, even before any byte arrived
    # (it must not leak an IndexError from the greeting check).
    conn = ZmtpConnection(b"PULL")
    assert conn.receive(b"") == []
    assert conn.state == "GREETING"
    conn.receive(NULL_GREETING)
    assert conn.state == HANDSHAKE


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_receive_empty_bytes_is_harmless(chunk):
    # ... nor in any later state, whatever is buffered.
    conn = ZmtpConnection(b"PULL")
    data = NULL_GREETING + ready(("Socket-Type", b"PUSH")) + wire([[b"m"]])
    got = []
    for i in range(0, len(data), chunk):
        got.extend(conn.receive(data[i:i + chunk]))
        assert conn.receive(b"") == []
    assert as_bytes(got) == [[b"m"]]


# -- traffic commands ------------------------------------------------------------------


def test_ping_answered_with_pong():
    conn = established()
    assert conn.receive(encode_command(b"PING", b"\x00\x00")) == []
    assert conn.data_to_send() == b"\x04\x05\x04PONG"
    assert conn.take_events() == [Ping(0)]


def test_ping_ttl_and_context():
    conn = established()
    conn.receive(encode_command(b"PING", b"\x01\x2c" + b"0123456789abcdef"))
    assert conn.take_events() == [Ping(300)]
    assert conn.data_to_send() == b"\x04\x15\x04PONG0123456789abcdef"


def test_pong_echoes_at_most_16_bytes():
    conn = established()
    conn.receive(encode_command(b"PING", b"\x00\x0a" + b"0123456789abcdefXYZ"))
    assert parse_commands(conn.data_to_send()) == [(b"PONG", b"0123456789abcdef")]


def test_several_pings_several_pongs():
    conn = established()
    conn.receive(encode_command(b"PING", b"\x00\x00a") + encode_command(b"PING", b"\x00\x00b"))
    assert parse_commands(conn.data_to_send()) == [(b"PONG", b"a"), (b"PONG", b"b")]


@pytest.mark.parametrize("data", [b"", b"\x00"])
def test_malformed_ping(data):
    conn = established()
    with pytest.raises(ZmtpError):
        conn.receive(encode_command(b"PING", data))


def test_pongs_reported():
    conn = established()
    conn.receive(encode_command(b"PONG", b"ctx") + encode_command(b"PONG"))
    assert conn.take_events() == [Pong(), Pong()]
    assert conn.take_events() == ()  # handed out once
    assert conn.data_to_send() == b""


def test_ping_method_bytes():
    conn = established()
    conn.ping(100)
    assert conn.data_to_send() == bytes.fromhex("0407" "0450494E47" "0064")
    conn.ping(1, b"ctx")
    assert conn.data_to_send() == b"\x04\x0a\x04PING\x00\x01ctx"


def test_subscribe_and_cancel_reported():
    conn = established(b"PUB", b"SUB")
    subscribe_a = bytes.fromhex("040B09535542534352494245" "41")
    assert conn.receive(subscribe_a + encode_command(b"CANCEL", b"A") + encode_command(b"SUBSCRIBE")) == []
    assert conn.take_events() == [Subscription(True, b"A"), Subscription(False, b"A"), Subscription(True, b"")]


@pytest.mark.parametrize("command", [
    encode_command(b"JOIN", b"group"),
    encode_command(b"LEAVE", b"group"),
    encode_command(b"READY", b"\x0bSocket-Type\x00\x00\x00\x04PULL"),
    encode_command(b"HELLO"),
    encode_command(b"X-UNKNOWN", bytes(1000)),  # long command frame
    encode_command(b"", b"nameless"),
])
def test_unknown_commands_after_handshake_ignored(command):
    conn = established()
    got = conn.receive(wire([[b"before"]]) + command + wire([[b"after", b"x"]]))
    assert as_bytes(got) == [[b"before"], [b"after", b"x"]]
    assert conn.data_to_send() == b""
    assert conn.take_events() == ()
    assert conn.state == READY


def test_message_too_large_after_handshake():
    conn = established(max_message_size=1000)
    assert as_bytes(conn.receive(wire([[b"x" * 1000]]))) == [[b"x" * 1000]]
    with pytest.raises(MessageTooLarge):
        conn.receive(b"\x02" + (2**62).to_bytes(8, "big"))


def test_message_too_large_in_same_chunk_as_ready():
    conn = after_greeting(max_message_size=1000)
    with pytest.raises(MessageTooLarge):
        conn.receive(ready(("Socket-Type", b"PUSH")) + b"\x00\x01A" + b"\x03" + (2**62).to_bytes(8, "big"))


def test_message_too_large_during_handshake():
    conn = after_greeting(max_message_size=100)
    with pytest.raises(MessageTooLarge):
        conn.receive(b"\x06" + (2**62).to_bytes(8, "big"))


# -- randomised full handshake ---------------------------------------------------------


@st.composite
def frame_bodies(draw):
    kind = draw(st.sampled_from(["small", "small", "small", "empty", "long", "huge"]))
    if kind == "empty":
        return b""
    if kind == "small":
        return draw(st.binary(max_size=100))
    seed = draw(st.integers(0, 2**32))
    size = draw(st.integers(256, 3000)) if kind == "long" else draw(st.sampled_from([65536, 70001, 150000]))
    return random.Random(seed).randbytes(size)


message_lists = st.lists(st.lists(frame_bodies(), min_size=1, max_size=4), max_size=5)


def run_conversation(data, left, right, left_messages, right_messages):
    """Shuttle bytes between two connections in randomly drawn chunks and directions.

    Each side's messages are appended to its output right behind its READY, so
    that they reach the peer in the same chunk as READY whenever the drawn
    chunking allows, as libzmq does when both READYs cross.
    """
    sides = {"L": left, "R": right}
    to_send = {"L": left_messages, "R": right_messages}
    pending = {"L": bytearray(), "R": bytearray()}
    queued = {"L": False, "R": False}
    received = {"L": [], "R": []}
    use_engine_path = data.draw(st.booleans(), label="use_engine_path")
    buffers = {"L": ReusedBuffer(), "R": ReusedBuffer()}
    for _ in range(100000):
        for name, conn in sides.items():
            pending[name] += conn.data_to_send()
            if not queued[name] and conn.state in (HANDSHAKE, READY):
                out = []
                conn.encode_messages(to_send[name], out)
                pending[name] += b"".join(bytes(c) for c in out)
                queued[name] = True
        ready_to_go = [name for name in sides if pending[name]]
        if not ready_to_go:
            break
        sender = data.draw(st.sampled_from(ready_to_go), label="sender")
        receiver = "R" if sender == "L" else "L"
        conn = sides[receiver]
        available = len(pending[sender])
        missing = conn.bytes_expected()
        if use_engine_path and missing >= ENGINE_LARGE_BODY:
            # The engine reads exactly what the frame misses (at most ENGINE_BODY_MAX) into
            # its reused buffer; also try fewer bytes, and more (the frame plus what follows).
            mode = data.draw(st.sampled_from(["exact", "fewer", "more"]), label="mode")
            size = min(missing, ENGINE_BODY_MAX, available)
            if mode == "fewer":
                size = data.draw(st.integers(1, size), label="fewer")
            elif mode == "more" and available > size:
                size = data.draw(st.integers(size, available), label="more")
            chunk = bytes(pending[sender][:size])
            del pending[sender][:size]
            got = buffers[receiver].feed(conn.receive, chunk)
            for msg in got:
                assert all(type(frame) is bytes for frame in ([msg] if type(msg) is bytes else msg))
            received[receiver].extend(got)
        else:
            size = data.draw(st.integers(1, available), label="chunk")
            chunk = bytes(pending[sender][:size])
            del pending[sender][:size]
            received[receiver].extend(conn.receive(chunk))
    else:
        raise AssertionError("conversation did not settle")
    return received["L"], received["R"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), message_lists, message_lists, st.sampled_from([b"right", random.Random(6).randbytes(70000)]))
def test_random_chunked_handshake_and_traffic(data, push_messages, pull_messages, side):
    # A 70000-byte metadata value makes right's READY a large frame that can be split and
    # completed from the engine's reused buffer during the handshake.
    left = ZmtpConnection(b"DEALER", identity=b"left")
    right = ZmtpConnection(b"ROUTER", metadata=[("X-Side", side)])
    got_left, got_right = run_conversation(data, left, right, push_messages, pull_messages)
    assert left.state == right.state == READY
    assert as_bytes(got_right) == push_messages
    assert as_bytes(got_left) == pull_messages
    assert right.peer_metadata.get("Identity") == b"left"
    assert left.peer_metadata.get("x-side") == side
    assert left.idle and right.idle


def test_ready_and_messages_arrive_in_one_chunk_deterministic():
    push = ZmtpConnection(b"PUSH")
    pull = ZmtpConnection(b"PULL")
    cross_greetings(push, pull)  # both in HANDSHAKE, their READY queued
    push.receive(pull.data_to_send())  # pull's READY: push is READY
    assert push.state == READY and pull.state == HANDSHAKE
    out = []
    push.encode_messages([[b"1"], [b"2", b"3"]], out)
    chunk = push.data_to_send() + b"".join(bytes(c) for c in out)
    assert as_bytes(pull.receive(chunk)) == [[b"1"], [b"2", b"3"]]
    assert pull.state == READY

"""ZMTP 2.0 and 1.0 peers, sans-I/O: the staged greeting's version detection, the downgrade to a
LegacyConnection, and the 1.0 and 2.0 codecs.

The byte strings are written from rfc15-zmtp-2.0.md ("Formal Grammar", "Backwards
Interoperability"), rfc13-zmtp-1.0.md ("The Framing Layer", "The Connection Layer") and
rfc37-zmtp-3.1.md ("Detecting ZMTP 1.0 and 2.0 Peers"); where libzmq decides something the
RFCs leave open (revision 0, revision 2, refusing old peers under ZAP), the test says so.
"""

import pytest
from hypothesis import given, settings, strategies as st

from greenmq.zmtp import (
    DOWNGRADED,
    HANDSHAKE,
    READY,
    LegacyConnection,
    MessageTooLarge,
    Subscription,
    ZmtpConnection,
    ZmtpError,
    ZmtpVersionError,
    encode_messages,
)
from greenmq.zmtp.framing_v1 import FrameDecoder1, encode_message, transcode
from greenmq.zmtp.framing_v1 import encode_messages as encode_v1
from greenmq.zmtp.greeting import UNVERSIONED, peer_revision
from greenmq.zmtp.security import SecurityConfig

from zmtp_support import ReusedBuffer, as_bytes

SIGNATURE = b"\xff" + (1).to_bytes(8, "big") + b"\x7f"  # greenmq's, with an empty identity
# A ZMTP 2.0 peer's greeting (rfc15): signature (its padding is zeros there), revision 01, socket type.
ZMTP2_PUSH = b"\xff" + bytes(8) + b"\x7f" + b"\x01" + b"\x08"
# rfc15 "identity = final-short body"
ANONYMOUS_2 = b"\x00\x00"
# rfc13 "anonymous = %x01 idflags": length 1 (it counts the flags byte), flags 0.
ANONYMOUS_1 = b"\x01\x00"


def downgraded(conn, peer_bytes):
    """Feed ``peer_bytes`` to a fresh 3.x connection; return the LegacyConnection it handed over to
    (with what the 3.x connection sent meanwhile), and the messages that came out."""
    sent = conn.data_to_send()
    messages = conn.receive(peer_bytes)
    assert conn.state == DOWNGRADED
    legacy = conn.downgraded
    assert isinstance(legacy, LegacyConnection)
    return legacy, sent + conn.data_to_send() + legacy.data_to_send(), messages


# -- reading the peer's first bytes ---------------------------------------------


@pytest.mark.parametrize("data, revision", [
    (b"", None),
    (b"\xff", None),
    (b"\xff" + bytes(8), None),
    (b"\xff" + bytes(8) + b"\x7f", None),  # a versioned signature; the revision is still to come
    (b"\xff" + bytes(8) + b"\x7f\x01", 1),
    (b"\xff" + bytes(8) + b"\x7f\x00", 0),
    (b"\xff" + bytes(8) + b"\x7f\x03", 3),
    (b"\x00", UNVERSIONED),  # a 1.0 frame length byte
    (b"\x05\x00abcd", UNVERSIONED),
    (b"\xfe", UNVERSIONED),
    (b"\xff" + (300).to_bytes(8, "big") + b"\x00", UNVERSIONED),  # 1.0 long length, flags bit 0 clear
])
def test_peer_revision(data, revision):
    assert peer_revision(data) == revision


# -- ZMTP 1.0 peers (no revision at all) --------------------------------------


@pytest.mark.parametrize("first", [0x01, 0x05, 0x7F, 0xFE])
def test_zmtp10_peer_detected_from_first_byte(first):
    # rfc37: "If this first octet is not %FF, then the other peer is using ZMTP 1.0".
    conn = ZmtpConnection(b"PUSH")
    legacy, sent, messages = downgraded(conn, bytes((first,)))
    assert messages == [] and legacy.state == HANDSHAKE
    # Nothing after the signature: it was the header of our (empty) identity frame.
    assert sent == SIGNATURE


def test_zmtp10_peer_gets_the_body_of_our_identity_frame():
    # Our signature "FF <identity length + 1> 7F" is a 1.0 long-length identity frame header
    # (flags 7F, never validated: rfc13); its body, the identity itself, follows.
    conn = ZmtpConnection(b"DEALER", identity=b"me")
    legacy, sent, _ = downgraded(conn, ANONYMOUS_1)
    assert sent == b"\xff" + (3).to_bytes(8, "big") + b"\x7f" + b"me"
    assert legacy.state == READY
    assert legacy.peer_metadata.get("Identity") == b""


def test_zmtp10_peer_with_long_identity_length_detected_at_byte_9():
    # FF + 8-byte length + flags whose bit 0 is clear: a 1.0 long frame, not a signature.
    data = b"\xff" + (4).to_bytes(8, "big") + b"\x00" + b"abc" + b"\x03\x00hi"
    conn = ZmtpConnection(b"PULL")
    assert conn.data_to_send() == SIGNATURE
    for i in range(9):
        assert conn.receive(data[i:i + 1]) == []
        assert conn.data_to_send() == b""  # no major version: the peer may be a 1.0 peer
    assert conn.receive(data[9:10]) == []
    legacy = conn.downgraded
    assert legacy.data_to_send() == b""  # our empty identity's body
    assert legacy.receive(data[10:12]) == []
    assert as_bytes(legacy.receive(data[12:])) == [[b"hi"]]
    assert legacy.peer_metadata.get("Identity") == b"abc"


def test_zmtp10_identity_and_messages_in_one_chunk():
    conn = ZmtpConnection(b"PULL")
    data = b"\x04\x00bob" + b"\x02\x01a" + b"\x02\x00b" + b"\x06\x00hello"
    legacy, _, messages = downgraded(conn, data)
    assert as_bytes(messages) == [[b"a", b"b"], [b"hello"]]
    assert legacy.peer_metadata.get("Identity") == b"bob"
    assert legacy.idle


@pytest.mark.parametrize("socket_type", [b"PUB", b"XPUB"])
def test_zmtp10_subscriber_is_subscribed_to_everything(socket_type):
    # A 1.0 subscriber sends no subscriptions (it filtered itself): libzmq's PUB subscribes it to all.
    conn = ZmtpConnection(socket_type)
    legacy, _, _ = downgraded(conn, ANONYMOUS_1)
    assert legacy.take_events() == [Subscription(True, b"")]
    assert legacy.take_events() == ()


@pytest.mark.parametrize("data", [ZMTP2_PUSH + ANONYMOUS_2, b"\xff" + bytes(8) + b"\x7f\x00\x02" + ANONYMOUS_1])
def test_versioned_old_subscribers_are_not_subscribed_implicitly(data):
    # libzmq does that only for unversioned peers: a 2.0 SUB sends its subscriptions.
    conn = ZmtpConnection(b"PUB")
    legacy, _, _ = downgraded(conn, data)
    assert legacy.state == READY
    assert legacy.take_events() == ()


def test_zmtp10_publisher_to_a_sub_gets_no_implicit_subscription():
    legacy, _, _ = downgraded(ZmtpConnection(b"SUB"), ANONYMOUS_1)
    assert legacy.take_events() == ()


# -- ZMTP 2.0 peers -------------------------------------------------------------


@pytest.mark.parametrize("socket_type, number", [
    (b"PAIR", 0), (b"PUB", 1), (b"SUB", 2), (b"REQ", 3), (b"REP", 4), (b"DEALER", 5), (b"ROUTER", 6),
    (b"PULL", 7), (b"PUSH", 8), (b"XPUB", 9), (b"XSUB", 10),  # libzmq sends its own type numbers
])
def test_zmtp20_greeting_from_us(socket_type, number):
    conn = ZmtpConnection(socket_type, identity=b"abc")
    assert conn.data_to_send() == b"\xff" + (4).to_bytes(8, "big") + b"\x7f"
    assert conn.receive(ZMTP2_PUSH[:10]) == []
    assert conn.data_to_send() == b"\x03"  # our revision, after the peer's signature (libzmq sends 3)
    assert conn.receive(ZMTP2_PUSH[10:11]) == []
    assert conn.state == DOWNGRADED
    # After the peer's revision: our socket type, then our identity as a final short frame.
    assert conn.downgraded.data_to_send() == bytes((number,)) + b"\x00\x03abc"


def test_zmtp20_greeting_in_one_chunk():
    conn = ZmtpConnection(b"PULL")
    legacy, sent, messages = downgraded(conn, ZMTP2_PUSH + b"\x00\x02id" + b"\x00\x03msg")
    assert sent == SIGNATURE + b"\x03" + b"\x07" + ANONYMOUS_2
    assert as_bytes(messages) == [[b"msg"]]
    assert legacy.state == READY and legacy.revision == 1
    assert legacy.peer_metadata.get("Identity") == b"id"
    assert legacy.peer_socket_type == 8


def test_zmtp20_peer_byte_by_byte():
    data = ZMTP2_PUSH + b"\x00\x05alice" + b"\x01\x01a" + b"\x03" + (300).to_bytes(8, "big") + b"L" * 300
    conn = ZmtpConnection(b"PULL")
    conn.data_to_send()
    received = []
    for i in range(len(data)):
        target = conn.downgraded or conn
        received.extend(target.receive(data[i:i + 1]))
    legacy = conn.downgraded
    assert legacy.state == READY
    assert legacy.peer_metadata.get("Identity") == b"alice"
    assert received == []
    assert as_bytes(legacy.receive(b"\x00\x01b")) == [[b"a", b"L" * 300, b"b"]]


def test_zmtp20_identity_in_a_long_frame_is_accepted():
    # rfc15 has the identity in a final-short frame; libzmq decodes it with its 2.0 decoder, long form too.
    legacy, _, _ = downgraded(ZmtpConnection(b"ROUTER"), ZMTP2_PUSH + b"\x02" + (2).to_bytes(8, "big") + b"id")
    assert legacy.peer_metadata.get("Identity") == b"id"


def test_revision_0_is_zmtp10_framing_behind_a_versioned_greeting():
    # libzmq (ZMTP_1_0 = 0): the 2.0 greeting's socket type, then 1.0 frames, the identity first.
    conn = ZmtpConnection(b"DEALER", identity=b"me")
    legacy, sent, messages = downgraded(conn, b"\xff" + bytes(8) + b"\x7f\x00\x05" + b"\x03\x00id" + b"\x02\x00x")
    assert sent == b"\xff" + (3).to_bytes(8, "big") + b"\x7f" + b"\x03" + b"\x05" + b"\x03\x00me"
    assert as_bytes(messages) == [[b"x"]]
    assert legacy.peer_metadata.get("Identity") == b"id"


def test_revision_2_is_zmtp3_as_libzmq_reads_it():
    # rfc37 calls revisions 1 and 2 ZMTP 2.0; libzmq takes anything but 0 and 1 for 3.x.
    conn = ZmtpConnection(b"PUSH")
    conn.data_to_send()
    conn.receive(b"\xff" + bytes(8) + b"\x7f\x02")
    assert conn.state == "GREETING" and conn.downgraded is None
    assert conn.data_to_send()[1:] == b"\x01NULL" + bytes(16) + bytes(32)


def test_no_socket_type_check_for_zmtp20_peers():
    # libzmq checks nothing: a PULL takes a peer announcing PULL (07), or an unknown type.
    for number in (7, 200):
        legacy, _, messages = downgraded(ZmtpConnection(b"PULL"), ZMTP2_PUSH[:10] + bytes((1, number)) + b"\x00\x00")
        assert legacy.state == READY and legacy.peer_socket_type == number


def test_frame_with_command_bit_from_zmtp20_peer_is_dropped():
    # Bit 2 is reserved in 2.0; libzmq's session drops such a frame as a command.
    legacy, _, _ = downgraded(ZmtpConnection(b"PULL"), ZMTP2_PUSH + ANONYMOUS_2)
    assert as_bytes(legacy.receive(b"\x04\x05\x04PING" + b"\x00\x02ok")) == [[b"ok"]]
    assert legacy.take_events() == () and legacy.data_to_send() == b""


def test_downgraded_connection_forwards_what_it_receives():
    conn = ZmtpConnection(b"PULL")
    conn.data_to_send()
    conn.receive(ZMTP2_PUSH)
    assert conn.receive(b"\x00\x00") == []
    assert as_bytes(conn.receive(b"\x00\x01z")) == [[b"z"]]
    assert conn.downgraded.state == READY


# -- identities ------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    ZMTP2_PUSH + b"\x00\x00",
    ANONYMOUS_1,
])
def test_anonymous_peer_has_an_empty_identity(data):
    legacy, _, _ = downgraded(ZmtpConnection(b"ROUTER"), data)
    assert legacy.peer_metadata.get("Identity") == b""


@pytest.mark.parametrize("data", [
    ZMTP2_PUSH + b"\x02" + (256).to_bytes(8, "big"),
    b"\xff" + (257).to_bytes(8, "big") + b"\x00",  # 1.0: 256 bytes of identity after the flags
])
def test_identity_over_255_bytes_is_refused(data):
    conn = ZmtpConnection(b"ROUTER")
    conn.data_to_send()
    with pytest.raises(ZmtpError):
        conn.receive(data)


def test_identity_over_maxmsgsize_is_refused():
    conn = ZmtpConnection(b"ROUTER", max_message_size=3)
    conn.data_to_send()
    with pytest.raises(MessageTooLarge):
        conn.receive(ZMTP2_PUSH + b"\x00\x04abcd")


def test_zmtp10_identity_frame_of_length_0_is_refused():
    conn = ZmtpConnection(b"ROUTER")
    conn.data_to_send()
    with pytest.raises(ZmtpError):
        conn.receive(b"\x00\x00")


def test_identity_with_more_flag_is_taken_as_it_is():
    # rfc13: the identity's flags "SHALL not be validated".
    legacy, _, messages = downgraded(ZmtpConnection(b"ROUTER"), b"\x03\x01id" + b"\x02\x00x")
    assert legacy.peer_metadata.get("Identity") == b"id"
    assert as_bytes(messages) == [[b"x"]]


# -- who refuses old peers ---------------------------------------------------------


REFUSING = {
    "plain-server": SecurityConfig(b"PLAIN", True),
    "plain-client": SecurityConfig(b"PLAIN", False, username=b"u", password=b"p"),
    "null-with-zap-domain": SecurityConfig(zap_domain=b"global"),
}


@pytest.mark.parametrize("security", REFUSING.values(), ids=REFUSING)
@pytest.mark.parametrize("data", [ZMTP2_PUSH, ANONYMOUS_1, b"\xff" + bytes(8) + b"\x7f\x00"],
                         ids=["2.0", "1.0", "revision-0"])
def test_old_peers_refused_while_zap_is_on(security, data):
    # libzmq: session_base_t::zap_enabled() -- a mechanism other than NULL, or a ZAP domain.
    conn = ZmtpConnection(b"PULL", security=security)
    conn.data_to_send()
    with pytest.raises(ZmtpVersionError):
        conn.receive(data)
    assert conn.downgraded is None


@pytest.mark.curve
def test_old_peers_refused_by_curve():
    from security_support import curve_server

    conn = curve_server()
    conn.data_to_send()
    with pytest.raises(ZmtpVersionError):
        conn.receive(ZMTP2_PUSH)


@pytest.mark.parametrize("socket_type", [b"SERVER", b"CLIENT", b"RADIO", b"DISH", b"GATHER", b"SCATTER", b"PEER",
                                         b"CHANNEL"])
def test_types_newer_than_zmtp20_refuse_old_peers(socket_type):
    conn = ZmtpConnection(socket_type)
    conn.data_to_send()
    with pytest.raises(ZmtpVersionError):
        conn.receive(ZMTP2_PUSH)


def test_only_3x_connections_have_a_mechanism():
    legacy, _, _ = downgraded(ZmtpConnection(b"PULL"), ANONYMOUS_1)
    assert legacy.legacy and not ZmtpConnection(b"PULL").legacy
    assert legacy.zap_request is None


# -- sending to old peers -------------------------------------------------------------


def established(socket_type, data):
    legacy, _, _ = downgraded(ZmtpConnection(socket_type), data)
    assert legacy.state == READY
    return legacy


def wire(conn, messages):
    out = []
    total, large = conn.encode_messages(messages, out)
    data = b"".join(bytes(chunk) for chunk in out)
    assert total == len(data)
    return data


def test_zmtp20_framing():
    # rfc15: more-short 01, final-short 00, more-long 03 and final-long 02 with 8 size octets.
    conn = established(b"PUSH", ZMTP2_PUSH[:11] + b"\x07" + ANONYMOUS_2)
    long_body = b"L" * 256
    assert wire(conn, [[b"a", b"bc"], b"", [long_body, long_body]]) == (
        b"\x01\x01a\x00\x02bc" + b"\x00\x00" + b"\x03" + (256).to_bytes(8, "big") + long_body
        + b"\x02" + (256).to_bytes(8, "big") + long_body)
    assert conn.encode_message(b"x") == b"\x00\x01x"


def test_zmtp10_framing():
    # rfc13: length (counting the flags byte) before the flags; FF + 8 octets from 255 on.
    conn = established(b"PUSH", ANONYMOUS_1)
    assert wire(conn, [[b"a", b"bc"], b""]) == b"\x02\x01a\x03\x00bc" + b"\x01\x00"
    assert wire(conn, [b"x" * 253]) == b"\xfe\x00" + b"x" * 253  # length 254: the last short one
    assert wire(conn, [b"x" * 254]) == b"\xff" + (255).to_bytes(8, "big") + b"\x00" + b"x" * 254
    assert wire(conn, [[b"y" * 300, b"z"]]) == b"\xff" + (301).to_bytes(8, "big") + b"\x01" + b"y" * 300 + b"\x02\x00z"
    assert conn.encode_message([b"p", b"q"]) == b"\x02\x01p\x02\x00q"


@pytest.mark.parametrize("data, expected", [
    (ZMTP2_PUSH[:11] + b"\x01" + ANONYMOUS_2, b"\x00\x02\x01A" + b"\x00\x02\x00A"),  # a 2.0 PUB
    (ANONYMOUS_1, b"\x03\x00\x01A" + b"\x03\x00\x00A"),  # a 1.0 PUB
], ids=["2.0", "1.0"])
def test_subscriptions_go_to_old_publishers_as_messages(data, expected):
    # rfc15 "Publish-Subscribe": %x01 + topic to subscribe, %x00 + topic to cancel.
    conn = established(b"SUB", data)
    assert wire(conn, [Subscription(True, b"A"), Subscription(False, b"A")]) == expected


def test_publisher_wire_bytes_are_rewritten_for_zmtp10_only():
    messages = [b"short", [b"topic", b"x" * 300]]
    encoded = []
    for msg in messages:
        out = []
        encode_messages([msg], out)
        encoded.append(b"".join(bytes(c) for c in out))
    v2 = established(b"PUB", ZMTP2_PUSH[:11] + b"\x02" + ANONYMOUS_2)
    v1 = established(b"PUB", ANONYMOUS_1)
    assert v2.join_encoded(encoded) == b"".join(encoded)  # 2.0 data frames are 3.x data frames
    assert v1.join_encoded(encoded) == wire(v1, messages)
    assert ZmtpConnection.join_encoded(encoded) == b"".join(encoded)


def test_legacy_connection_sends_no_ping_and_has_no_commands():
    conn = established(b"PULL", ZMTP2_PUSH + ANONYMOUS_2)
    assert not hasattr(conn, "ping")
    assert conn.data_to_send() == b"" and not conn.has_output


# -- the ZMTP 1.0 decoder ----------------------------------------------------------------


def test_v1_decoder_rfc13_examples():
    decoder = FrameDecoder1()
    data = (b"\x01\x00"  # an empty final frame
            + b"\x02\x01a" + b"\x02\x00b"  # a two-frame message
            + b"\xff" + (301).to_bytes(8, "big") + b"\x00" + b"c" * 300  # a long frame
            + b"\xff" + (2).to_bytes(8, "big") + b"\x00" + b"d")  # long form for a short frame (rfc13: MAY)
    assert as_bytes(decoder.feed(data)) == [[b""], [b"a", b"b"], [b"c" * 300], [b"d"]]
    assert decoder.idle and decoder.commands == []


def test_v1_decoder_ignores_reserved_flag_bits():
    # rfc13: bits 1-7 "SHOULD be zero"; libzmq keeps only MORE.
    assert as_bytes(FrameDecoder1().feed(b"\x02\xfeA" + b"\x02\x7fB" + b"\x02\x80C")) == [[b"A"], [b"B", b"C"]]


def test_v1_decoder_length_0_is_an_error():
    with pytest.raises(ZmtpError):
        FrameDecoder1().feed(b"\x00\x00")
    with pytest.raises(ZmtpError):
        FrameDecoder1().feed(b"\xff" + bytes(8) + b"\x00")


def test_v1_decoder_maxmsgsize_from_the_header():
    decoder = FrameDecoder1(max_size=10)
    assert as_bytes(decoder.feed(b"\x0b\x00" + b"k" * 10)) == [[b"k" * 10]]
    with pytest.raises(MessageTooLarge):
        decoder.feed(b"\xff" + (2**62).to_bytes(8, "big"))


def test_v1_decoder_huge_length_is_refused_without_limit():
    with pytest.raises(MessageTooLarge):
        FrameDecoder1().feed(b"\xff" + (2**63).to_bytes(8, "big") + b"\x00")


def test_v1_decoder_large_body_through_a_reused_buffer():
    body = bytes(range(256)) * 400
    data = b"\xff" + (len(body) + 1).to_bytes(8, "big") + b"\x01" + body + b"\x02\x00e"
    decoder = FrameDecoder1()
    buffer = ReusedBuffer()
    assert buffer.feed(decoder.feed, data[:1000]) == []
    assert decoder.body_remaining() == len(body) - 990
    got = []
    pos = 1000
    while pos < len(data):
        step = decoder.body_remaining() or 7
        got.extend(buffer.feed(decoder.feed, data[pos:pos + step]))
        pos += step
    assert as_bytes(got) == [[body, b"e"]]
    assert decoder.body_remaining() == 0 and decoder.idle


message_lists = st.lists(st.lists(st.binary(max_size=300), min_size=1, max_size=3), max_size=6)


@settings(max_examples=100, deadline=None)
@given(message_lists, st.lists(st.integers(1, 400), max_size=30))
def test_v1_round_trip_cut_anywhere(messages, cuts):
    out = []
    encode_v1(messages, out)
    data = b"".join(out)
    decoder = FrameDecoder1()
    got = []
    pos = 0
    for cut in cuts:
        got.extend(decoder.feed(data[pos:pos + cut]))
        pos += cut
    got.extend(decoder.feed(data[pos:]))
    assert as_bytes(got) == messages
    assert decoder.idle


def test_v1_subscription_message():
    assert encode_message(b"m") == b"\x02\x00m"
    out = []
    encode_v1([Subscription(True, b"")], out)
    assert b"".join(out) == b"\x02\x00\x01"


def test_transcode_joins_a_batch():
    out = []
    encode_messages([[b"a", b"b"]], out)
    assert transcode([b"".join(out), b"\x00\x01c"]) == b"\x02\x01a\x02\x00b\x02\x00c"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"", ZMTP2_PUSH, ZMTP2_PUSH[:10] + b"\x00\x05", b"\xff" + bytes(8)]),
       st.binary(max_size=600), st.integers(1, 64),
       st.sampled_from([b"PULL", b"PUB", b"ROUTER", b"SUB"]))
def test_any_bytes_from_an_old_peer_fail_only_as_protocol_errors(prefix, data, cut, socket_type):
    conn = ZmtpConnection(socket_type, max_message_size=300)
    conn.data_to_send()
    stream = prefix + data
    try:
        for pos in range(0, len(stream), cut):
            target = conn.downgraded or conn
            for msg in target.receive(stream[pos:pos + cut]):
                assert all(len(frame) <= 300 for frame in ([msg] if isinstance(msg, bytes) else msg))
            target.take_events()
            target.data_to_send()
    except ZmtpError:
        pass

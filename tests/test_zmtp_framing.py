"""ZMTP 3.x framing (greenmq.zmtp.framing): byte-exact encoding, incremental decoding, hostile frames.

Wire facts come from /work/shared/specs/README.md ("Wire-protocol checklist",
bullets 11-13, 15, 23, 27) and rfc37-zmtp-3.1.md ("Framing").
"""

import bisect
import itertools
import random
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from greenmq.zmtp import framing as frames_module
from greenmq.zmtp import (
    FrameDecoder,
    MessageTooLarge,
    ZmtpError,
    encode_command,
    encode_messages,
    frame_header,
)

from zmtp_support import ENGINE_BODY_MAX, ENGINE_LARGE_BODY, ReusedBuffer, as_bytes

# -- helpers -----------------------------------------------------------------


def reference_encode(messages):
    """Independent encoder straight from the RFC 37 grammar (short form up to 255 bytes)."""
    out = bytearray()
    for msg in messages:
        for index, body in enumerate(msg):
            more = index < len(msg) - 1
            size = len(body)
            if size <= 255:
                out += bytes((0x01 if more else 0x00, size))
            else:
                out += bytes((0x03 if more else 0x02,)) + size.to_bytes(8, "big")
            out += body
    return bytes(out)


def joined(chunks):
    return b"".join(bytes(c) for c in chunks)


msgs = as_bytes


def split_at(data, cuts):
    """``data`` cut at the (sorted, deduplicated) positions ``cuts``; may contain empty chunks."""
    chunks = []
    prev = 0
    for cut in cuts:
        chunks.append(data[prev:cut])
        prev = cut
    chunks.append(data[prev:])
    return chunks


def decode_feed(decoder, chunks):
    messages = []
    for chunk in chunks:
        messages.extend(decoder.feed(chunk))
    return messages


# What greenmq/_connection/engine.py does with a split frame (StreamEngine._read_loop/_read_body): once the
# frame being collected misses at least ENGINE_LARGE_BODY bytes, it reads exactly that many (at
# most ENGINE_BODY_MAX) into one reused bytearray and feeds a memoryview of it; otherwise it
# feeds what recv() returned (see tests/zmtp_support.py).


def engine_read_size(missing, available, rng=None):
    """How many bytes the simulated engine passes through its buffer while ``missing`` bytes are due.

    Without ``rng``: what greenmq's engine reads, ``min(missing, ENGINE_BODY_MAX)``. With
    it, sometimes fewer (a chunk that leaves the frame incomplete) or more (a chunk that
    completes the frame and carries the start of what follows). Capped at ``available``.
    """
    count = min(missing, ENGINE_BODY_MAX)
    if rng is not None:
        mode = rng.choice(["exact", "exact", "fewer", "more"])
        if mode == "fewer":
            count = rng.randint(0, count - 1)
        elif mode == "more" and available > count:
            count = rng.randint(count + 1, available)
    return min(count, available)


def decode_engine(decoder, chunks, rng=None, log=None, threshold=ENGINE_LARGE_BODY):
    """Feed the stream ``chunks`` make up the way greenmq's engine does (see ENGINE_LARGE_BODY).

    While ``body_remaining()`` is at least ``threshold``, the next
    ``engine_read_size`` bytes of the stream (whatever the chunk boundaries) go
    through ONE :class:`ReusedBuffer`; otherwise the rest of the current chunk
    is fed as ``bytes``, as ``recv`` would return it. ``log`` collects
    ``("view" | "bytes", size)`` for every feed.
    """
    wire = b"".join(bytes(c) for c in chunks)
    ends = list(itertools.accumulate(len(c) for c in chunks))
    reused = ReusedBuffer()
    messages = []
    pos = 0
    while pos < len(wire):
        missing = decoder.body_remaining()
        if missing >= threshold:
            count = engine_read_size(missing, len(wire) - pos, rng)
            messages.extend(reused.feed(decoder.feed, wire[pos:pos + count]))
            kind = "view"
        else:
            count = ends[bisect.bisect_right(ends, pos)] - pos
            messages.extend(decoder.feed(wire[pos:pos + count]))
            kind = "bytes"
        if log is not None:
            log.append((kind, count))
        pos += count
    return messages


def assert_all_bytes(messages):
    """Every delivered frame is a ``bytes`` object (never a view of the caller's buffer)."""
    for msg in messages:
        for frame in [msg] if type(msg) is bytes else msg:
            assert type(frame) is bytes, type(frame)


def payload(size, seed):
    return random.Random(seed).randbytes(size)


# -- frame headers -----------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 200, 255])
def test_short_frame_header(size):
    assert frame_header(size) == bytes((0x00, size))
    assert frame_header(size, more=True) == bytes((0x01, size))
    assert frame_header(size, command=True) == bytes((0x04, size))


@pytest.mark.parametrize("size", [256, 257, 65535, 65536, 2**32, 2**63 - 1])
def test_long_frame_header(size):
    assert frame_header(size) == b"\x02" + size.to_bytes(8, "big")
    assert frame_header(size, more=True) == b"\x03" + size.to_bytes(8, "big")
    assert frame_header(size, command=True) == b"\x06" + size.to_bytes(8, "big")


def test_short_long_boundary_is_255_256():
    assert frame_header(255) == b"\x00\xff"
    assert frame_header(256) == b"\x02\x00\x00\x00\x00\x00\x00\x01\x00"


def test_encode_command_layout():
    # 1-byte name length, name, data: no NUL separator, no space padding (checklist 15).
    assert encode_command(b"READY") == b"\x04\x06\x05READY"
    assert encode_command(b"CANCEL", b"topic") == b"\x04\x0c\x06CANCELtopic"


def test_subscribe_a_command_bytes():
    # Checklist 23: subscribing to "A" is 04 0B 09 53 55 42 53 43 52 49 42 45 41.
    assert encode_command(b"SUBSCRIBE", b"A") == bytes.fromhex("040B09535542534352494245" "41")


def test_libzmq_ping_bytes():
    # Checklist 27: a libzmq PING has no context: 04 07 04 50 49 4E 47 tt tt.
    assert encode_command(b"PING", b"\x00\x64") == bytes.fromhex("0407" "0450494E47" "0064")


def test_long_command_uses_flag_0x06():
    data = bytes(300)
    wire = encode_command(b"X-BIG", data)
    body_size = 1 + 5 + 300
    assert wire[:9] == b"\x06" + body_size.to_bytes(8, "big")
    assert wire[9:] == b"\x05X-BIG" + data


# -- encode_messages -----------------------------------------------------------


def test_encode_single_short_frames():
    out = []
    total, large = encode_messages([[b""], [b"A"], [b"x" * 255]], out)
    wire = joined(out)
    assert wire == b"\x00\x00" + b"\x00\x01A" + b"\x00\xff" + b"x" * 255
    assert total == len(wire)
    assert large == 0


def test_encode_long_frame_at_256():
    out = []
    total, large = encode_messages([[b"y" * 256]], out)
    wire = joined(out)
    assert wire == b"\x02" + (256).to_bytes(8, "big") + b"y" * 256
    assert total == 9 + 256
    assert large == 0


def test_encode_multipart_more_flags():
    out = []
    encode_messages([[b"a", b"", b"c" * 300, b"d"]], out)
    assert joined(out) == (
        b"\x01\x01a" + b"\x01\x00" + b"\x03" + (300).to_bytes(8, "big") + b"c" * 300 + b"\x00\x01d"
    )


def test_encode_multipart_long_last_frame():
    out = []
    encode_messages([[b"head", b"z" * 1000]], out)
    assert joined(out) == b"\x01\x04head" + b"\x02" + (1000).to_bytes(8, "big") + b"z" * 1000


def test_encode_large_bodies_are_memoryviews():
    big1 = payload(65536, 1)
    big2 = payload(70000, 2)
    small = b"s" * 65535
    out = []
    total, large = encode_messages([[big1], [small, big2, b"end"]], out)
    assert large == 2
    views = [c for c in out if isinstance(c, memoryview)]
    assert [bytes(v) for v in views] == [big1, big2]
    assert all(isinstance(c, (memoryview, bytes)) for c in out)
    wire = joined(out)
    assert total == len(wire)
    assert wire == reference_encode([[big1], [small, big2, b"end"]])


def test_encode_appends_to_existing_list():
    out = [b"prefix"]
    total, _ = encode_messages([[b"A"]], out)
    assert out[0] == b"prefix"
    assert joined(out[1:]) == b"\x00\x01A"
    assert total == 3


frame_strategy = st.one_of(
    st.binary(max_size=40),
    st.integers(240, 600).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(frame_strategy, min_size=1, max_size=5), max_size=6))
def test_encode_matches_reference(messages):
    out = []
    total, large = encode_messages(messages, out)
    wire = joined(out)
    assert wire == reference_encode(messages)
    assert total == len(wire)
    assert large == 0


# -- decoding: byte examples -----------------------------------------------------


def test_decode_simple_frames():
    d = FrameDecoder()
    assert msgs(d.feed(b"\x00\x00")) == [[b""]]
    assert msgs(d.feed(b"\x00\x05hello\x00\x01A")) == [[b"hello"], [b"A"]]
    assert d.commands == []
    assert d.idle


def test_decode_accepts_long_form_for_small_sizes():
    # libzmq's decoder accepts the long form for any size (checklist 13); so do we.
    d = FrameDecoder()
    assert msgs(d.feed(b"\x02" + (5).to_bytes(8, "big") + b"hello")) == [[b"hello"]]
    assert msgs(d.feed(b"\x03" + (1).to_bytes(8, "big") + b"a" + b"\x02" + bytes(8))) == [[b"a", b""]]


def test_multipart_is_held_until_last_frame():
    d = FrameDecoder()
    assert msgs(d.feed(b"\x01\x01a\x01\x01b")) == []
    assert not d.idle
    assert msgs(d.feed(b"\x00\x01c")) == [[b"a", b"b", b"c"]]
    assert d.idle


def test_decode_255_and_256_byte_frames():
    d = FrameDecoder()
    wire = b"\x00\xff" + b"a" * 255 + b"\x02" + (256).to_bytes(8, "big") + b"b" * 256
    assert msgs(d.feed(wire)) == [[b"a" * 255], [b"b" * 256]]


def test_commands_are_separated_from_messages():
    d = FrameDecoder()
    wire = encode_command(b"PING", b"\x00\x00") + b"\x00\x01A" + encode_command(b"SUBSCRIBE", b"x") + b"\x00\x01B"
    assert msgs(d.feed(wire)) == [[b"A"], [b"B"]]
    assert d.commands == [b"\x04PING\x00\x00", b"\x09SUBSCRIBEx"]


def test_long_command_frame_decoded():
    d = FrameDecoder()
    wire = encode_command(b"X", bytes(1000))
    assert msgs(d.feed(wire[:100])) == []
    assert msgs(d.feed(wire[100:])) == []
    assert d.commands == [b"\x01X" + bytes(1000)]


def test_pause_on_command_stops_after_each_command():
    d = FrameDecoder(pause_on_command=True)
    wire = encode_command(b"READY") + b"\x00\x01A" + encode_command(b"PING", b"\x00\x00") + b"\x00\x01B"
    assert msgs(d.feed(wire)) == []
    assert d.commands == [b"\x05READY"]
    d.commands.clear()
    assert msgs(d.feed(b"")) == [[b"A"]]
    assert d.commands == [b"\x04PING\x00\x00"]
    d.commands.clear()
    assert msgs(d.feed(b"")) == [[b"B"]]
    assert d.idle


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_feed_accepts_bytes_like(kind):
    d = FrameDecoder()
    wire = b"\x01\x01a" + b"\x00\x02bc"
    assert msgs(d.feed(kind(wire[:4]))) == []
    assert msgs(d.feed(kind(wire[4:]))) == [[b"a", b"bc"]]


def test_one_byte_at_a_time():
    messages = [[b"a" * 300, b""], [b"b"], [payload(1000, 3)]]
    wire = reference_encode(messages)
    d = FrameDecoder()
    got = []
    for i in range(len(wire)):
        got.extend(d.feed(wire[i:i + 1]))
    assert as_bytes(got) == messages
    assert d.idle


# -- body_remaining and the engine's reused buffer ------------------------------------


def test_body_remaining_zero_without_partial_frame():
    d = FrameDecoder()
    assert d.body_remaining() == 0
    d.feed(b"\x02\x00\x00")  # partial long header: no body yet
    assert d.body_remaining() == 0
    d.feed(b"\x00\x00\x00\x00\x00\x03ab")  # header complete, 2 of 3 body bytes
    assert d.body_remaining() == 1
    assert msgs(d.feed(b"c")) == [[b"abc"]]
    assert d.body_remaining() == 0
    assert msgs(d.feed(b"\x01\x01a")) == []  # a held multipart message is not a partial frame
    assert d.body_remaining() == 0


def test_body_remaining_counts_missing_part():
    body = payload(100000, 4)
    wire = b"\x02" + len(body).to_bytes(8, "big") + body
    d = FrameDecoder()
    reused = ReusedBuffer()
    assert msgs(d.feed(wire[:9 + 1000])) == []
    assert d.body_remaining() == len(body) - 1000
    assert msgs(reused.feed(d.feed, body[1000:6000])) == []  # leaves the frame incomplete
    assert d.body_remaining() == len(body) - 6000
    got = reused.feed(d.feed, body[6000:])  # exactly body_remaining(): completes it
    assert as_bytes(got) == [[body]]
    assert_all_bytes(got)
    assert d.body_remaining() == 0
    assert d.idle


def test_reused_buffer_chunk_then_feed_continues():
    body = payload(300, 5)
    wire = b"\x03" + (300).to_bytes(8, "big") + body + b"\x00\x03end" + b"\x00\x01z"
    d = FrameDecoder()
    reused = ReusedBuffer()
    assert msgs(d.feed(wire[:20])) == []
    assert d.body_remaining() == 300 - 11
    assert msgs(reused.feed(d.feed, body[11:])) == []  # MORE set: message not complete yet
    assert d.body_remaining() == 0
    assert msgs(d.feed(wire[9 + 300:])) == [[body, b"end"], [b"z"]]


def test_reused_buffer_chunk_completing_a_frame_may_carry_the_next_frames():
    first, second = payload(70000, 10), payload(70000, 11)
    wire = reference_encode([[first], [b"mid"], [second]])
    d = FrameDecoder()
    reused = ReusedBuffer()
    assert msgs(d.feed(wire[:500])) == []
    # Completes the first frame, holds the short one, and starts the second: split again.
    got = reused.feed(d.feed, wire[500:100000])
    assert as_bytes(got) == [[first], [b"mid"]]
    assert_all_bytes(got)
    assert d.body_remaining() == len(wire) - 100000
    got = reused.feed(d.feed, wire[100000:])
    assert as_bytes(got) == [[second]]
    assert_all_bytes(got)
    assert d.idle


@pytest.mark.parametrize("size", [300, 100000])
@pytest.mark.parametrize("received_with_header", [0, 1, 250])
@pytest.mark.parametrize("more", [False, True])
def test_frame_completed_by_a_memoryview_is_bytes_independent_of_the_buffer(size, received_with_header, more):
    # The chunk that completes a frame may be a view of a buffer the caller overwrites right
    # after feed() returns: what was delivered must be a bytes object, unaffected.
    body = payload(size, 12)
    header = frame_header(size, more=more)
    d = FrameDecoder()
    assert d.feed(header + body[:received_with_header]) == []
    assert d.body_remaining() == size - received_with_header
    buf = bytearray(body[received_with_header:] + b"\x00\x01z")
    view = memoryview(buf)[:size - received_with_header]
    got = d.feed(view)
    view.release()
    buf[:] = bytes(len(buf))  # the caller reuses its buffer
    buf += b"grown"  # and may resize it: no view of it is held any more
    if more:
        assert got == []
        got = d.feed(b"\x00\x03end")
        assert got == [[body, b"end"]]
        frame = got[0][0]
    else:
        (frame,) = got
    assert type(frame) is bytes
    assert frame == body
    assert d.idle


def test_split_command_completed_from_reused_buffer():
    command = encode_command(b"X-BIG", payload(100000, 13))
    d = FrameDecoder()
    reused = ReusedBuffer()
    assert d.feed(command[:100]) == []
    assert reused.feed(d.feed, command[100:]) == []
    assert d.commands == [command[9:]]
    assert type(d.commands[0]) is bytes


def test_small_split_bodies_come_back_as_bytes():
    d = FrameDecoder()
    d.feed(b"\x00\x0a" + b"12345")
    (msg,) = d.feed(b"67890")
    body = msg if type(msg) is bytes else msg[0]  # bare body or a one-frame list
    assert type(body) is bytes
    assert body == b"1234567890"


# -- hostile frames ----------------------------------------------------------------


@pytest.mark.parametrize("bit", [0x08, 0x10, 0x20, 0x40, 0x80])
def test_reserved_flag_bits_short(bit):
    d = FrameDecoder()
    with pytest.raises(ZmtpError):
        d.feed(bytes((bit, 5)))  # header only: rejected before the body arrives


@pytest.mark.parametrize("bit", [0x08, 0x80])
def test_reserved_flag_bits_long(bit):
    d = FrameDecoder()
    with pytest.raises(ZmtpError):
        d.feed(bytes((bit | 0x02,)) + (10).to_bytes(8, "big"))


def test_reserved_bits_after_valid_frames():
    d = FrameDecoder()
    with pytest.raises(ZmtpError):
        d.feed(b"\x00\x01A\xf8\x00")


@pytest.mark.parametrize("wire", [
    b"\x05\x06\x05READY",  # short command with MORE
    b"\x07" + (6).to_bytes(8, "big") + b"\x05READY",  # long command with MORE
])
def test_more_on_command_rejected(wire):
    with pytest.raises(ZmtpError):
        FrameDecoder().feed(wire)


def test_more_on_split_command_rejected():
    d = FrameDecoder()
    wire = b"\x05\x06\x05READY"
    with pytest.raises(ZmtpError):
        d.feed(wire[:4])
        d.feed(wire[4:])


def test_command_inside_multipart_rejected():
    d = FrameDecoder()
    with pytest.raises(ZmtpError):
        d.feed(b"\x01\x01a" + encode_command(b"PING", b"\x00\x00") + b"\x00\x01b")


def test_command_inside_multipart_rejected_across_reads():
    d = FrameDecoder()
    assert msgs(d.feed(b"\x01\x01a")) == []
    command = encode_command(b"X", bytes(500))  # long, split: checked when it completes
    with pytest.raises(ZmtpError):
        d.feed(command[:50])
        d.feed(command[50:])


def test_huge_frame_rejected_from_header_alone():
    # A 9-byte header announcing 2**62 bytes must fail at once, before any allocation
    # (allocating first would raise MemoryError/OverflowError instead).
    d = FrameDecoder(max_size=1 << 20)
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x02" + (2**62).to_bytes(8, "big"))


def test_huge_frame_rejected_exactly_at_ninth_byte():
    d = FrameDecoder(max_size=1000)
    header = b"\x02" + (2**62).to_bytes(8, "big")
    for i in range(8):
        assert msgs(d.feed(header[i:i + 1])) == []
    with pytest.raises(MessageTooLarge):
        d.feed(header[8:9])


def test_huge_frame_after_messages_in_same_chunk():
    d = FrameDecoder(max_size=1000)
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x00\x01A" + b"\x03" + (2**64 - 1).to_bytes(8, "big"))


def test_max_size_boundary():
    d = FrameDecoder(max_size=300)
    assert msgs(d.feed(reference_encode([[b"a" * 300]]))) == [[b"a" * 300]]
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x02" + (301).to_bytes(8, "big"))


def test_max_size_applies_to_short_frames():
    d = FrameDecoder(max_size=10)
    assert msgs(d.feed(b"\x00\x0a" + b"x" * 10)) == [[b"x" * 10]]
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x00\x0b")


def test_max_size_zero_allows_only_empty_frames():
    d = FrameDecoder(max_size=0)
    assert msgs(d.feed(b"\x00\x00")) == [[b""]]
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x00\x01")


def test_max_size_applies_to_commands():
    d = FrameDecoder(max_size=100)
    with pytest.raises(MessageTooLarge):
        d.feed(b"\x06" + (2**40).to_bytes(8, "big"))


def test_message_too_large_is_a_zmtp_error():
    assert issubclass(MessageTooLarge, ZmtpError)


@pytest.mark.parametrize("size", [2**62, 2**64 - 1])
def test_unallocatable_frame_without_limit_is_a_protocol_error(size):
    # With no MAXMSGSIZE a header may still announce more than can ever be allocated;
    # that must fail the connection as a ZmtpError (libzmq: ENOMEM ends the connection),
    # not leak MemoryError/OverflowError out of the protocol layer.
    d = FrameDecoder()
    with pytest.raises(ZmtpError):
        d.feed(b"\x02" + size.to_bytes(8, "big"))


def test_frame_larger_than_memory_rejected_at_the_header(monkeypatch):
    # MEMORY_LIMIT is the machine's physical memory; patched small to test its boundary.
    monkeypatch.setattr(frames_module, "MEMORY_LIMIT", 1000)
    d = FrameDecoder()
    assert d.feed(b"\x02" + (1000).to_bytes(8, "big") + b"x" * 10) == []
    assert d.body_remaining() == 990
    with pytest.raises(MessageTooLarge):
        FrameDecoder().feed(b"\x02" + (1001).to_bytes(8, "big"))


def test_unlimited_by_default():
    body = payload(200000, 6)
    d = FrameDecoder()
    assert as_bytes(d.feed(reference_encode([[body]]))) == [[body]]


# -- round trips -------------------------------------------------------------------

BIG_SIZES = [65535, 65536, 65537, 100000, 140000]


@st.composite
def frames(draw):
    kind = draw(st.sampled_from(["small", "small", "small", "empty", "medium", "big"]))
    if kind == "empty":
        return b""
    if kind == "small":
        return draw(st.binary(max_size=260))
    seed = draw(st.integers(0, 2**32))
    if kind == "medium":
        return payload(draw(st.integers(250, 5000)), seed)
    return payload(draw(st.sampled_from(BIG_SIZES)), seed)


@st.composite
def chunked_wire(draw):
    messages = draw(st.lists(st.lists(frames(), min_size=1, max_size=5), min_size=1, max_size=6))
    wire = reference_encode(messages)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(wire)), max_size=25))))
    return messages, split_at(wire, cuts)


round_trip_settings = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@round_trip_settings
@given(chunked_wire())
def test_round_trip_feed(case):
    messages, chunks = case
    out = []
    encode_messages(messages, out)
    assert joined(out) == b"".join(chunks)
    d = FrameDecoder()
    assert as_bytes(decode_feed(d, chunks)) == messages
    assert d.idle
    assert d.commands == []


@round_trip_settings
@given(chunked_wire(), st.one_of(st.none(), st.randoms(use_true_random=False)),
       st.sampled_from([ENGINE_LARGE_BODY, 1]))
def test_round_trip_engine(case, rng, threshold):
    # Large split frames come through ONE reused buffer that is overwritten after every
    # feed: exactly body_remaining() bytes as the engine reads them (rng None), or with
    # rng sometimes fewer (incomplete chunk) or more (completing chunk plus what follows).
    # threshold 1 sends every split frame through the buffer, not only large ones.
    messages, chunks = case
    d = FrameDecoder()
    got = decode_engine(d, chunks, rng, threshold=threshold)
    assert as_bytes(got) == messages
    assert_all_bytes(got)
    assert d.idle
    assert d.body_remaining() == 0


@round_trip_settings
@given(chunked_wire(), st.sampled_from([bytearray, memoryview]))
def test_round_trip_feed_bytes_like(case, kind):
    messages, chunks = case
    d = FrameDecoder()
    assert as_bytes(decode_feed(d, [kind(c) for c in chunks])) == messages


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_round_trip_with_commands_interleaved(data):
    units = data.draw(st.lists(
        st.one_of(
            st.tuples(st.just("msg"), st.lists(frames(), min_size=1, max_size=4)),
            st.tuples(st.just("cmd"), st.sampled_from([b"PING", b"PONG", b"SUBSCRIBE", b"X"]),
                      st.binary(max_size=400)),
        ),
        max_size=8,
    ))
    wire = b""
    messages, commands = [], []
    for unit in units:
        if unit[0] == "msg":
            wire += reference_encode([unit[1]])
            messages.append(unit[1])
        else:
            wire += encode_command(unit[1], unit[2])
            commands.append(bytes((len(unit[1]),)) + unit[1] + unit[2])
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(wire)), max_size=20))))
    path = data.draw(st.sampled_from(["feed", "engine"]))
    d = FrameDecoder()
    chunks = split_at(wire, cuts)
    if path == "feed":
        got = decode_feed(d, chunks)
    else:
        got = decode_engine(d, chunks, data.draw(st.randoms(use_true_random=False)),
                            threshold=data.draw(st.sampled_from([ENGINE_LARGE_BODY, 1])))
    assert as_bytes(got) == messages
    assert_all_bytes(got)
    assert d.commands == commands
    assert all(type(c) is bytes for c in d.commands)


@pytest.mark.parametrize("path", ["feed", "engine"])
def test_several_large_frames_in_small_chunks(path):
    messages = [[payload(70000, 7)], [b"", payload(300000, 8), b"tail"], [payload(65536, 9)]]
    wire = reference_encode(messages)
    chunks = [wire[i:i + 4096] for i in range(0, len(wire), 4096)]
    d = FrameDecoder()
    log = []
    got = decode_feed(d, chunks) if path == "feed" else decode_engine(d, chunks, log=log)
    assert as_bytes(got) == messages
    assert_all_bytes(got)
    assert d.idle
    if path == "engine":
        # The 70000- and 300000-byte frames' rests came in one read each, of exactly what
        # they missed; the 65536-byte frame misses less than ENGINE_LARGE_BODY after its
        # first chunk, so it is completed by plain reads.
        assert [kind for kind, _ in log].count("view") == 2


def test_huge_announced_frame_keeps_only_the_bytes_received(monkeypatch):
    # A header announcing 1 GiB followed by 10 bytes: the decoder holds those 10 bytes and a
    # count, it commits no memory for the announced size, and it grows only with what arrives.
    monkeypatch.setattr(frames_module, "MEMORY_LIMIT", max(frames_module.MEMORY_LIMIT, 1 << 31))
    size = 1 << 30
    first = b"\x02" + size.to_bytes(8, "big") + b"x" * 10
    d = FrameDecoder()
    tracemalloc.start()
    try:
        assert d.feed(first) == []
        assert d.body_remaining() == size - 10
        after_header = tracemalloc.get_traced_memory()[0]
        for index in range(1, 1001):
            assert d.feed(payload(1000, index)) == []
            assert d.body_remaining() == size - 10 - 1000 * index
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert after_header < 64 << 10
    assert peak < 4 << 20  # about the 1 MB received, nowhere near the 1 GiB announced
    assert not d.idle


def test_frame_dripped_a_byte_at_a_time_costs_about_its_size():
    # A peer may send a frame a byte per read: memory while it is collected and put together
    # stays near the frame's size, not a list entry (and a join buffer entry) per byte.
    body = b"d" * 8000
    wire = b"\x02" + len(body).to_bytes(8, "big") + body
    d = FrameDecoder()
    tracemalloc.start()
    try:
        got = []
        for index in range(len(wire)):
            got.extend(d.feed(wire[index:index + 1]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [body]
    assert peak < 64 << 10  # a list entry and a join entry per byte would be about 700 KB


@pytest.mark.parametrize("path", ["feed", "engine"])
def test_large_frame_assembled_from_many_reads(path):
    body = bytes(range(256)) * (20 * 4096)  # 20 MiB: more than one engine read (16 MiB)
    wire = b"\x02" + len(body).to_bytes(8, "big") + body + b"\x00\x02ok"
    d = FrameDecoder()
    if path == "feed":
        chunks = [wire[:100]] + [wire[i:i + (1 << 20)] for i in range(100, len(wire), 1 << 20)]
        out = decode_feed(d, chunks)
    else:
        chunks = [wire[:100], wire[100:]]
        log = []
        out = decode_engine(d, chunks, log=log)
        rest = len(body) - 91
        assert log == [("bytes", 100), ("view", ENGINE_BODY_MAX), ("view", rest - ENGINE_BODY_MAX), ("bytes", 4)]
    assert out == [body, b"ok"]
    assert_all_bytes(out)
    assert d.idle

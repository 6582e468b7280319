"""``Frame`` (``Message``) as pyzmq 27 has it: content, buffer, options and properties, copies.

Facts checked against pyzmq 27.3 (libzmq 4.3): ``bytes`` is a copy made
once, ``buffer`` one cached one-dimensional byte view, small data is copied
unless ``copy=False``, ``frame[key]`` is ``frame.get(key)`` (so iterating a
frame asks for option 0 and fails with EINVAL), unknown options and missing
properties are EINVAL, a frame cannot be pickled.
"""

import array
import copy
import gc
import pickle

import gevent
import pytest

import greenmq as zmq
from support import TIMEOUT, new_socket, raises_errno


def tcp_pair(ctx, bind_type=zmq.ROUTER, connect_type=zmq.DEALER, **connect_options):
    server = new_socket(ctx, bind_type)
    client = new_socket(ctx, connect_type, **connect_options)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{port}")
    return server, client


def inproc_pair(ctx, name):
    a = new_socket(ctx, zmq.PAIR)
    b = new_socket(ctx, zmq.PAIR)
    a.bind(f"inproc://{name}")
    b.connect(f"inproc://{name}")
    return a, b


# -- content ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, 70000])
def test_bytes_is_a_copy_made_once(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = zmq.Frame(data)
    first = frame.bytes
    assert first == data
    assert type(first) is bytes
    if size:
        assert first is not data
    assert frame.bytes is first
    assert bytes(frame) == data
    assert len(frame) == size


def test_buffer_is_one_cached_byte_view():
    frame = zmq.Frame(array.array("i", [1, 2, 3]), copy=False)
    buffer = frame.buffer
    assert isinstance(buffer, memoryview)
    assert frame.buffer is buffer
    assert (buffer.ndim, buffer.shape, buffer.format, buffer.itemsize) == (1, (12,), "B", 1)
    assert buffer.tobytes() == array.array("i", [1, 2, 3]).tobytes()
    assert len(frame) == 12


def test_a_two_dimensional_view_is_flattened():
    frame = zmq.Frame(memoryview(b"abcd").cast("B", (2, 2)))
    assert frame.buffer.shape == (4,)
    assert frame.bytes == b"abcd"


def test_small_data_is_copied_unless_copy_false():
    source = bytearray(b"before")
    copied = zmq.Frame(source)
    shared = zmq.Frame(source, copy=False)
    source[:] = b"AFTER!"
    assert copied.bytes == b"before"
    assert shared.buffer.tobytes() == b"AFTER!"


def test_large_data_is_shared_unless_copy_true():
    source = bytearray(zmq.COPY_THRESHOLD)
    shared = zmq.Frame(source)
    copied = zmq.Frame(source, copy=True)
    below = zmq.Frame(source, copy_threshold=len(source) + 1)
    source[0] = 7
    assert shared.buffer[0] == 7
    assert copied.buffer[0] == 0
    assert below.buffer[0] == 0


def test_empty_frame():
    frame = zmq.Frame()
    assert (frame.bytes, len(frame), frame.more, frame.tracker) == (b"", 0, False, None)


@pytest.mark.parametrize("bad", [5, object(), None.__class__])
def test_a_non_buffer_is_a_type_error(bad):
    with pytest.raises(TypeError):
        zmq.Frame(bad)


def test_str_is_a_type_error():
    with pytest.raises(TypeError, match="Str objects not allowed"):
        zmq.Frame("text")


def test_a_non_contiguous_view_is_a_buffer_error():
    with pytest.raises(BufferError):
        zmq.Frame(memoryview(bytearray(10))[::2])


def test_a_frame_of_a_frame_has_its_content():
    assert zmq.Frame(zmq.Frame(b"inner")).bytes == b"inner"


def test_message_is_frame():
    assert zmq.Message is zmq.Frame


# -- options, properties and indexing -----------------------------------------


def test_more_option_and_indexing():
    frame = zmq.Frame(b"x")
    assert frame.get(zmq.MORE) == 0
    assert frame[zmq.MORE] == 0
    frame.more = True
    assert frame.get(zmq.MORE) == 1
    assert frame[zmq.MORE] == 1


@pytest.mark.parametrize("option", [0, zmq.SRCFD, 4, 99])
def test_unknown_int_option_is_einval(option):
    raises_errno(zmq.EINVAL, zmq.Frame(b"x").get, option)


def test_iterating_a_frame_fails_as_in_pyzmq():
    # frame[0] is frame.get(0): not an option.
    raises_errno(zmq.EINVAL, list, zmq.Frame(b"abc"))


def test_missing_property_is_einval():
    frame = zmq.Frame(b"x")
    raises_errno(zmq.EINVAL, frame.get, "Socket-Type")
    with pytest.raises(zmq.ZMQError) as excinfo:
        frame["User-Id"]
    assert excinfo.value.errno == zmq.EINVAL


@pytest.mark.parametrize("option", [1.5, None, [1]])
def test_a_property_name_must_be_text(option):
    with pytest.raises(TypeError, match="expected str"):
        zmq.Frame(b"x").get(option)


def test_set_has_no_int_option():
    raises_errno(zmq.EINVAL, zmq.Frame(b"x").set, zmq.MORE, 1)


def test_received_frames_tell_the_peer_properties(ctx):
    server, client = tcp_pair(ctx, routing_id=b"me")
    client.send_multipart([b"hello", b"world"])
    with gevent.Timeout(TIMEOUT):
        identity, first, last = server.recv_multipart(copy=False)
    assert identity.bytes == b"me"
    assert (first.bytes, first.more, last.bytes, last.more) == (b"hello", True, b"world", False)
    assert first.get(zmq.MORE) == 1 and last[zmq.MORE] == 0
    for frame in (first, last):
        assert frame["Socket-Type"] == "DEALER"
        assert frame.get(b"Socket-Type") == "DEALER"
        assert frame["Identity"] == "me"
        assert frame.get("Peer-Address") == "127.0.0.1"
        raises_errno(zmq.EINVAL, frame.get, "User-Id")  # no ZAP handler admitted it
        raises_errno(zmq.EINVAL, frame.get, "No-Such-Property")


def test_recv_copy_false_returns_frames_with_bytes_and_buffer(ctx):
    a, b = inproc_pair(ctx, "frame-recv")
    payload = bytearray(b"\xff" * 100)
    a.send(payload, copy=False)
    a.send(memoryview(bytes(200)), copy=False)
    with gevent.Timeout(TIMEOUT):
        first = b.recv(copy=False)
        second = b.recv_multipart(copy=False)[0]
    payload[:] = bytes(100)  # small copy=False sends are copied, as pyzmq
    for frame, expected in ((first, b"\xff" * 100), (second, bytes(200))):
        assert isinstance(frame, zmq.Frame)
        assert type(frame.bytes) is bytes and frame.bytes == expected
        assert frame.buffer.tobytes() == expected and frame.buffer.format == "B"
        assert frame.tracker is None


# -- copies, repr -------------------------------------------------------------


def test_copy_shares_content_and_tracker():
    frame = zmq.Frame(b"content" * 10, copy=False, track=True)
    duplicate = copy.copy(frame)
    assert duplicate is not frame
    assert duplicate.bytes == frame.bytes
    assert duplicate.tracker is frame.tracker
    assert frame.fast_copy().tracker is frame.tracker
    untracked = copy.copy(zmq.Frame(b"x"))
    assert untracked.tracker is None


def test_a_copy_keeps_the_tracker_pending():
    frame = zmq.Frame(b"content", copy=False, track=True)
    tracker = frame.tracker
    duplicate = copy.copy(frame)
    del frame
    gc.collect()
    assert not tracker.done
    del duplicate
    assert tracker.done


def test_frames_cannot_be_pickled():
    with pytest.raises(TypeError):
        pickle.dumps(zmq.Frame(b"x"))
    with pytest.raises(TypeError):
        copy.deepcopy(zmq.Frame(b"x"))


def test_frames_compare_by_identity_as_in_pyzmq():
    frame = zmq.Frame(b"abc")
    assert frame == frame
    assert frame != zmq.Frame(b"abc")
    assert {frame: 1}[frame] == 1


@pytest.mark.parametrize(("data", "text"), [
    (b"", "<greenmq.Frame(0 bytes: b'')>"),
    (b"hello", "<greenmq.Frame(5 bytes: b'hello')>"),
    (b"0123456789abcdefghijklmn", "<greenmq.Frame(24 bytes: b'0123456789abcdefghijklmn')>"),
    (b"0123456789abcdefghijklmnop", "<greenmq.Frame(26 bytes: b'0123456789abcdefghijklmn'...)>"),
    (bytearray(b"\x00") * 2_000_000, f"<greenmq.Frame(2000000 bytes: {bytes(24)!r}...)>"),
])
def test_repr_says_greenmq_with_the_size_and_the_start_of_the_content(data, text):
    # Reprs say greenmq (docs/design.rst); pyzmq's literal "<zmq.Frame(...)>" is out of scope.
    frame = zmq.Frame(data)
    assert repr(frame) == text
    assert str(frame) == text


def test_repr_of_a_subclass_names_it():
    class Tagged(zmq.Frame):
        pass

    expected = f"<{__name__}.test_repr_of_a_subclass_names_it.<locals>.Tagged(2 bytes: b'hi')>"
    assert repr(Tagged(b"hi")) == expected

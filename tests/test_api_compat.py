"""pyzmq API details of Socket and Context: attribute subscriptions, recv_into, shadows and
``underlying``, copies, reprs, ``dir()``, string option helpers, option types, the ipc path
limit and Context arguments. Expectations checked against pyzmq 27.3 (libzmq 4.3)."""

import array
import copy
import errno
import gc
import re
from unittest import mock

import gevent
import pytest

import greenmq as zmq
from greenmq._socket import options

from support import TIMEOUT, assert_nothing_arrives, new_socket


def pubsub_pair(ctx, name):
    """A PUB bound and a SUB connected over inproc (connected at once: no handshake to wait for)."""
    pub = new_socket(ctx, zmq.PUB)
    pub.bind(f"inproc://{name}")
    sub = new_socket(ctx, zmq.SUB)
    sub.connect(f"inproc://{name}")
    return pub, sub


# -- subscribing by attribute ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["subscribe", "SUBSCRIBE"])
def test_assigning_subscribe_subscribes(ctx, name):
    # pyzmq: ``sub.subscribe = "c"`` sets the SUBSCRIBE option (a str is utf-8 encoded);
    # it must not replace the subscribe() method, or the subscription never happens.
    pub, sub = pubsub_pair(ctx, f"attr-{name}")
    setattr(sub, name, "c")
    assert callable(sub.subscribe)
    with gevent.Timeout(TIMEOUT):
        pub.send(b"canary")
        assert sub.recv() == b"canary"
    sub.subscribe("prefix")
    pub.send(b"prefix-message")
    with gevent.Timeout(TIMEOUT):
        assert sub.recv() == b"prefix-message"


@pytest.mark.parametrize("name", ["unsubscribe", "UNSUBSCRIBE"])
def test_assigning_unsubscribe_unsubscribes(ctx, name):
    pub, sub = pubsub_pair(ctx, f"attr-{name}")
    sub.subscribe(b"x")
    sub.subscribe(b"y")
    setattr(sub, name, "x")
    assert callable(sub.unsubscribe)
    pub.send(b"x-dropped")
    pub.send(b"y-kept")
    with gevent.Timeout(TIMEOUT):
        assert sub.recv() == b"y-kept"
    assert_nothing_arrives(sub)


# -- recv_into ------------------------------------------------------------------------------


@pytest.fixture
def pair(ctx):
    """A connected PAIR pair over inproc."""
    a = new_socket(ctx, zmq.PAIR)
    a.bind("inproc://recv-into")
    b = new_socket(ctx, zmq.PAIR)
    b.connect("inproc://recv-into")
    return a, b


def test_recv_into_returns_the_frame_size_and_truncates_like_zmq_recv(pair):
    a, b = pair
    a.send_multipart([b"hello", b"there world", b"part 3", b"rest"])
    with gevent.Timeout(TIMEOUT):
        words = array.array("Q", [0])  # items of 8 bytes: the size is in bytes, not items
        assert b.recv_into(words) == 5
        assert words.tobytes() == b"hello\0\0\0"
        assert b.rcvmore == 1
        small = bytearray(4)
        assert b.recv_into(small) == 11  # more than fitted: truncated
        assert small == b"ther"
        limited = bytearray(10)
        assert b.recv_into(limited, nbytes=4) == 6
        assert limited == b"part" + bytes(6)
        whole = bytearray(10)
        assert b.recv_into(memoryview(whole)[:0]) == 4  # an empty buffer discards the frame
        assert whole == bytes(10)
        assert b.rcvmore == 0


def test_recv_into_fills_a_c_contiguous_multidimensional_buffer(pair):
    a, b = pair
    grid = memoryview(bytearray(12)).cast("B", (3, 4))
    a.send(b"hello world")
    with gevent.Timeout(TIMEOUT):
        assert b.recv_into(grid) == 11
    assert grid.tobytes() == b"hello world\0"


@pytest.mark.parametrize("call, error", [
    (lambda b: b.recv_into(bytearray(10), nbytes=-1), ValueError),
    (lambda b: b.recv_into(bytearray(10), nbytes=11), ValueError),
    (lambda b: b.recv_into(memoryview(bytearray(10))[::2]), BufferError),
    (lambda b: b.recv_into(memoryview(b"readonly")), BufferError),
    (lambda b: b.recv_into(b"readonly"), BufferError),
    (lambda b: b.recv_into(pytest), TypeError),
    (lambda b: b.recv_into(bytearray(5), 0), TypeError),  # nbytes and flags are keyword-only
], ids=["negative-nbytes", "nbytes-too-big", "not-contiguous", "readonly-view", "readonly-bytes",
        "not-a-buffer", "positional-flags"])
def test_recv_into_refuses_bad_arguments_before_receiving(pair, call, error):
    a, b = pair
    a.send(b"still there")
    with pytest.raises(error):
        call(b)
    with gevent.Timeout(TIMEOUT):
        assert b.recv() == b"still there"


def test_recv_into_takes_recv_flags(pair):
    _a, b = pair
    with pytest.raises(zmq.Again):
        b.recv_into(bytearray(5), flags=zmq.DONTWAIT)


# -- shadows, underlying and copies of sockets -------------------------------------------------


def test_socket_underlying_round_trips_to_the_same_socket(ctx):
    push = new_socket(ctx, zmq.PUSH)
    pull = new_socket(ctx, zmq.PULL)
    assert isinstance(push.underlying, int)
    assert push.underlying != pull.underlying
    shadow = zmq.Socket.shadow(push.underlying)
    assert shadow is not push
    assert shadow.underlying == push.underlying
    assert shadow.context is push.context
    assert shadow.socket_type == zmq.PUSH
    assert (shadow._shadow, push._shadow) == (True, False)


@pytest.mark.parametrize("make", [
    lambda s: zmq.Socket.shadow(s),
    lambda s: zmq.Socket.shadow(s.underlying),
    lambda s: zmq.Socket(s),
    lambda s: zmq.Socket(shadow=s),
    copy.copy,
    copy.deepcopy,
], ids=["shadow-object", "shadow-address", "constructor", "shadow-keyword", "copy", "deepcopy"])
def test_a_shadow_is_the_same_socket(ctx, make):
    push = new_socket(ctx, zmq.PUSH)
    pull = new_socket(ctx, zmq.PULL)
    shadow = make(pull)
    assert shadow._shadow and shadow.underlying == pull.underlying
    shadow.rcvhwm = 7  # options are the socket's
    assert pull.rcvhwm == 7
    shadow.bind("inproc://shadowed")  # so are endpoints and messages
    push.connect("inproc://shadowed")
    push.send_multipart([b"one", b"two"])
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"one"
        assert shadow.rcvmore == 1
        assert shadow.recv() == b"two"


def test_shadow_of_a_socket_object_remembers_it(ctx):
    pull = new_socket(ctx, zmq.PULL)
    assert zmq.Socket.shadow(pull)._shadow_obj is pull
    assert zmq.Socket(pull)._shadow_obj is pull


def test_a_shadow_can_be_of_another_socket_class(ctx):
    class Tagged(zmq.Socket):
        def tag(self):
            return f"tagged {self.socket_type.name}"

    pull = new_socket(ctx, zmq.PULL)
    shadow = Tagged.shadow(pull)
    assert isinstance(shadow, Tagged)
    assert shadow.tag() == "tagged PULL"
    assert not hasattr(pull, "tag")


def test_closing_a_shadow_closes_the_socket_and_lets_the_context_end():
    context = zmq.Context()
    pull = context.socket(zmq.PULL)
    with zmq.Socket.shadow(pull) as shadow:
        assert not pull.closed
    assert shadow.closed and pull.closed
    with gevent.Timeout(TIMEOUT):
        context.term()  # the socket the context knows was closed: term does not wait for it
    assert context.closed


def test_dropping_a_shadow_closes_nothing(ctx):
    push = new_socket(ctx, zmq.PUSH)
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("inproc://kept")
    shadow = zmq.Socket.shadow(pull)
    del shadow
    gc.collect()
    assert not pull.closed
    push.connect("inproc://kept")
    push.send(b"hi")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"hi"


def test_shadow_of_what_is_no_socket(ctx):
    pull = new_socket(ctx, zmq.PULL)
    unknown = pull.underlying + 1  # an address no socket has
    error = pytest.raises(zmq.ZMQError, zmq.Socket.shadow, unknown).value
    assert error.errno == zmq.ENOTSOCK
    with pytest.raises(ValueError):
        zmq.Socket.shadow("not an address")
    with pytest.raises(ValueError):
        zmq.Socket.shadow(ctx)  # a context is not a socket
    with pytest.raises(TypeError):
        zmq.Socket.shadow(0)  # no shadow, and no context either: as pyzmq


# -- shadows, underlying and copies of contexts ------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda c: zmq.Context.shadow(c),
    lambda c: zmq.Context.shadow(c.underlying),
    lambda c: zmq.Context(c),
    copy.copy,
    copy.deepcopy,
], ids=["shadow-object", "shadow-address", "constructor", "copy", "deepcopy"])
def test_a_context_shadow_is_the_same_context(make):
    context = zmq.Context()
    shadow = make(context)
    assert shadow is not context
    assert shadow._shadow and not context._shadow
    assert shadow.underlying == context.underlying
    pub = shadow.socket(zmq.PUB)
    assert pub.context is shadow
    assert "(1 socket)" in repr(context)  # the shadow's socket is the context's
    shadow.linger = 0  # socket defaults are the context's too
    assert context.socket(zmq.SUB).linger == 0
    with gevent.Timeout(TIMEOUT):
        context.destroy()
    assert shadow.closed and pub.closed


def test_dropping_a_context_shadow_terminates_nothing():
    context = zmq.Context()
    shadow = zmq.Context.shadow(context.underlying)
    del shadow
    gc.collect()
    assert not context.closed
    context.socket(zmq.PUB).close()
    with gevent.Timeout(TIMEOUT):
        context.term()


def test_sockets_of_a_terminated_context_through_a_shadow():
    # pyzmq: the object that terminated the context says ENOTSUP, another object on it (where
    # the call reaches libzmq) EFAULT.
    context = zmq.Context()
    shadow = zmq.Context.shadow(context)
    with gevent.Timeout(TIMEOUT):
        context.term()
    assert shadow.closed
    assert pytest.raises(zmq.ZMQError, shadow.socket, zmq.PUB).value.errno == zmq.EFAULT
    assert pytest.raises(zmq.ZMQError, context.socket, zmq.PUB).value.errno == zmq.ENOTSUP


def test_shadow_of_what_is_no_context(ctx):
    error = pytest.raises(zmq.ZMQError, zmq.Context.shadow, ctx.underlying + 1).value
    assert error.errno == zmq.EFAULT
    with pytest.raises(ValueError):
        zmq.Context.shadow("not an address")
    fresh = zmq.Context.shadow(0)  # pyzmq: no shadow, a new context
    assert not fresh._shadow and fresh.underlying != ctx.underlying
    fresh.term()


# -- Context arguments, attributes and dir() --------------------------------------------------------


def test_context_io_threads_is_checked():
    assert pytest.raises(zmq.ZMQError, zmq.Context, -1).value.errno == zmq.EINVAL
    with pytest.raises(TypeError):
        zmq.Context(1.5)
    context = zmq.Context(0)
    assert context.io_threads == 0
    context.term()


def test_context_dir_has_the_context_options(ctx):
    names = dir(ctx)
    assert "socket" in names and "IO_THREADS" in names and "MAX_SOCKETS" in names
    assert "registry" in names  # the instance's own attributes stay listed


def test_unreadable_context_options_are_no_attributes(ctx):
    assert not hasattr(ctx, "THREAD_AFFINITY_CPU_ADD")  # libzmq cannot read it back: EINVAL
    assert ctx.IO_THREADS == 1
    mock.Mock(spec=ctx)  # builds its spec from dir() and getattr(), as pyzmq's test_mockable does


# -- reprs ----------------------------------------------------------------------------------------------


def test_socket_repr(ctx):
    with ctx.socket(zmq.PUSH) as push:
        assert re.fullmatch(r"<greenmq\.Socket\(greenmq\.PUSH\) at 0x[0-9a-f]+>", repr(push))
    assert re.fullmatch(r"<greenmq\.Socket\(greenmq\.PUSH\) at 0x[0-9a-f]+ closed>", repr(push))


def test_subclass_reprs_name_the_subclass(ctx):
    class MySocket(zmq.Socket):
        pass

    class MyContext(zmq.Context):
        pass

    sock = MySocket(ctx, zmq.PAIR)
    assert f"{__name__}.test_subclass_reprs_name_the_subclass.<locals>.MySocket(greenmq.PAIR)" in repr(sock)
    sock.close()
    context = MyContext()
    assert "MyContext()" in repr(context)
    context.term()


def test_context_repr_counts_open_sockets():
    with zmq.Context() as context:
        assert re.fullmatch(r"<greenmq\.Context\(\) at 0x[0-9a-f]+>", repr(context))
        with context.socket(zmq.PUSH):
            assert "greenmq.Context(1 socket) at" in repr(context)
            with context.socket(zmq.PULL):
                assert "greenmq.Context(2 sockets) at" in repr(context)
            assert "greenmq.Context(1 socket) at" in repr(context)
    assert re.fullmatch(r"<greenmq\.Context\(\) at 0x[0-9a-f]+ closed>", repr(context))


# -- string option helpers ----------------------------------------------------------------------------


def test_unicode_names_are_the_string_helpers():
    assert zmq.Socket.setsockopt_unicode is zmq.Socket.setsockopt_string
    assert zmq.Socket.getsockopt_unicode is zmq.Socket.getsockopt_string
    assert zmq.Socket.send_unicode is zmq.Socket.send_string
    assert zmq.Socket.recv_unicode is zmq.Socket.recv_string


def test_string_options_with_an_encoding(ctx):
    sub = new_socket(ctx, zmq.SUB)
    sub.setsockopt_unicode(zmq.IDENTITY, "tést", "utf16")
    assert sub.getsockopt(zmq.IDENTITY) == "tést".encode("utf16")
    assert sub.getsockopt_unicode(zmq.IDENTITY, "utf16") == "tést"
    with pytest.raises(TypeError):
        sub.getsockopt_unicode(zmq.AFFINITY)  # not a bytes option
    with pytest.raises(TypeError):
        sub.getsockopt_unicode(9999)  # an unknown option is taken for an int one, as pyzmq does
    assert pytest.raises(zmq.ZMQError, sub.getsockopt_unicode, zmq.SUBSCRIBE).value.errno == zmq.EINVAL


# -- option values: types first, then libzmq's EINVAL ---------------------------------------------


@pytest.mark.parametrize("option, value, error", [
    (9999, b"5", TypeError),  # an unknown option takes an int, as in pyzmq
    (9999, "5", TypeError),
    (9999, 1.5, TypeError),
    (zmq.GSSAPI_PRINCIPAL, 5, TypeError),  # known to pyzmq as a bytes option, not implemented
    (zmq.SUBSCRIBE, "topic", TypeError),
    (zmq.AFFINITY, "1", TypeError),
])
def test_a_value_of_the_wrong_type_is_a_type_error(sock, option, value, error):
    with pytest.raises(error):
        sock.setsockopt(option, value)


def test_unknown_and_misplaced_options_are_einval(ctx):
    pub = new_socket(ctx, zmq.PUB)
    for call in (lambda: pub.setsockopt(9999, 5), lambda: pub.getsockopt(9999),
                 lambda: pub.setsockopt(zmq.GSSAPI_PRINCIPAL, b"x"), lambda: pub.setsockopt(zmq.SUBSCRIBE, b"hi")):
        assert pytest.raises(zmq.ZMQError, call).value.errno == zmq.EINVAL


def test_option_types_are_pyzmqs():
    types = zmq.constants._OptType
    assert zmq.IDENTITY is zmq.SocketOption.ROUTING_ID
    assert zmq.IDENTITY._opt_type is types.bytes
    assert zmq.AFFINITY._opt_type is types.int64
    assert zmq.CURVE_SERVER._opt_type is types.int
    assert zmq.FD._opt_type is types.fd
    assert zmq.XPUB_WELCOME_MSG._opt_type is types.bytes
    assert [t.value for t in types] == ["int", "int64", "bytes", "fd"]


def test_the_option_table_agrees_with_the_option_types():
    for option, spec in options.OPTIONS.items():
        assert spec.kind == option._opt_type.value, option.name


@pytest.mark.parametrize("name, default, good, bad", [
    ("MULTICAST_MAXTPDU", 1500, 1, 0),
    ("MULTICAST_LOOP", 1, 0, -1),
    ("LOOPBACK_FASTPATH", 0, 1, -1),
])
def test_options_stored_for_transports_greenmq_lacks(ctx, name, default, good, bad):
    pub = new_socket(ctx, zmq.PUB)
    option = getattr(zmq, name)
    assert pub.getsockopt(option) == default
    pub.setsockopt(option, good)
    assert pub.getsockopt(option) == good
    assert pytest.raises(zmq.ZMQError, pub.setsockopt, option, bad).value.errno == zmq.EINVAL


def test_constants_all_lists_the_names():
    assert {"SocketOption", "SocketType", "PUSH", "LINGER", "EVENT_CONNECTED"} <= set(zmq.constants.__all__)
    assert all(hasattr(zmq.constants, name) for name in zmq.constants.__all__)


# -- ipc paths ------------------------------------------------------------------------------------------


def test_ipc_path_max_len():
    assert zmq.IPC_PATH_MAX_LEN == 107  # Linux: sizeof(sockaddr_un.sun_path) less its NUL


def _ipc_path(tmp_path, length):
    base = f"{tmp_path}/"
    assert len(base) < length
    return base + "p" * (length - len(base))


@pytest.mark.parametrize("method", ["bind", "connect"])
def test_an_ipc_path_too_long_says_what_the_limit_is(ctx, tmp_path, method):
    pub = new_socket(ctx, zmq.PUB)
    path = _ipc_path(tmp_path, zmq.IPC_PATH_MAX_LEN + 1)
    error = pytest.raises(zmq.ZMQError, getattr(pub, method), f"ipc://{path}").value
    assert error.errno == errno.ENAMETOOLONG
    assert "107" in error.strerror and path in error.strerror


def test_an_ipc_path_of_the_longest_length_works(ctx, tmp_path):
    pull = new_socket(ctx, zmq.PULL)
    push = new_socket(ctx, zmq.PUSH)
    endpoint = "ipc://" + _ipc_path(tmp_path, zmq.IPC_PATH_MAX_LEN)
    pull.bind(endpoint)
    push.connect(endpoint)
    push.send(b"long path")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"long path"

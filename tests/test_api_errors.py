"""Errors of the public API: the exception class, errno and message pyzmq (libzmq 4.3) gives.

Every expectation here was checked against pyzmq 27 / libzmq 4.3.5 first; where
greenmq must differ, the test says so instead of asserting.
"""

import errno
import os

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, raises_errno

pyzmq = pytest.importorskip("zmq")


@pytest.fixture
def push(ctx):
    sock = ctx.socket(zmq.PUSH)
    sock.linger = 0
    yield sock
    sock.close()


@pytest.fixture
def pull(ctx):
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    yield sock
    sock.close()


# -- error numbers and classes ---------------------------------------------------


def test_errno_enum_matches_pyzmq():
    assert set(zmq.Errno.__members__) == set(pyzmq.Errno.__members__)
    for name, value in pyzmq.Errno.__members__.items():
        assert int(zmq.Errno[name]) == int(value), name


@pytest.mark.parametrize("name", [
    "EINVAL", "EPROTONOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENOTSOCK", "ENOTSUP", "EAGAIN",
    "ETERM", "EFSM", "EMTHREAD", "ENOCOMPATPROTO", "EHOSTUNREACH", "ECONNREFUSED", "EFAULT",
    "ENOBUFS", "ENETDOWN", "ENOTCONN", "ECONNRESET", "EMSGSIZE", "EAFNOSUPPORT", "ETIMEDOUT",
    "EINPROGRESS", "ECONNABORTED", "ENETUNREACH", "ENETRESET",
])
def test_module_level_errno_constants_match_pyzmq(name):
    assert getattr(zmq, name) == getattr(pyzmq, name)


def test_exception_hierarchy_matches_pyzmq():
    for name in ("ZMQError", "Again", "ContextTerminated", "InterruptedSystemCall", "NotDone",
                 "ZMQBindError", "ZMQVersionError"):
        ours = [cls.__name__ for cls in getattr(zmq, name).__mro__]
        theirs = [cls.__name__ for cls in getattr(pyzmq, name).__mro__]
        assert ours == theirs, name


@pytest.mark.parametrize("errnum", [
    errno.EINVAL, errno.ENOENT, errno.EAGAIN, errno.EADDRINUSE, errno.EPROTONOSUPPORT,
    errno.ENOTSOCK, errno.ENOTSUP, pyzmq.ETERM, pyzmq.EFSM, pyzmq.ENOCOMPATPROTO, pyzmq.EMTHREAD,
])
def test_strerror_and_str_match_pyzmq(errnum):
    assert zmq.strerror(errnum) == pyzmq.strerror(errnum)
    assert str(zmq.ZMQError(errnum)) == str(pyzmq.ZMQError(errnum))
    assert repr(zmq.ZMQError(errnum)) == repr(pyzmq.ZMQError(errnum))
    assert zmq.ZMQError(errnum).errno == errnum


def test_subclass_defaults_match_pyzmq():
    for name in ("Again", "ContextTerminated"):
        ours, theirs = getattr(zmq, name)(), getattr(pyzmq, name)()
        assert (ours.errno, str(ours), repr(ours)) == (theirs.errno, str(theirs), repr(theirs))


# -- endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize("addr", [
    "127.0.0.1:5555",            # no transport
    "",                          # nothing at all
    "tcp://",                    # no address
    "tcp://127.0.0.1",           # no port
    "tcp://127.0.0.1:",          # empty port
    "tcp://127.0.0.1:abc",       # port not a number
    "tcp://127.0.0.1:\u00b2",     # a digit to str.isdigit, not to int() (found by the endpoint fuzz target)
    "tcp://127.0.0.1:\u0661\u0662",  # Arabic-Indic digits: int() reads them, libzmq does not
    "inproc://",                 # empty inproc name
])
@pytest.mark.parametrize("method", ["bind", "connect"])
def test_bad_endpoint_is_einval(push, method, addr):
    error = raises_errno(zmq.EINVAL, getattr(push, method), addr)
    assert str(error) == f"Invalid argument (addr={addr!r})"


def test_connect_to_wildcard_is_einval(push):
    raises_errno(zmq.EINVAL, push.connect, "tcp://*:5555")
    raises_errno(zmq.EINVAL, push.connect, "tcp://127.0.0.1:*")


@pytest.mark.parametrize("addr", ["foo://bar", "TCP://127.0.0.1:5555", "pgm://127.0.0.1:5555"])
@pytest.mark.parametrize("method", ["bind", "connect"])
def test_unknown_transport_is_eprotonosupport(push, method, addr):
    error = raises_errno(zmq.EPROTONOSUPPORT, getattr(push, method), addr)
    assert str(error) == f"Protocol not supported (addr={addr!r})"


def test_udp_on_push_is_enocompatproto(push):
    # udp is a libzmq transport, but only for RADIO/DISH/DGRAM.
    raises_errno(zmq.ENOCOMPATPROTO, push.bind, "udp://127.0.0.1:5555")


def test_bind_unresolvable_host_is_enodev(push):
    error = raises_errno(errno.ENODEV, push.bind, "tcp://no.such.host.invalid:5555")
    assert "(addr='tcp://no.such.host.invalid:5555')" in str(error)


def test_connect_unresolvable_host_is_deferred(push):
    # libzmq resolves connect addresses in the background: connect() itself succeeds.
    push.connect("tcp://no.such.host.invalid:5555")


def test_ipv6_literal_without_ipv6_option(push):
    raises_errno(errno.ENODEV, push.bind, "tcp://[::1]:*")
    push.connect("tcp://[::1]:5555")  # accepted; fails (quietly) at resolve time


def test_bind_non_local_address_is_eaddrnotavail(push):
    raises_errno(errno.EADDRNOTAVAIL, push.bind, "tcp://192.0.2.1:5555")


def test_bind_ipc_in_missing_directory_is_enoent(push, tmp_path):
    addr = f"ipc://{tmp_path}/missing/sock"
    error = raises_errno(errno.ENOENT, push.bind, addr)
    assert f"(addr={addr!r})" in str(error)


def test_ipc_path_too_long_is_enametoolong(push):
    addr = "ipc:///tmp/" + "a" * 200
    raises_errno(errno.ENAMETOOLONG, push.bind, addr)
    raises_errno(errno.ENAMETOOLONG, push.connect, addr)


def test_endpoint_must_be_str_or_bytes(push):
    with pytest.raises(TypeError, match=r"^Expected addr to be str, got addr=5$"):
        push.bind(5)
    with pytest.raises(TypeError):
        push.connect(None)


def test_bytes_endpoint_is_accepted(push, pull):
    # pyzmq encodes str endpoints to bytes, and passes bytes through.
    pull.bind(b"tcp://127.0.0.1:*")
    push.connect(pull.last_endpoint)
    push.send(b"over bytes")
    with gevent.Timeout(TIMEOUT):
        assert pull.recv() == b"over bytes"


# -- address in use ------------------------------------------------------------------------


def test_tcp_address_in_use(ctx, pull):
    pull.bind("tcp://127.0.0.1:*")
    addr = pull.last_endpoint.decode()
    other = ctx.socket(zmq.PULL)
    try:
        error = raises_errno(zmq.EADDRINUSE, other.bind, addr)
        assert str(error) == f"Address already in use (addr={addr!r})"
    finally:
        other.close(0)


def test_tcp_address_in_use_same_socket(pull):
    pull.bind("tcp://127.0.0.1:*")
    raises_errno(zmq.EADDRINUSE, pull.bind, pull.last_endpoint.decode())


def test_inproc_address_in_use(ctx, pull):
    pull.bind("inproc://in-use")
    other = ctx.socket(zmq.PULL)
    try:
        error = raises_errno(zmq.EADDRINUSE, other.bind, "inproc://in-use")
        assert str(error) == "Address already in use (addr='inproc://in-use')"
    finally:
        other.close(0)


def test_inproc_names_are_per_context(ctx, pull):
    pull.bind("inproc://per-context")
    other_ctx = zmq.Context()
    try:
        other = other_ctx.socket(zmq.PULL)
        other.bind("inproc://per-context")
        other.close(0)
    finally:
        with gevent.Timeout(TIMEOUT):
            other_ctx.destroy(linger=0)


def test_ipc_bind_steals_the_path(ctx, pull, push, ipc_endpoint):
    """libzmq unlinks an existing socket file: the second bind succeeds and new connections reach it."""
    pull.bind(ipc_endpoint)
    thief = ctx.socket(zmq.PULL)
    thief.linger = 0
    try:
        thief.bind(ipc_endpoint)
        push.connect(ipc_endpoint)
        push.send(b"to the thief")
        with gevent.Timeout(TIMEOUT):
            assert thief.recv() == b"to the thief"
        assert pull.poll(0) == 0
    finally:
        thief.close()


def test_ipc_abstract_address_in_use(ctx, pull):
    addr = f"ipc://@greenmq-test-in-use-{os.getpid()}"
    pull.bind(addr)
    other = ctx.socket(zmq.PULL)
    try:
        error = raises_errno(zmq.EADDRINUSE, other.bind, addr)
        assert f"(addr={addr!r})" in str(error)
    finally:
        other.close(0)


# -- unbind / disconnect -------------------------------------------------------------------


@pytest.mark.parametrize("addr", ["tcp://127.0.0.1:1", "inproc://nothing-here", "ipc:///tmp/greenmq-nothing"])
def test_unbind_unknown_endpoint_is_enoent(pull, addr):
    error = raises_errno(errno.ENOENT, pull.unbind, addr)
    assert str(error) == "No such file or directory"  # pyzmq adds no (addr=...) for unbind


@pytest.mark.parametrize("addr", ["tcp://127.0.0.1:1", "inproc://nothing-here"])
def test_disconnect_unknown_endpoint_is_enoent(push, addr):
    error = raises_errno(errno.ENOENT, push.disconnect, addr)
    assert str(error) == "No such file or directory"


def test_unbind_wildcard_is_enoent(pull):
    pull.bind("tcp://127.0.0.1:*")
    raises_errno(errno.ENOENT, pull.unbind, "tcp://127.0.0.1:*")


def test_unbind_inproc_bound_by_another_socket_is_enoent(ctx, pull):
    pull.bind("inproc://theirs")
    other = ctx.socket(zmq.PULL)
    try:
        raises_errno(errno.ENOENT, other.unbind, "inproc://theirs")
    finally:
        other.close(0)


def test_unbind_twice_is_enoent(pull):
    pull.bind("tcp://127.0.0.1:*")
    addr = pull.last_endpoint.decode()
    pull.unbind(addr)
    raises_errno(errno.ENOENT, pull.unbind, addr)


def test_disconnect_twice_is_enoent(push):
    push.connect("tcp://127.0.0.1:1")
    push.disconnect("tcp://127.0.0.1:1")
    raises_errno(errno.ENOENT, push.disconnect, "tcp://127.0.0.1:1")


def test_unbind_malformed_endpoint(pull):
    error = raises_errno(zmq.EINVAL, pull.unbind, "garbage")
    assert str(error) == "Invalid argument"
    error = raises_errno(zmq.EPROTONOSUPPORT, pull.unbind, "foo://bar")
    assert str(error) == "Protocol not supported"


# -- use after close -------------------------------------------------------------------------


def _closed_socket(ctx):
    sock = ctx.socket(zmq.PUSH)
    sock.close()
    return sock


@pytest.mark.parametrize("call", [
    lambda s: s.send(b"x"),
    lambda s: s.send(b"x", zmq.NOBLOCK),
    lambda s: s.send_multipart([b"a", b"b"]),
    lambda s: s.send_string("x"),
    lambda s: s.recv(),
    lambda s: s.recv(zmq.NOBLOCK),
    lambda s: s.recv_multipart(),
    lambda s: s.setsockopt(zmq.LINGER, 0),
    lambda s: s.getsockopt(zmq.LINGER),
    lambda s: s.linger,
    lambda s: s.unbind("tcp://127.0.0.1:5555"),
    lambda s: s.disconnect("tcp://127.0.0.1:5555"),
], ids=["send", "send-noblock", "send_multipart", "send_string", "recv", "recv-noblock",
        "recv_multipart", "setsockopt", "getsockopt", "attribute", "unbind", "disconnect"])
def test_use_after_close_is_enotsock(ctx, call):
    sock = _closed_socket(ctx)
    error = raises_errno(zmq.ENOTSOCK, call, sock)
    assert str(error) == "Socket operation on non-socket"


@pytest.mark.parametrize("method, addr", [("bind", "tcp://127.0.0.1:*"), ("connect", "tcp://127.0.0.1:5555"),
                                          ("bind", "inproc://after-close")])
def test_bind_connect_after_close_is_enotsock_with_addr(ctx, method, addr):
    sock = _closed_socket(ctx)
    error = raises_errno(zmq.ENOTSOCK, getattr(sock, method), addr)
    assert str(error) == f"Socket operation on non-socket (addr={addr!r})"


def test_poll_after_close_is_enotsup(ctx):
    sock = _closed_socket(ctx)
    raises_errno(zmq.ENOTSUP, sock.poll, 0)


def test_close_twice_is_harmless(ctx):
    sock = _closed_socket(ctx)
    sock.close()
    assert sock.closed


# -- option values ---------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, message", [
    (zmq.LINGER, "1", "unicode not allowed, use setsockopt_string"),
    (zmq.LINGER, 1.5, "expected int, got: 1.5"),
    (zmq.LINGER, None, "expected int, got: None"),
    (zmq.LINGER, b"1", "expected int, got: b'1'"),
    (zmq.AFFINITY, 5.0, "expected int, got: 5.0"),
    (zmq.AFFINITY, "5", "unicode not allowed, use setsockopt_string"),
    (zmq.MAXMSGSIZE, 5.0, "expected int, got: 5.0"),
    (zmq.ROUTING_ID, "abc", "unicode not allowed, use setsockopt_string"),
    (zmq.ROUTING_ID, 5, "expected bytes, got: 5"),
    (zmq.ROUTING_ID, bytearray(b"q"), "expected bytes, got: bytearray(b'q')"),
])
def test_wrong_option_value_type_is_typeerror(push, option, value, message):
    with pytest.raises(TypeError) as info:
        push.setsockopt(option, value)
    assert str(info.value) == message


@pytest.mark.parametrize("name, value, message", [
    ("linger", "abc", "unicode not allowed, use setsockopt_string"),
    ("linger", 1.0, "expected int, got: 1.0"),
    ("routing_id", "abc", "unicode not allowed, use setsockopt_string"),
])
def test_wrong_attribute_value_type_is_typeerror(push, name, value, message):
    with pytest.raises(TypeError) as info:
        setattr(push, name, value)
    assert str(info.value) == message


def test_int_option_too_large_is_overflowerror(push):
    for value in (2**31, 2**40, 2**64):
        with pytest.raises(OverflowError):
            push.setsockopt(zmq.LINGER, value)
    assert push.linger == 0  # unchanged (the fixture set 0)


@pytest.mark.parametrize("option, value", [
    (zmq.LINGER, -2), (zmq.SNDHWM, -1), (zmq.RCVHWM, -1), (zmq.RCVTIMEO, -2), (zmq.SNDTIMEO, -2),
    (zmq.RECONNECT_IVL, -2), (zmq.IMMEDIATE, 2), (zmq.IPV6, 2), (zmq.ROUTING_ID, b""),
    (zmq.ROUTING_ID, b"a" * 256),
])
def test_option_value_out_of_range_is_einval(push, option, value):
    raises_errno(zmq.EINVAL, push.setsockopt, option, value)


def test_routing_id_starting_with_nul_is_accepted(push):
    # Reserved by ZMTP for ROUTER-generated ids, but zmq_setsockopt accepts it.
    push.setsockopt(zmq.ROUTING_ID, b"\0abc")
    assert push.routing_id == b"\0abc"


def test_bool_is_accepted_for_int_options(push):
    push.setsockopt(zmq.LINGER, True)
    assert push.linger == 1


@pytest.mark.parametrize("option", [9999, 0, 2, 3])
def test_unknown_option_is_einval(push, option):
    raises_errno(zmq.EINVAL, push.setsockopt, option, 1)
    raises_errno(zmq.EINVAL, push.getsockopt, option)


def test_zmq_hwm_option_is_einval(push):
    # ZMQ_HWM (1) is gone from libzmq 4: only the ``hwm`` attribute of pyzmq remains.
    raises_errno(zmq.EINVAL, push.setsockopt, zmq.HWM, 10)
    raises_errno(zmq.EINVAL, push.getsockopt, zmq.HWM)


def test_context_option_is_not_a_socket_option(push):
    raises_errno(zmq.EINVAL, push.getsockopt, zmq.BLOCKY)


@pytest.mark.parametrize("option", [zmq.RCVMORE, zmq.TYPE, zmq.EVENTS, zmq.LAST_ENDPOINT, zmq.MECHANISM])
def test_read_only_option_is_einval(push, option):
    value = b"x" if option == zmq.LAST_ENDPOINT else 1
    raises_errno(zmq.EINVAL, push.setsockopt, option, value)


def test_write_only_option_is_einval(push):
    raises_errno(zmq.EINVAL, push.getsockopt, zmq.SUBSCRIBE)


def test_subscribe_on_push_is_einval(push):
    raises_errno(zmq.EINVAL, push.setsockopt, zmq.SUBSCRIBE, b"")


def test_string_option_helpers_type_errors(push):
    with pytest.raises(TypeError) as info:
        push.getsockopt_string(zmq.LINGER)
    assert str(info.value) == "option 17 will not return a string to be decoded"
    with pytest.raises(TypeError) as info:
        push.setsockopt_string(zmq.ROUTING_ID, b"abc")
    assert str(info.value) == "strings only, not <class 'bytes'>: b'abc'"
    with pytest.raises(TypeError) as info:
        push.setsockopt_string(zmq.LINGER, "1")
    assert str(info.value) == "expected int, got: b'1'"


def test_unknown_attribute_is_attributeerror(push):
    with pytest.raises(AttributeError) as info:
        push.not_an_option  # noqa: B018
    assert str(info.value) == "Socket has no such option: NOT_AN_OPTION"
    with pytest.raises(AttributeError) as info:
        push.not_an_option = 1
    assert str(info.value) == "Socket has no such option: NOT_AN_OPTION"


def test_option_attribute_in_any_case_is_the_option(push):
    # pyzmq upper-cases any attribute name it does not know (found by the options fuzz target)
    push.Linger = 250
    assert push.getsockopt(zmq.LINGER) == 250
    raises_errno(zmq.EINVAL, setattr, push, "Type", 5)  # read-only, as setsockopt(TYPE) is


def test_type_attribute_can_be_overwritten_as_in_pyzmq(push):
    # pyzmq's sock.type is a plain attribute: assigning it replaces what it reads (not the socket's type)
    assert push.type == zmq.PUSH
    push.type = zmq.PULL
    assert push.type == zmq.PULL
    assert push.getsockopt(zmq.TYPE) == zmq.PUSH


# -- send / recv ---------------------------------------------------------------------------------


def test_send_str_is_typeerror(push):
    with pytest.raises(TypeError) as info:
        push.send("hello")
    assert str(info.value) == "unicode not allowed, use send_string"


@pytest.mark.parametrize("value, name", [(5, "int"), (None, "NoneType"), (1.5, "float"), ([b"a"], "list")])
def test_send_non_buffer_is_typeerror(push, value, name):
    with pytest.raises(TypeError) as info:
        push.send(value)
    assert str(info.value) == f"a bytes-like object is required, not '{name}'"


def test_send_multipart_bad_frame_is_typeerror(push):
    with pytest.raises(TypeError) as info:
        push.send_multipart(["a"])
    assert str(info.value) == "Frame 0 ('a') does not support the buffer interface."
    with pytest.raises(TypeError) as info:
        push.send_multipart([b"a", 5])
    assert str(info.value) == "Frame 1 (5) does not support the buffer interface."
    with pytest.raises(TypeError) as info:
        push.send_multipart(b"abc")
    assert str(info.value) == "Frame 0 (97) does not support the buffer interface."


def test_send_string_of_bytes_is_typeerror(push):
    with pytest.raises(TypeError) as info:
        push.send_string(b"x")
    assert str(info.value) == "str objects only"


def test_send_without_peer_noblock_is_again(push):
    for data in (b"abc", memoryview(b"abc"), bytearray(b"abc"), zmq.Frame(b"abc")):
        error = raises_errno(zmq.EAGAIN, push.send, data, zmq.NOBLOCK)
        assert isinstance(error, zmq.Again)


@pytest.mark.parametrize("call", [
    lambda s: s.recv(), lambda s: s.recv(zmq.NOBLOCK), lambda s: s.recv_multipart(),
    lambda s: s.recv_string(), lambda s: s.recv_json(),
], ids=["recv", "recv-noblock", "recv_multipart", "recv_string", "recv_json"])
def test_recv_on_push_is_enotsup(push, call):
    error = raises_errno(zmq.ENOTSUP, call, push)
    assert str(error) == "Operation not supported"


@pytest.mark.parametrize("call", [
    lambda s: s.send(b"x"), lambda s: s.send(b"x", zmq.NOBLOCK), lambda s: s.send_multipart([b"x", b"y"]),
    lambda s: s.send_string("x"), lambda s: s.send_json(1),
], ids=["send", "send-noblock", "send_multipart", "send_string", "send_json"])
def test_send_on_pull_is_enotsup(pull, call):
    error = raises_errno(zmq.ENOTSUP, call, pull)
    assert str(error) == "Operation not supported"


def test_send_more_on_pull_is_enotsup(pull):
    # libzmq refuses every frame, not just the last one.
    raises_errno(zmq.ENOTSUP, pull.send, b"x", zmq.SNDMORE)


def test_pull_poll_for_pollout_is_zero(pull):
    with gevent.Timeout(TIMEOUT):
        assert pull.poll(10, zmq.POLLOUT) == 0


# -- context ---------------------------------------------------------------------------------------


def test_unknown_socket_type_is_einval(ctx):
    raises_errno(zmq.EINVAL, ctx.socket, 99)


def test_socket_type_must_be_int(ctx):
    with pytest.raises(TypeError):
        ctx.socket("PUSH")


def test_socket_after_term_is_enotsup():
    context = zmq.Context()
    with gevent.Timeout(TIMEOUT):
        context.term()
    assert context.closed
    error = raises_errno(zmq.ENOTSUP, context.socket, zmq.PUSH)
    assert type(error) is zmq.ZMQError


def test_unknown_context_option_is_einval(ctx):
    raises_errno(zmq.EINVAL, ctx.get, 9999)
    raises_errno(zmq.EINVAL, ctx.set, 9999, 1)


def test_unknown_context_attribute(ctx):
    with pytest.raises(AttributeError) as info:
        ctx.nonexistent  # noqa: B018
    assert str(info.value) == "Context has no such option: NONEXISTENT"
    with pytest.raises(AttributeError) as info:
        ctx.nonexistent = 1
    assert str(info.value) == "Context has no such option: NONEXISTENT"

"""The tcp transport's endpoints and OS-level options, as libzmq 4.3 has them.

Interface names in bind endpoints and source addresses (``tcp://src;dst:port``),
and the options that act on the OS socket: the keepalive options, TOS,
BINDTODEVICE, SNDBUF/RCVBUF, TCP_MAXRT, CONNECT_TIMEOUT and USE_FD; also the
context's MAX_SOCKETS/SOCKET_LIMIT.

The OS socket is reached as libzmq users reach it: the monitor's CONNECTED and
ACCEPTED events carry its file descriptor, which the test duplicates and asks
with ``getsockopt``.
"""

import errno
import os
import socket
import struct
import sys

import gevent
import pytest
from gevent.server import StreamServer

import greenmq as zmq
from greenmq._connection.interfaces import interface_address
from support import TIMEOUT, needs_ipv6_loopback, new_socket, raises_errno

LINUX = sys.platform.startswith("linux")
needs_lo = pytest.mark.skipif(interface_address("lo", False) is None,
                              reason="interface names resolve on Linux only, and this system has no 'lo'")


def _port(sock):
    return int(sock.last_endpoint.rsplit(b":", 1)[1])


def _exchange(push, pull, payload=b"ping"):
    with gevent.Timeout(TIMEOUT):
        push.send(payload)
        assert pull.recv() == payload


def _event_fd(sock, event):
    """Watch ``sock``'s monitor until ``event`` (CONNECTED or ACCEPTED) and return a duplicate of
    the file descriptor it reports, as a Python socket (the caller closes it)."""
    monitor = sock.get_monitor_socket(event)
    monitor.rcvtimeo = TIMEOUT * 1000

    def wait():
        try:
            header, _ = monitor.recv_multipart()
        finally:
            sock.disable_monitor()
            monitor.close()
        number, value = struct.unpack("=HI", header)
        assert number == event
        return socket.socket(fileno=os.dup(value))
    return wait


# -- interface names and source addresses --------------------------------------------------


@needs_lo
def test_bind_to_an_interface_name(ctx):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    pull.bind("tcp://lo:*")
    assert pull.last_endpoint.startswith(b"tcp://127.0.0.1:")
    push = new_socket(ctx, zmq.PUSH)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)


@needs_lo
def test_unbind_by_interface_name(ctx):
    pull = new_socket(ctx, zmq.PULL)
    pull.bind("tcp://lo:*")
    port = _port(pull)
    pull.unbind(f"tcp://lo:{port}")
    raises_errno(errno.ENOENT, pull.unbind, f"tcp://127.0.0.1:{port}")


@needs_lo
@needs_ipv6_loopback
def test_an_ipv6_socket_takes_the_interface_s_ipv6_address(ctx):
    pull = new_socket(ctx, zmq.PULL, ipv6=1, rcvtimeo=TIMEOUT * 1000)
    pull.bind("tcp://lo:*")
    assert pull.last_endpoint.startswith(b"tcp://[::1]:")
    push = new_socket(ctx, zmq.PUSH, ipv6=1)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)


def test_an_unknown_interface_is_enodev(sock):
    raises_errno(errno.ENODEV, sock.bind, "tcp://nosuchif0:*")


def _recording_server():
    """A plain TCP server that notes each client's (address, port)."""
    clients = []
    server = StreamServer(("127.0.0.1", 0), lambda conn, address: clients.append(address))
    server.start()
    return server, clients


def _wait_for(clients):
    with gevent.Timeout(TIMEOUT):
        while not clients:
            gevent.sleep(0.01)


@pytest.mark.parametrize("source", ["127.0.0.2:*", "127.0.0.2:0", pytest.param("lo:*", marks=needs_lo)])
def test_connect_from_a_source_address(ctx, source):
    server, clients = _recording_server()
    try:
        push = new_socket(ctx, zmq.PUSH)
        push.connect(f"tcp://{source};127.0.0.1:{server.server_port}")
        _wait_for(clients)
        assert clients[0][0] == ("127.0.0.1" if source.startswith("lo") else "127.0.0.2")
    finally:
        server.stop(timeout=0)


def test_connect_from_a_source_port(ctx):
    server, clients = _recording_server()
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.3", 0))
        source_port = probe.getsockname()[1]
    try:
        push = new_socket(ctx, zmq.PUSH)
        push.connect(f"tcp://127.0.0.3:{source_port};127.0.0.1:{server.server_port}")
        _wait_for(clients)
        assert clients[0] == ("127.0.0.3", source_port)
    finally:
        server.stop(timeout=0)


def test_an_empty_source_is_einval(sock):
    raises_errno(errno.EINVAL, sock.connect, "tcp://;127.0.0.1:5555")


def test_a_source_that_does_not_resolve_never_connects(ctx):
    """As libzmq: connect() accepts it, and every attempt fails (a source is never looked up in DNS)."""
    server, clients = _recording_server()
    try:
        push = new_socket(ctx, zmq.PUSH, reconnect_ivl=10)
        monitor = push.get_monitor_socket()
        monitor.rcvtimeo = TIMEOUT * 1000
        push.connect(f"tcp://localhost:0;127.0.0.1:{server.server_port}")
        events = []
        while events.count(zmq.EVENT_CONNECT_RETRIED) < 3:
            events.append(struct.unpack("=HI", monitor.recv_multipart()[0])[0])
        assert zmq.EVENT_CONNECTED not in events and clients == []
        push.disable_monitor()
        monitor.close()
    finally:
        server.stop(timeout=0)


# -- options on the OS socket --------------------------------------------------------------

KEEPALIVE = {"tcp_keepalive": 1, "tcp_keepalive_idle": 77, "tcp_keepalive_cnt": 7, "tcp_keepalive_intvl": 17}
BUFFER = 12288  # well below the system's defaults, so that the value read back is ours


def _check_tuned(os_sock):
    assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 77
    assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 7
    assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 17
    assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert os_sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 0x28
    # Linux reports twice the size asked for (its bookkeeping overhead); others the size itself.
    assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) in (BUFFER, 2 * BUFFER)
    assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) in (BUFFER, 2 * BUFFER)
    if LINUX:
        assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 4321


TUNING = dict(KEEPALIVE, tos=0x28, sndbuf=BUFFER, rcvbuf=BUFFER, tcp_maxrt=4321)


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="the system has no TCP_KEEPIDLE")
def test_options_reach_the_connecting_socket(ctx):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    pull.bind("tcp://127.0.0.1:*")
    push = new_socket(ctx, zmq.PUSH, **TUNING)
    connected = _event_fd(push, zmq.EVENT_CONNECTED)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)
    with connected() as os_sock:
        assert os_sock.getpeername()[1] == _port(pull)
        _check_tuned(os_sock)


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="the system has no TCP_KEEPIDLE")
def test_options_reach_the_accepted_socket(ctx):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000, **TUNING)
    accepted = _event_fd(pull, zmq.EVENT_ACCEPTED)
    pull.bind("tcp://127.0.0.1:*")
    push = new_socket(ctx, zmq.PUSH)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)
    with accepted() as os_sock:
        assert os_sock.getsockname()[1] == _port(pull)
        _check_tuned(os_sock)


def test_defaults_leave_the_os_socket_alone(ctx):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    accepted = _event_fd(pull, zmq.EVENT_ACCEPTED)
    pull.bind("tcp://127.0.0.1:*")
    push = new_socket(ctx, zmq.PUSH)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)
    with accepted() as os_sock, socket.socket() as fresh:
        assert os_sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 0
        assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        if LINUX:
            assert os_sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 0
        assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) != 2 * BUFFER
        assert fresh.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 0


@needs_ipv6_loopback
def test_tos_sets_the_ipv6_traffic_class(ctx):
    pull = new_socket(ctx, zmq.PULL, ipv6=1, rcvtimeo=TIMEOUT * 1000)
    pull.bind("tcp://[::1]:*")
    push = new_socket(ctx, zmq.PUSH, ipv6=1, tos=0x28)
    connected = _event_fd(push, zmq.EVENT_CONNECTED)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)
    with connected() as os_sock:
        assert os_sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS) == 0x28


def _bindtodevice_allowed():
    if not hasattr(socket, "SO_BINDTODEVICE") or interface_address("lo", False) is None:
        return False, "no SO_BINDTODEVICE, or no 'lo' interface, on this system"
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
        except PermissionError:
            return False, "SO_BINDTODEVICE needs CAP_NET_RAW, which this process does not have"
    return True, ""


_DEVICE_OK, _DEVICE_WHY = _bindtodevice_allowed()


@pytest.mark.skipif(not _DEVICE_OK, reason=_DEVICE_WHY)
def test_bindtodevice_on_both_ends(ctx):
    pull = new_socket(ctx, zmq.PULL, bindtodevice=b"lo", rcvtimeo=TIMEOUT * 1000)
    accepted = _event_fd(pull, zmq.EVENT_ACCEPTED)
    pull.bind("tcp://127.0.0.1:*")
    push = new_socket(ctx, zmq.PUSH, bindtodevice=b"lo")
    connected = _event_fd(push, zmq.EVENT_CONNECTED)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)
    for wait in (connected, accepted):
        with wait() as os_sock:
            assert os_sock.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0") == b"lo"


@pytest.mark.skipif(not _DEVICE_OK, reason=_DEVICE_WHY)
def test_bindtodevice_to_an_unknown_device_fails_the_bind(ctx):
    pull = new_socket(ctx, zmq.PULL, bindtodevice=b"nosuchif0")
    raises_errno(errno.ENODEV, pull.bind, "tcp://127.0.0.1:*")


def test_os_option_values_are_checked_as_libzmq_does(sock):
    assert (sock.tcp_maxrt, sock.use_fd, sock.bindtodevice, sock.connect_timeout) == (0, -1, b"", 0)
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.TCP_MAXRT, -1)
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.USE_FD, -2)
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.CONNECT_TIMEOUT, -1)
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.BINDTODEVICE, b"")
    raises_errno(errno.EINVAL, sock.setsockopt, zmq.BINDTODEVICE, b"x" * 17)
    sock.bindtodevice = b"x" * 16
    sock.tcp_maxrt = 100
    assert (sock.bindtodevice, sock.tcp_maxrt) == (b"x" * 16, 100)


# -- CONNECT_TIMEOUT -------------------------------------------------------------------------


def test_connect_timeout_gives_up_and_retries(ctx):
    """A server whose accept queue is full drops new SYNs, so a connect hangs (for minutes,
    with the system's retries). With CONNECT_TIMEOUT each attempt gives up and the next
    one starts."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())  # fills the queue: nobody accepts
        push = new_socket(ctx, zmq.PUSH, connect_timeout=50, reconnect_ivl=10)
        monitor = push.get_monitor_socket()
        monitor.rcvtimeo = TIMEOUT * 1000
        push.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
        events = []
        while events.count(zmq.EVENT_CONNECT_RETRIED) < 3:
            events.append(struct.unpack("=HI", monitor.recv_multipart()[0])[0])
        assert zmq.EVENT_CONNECTED not in events
        push.disable_monitor()
        monitor.close()


# -- USE_FD ------------------------------------------------------------------------------------


def test_use_fd_listens_on_the_given_tcp_socket(ctx):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000, use_fd=listener.detach())  # the socket owns it now
    pull.bind("tcp://127.0.0.1:*")  # the address is not used, as in libzmq
    assert pull.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    push = new_socket(ctx, zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    _exchange(push, pull)


def test_use_fd_listens_on_the_given_ipc_socket(ctx, tmp_path):
    path = str(tmp_path / "activated")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000, use_fd=listener.detach())
    pull.bind(f"ipc://{tmp_path}/ignored")
    assert pull.last_endpoint == f"ipc://{path}".encode()
    push = new_socket(ctx, zmq.PUSH)
    push.connect(f"ipc://{path}")
    _exchange(push, pull)


def test_use_fd_of_a_socket_that_does_not_listen_is_einval_and_leaves_the_fd_alone(ctx, tmp_path):
    with socket.socket() as not_listening, open(tmp_path / "not-a-socket", "wb") as regular_file:
        not_listening.bind(("127.0.0.1", 0))
        for fd, errnum in ((not_listening.fileno(), errno.EINVAL), (regular_file.fileno(), errno.ENOTSOCK)):
            pull = new_socket(ctx, zmq.PULL, use_fd=fd)
            raises_errno(errnum, pull.bind, "tcp://127.0.0.1:*")
            pull.close()
            os.fstat(fd)  # still open: the descriptor remains the application's
        assert not_listening.getsockname()[0] == "127.0.0.1"


def test_use_fd_applies_to_bind_only(ctx):
    pull = new_socket(ctx, zmq.PULL, rcvtimeo=TIMEOUT * 1000)
    pull.bind("tcp://127.0.0.1:*")
    push = new_socket(ctx, zmq.PUSH, use_fd=12345)
    push.connect(pull.last_endpoint)
    _exchange(push, pull)


# -- MAX_SOCKETS, SOCKET_LIMIT ---------------------------------------------------------------


def test_max_sockets_limits_the_context(ctx):
    ctx.max_sockets = 3
    sockets = [ctx.socket(zmq.PUSH) for _ in range(3)]
    raises_errno(errno.EMFILE, ctx.socket, zmq.PUSH)
    for s in sockets:
        s.close()


@pytest.mark.parametrize("value", [0, -1])
def test_max_sockets_must_be_positive(ctx, value):
    raises_errno(errno.EINVAL, ctx.set, zmq.MAX_SOCKETS, value)
    assert ctx.get(zmq.MAX_SOCKETS) == 1023


def test_socket_limit_is_read_only(ctx):
    assert ctx.get(zmq.SOCKET_LIMIT) == 65535
    raises_errno(errno.EINVAL, ctx.set, zmq.SOCKET_LIMIT, 10)

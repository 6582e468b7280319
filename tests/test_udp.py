"""RADIO and DISH over udp, greenmq to greenmq and against raw datagrams.

Unicast runs on 127.0.0.1. Loopback udp neither loses nor reorders a
handful of datagrams, so "X was not delivered" is shown by a later marker
arriving first, never by waiting. Multicast runs in a network namespace the
test makes (``unshare -rn``), where the loopback interface takes multicast;
it is skipped, with the kernel's answer, only where that is refused.

The interop with libzmq over udp is in interop/test_udp_interop.py.
"""

import json
import os
import shutil
import socket
import sys
import textwrap

import gevent
import gevent.socket
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq._connection import udp

from support import PROGRAM_TIMEOUT, ROOT, TIMEOUT, needs_ipv6_loopback, new_socket, raises_errno

MARKER = b"marker"


@pytest.fixture
def dish(ctx):
    """A DISH bound to a free udp port on 127.0.0.1, joined to the group ``marker``."""
    sock = new_socket(ctx, zmq.DISH, rcvtimeo=TIMEOUT * 1000)
    sock.bind("udp://127.0.0.1:*")
    sock.join(MARKER)
    return sock


@pytest.fixture
def raw_sender():
    """A plain (non-greenmq) udp socket, to send the DISH datagrams byte by byte."""
    sock = gevent.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sock
    sock.close()


@pytest.fixture
def raw_receiver():
    """A plain udp socket on 127.0.0.1 standing in for a DISH: it shows the datagrams a RADIO sends."""
    sock = gevent.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


def address_of(sock):
    """(host, port) of a bound udp DISH."""
    host, _, port = sock.last_endpoint.decode()[len("udp://"):].rpartition(":")
    return host, int(port)


def received(dish):
    """The next message: (group, body)."""
    frame = dish.recv(copy=False)
    return frame.group.encode(), frame.bytes


def until_marker(dish):
    """Everything the DISH receives up to the marker (which is sent last), as (group, body)."""
    got = []
    with gevent.Timeout(TIMEOUT):
        while True:
            group, body = received(dish)
            if group == MARKER:
                return got
            got.append((group, body))


# -- greenmq RADIO -> greenmq DISH ----------------------------------------------------------------


@pytest.mark.parametrize("bind", ["udp://127.0.0.1:*", "udp://*:*"], ids=["explicit", "wildcard"])
def test_radio_to_dish_filters_by_group(ctx, bind):
    """The RADIO sends every group over udp; the DISH keeps those it joined, in order, with their group."""
    dish = new_socket(ctx, zmq.DISH, rcvtimeo=TIMEOUT * 1000)
    dish.bind(bind)
    endpoint = dish.last_endpoint.decode()
    assert endpoint.startswith(bind[:-1]) and int(endpoint.rpartition(":")[2]) > 0
    dish.join(b"weather")
    dish.join(MARKER)
    radio = new_socket(ctx, zmq.RADIO)
    radio.connect(f"udp://127.0.0.1:{address_of(dish)[1]}")

    radio.send(b"sunny", group=b"weather")
    radio.send(b"goal", group=b"sports")
    radio.send(b"rainy", group="weather")
    radio.send(b"", group=MARKER)
    assert until_marker(dish) == [(b"weather", b"sunny"), (b"weather", b"rainy")]

    dish.leave(b"weather")
    dish.join(b"sports")
    radio.send(b"sunny", group=b"weather")
    radio.send(b"goal", group=b"sports")
    radio.send(b"", group=MARKER)
    assert until_marker(dish) == [(b"sports", b"goal")]


def test_frame_group_and_zero_copy(ctx, dish):
    """A Frame's group and a zero-copy send travel as over tcp."""
    dish.join(b"g")
    radio = new_socket(ctx, zmq.RADIO)
    radio.connect(dish.last_endpoint.decode())
    frame = zmq.Frame(b"framed")
    frame.group = "g"
    radio.send(frame, copy=False)
    radio.send(memoryview(b"viewed"), group=b"g", copy=False)
    with gevent.Timeout(TIMEOUT):
        assert received(dish) == (b"g", b"framed")
        assert received(dish) == (b"g", b"viewed")


def test_two_radios_one_dish_and_unbind(ctx, dish):
    """Several RADIOs may send to one DISH; after unbind the port is free again, and a new DISH takes it."""
    host, port = address_of(dish)
    radios = [new_socket(ctx, zmq.RADIO) for _ in range(2)]
    for radio in radios:
        radio.connect(f"udp://{host}:{port}")
    dish.join(b"g")
    radios[0].send(b"from 0", group=b"g")
    radios[1].send(b"from 1", group=b"g")
    radios[1].send(b"", group=MARKER)
    assert sorted(until_marker(dish)) == [(b"g", b"from 0"), (b"g", b"from 1")]

    dish.unbind(dish.last_endpoint)
    raises_errno(zmq.ENOENT, dish.unbind, dish.last_endpoint)
    other = new_socket(ctx, zmq.DISH, rcvtimeo=TIMEOUT * 1000)
    other.bind(f"udp://127.0.0.1:{port}")
    other.join(b"g")
    radios[0].send(b"again", group=b"g")
    with gevent.Timeout(TIMEOUT):
        assert received(other) == (b"g", b"again")


def test_radio_disconnect(ctx, dish, raw_receiver):
    """After disconnect the RADIO sends nothing more to that endpoint; disconnecting twice is ENOENT."""
    radio = new_socket(ctx, zmq.RADIO)
    target = "udp://127.0.0.1:%d" % raw_receiver.getsockname()[1]
    radio.connect(target)
    radio.connect(dish.last_endpoint.decode())
    radio.send(b"one", group=b"g")
    assert raw_receiver.recv(100) == b"\x01gone"
    radio.disconnect(target)
    raises_errno(zmq.ENOENT, radio.disconnect, target)
    radio.send(b"", group=MARKER)
    with gevent.Timeout(TIMEOUT):
        assert received(dish) == (MARKER, b"")
    raw_receiver.settimeout(0.05)
    with pytest.raises(socket.timeout):
        raw_receiver.recv(100)


@needs_ipv6_loopback
def test_ipv6_unicast(ctx):
    """With IPV6 set, ``udp://[::1]:port`` works both ways; without it, an IPv6 address is EINVAL to a RADIO."""
    dish = new_socket(ctx, zmq.DISH, ipv6=True, rcvtimeo=TIMEOUT * 1000)
    dish.bind("udp://[::1]:*")
    endpoint = dish.last_endpoint.decode()
    assert endpoint.startswith("udp://[::1]:")
    dish.join(b"six")
    radio = new_socket(ctx, zmq.RADIO, ipv6=True)
    radio.connect(endpoint)
    radio.send(b"over ipv6", group=b"six")
    with gevent.Timeout(TIMEOUT):
        assert received(dish) == (b"six", b"over ipv6")
    raises_errno(zmq.EINVAL, new_socket(ctx, zmq.RADIO).connect, endpoint)


# -- who may bind and connect ---------------------------------------------------------------------


@pytest.mark.parametrize("socket_type, method", [
    (zmq.RADIO, "bind"), (zmq.DISH, "connect"), (zmq.PUB, "bind"), (zmq.SUB, "connect"),
    (zmq.CLIENT, "connect"), (zmq.SERVER, "bind"),
])
def test_only_dish_binds_only_radio_connects(ctx, socket_type, method):
    sock = new_socket(ctx, socket_type)
    raises_errno(zmq.ENOCOMPATPROTO, getattr(sock, method), "udp://127.0.0.1:5555")


@pytest.mark.parametrize("socket_type, method, address", [
    (zmq.DISH, "bind", "udp://127.0.0.1"),  # no port
    (zmq.DISH, "bind", "udp://127.0.0.1:70000"),
    (zmq.RADIO, "connect", "udp://*:5555"),  # no wildcard host to send to
    (zmq.RADIO, "connect", "udp://127.0.0.1:*"),  # nor port
    (zmq.RADIO, "connect", "udp://127.0.0.1;127.0.0.1:5555"),  # a source needs a multicast group
    (zmq.RADIO, "connect", "udp://;239.1.1.1:5555"),
])
def test_bad_addresses_are_einval(ctx, socket_type, method, address):
    sock = new_socket(ctx, socket_type)
    raises_errno(zmq.EINVAL, getattr(sock, method), address)


def test_bind_errors_are_reported(ctx, dish):
    """greenmq binds at once (libzmq later, in its I/O thread), so an address not of this host fails bind()."""
    sock = new_socket(ctx, zmq.DISH)
    raises_errno(zmq.EADDRNOTAVAIL, sock.bind, "udp://192.0.2.1:5555")


# -- datagrams: the wire form and its limits ------------------------------------------------------


def test_datagram_is_length_group_body(ctx, raw_receiver):
    """One octet of group length, the group, the body; over 8192 octets nothing is sent (libzmq's MAX_UDP_MSG)."""
    radio = new_socket(ctx, zmq.RADIO)
    radio.connect("udp://127.0.0.1:%d" % raw_receiver.getsockname()[1])
    radio.send(b"body", group=b"grp")
    radio.send(b"", group=b"")
    radio.send(b"x" * (8192 - 3), group=b"gg")  # exactly 8192 octets: sent
    radio.send(b"x" * (8192 - 2), group=b"gg")  # 8193: dropped
    radio.send(b"end", group=b"m")
    assert raw_receiver.recv(65536) == b"\x03grpbody"
    assert raw_receiver.recv(65536) == b"\x00"
    assert raw_receiver.recv(65536) == b"\x02gg" + b"x" * (8192 - 3)
    assert raw_receiver.recv(65536) == b"\x01mend"


def test_groups_of_128_octets_or_more_are_never_sent(ctx, raw_receiver):
    """A libzmq DISH reads the length octet as signed and aborts on >= 128: greenmq drops such messages."""
    radio = new_socket(ctx, zmq.RADIO)
    radio.connect("udp://127.0.0.1:%d" % raw_receiver.getsockname()[1])
    for length in (127, 128, 200, 255):
        radio.send(b"body", group=b"g" * length)
    radio.send(b"end", group=b"m")
    assert raw_receiver.recv(65536) == bytes([127]) + b"g" * 127 + b"body"
    assert raw_receiver.recv(65536) == b"\x01mend"


def test_dish_survives_malformed_datagrams(dish, raw_sender):
    """Empty datagrams and groups longer than the datagram are dropped; the DISH still delivers afterwards."""
    dish.join(b"ab")
    target = address_of(dish)
    for datagram in (b"", b"\x05ab", b"\xff", b"\xff" + b"x" * 200, b"\x80ab", b"\x02a"):
        raw_sender.sendto(datagram, target)
    raw_sender.sendto(b"\x02abgood", target)
    raw_sender.sendto(b"\x06marker", target)
    assert until_marker(dish) == [(b"ab", b"good")]


def test_dish_takes_long_groups_and_cuts_huge_datagrams(dish, raw_sender):
    """Any group length up to 255 is read unsigned; a datagram over 8192 octets is cut to 8192 (as libzmq reads it)."""
    long_group = b"L" * 200
    dish.join(long_group)
    dish.join(b"big")
    target = address_of(dish)
    raw_sender.sendto(bytes([200]) + long_group + b"long", target)
    raw_sender.sendto(b"\x03big" + b"y" * 60000, target)
    raw_sender.sendto(b"\x06marker", target)
    assert until_marker(dish) == [(long_group, b"long"), (b"big", b"y" * (8192 - 4))]


def test_full_dish_drops_then_reads_on(ctx, raw_sender):
    """A datagram that arrives while the DISH's queue is full is dropped, as by libzmq; reading resumes with room.

    The burst is in the kernel before the DISH's reader runs, and the reader takes datagrams without
    yielding: 0 and 1 fill the queue (RCVHWM 2), 2 finds it full and is dropped."""
    dish = new_socket(ctx, zmq.DISH, rcvhwm=2, rcvtimeo=TIMEOUT * 1000)
    dish.bind("udp://127.0.0.1:*")
    dish.join(b"n")
    target = address_of(dish)
    for number in range(20):
        raw_sender.sendto(b"\x01n%d" % number, target)
    with gevent.Timeout(TIMEOUT):
        got = [received(dish) for _ in range(3)]
    assert got[:2] == [(b"n", b"0"), (b"n", b"1")]
    assert got[2][0] == b"n" and 2 < int(got[2][1]) < 20


def test_codec_unit():
    """encode/decode directly: the byte layout both ways, and what is refused."""
    assert udp.encode(b"g", b"body") == b"\x01gbody"
    assert udp.encode(b"g" * 128, b"") is None
    assert udp.encode(b"", b"x" * 8191) == b"\x00" + b"x" * 8191
    assert udp.encode(b"", b"x" * 8192) is None
    assert udp.decode(b"\x01gbody") == [b"g", b"body"]
    assert udp.decode(b"\x00") == [b"", b""]
    assert udp.decode(b"") is None
    assert udp.decode(b"\x02g") is None


# -- multicast, in a network namespace of the test's own ------------------------------------------

MULTICAST_PROGRAM = textwrap.dedent("""
    import json
    import gevent
    import greenmq as zmq

    ctx = zmq.Context()
    results = {}
    with gevent.Timeout(20):
        dishes = []
        for endpoint in ("udp://239.1.2.3:6000", "udp://lo;239.1.2.3:6000", "udp://127.0.0.1;239.1.2.3:6000"):
            dish = ctx.socket(zmq.DISH)
            dish.linger = 0
            dish.bind(endpoint)
            dish.join(b"weather")
            dishes.append(dish)
        radio = ctx.socket(zmq.RADIO)
        radio.linger = 0
        radio.connect("udp://lo;239.1.2.3:6000")
        radio.send(b"goal", group=b"sports")
        radio.send(b"sunny", group=b"weather")
        results["received"] = [[frame.group, frame.bytes.decode()] for frame in (d.recv(copy=False) for d in dishes)]
        plain = ctx.socket(zmq.RADIO)
        plain.linger = 0
        plain.connect("udp://239.1.2.3:6000")
        plain.send(b"rainy", group=b"weather")
        results["after"] = [d.recv().decode() for d in dishes]
    ctx.destroy(linger=0)
    print(json.dumps(results))
""")

NAMESPACE_SETUP = "ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo"


def test_multicast_in_a_network_namespace(tmp_path):
    """Three DISHes join one group on one port (plain, ``iface;group`` and ``address;group``); each gets every
    datagram of the group, from a RADIO naming the interface and from one that does not."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare is None or ip is None:
        pytest.skip("multicast needs unshare(1) and ip(8) to make a private network namespace")
    probe = gevent.subprocess.run([unshare, "-rn", "sh", "-c", NAMESPACE_SETUP],
                                  stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE, timeout=TIMEOUT)
    if probe.returncode != 0:
        pytest.skip(f"the kernel refused a private network namespace with multicast on lo: {probe.stderr.decode()}")
    script = tmp_path / "multicast.py"
    script.write_text(MULTICAST_PROGRAM)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = gevent.subprocess.run(
        [unshare, "-rn", "sh", "-c", f'{NAMESPACE_SETUP} && exec "$0" "$1"', sys.executable, str(script)],
        stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE, env=env, timeout=PROGRAM_TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()
    results = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert results["received"] == [["weather", "sunny"]] * 3
    assert results["after"] == ["rainy"] * 3


def test_radio_with_tcp_and_udp_dishes(ctx, dish):
    """One RADIO, a DISH over tcp (joins honoured at the RADIO) and one over udp (every group sent, filtered there)."""
    radio = new_socket(ctx, zmq.RADIO)
    radio.bind("tcp://127.0.0.1:*")
    tcp_dish = new_socket(ctx, zmq.DISH, rcvtimeo=TIMEOUT * 1000)
    tcp_dish.join(b"tcp-only")
    tcp_dish.join(MARKER)
    tcp_dish.connect(radio.last_endpoint)
    radio.connect(dish.last_endpoint.decode())
    dish.join(b"udp-only")
    sent = 0
    with gevent.Timeout(TIMEOUT):
        while not tcp_dish.poll(20):  # its joins reach the RADIO after the handshake: until then it gets nothing
            radio.send(b"", group=MARKER)
            sent += 1
    for _ in range(sent):  # the udp DISH got every marker
        assert until_marker(dish) == []
    radio.send(b"t", group=b"tcp-only")
    radio.send(b"u", group=b"udp-only")
    radio.send(b"end", group=MARKER)
    assert until_marker(dish) == [(b"udp-only", b"u")]
    got = []
    with gevent.Timeout(TIMEOUT):
        while not got or got[-1] != (MARKER, b"end"):
            got.append(received(tcp_dish))
    assert [message for message in got if message[0] != MARKER] == [(b"tcp-only", b"t")]

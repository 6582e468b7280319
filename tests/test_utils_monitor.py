"""greenmq.utils.monitor (pyzmq's zmq.utils.monitor) and the Event flags it returns."""

import struct

import gevent
import pytest

import greenmq as zmq
from greenmq.utils.monitor import parse_monitor_message, recv_monitor_message

from support import TIMEOUT, new_socket


def _raw(event, value, endpoint=b"tcp://127.0.0.1:5555"):
    return [struct.pack("=HI", event, value), endpoint]


# -- parse_monitor_message ---------------------------------------------------------------------

def test_parse_gives_event_value_and_endpoint():
    parsed = parse_monitor_message(_raw(zmq.EVENT_ACCEPTED, 17, b"tcp://127.0.0.1:1"))
    assert parsed == {"event": zmq.EVENT_ACCEPTED, "value": 17, "endpoint": b"tcp://127.0.0.1:1"}
    assert type(parsed["event"]) is zmq.Event
    assert parsed["event"] is zmq.Event.ACCEPTED
    # pyzmq wraps the value in Event too, whatever it means (here a file descriptor).
    assert type(parsed["value"]) is zmq.Event
    assert int(parsed["value"]) == 17


def test_parse_a_protocol_error_value():
    parsed = parse_monitor_message(_raw(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                        zmq.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO))
    assert parsed["event"] is zmq.Event.HANDSHAKE_FAILED_PROTOCOL
    assert parsed["value"] is zmq.Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO
    assert "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO" in repr(parsed["value"])


def test_parse_accepts_a_tuple_of_frames():
    assert parse_monitor_message(tuple(_raw(zmq.EVENT_CLOSED, 3)))["event"] is zmq.Event.CLOSED


@pytest.mark.parametrize("msg", [
    [],
    [b"\x01\x00\x00\x00\x00\x00"],                               # no endpoint frame
    [b"\x01\x00\x00\x00\x00\x00", b"ep", b"extra"],              # three frames
    [b"\x01\x00\x00\x00\x00", b"ep"],                            # header one byte short
    [b"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", b"ep"],        # the version 2 header size
])
def test_parse_rejects_what_is_not_a_v1_event(msg):
    with pytest.raises(RuntimeError, match="Invalid event message format"):
        parse_monitor_message(msg)


# -- recv_monitor_message with real sockets ---------------------------------------------------

def _next(monitor, wanted):
    """The next event in ``wanted``, skipping the others (a connect may first be delayed, or retried)."""
    with gevent.Timeout(TIMEOUT):
        while True:
            message = recv_monitor_message(monitor)
            if message["event"] in wanted:
                return message


def test_tcp_events_from_both_ends(ctx):
    server = new_socket(ctx, zmq.REP)
    server_monitor = server.get_monitor_socket()
    port = server.bind_to_random_port("tcp://127.0.0.1")
    endpoint = f"tcp://127.0.0.1:{port}".encode()
    client = new_socket(ctx, zmq.REQ)
    client_monitor = client.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
    client.connect(endpoint.decode())

    listening = _next(server_monitor, {zmq.EVENT_LISTENING})
    assert listening["endpoint"] == endpoint
    accepted = _next(server_monitor, {zmq.EVENT_ACCEPTED})
    assert accepted["endpoint"] == endpoint
    assert int(accepted["value"]) >= 0  # the accepted connection's file descriptor

    connected = _next(client_monitor, {zmq.EVENT_CONNECTED})
    assert connected == {"event": zmq.EVENT_CONNECTED, "value": connected["value"], "endpoint": endpoint}
    assert _next(client_monitor, {zmq.EVENT_HANDSHAKE_SUCCEEDED})["endpoint"] == endpoint

    with gevent.Timeout(TIMEOUT):
        client.send(b"ping")
        assert server.recv() == b"ping"
    for s in (client_monitor, server_monitor, client, server):
        s.close()


def test_noblock_without_an_event_raises_again(ctx):
    sock = new_socket(ctx, zmq.PULL)
    monitor = sock.get_monitor_socket()
    with pytest.raises(zmq.Again):
        recv_monitor_message(monitor, zmq.NOBLOCK)
    sock.disable_monitor()
    with gevent.Timeout(TIMEOUT):
        stopped = recv_monitor_message(monitor)
    assert stopped == {"event": zmq.EVENT_MONITOR_STOPPED, "value": 0, "endpoint": b""}
    monitor.close()
    sock.close()


def test_monitor_bound_by_address_on_a_pair_of_our_own(ctx):
    sock = new_socket(ctx, zmq.PUB)
    sock.monitor("inproc://utils-monitor-test", zmq.EVENT_LISTENING)
    reader = new_socket(ctx, zmq.PAIR)
    reader.connect("inproc://utils-monitor-test")
    sock.bind("tcp://127.0.0.1:*")
    with gevent.Timeout(TIMEOUT):
        event = recv_monitor_message(reader)
    assert event["event"] is zmq.Event.LISTENING
    assert event["endpoint"] == sock.last_endpoint
    sock.monitor(None)
    reader.close()
    sock.close()

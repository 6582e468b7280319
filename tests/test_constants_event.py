"""The Event flags and their module-level names, as pyzmq 27 defines them."""

import pytest

import greenmq as zmq
from greenmq import constants

# pyzmq 27's Event, in its order (libzmq's zmq.h numbers).
PYZMQ_EVENTS = [
    ("PROTOCOL_ERROR_WS_UNSPECIFIED", 0x30000000),
    ("PROTOCOL_ERROR_ZMTP_UNSPECIFIED", 0x10000000),
    ("PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND", 0x10000001),
    ("PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE", 0x10000002),
    ("PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE", 0x10000003),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", 0x10000011),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE", 0x10000012),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO", 0x10000013),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE", 0x10000014),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR", 0x10000015),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY", 0x10000016),
    ("PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME", 0x10000017),
    ("PROTOCOL_ERROR_ZMTP_INVALID_METADATA", 0x10000018),
    ("PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC", 0x11000001),
    ("PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", 0x11000002),
    ("PROTOCOL_ERROR_ZAP_UNSPECIFIED", 0x20000000),
    ("PROTOCOL_ERROR_ZAP_MALFORMED_REPLY", 0x20000001),
    ("PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID", 0x20000002),
    ("PROTOCOL_ERROR_ZAP_BAD_VERSION", 0x20000003),
    ("PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE", 0x20000004),
    ("PROTOCOL_ERROR_ZAP_INVALID_METADATA", 0x20000005),
    ("CONNECTED", 0x1),
    ("CONNECT_DELAYED", 0x2),
    ("CONNECT_RETRIED", 0x4),
    ("LISTENING", 0x8),
    ("BIND_FAILED", 0x10),
    ("ACCEPTED", 0x20),
    ("ACCEPT_FAILED", 0x40),
    ("CLOSED", 0x80),
    ("CLOSE_FAILED", 0x100),
    ("DISCONNECTED", 0x200),
    ("MONITOR_STOPPED", 0x400),
    ("HANDSHAKE_FAILED_NO_DETAIL", 0x800),
    ("HANDSHAKE_SUCCEEDED", 0x1000),
    ("HANDSHAKE_FAILED_PROTOCOL", 0x2000),
    ("HANDSHAKE_FAILED_AUTH", 0x4000),
    ("ALL_V1", 0xFFFF),
    ("ALL", 0xFFFF),
    ("PIPES_STATS", 0x10000),
    ("ALL_V2", 0x1FFFF),
]


def test_members_names_values_and_order():
    assert [(name, int(member)) for name, member in zmq.Event.__members__.items()] == PYZMQ_EVENTS


@pytest.mark.parametrize("name", [name for name, _ in PYZMQ_EVENTS])
def test_module_level_names(name):
    """EVENT_<name> for events, the bare name for protocol errors; both the Event member itself."""
    member = zmq.Event[name]
    module_name = name if name.startswith("PROTOCOL_ERROR_") else "EVENT_" + name
    assert getattr(zmq, module_name) is member
    assert getattr(constants, module_name) is member
    assert module_name in zmq.__all__
    if name.startswith("PROTOCOL_ERROR_"):
        assert not hasattr(zmq, "EVENT_" + name)  # pyzmq has no EVENT_PROTOCOL_ERROR_* names


@pytest.mark.parametrize("name", [name for name, _ in PYZMQ_EVENTS])
def test_reprs_name_the_member(name):
    assert name in repr(zmq.Event[name])


def test_aliases_and_unions():
    assert zmq.Event.ALL is zmq.Event.ALL_V1
    assert repr(zmq.EVENT_ALL) == "<Event.ALL_V1: 65535>"
    assert zmq.Event.ALL_V2 == zmq.Event.ALL_V1 | zmq.Event.PIPES_STATS
    both = repr(zmq.Event.CONNECTED | zmq.Event.CONNECT_DELAYED)  # the order of the names varies by Python
    assert "CONNECTED" in both and "CONNECT_DELAYED" in both and ": 3>" in both


def test_protocol_error_enum_has_the_same_numbers():
    """greenmq's ProtocolError (what its protocol layer raises with) and Event agree on every value."""
    for member in constants.ProtocolError:
        assert int(zmq.Event["PROTOCOL_ERROR_" + member.name]) == int(member)

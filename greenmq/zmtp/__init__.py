"""ZMTP 3.x as a sans-I/O protocol: bytes in, messages and replies out; no sockets, no clocks.

ZMTP 2.0 and 1.0 peers are served too: :mod:`~greenmq.zmtp.legacy`."""

from typing import Union

from .connection import DOWNGRADED, HANDSHAKE, READY, ZmtpConnection
from .errors import MessageTooLarge, ZmtpError, ZmtpPeerError, ZmtpVersionError
from .events import Ping, Pong
from .framing import FrameDecoder, GroupCommand, Subscription, encode_command, encode_messages, frame_header
from .greeting import GREETING_SIZE, make_greeting
from .legacy import LegacyConnection
from .metadata import Metadata, decode_properties, encode_properties

# What carries a connection's traffic after the greeting: a 3.x connection, or the one it downgraded to.
Connection = Union[ZmtpConnection, LegacyConnection]

__all__ = [
    "Connection", "DOWNGRADED", "GREETING_SIZE", "HANDSHAKE", "READY", "FrameDecoder", "GroupCommand",
    "LegacyConnection", "MessageTooLarge", "Metadata", "Ping", "Pong", "Subscription",
    "ZmtpConnection", "ZmtpError", "ZmtpPeerError", "ZmtpVersionError", "decode_properties",
    "encode_command", "encode_messages", "encode_properties", "frame_header", "make_greeting",
]

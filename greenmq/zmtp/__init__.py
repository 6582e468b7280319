"""ZMTP 3.x as a sans-I/O protocol: bytes in, messages and replies out; no sockets, no clocks."""

from .connection import HANDSHAKE, READY, ZmtpConnection
from .errors import MessageTooLarge, ZmtpError, ZmtpPeerError, ZmtpVersionError
from .events import Ping, Pong
from .framing import FrameDecoder, GroupCommand, Subscription, encode_command, encode_messages, frame_header
from .greeting import GREETING_SIZE, make_greeting
from .metadata import Metadata, decode_properties, encode_properties

__all__ = [
    "GREETING_SIZE", "HANDSHAKE", "READY", "FrameDecoder", "GroupCommand", "MessageTooLarge", "Metadata", "Ping",
    "Pong", "Subscription",
    "ZmtpConnection", "ZmtpError", "ZmtpPeerError", "ZmtpVersionError", "decode_properties",
    "encode_command", "encode_messages", "encode_properties", "frame_header", "make_greeting",
]

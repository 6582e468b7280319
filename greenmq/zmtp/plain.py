"""The PLAIN mechanism (ZeroMQ RFC 24): user name and password in clear, checked by ZAP.

Client: HELLO(username, password) → WELCOME → INITIATE(metadata) → READY(metadata).
The server admits nobody on its own: every HELLO goes to the ZAP handler, and
a server with no handler bound closes the connection, as libzmq does.
"""

from ..constants import ProtocolError
from .errors import ZapUnavailable, ZmtpError
from .mechanism import Mechanism
from .metadata import encode_properties


def encode_hello(username, password):
    return bytes((len(username),)) + username + bytes((len(password),)) + password


def decode_hello(data):
    """(username, password) from a HELLO body; the body must be exactly those two strings."""
    malformed = ZmtpError("malformed PLAIN HELLO", ProtocolError.ZMTP_MALFORMED_COMMAND_HELLO)
    if not data:
        raise malformed
    end = 1 + data[0]
    if end >= len(data):
        raise malformed
    username = bytes(data[1:end])
    password_end = end + 1 + data[end]
    if password_end != len(data):
        raise malformed
    return username, bytes(data[end + 1:password_end])


# libzmq 4.3.5's PLAIN server writes its ERROR command's name as "\x05ERROR" in C, where the
# hex escape swallows the "E": the body starts with 0x5E "RROR". Its own client expects that.
LIBZMQ_PLAIN_ERROR = b"^RROR"


class PlainClient(Mechanism):
    name = b"PLAIN"

    def __init__(self, config, properties):
        super().__init__(config, properties)
        self._state = "hello sent"

    def split_command(self, body):
        """Also reads libzmq's misspelt ERROR (see LIBZMQ_PLAIN_ERROR) as the ERROR it means."""
        if body[:len(LIBZMQ_PLAIN_ERROR)] == LIBZMQ_PLAIN_ERROR:
            return b"ERROR", body[len(LIBZMQ_PLAIN_ERROR):]
        return super().split_command(body)

    def start(self):
        self.send_command(b"HELLO", encode_hello(self.config.username, self.config.password))
        return False

    def process(self, name, data):
        if self._state == "hello sent" and name == b"WELCOME":
            if data:
                raise ZmtpError("malformed PLAIN WELCOME", ProtocolError.ZMTP_MALFORMED_COMMAND_WELCOME)
            self.send_command(b"INITIATE", encode_properties(self.properties))
            self._state = "initiate sent"
            return False
        if self._state == "initiate sent" and name == b"READY":
            self.accept_metadata(data)
            self.complete = True
            return True
        return self.unexpected(name, data)


class PlainServer(Mechanism):
    name = b"PLAIN"
    as_server = True

    def __init__(self, config, properties):
        super().__init__(config, properties)
        self._state = "waiting for hello"

    def start(self):
        return False

    def process(self, name, data):
        if self._state == "waiting for hello" and name == b"HELLO":
            username, password = decode_hello(data)
            if self.config.zap_enforce_domain and not self.config.zap_domain:
                # libzmq asserts here (a PLAIN server that enforces needs a domain); the
                # connection fails instead, as without a handler.
                raise ZapUnavailable("ZAP_ENFORCE_DOMAIN is set on a PLAIN server without a ZAP_DOMAIN")
            self._state = "waiting for zap"
            self.ask_zap([username, password])
            return False
        if self._state == "welcome sent" and name == b"INITIATE":
            self.accept_metadata(data)
            self.send_command(b"READY", encode_properties(self.properties))
            self.complete = True
            return True
        return self.unexpected(name, data)

    def _no_zap_handler(self):
        raise ZapUnavailable("a PLAIN server needs a ZAP handler at inproc://zeromq.zap.01 and none is bound")

    def _zap_admitted(self):
        self.send_command(b"WELCOME")
        self._state = "welcome sent"

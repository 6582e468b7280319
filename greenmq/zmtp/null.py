"""The NULL security mechanism: each side sends READY with its metadata, no authentication.

libzmq sends READY as soon as the greeting is done, whichever side it is on,
so greenmq does the same; the handshake is over once READY has gone both ways.
With a ``ZAP_DOMAIN`` set, the ZAP handler (if one is bound) is asked first,
and our READY waits for its verdict, as in libzmq.

A refusal waits for the peer's READY: a libzmq NULL client takes an ERROR
as final (and does not reconnect) only once it has sent its READY. Without
the wait, an ERROR that reaches it together with the end of our greeting
-- which goes out only after the peer's revision arrived -- would be read
before its READY went out, and it would reconnect.
"""

from .mechanism import Mechanism
from .metadata import encode_properties


class NullMechanism(Mechanism):
    """Handshake state for NULL."""

    name = b"NULL"

    def __init__(self, config, properties):
        super().__init__(config, properties)
        self._ready_sent = False
        self._refusal = None  # the ZAP status of a refusal that waits for the peer's READY

    def start(self):
        if self.config.zap_domain:
            self.ask_zap([])
        else:
            self._send_ready()
        return self.complete

    def process(self, name, data):
        if name == b"READY" and self._refusal is not None:
            super()._zap_refused(self._refusal)
        if name == b"READY" and self.peer_metadata is None:
            self.accept_metadata(data)
            self.complete = self._ready_sent
            return self.complete
        return self.unexpected(name, data)

    def _zap_refused(self, status):
        if self.peer_metadata is None:
            self._refusal = status
        else:
            super()._zap_refused(status)

    def _zap_admitted(self):
        self._send_ready()

    def _send_ready(self):
        self.send_command(b"READY", encode_properties(self.properties))
        self._ready_sent = True
        self.complete = self.peer_metadata is not None

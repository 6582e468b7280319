"""Asking the context's ZAP handler (RFC 27) whether to admit a peer.

A server-side handshake that needs a verdict pauses, and the engine asks
here: a fresh DEALER connects to ``inproc://zeromq.zap.01`` in the socket's
context, sends one request and waits for one reply. The handshake's
HANDSHAKE_IVL bounds the wait, since the question is asked inside it.
"""

from __future__ import annotations

from typing import Any

from ..constants import SocketType
from ..zmtp import zap

ZAP_NAME = zap.ENDPOINT.partition("://")[2]


class ZapClient:
    """The questions one endpoint's connections ask: ``domain`` is ZAP_DOMAIN, ``identity``
    the socket's routing id, as libzmq sends them."""

    __slots__ = ("_context", "_domain", "_identity")

    def __init__(self, context: Any, domain: bytes, identity: bytes):
        self._context = context
        self._domain = domain
        self._identity = identity

    def ask(self, address: str, mechanism: bytes, credentials: list[bytes]) -> zap.ZapReply | None:
        """The handler's answer about a peer at ``address``; None when no handler is bound."""
        if not self._context.registry.inproc.is_bound(ZAP_NAME):
            return None
        request = zap.request_frames(self._domain, address.encode(), self._identity, mechanism, credentials)
        client = self._context.socket(SocketType.DEALER)
        try:
            client.linger = 0
            client.connect(zap.ENDPOINT)
            client.send_multipart(request)
            return zap.parse_reply(client.recv_multipart())
        finally:
            client.close(0)

"""The ZMTP greeting and handshake over one connected stream socket.

The sans-I/O :class:`~greenmq.zmtp.ZmtpConnection` decides what to say; this
module does the talking: it sends what the connection queued, feeds it what
arrives, asks the ZAP handler when a server mechanism waits for a verdict,
and gives up after HANDSHAKE_IVL. A flooding peer cannot grow memory here:
nothing is read while the ZAP handler is asked. When the peer turns out to
speak ZMTP 2.0 or 1.0, the :class:`~greenmq.zmtp.LegacyConnection` the
connection hands over to takes its place.
"""

from __future__ import annotations

from typing import Any

import gevent

from ..zmtp import READY, Connection, ZmtpConnection
from .failures import HandshakeTimeout, PeerClosed
from .reader import READ_SIZE
from .zap_client import ZapClient


def perform_handshake(sock: Any, conn: ZmtpConnection, timeout_ms: int, zap_client: ZapClient,
                      peer_address: str | None) -> tuple[Connection, list[Any]]:
    """Talk until the handshake is done; return the connection to carry the traffic (``conn``,
    or the one it downgraded to) and the messages that arrived right behind the handshake.

    Raises what ended it instead: :class:`PeerClosed`, :class:`HandshakeTimeout`,
    :class:`~greenmq.zmtp.ZmtpError` (with an ERROR queued for the peer where
    the protocol wants one), or ``OSError``.
    """
    timer = gevent.Timeout(timeout_ms / 1000.0, HandshakeTimeout) if timeout_ms > 0 else None
    if timer is not None:
        timer.start()
    current: Connection = conn
    try:
        _send_all(sock, conn.data_to_send())
        messages: list[Any] = []
        while current.state is not READY:
            if current.zap_request is not None:
                mechanism, credentials = current.zap_request
                messages = conn.zap_reply(zap_client.ask(peer_address or "", mechanism, credentials))
            else:
                data = sock.recv(READ_SIZE)
                if not data:
                    raise PeerClosed()
                messages = current.receive(data)
                if conn.downgraded is not None:
                    current = conn.downgraded
            out = current.data_to_send()
            if out:
                _send_all(sock, out)
    finally:
        if timer is not None:
            timer.close()
    if peer_address is not None:
        current.peer_metadata.set("Peer-Address", peer_address.encode())
    return current, messages


def _send_all(sock: Any, data: bytes) -> None:
    """Send all of ``data``: a handshake's pieces are small, and gevent's ``sendall`` asks the
    kernel for SO_SNDBUF on every call (one system call more per piece, three per handshake)."""
    while data:
        sent = sock.send(data)
        data = data[sent:]

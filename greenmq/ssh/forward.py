"""Local port forwarding over a paramiko connection, what ``ssh -L`` does (pyzmq's ``zmq.ssh.forward``).

Each connection to the local port gets a ``direct-tcpip`` channel of the ssh
transport to the remote host and port, and a thread copies bytes both ways
until either side closes. Runs in the child process of ``paramiko_tunnel``,
with threads and blocking sockets (no gevent there).
"""

from __future__ import annotations

import logging
import select
import socketserver
from typing import Any

__all__ = ["forward_tunnel"]

logger = logging.getLogger("ssh")

_CHUNK = 16384


def _pump(local: Any, channel: Any) -> None:
    """Copy bytes between the accepted socket and the channel until one of them reaches its end."""
    while True:
        readable, _, _ = select.select([local, channel], [], [])
        for source, sink in ((local, channel), (channel, local)):
            if source in readable:
                data = source.recv(_CHUNK)
                if not data:
                    return
                sink.sendall(data)


def forward_tunnel(local_port: int, remote_host: str, remote_port: int, transport: Any) -> None:
    """Serve 127.0.0.1:``local_port`` forever, forwarding each connection to ``remote_host``:
    ``remote_port`` through ``transport`` (a connected ``paramiko.Transport``).

    Listens on the loopback interface only (pyzmq listens on all of them): the tunnel's users are
    local, and ``open_tunnel`` hands out a 127.0.0.1 URL."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            destination = (remote_host, remote_port)
            try:
                channel = transport.open_channel("direct-tcpip", destination, self.request.getpeername())
            except Exception as exc:
                logger.debug("Incoming request to %s:%d failed: %r", remote_host, remote_port, exc)
                return
            if channel is None:
                logger.debug("Incoming request to %s:%d was rejected by the SSH server.", remote_host, remote_port)
                return
            try:
                _pump(self.request, channel)
            finally:
                channel.close()
                self.request.close()

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", local_port), Handler) as server:
        server.serve_forever()

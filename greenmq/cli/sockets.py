"""The options every socket-making subcommand shares, and the session that owns a command's sockets.

``--type``, ``--bind``/``--connect`` (repeatable), ``--identity`` and
``--verbose`` are added by :func:`add_socket_arguments`; the security options
by :mod:`.security`. A :class:`Session` makes the sockets from them, binds and
connects each endpoint with a one-line error for a bad one, and closes
everything when the command ends: lingering for messages still queued when the
command finished, not at all when it failed or was interrupted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..constants import SocketType
from ..context import Context
from ..error import ZMQError, strerror
from ..socket import Socket
from .errors import CliError
from .security import Security
from .streams import note

#: The socket types the command line makes (libzmq's stable ones; greenmq has no draft types).
SOCKET_TYPES = ("PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB", "STREAM")


def socket_type(name: str) -> SocketType:
    """``--type``'s value: a socket type name, in any case."""
    upper = name.upper()
    if upper not in SOCKET_TYPES:
        raise argparse.ArgumentTypeError(f"unknown socket type {name!r} (one of {', '.join(SOCKET_TYPES)})")
    return SocketType[upper]


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--bind`` and ``--connect``, each repeatable, and ``--verbose`` (which reports them)."""
    group = parser.add_argument_group("endpoints (at least one; repeatable, in any mix)")
    group.add_argument("-b", "--bind", action="append", default=[], metavar="ENDPOINT",
                       help="bind to ENDPOINT (tcp://127.0.0.1:5555, tcp://*:*, ipc:///tmp/sock, ...)")
    group.add_argument("-c", "--connect", action="append", default=[], metavar="ENDPOINT",
                       help="connect to ENDPOINT")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="report each endpoint on stderr once bound or connected (with the port a * "
                             "was given), and what the command does")


def add_socket_arguments(parser: argparse.ArgumentParser, default_type: str, allowed: Sequence[str]) -> None:
    """``--type`` (among ``allowed``), ``--identity`` and the endpoints."""
    parser.add_argument("-t", "--type", type=socket_type, default=SocketType[default_type], metavar="TYPE",
                        help=f"socket type: {', '.join(allowed)} (default {default_type})")
    parser.add_argument("--identity", metavar="ID",
                        help="the socket's routing id (ROUTING_ID), as text: what a ROUTER peer sees")
    add_endpoint_arguments(parser)


def check_endpoints(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.bind and not args.connect:
        parser.error("give at least one --bind or --connect endpoint")


def check_type(parser: argparse.ArgumentParser, args: argparse.Namespace, allowed: Sequence[str], verb: str) -> None:
    """A usage error unless ``--type`` is among ``allowed`` (the types that can ``verb``)."""
    if args.type.name not in allowed:
        parser.error(f"a {args.type.name} socket cannot {verb} here: --type is one of {', '.join(allowed)}")


class Session:
    """One command's context, sockets and authenticator, closed together at the end."""

    def __init__(self, command: str, args: argparse.Namespace) -> None:
        self.command = command
        self.verbose = bool(getattr(args, "verbose", False))
        self.security = Security.from_args(args)
        self.context = Context()
        self._closed = False

    def note(self, text: str) -> None:
        """Report ``text`` on stderr with ``--verbose``."""
        if self.verbose:
            note(self.command, text)

    def socket(self, kind: SocketType, identity: str | None = None, secure: bool = True) -> Socket:
        """A new socket of type ``kind`` with LINGER 0 (a command that must deliver sets its own), the
        routing id ``identity`` and, if ``secure``, the command's security options."""
        sock: Socket = self.context.socket(kind)
        sock.linger = 0
        if identity is not None:
            sock.routing_id = identity.encode("utf-8")
        if secure:
            self.security.apply(sock, self.context)
        return sock

    def attach(self, sock: Socket, binds: Sequence[str], connects: Sequence[str], what: str = "") -> None:
        """Bind and connect ``sock``; a :class:`CliError` naming the endpoint if one fails."""
        label = what or sock.socket_type.name
        for verb, endpoints in (("bind", binds), ("connect", connects)):
            for endpoint in endpoints:
                try:
                    getattr(sock, verb)(endpoint)
                except ZMQError as error:
                    raise CliError(f"cannot {verb} {label} to {endpoint!r}: {strerror(error.errno)}") from None
                done = "bound" if verb == "bind" else "connected"
                self.note(f"{label} {done} to {sock.last_endpoint.decode()}")

    def close(self, linger: int | None = None) -> None:
        """Close the sockets, each waiting for its own LINGER (or for ``linger`` ms), and the context."""
        if not self._closed:
            self.security.stop()
            self.context.destroy(linger)
            self._closed = True

    def abort(self) -> None:
        """The command failed or was interrupted: close everything at once (also after an interrupted close)."""
        self.close(linger=0)

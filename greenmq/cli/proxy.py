"""``greenmq proxy FRONTEND BACKEND``: zmq.proxy between two sockets made from the command line.

Each socket is written ``TYPE:ENDPOINTS``: a socket type name, a colon, and
one or more endpoints separated by commas, each binding unless it starts with
``>`` (``@`` may mark a bind explicitly), as czmq writes endpoints::

    xsub:tcp://*:5555           an XSUB socket bound to port 5555
    router:@tcp://*:5555,@ipc:///tmp/front
    dealer:>tcp://10.0.0.2:6000,>tcp://10.0.0.3:6000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..constants import SocketType
from ..proxy import proxy
from ..socket import Socket
from .arguments import Commands, add_command
from .security import add_security_arguments
from .sockets import SOCKET_TYPES, Session, socket_type

_EPILOG = """\
A socket is TYPE:ENDPOINTS -- a socket type, a colon, then endpoints separated
by commas. An endpoint binds, unless it starts with '>' (connect); '@' marks a
bind explicitly. A SUB socket subscribes to everything.

examples:
  greenmq proxy 'xsub:tcp://*:5555' 'xpub:tcp://*:5556'
  greenmq proxy 'router:tcp://*:5559' 'dealer:tcp://*:5560' --capture 'pub:tcp://*:5561'
  greenmq proxy 'pull:@tcp://*:5557' 'push:>tcp://127.0.0.1:5558'

The security options apply to the frontend and the backend (not to --capture).
It runs until interrupted: Ctrl-C closes the sockets and exits with status 130.
Exit status: 1 bad endpoint or security option, 2 bad command line.
"""


@dataclass(frozen=True)
class SocketSpec:
    """One socket of the proxy: its type, and the endpoints it binds and connects."""

    kind: SocketType
    binds: tuple[str, ...]
    connects: tuple[str, ...]
    text: str


def parse_spec(text: str, default_type: SocketType | None = None) -> SocketSpec:
    """``TYPE:ENDPOINTS`` (or just ``ENDPOINTS`` if ``default_type`` is given) as a :class:`SocketSpec`."""
    name, colon, rest = text.partition(":")
    if colon and name.upper() in SOCKET_TYPES:
        kind = socket_type(name)
    elif default_type is not None:
        kind, rest = default_type, text
    else:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected TYPE:ENDPOINTS, TYPE one of {', '.join(SOCKET_TYPES)} (xsub:tcp://*:5555)")
    binds: list[str] = []
    connects: list[str] = []
    for endpoint in rest.split(","):
        if endpoint.startswith(">"):
            connects.append(endpoint[1:])
        else:
            binds.append(endpoint[1:] if endpoint.startswith("@") else endpoint)
    if not all(binds + connects):
        raise argparse.ArgumentTypeError(f"{text!r}: an empty endpoint")
    return SocketSpec(kind, tuple(binds), tuple(connects), text)


def _capture_spec(text: str) -> SocketSpec:
    return parse_spec(text, SocketType.PUB)


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands, "proxy", summary="forward messages between two sockets (zmq.proxy)", epilog=_EPILOG,
        description="Run zmq.proxy between a FRONTEND and a BACKEND socket: every message one receives, "
                    "the other sends (XSUB/XPUB forwarder, ROUTER/DEALER broker, PULL/PUSH streamer, or "
                    "any other pair).")
    parser.add_argument("frontend", type=parse_spec, metavar="FRONTEND", help="TYPE:ENDPOINTS, e.g. xsub:tcp://*:5555")
    parser.add_argument("backend", type=parse_spec, metavar="BACKEND", help="TYPE:ENDPOINTS, e.g. xpub:tcp://*:5556")
    parser.add_argument("--capture", type=_capture_spec, metavar="[TYPE:]ENDPOINTS",
                        help="also send a copy of every message to this socket (default type PUB)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="report each endpoint on stderr once bound or connected")
    add_security_arguments(parser)
    parser.set_defaults(run=run_proxy, parser=parser)


def _open(session: Session, spec: SocketSpec, what: str, secure: bool) -> Socket:
    sock = session.socket(spec.kind, secure=secure)
    if spec.kind == SocketType.SUB:
        sock.subscribe(b"")
    session.attach(sock, spec.binds, spec.connects, f"{what} {spec.kind.name}")
    return sock


def run_proxy(args: argparse.Namespace, session: Session) -> int:
    frontend = _open(session, args.frontend, "frontend", True)
    backend = _open(session, args.backend, "backend", True)
    capture = _open(session, args.capture, "capture", False) if args.capture else None
    session.note("proxying (Ctrl-C to stop)")
    proxy(frontend, backend, capture)
    return 0

"""``greenmq monitor ENDPOINT``: connect (or bind) a socket and print its monitor events as they happen.

One line per event: its name (without ``EVENT_``), the endpoint, and the
value decoded where libzmq gives it a meaning -- the ``PROTOCOL_ERROR_*`` name
of a HANDSHAKE_FAILED_PROTOCOL, the errno name of a failed bind, accept or
close, the ZAP status code of a HANDSHAKE_FAILED_AUTH; a number otherwise (a
file descriptor, a reconnection interval in ms).
"""

from __future__ import annotations

import argparse
import errno

from ..constants import Event
from ..utils.monitor import recv_monitor_message
from .arguments import Commands, add_command, positive_int
from .security import add_security_arguments
from .sockets import SOCKET_TYPES, Session, socket_type
from .streams import write_output

_ERRNO_EVENTS = frozenset({Event.BIND_FAILED, Event.ACCEPT_FAILED, Event.CLOSE_FAILED,
                           Event.HANDSHAKE_FAILED_NO_DETAIL})

_EPILOG = """\
examples:
  greenmq monitor tcp://127.0.0.1:5555
  greenmq monitor --bind 'tcp://*:5555' -t ROUTER --curve-server --cert server.key_secret
  greenmq monitor tcp://127.0.0.1:5555 --curve-serverkey server.key

prints, for instance:
  CONNECT_DELAYED tcp://127.0.0.1:5555 0
  CONNECTED tcp://127.0.0.1:5555 7
  HANDSHAKE_FAILED_PROTOCOL tcp://127.0.0.1:5555 PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
  DISCONNECTED tcp://127.0.0.1:5555 7

Messages the socket receives are left unread. It runs until --count events or
Ctrl-C (status 130). Exit status: 1 bad endpoint or security option, 2 bad
command line.
"""


def describe_value(event: int, value: int) -> str:
    """An event's value as the line shows it."""
    # parse_monitor_message gives the value as an Event flag (as pyzmq does), whose str() names
    # flags on Python < 3.11: the line shows numbers.
    event, value = int(event), int(value)
    if event == Event.HANDSHAKE_FAILED_PROTOCOL:
        try:
            name = Event(value).name
        except ValueError:
            name = None
        if name and name.startswith("PROTOCOL_ERROR_") and "|" not in name:
            return name
        return f"0x{value:08x}"
    if event in _ERRNO_EVENTS and value in errno.errorcode:
        return errno.errorcode[value]
    return str(value)


def format_event(event: int, value: int, endpoint: bytes) -> str:
    """One event as one line: ``NAME ENDPOINT VALUE``."""
    try:
        name = Event(event).name or str(event)
    except ValueError:
        name = str(event)
    return f"{name} {endpoint.decode('utf-8', 'replace') or '-'} {describe_value(event, value)}"


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands, "monitor", summary="print a socket's connection events as they happen", epilog=_EPILOG,
        description="Connect a socket of the given --type to ENDPOINT (or bind it there) and print each of "
                    "its monitor events on one line: connections, retries, handshakes and why they failed.")
    parser.add_argument("endpoint", metavar="ENDPOINT", help="where to connect (or bind, with --bind)")
    parser.add_argument("--bind", action="store_true", help="bind to ENDPOINT instead of connecting")
    parser.add_argument("-t", "--type", type=socket_type, default=socket_type("DEALER"), metavar="TYPE",
                        help=f"socket type: {', '.join(SOCKET_TYPES)} (default DEALER; it must suit the peer's)")
    parser.add_argument("--identity", metavar="ID", help="the socket's routing id (ROUTING_ID), as text")
    parser.add_argument("-n", "--count", type=positive_int, metavar="N", help="exit after N events")
    parser.add_argument("-v", "--verbose", action="store_true", help="report the endpoint on stderr once ready")
    add_security_arguments(parser)
    parser.set_defaults(run=run_monitor, parser=parser)


def run_monitor(args: argparse.Namespace, session: Session) -> int:
    sock = session.socket(args.type, args.identity)
    monitor = sock.get_monitor_socket()  # before bind/connect: the first events are the interesting ones
    if args.bind:
        session.attach(sock, [args.endpoint], [])
    else:
        session.attach(sock, [], [args.endpoint])
    shown = 0
    while args.count is None or shown < args.count:
        message = recv_monitor_message(monitor)
        write_output(format_event(message["event"], message["value"], message["endpoint"]).encode() + b"\n")
        shown += 1
    return 0

"""``greenmq send`` and ``greenmq recv``: messages between stdin/stdout and any socket type.

``send`` sends each message given on its command line, or each one read from
stdin, then exits once they are delivered (waiting at most ``--timeout``);
``recv`` prints each message it receives until ``--count`` of them or until
``--timeout`` passes without one.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable

from ..constants import SocketType
from ..error import Again
from .arguments import Commands, add_command, milliseconds, positive_int, seconds, show_seconds
from .errors import TimedOut
from .formats import add_format_arguments, framing_from_args
from .security import add_security_arguments
from .sockets import Session, add_socket_arguments, check_endpoints, check_type
from .streams import input_lines, write_output

# REQ and REP keep a strict send/receive alternation: ``greenmq req`` and ``greenmq rep`` drive them.
SEND_TYPES = ("PUSH", "PUB", "XPUB", "PAIR", "DEALER", "ROUTER", "XSUB", "STREAM")
RECV_TYPES = ("PULL", "SUB", "XSUB", "PAIR", "DEALER", "ROUTER", "XPUB", "STREAM")

_SEND_EPILOG = """\
examples:
  echo hello | greenmq send --connect tcp://127.0.0.1:5555
  greenmq send -t PUB --bind 'tcp://*:5556' -s '|' 'weather|sunny' 'news|quiet'
  greenmq send -t DEALER --identity me -c tcp://127.0.0.1:5555 -f hex deadbeef

A ROUTER or STREAM socket takes the routing id as each message's first frame.
Exit status: 0 sent (and delivered, within --timeout if given), 1 error (bad
endpoint, bad input line), 2 bad command line, 3 --timeout passed, 130 Ctrl-C.
"""

_RECV_EPILOG = """\
examples:
  greenmq recv --bind 'tcp://*:5555'
  greenmq recv -t SUB --subscribe weather -c tcp://127.0.0.1:5556 -s '|'
  greenmq recv -c tcp://127.0.0.1:5555 -f json --count 1 --timeout 5

A ROUTER or STREAM socket prints the sender's routing id as the first frame.
Exit status: 0 after --count messages (or at the end), 1 error, 2 bad command
line, 3 no message within --timeout, 130 Ctrl-C.
"""


def add_parsers(commands: Commands) -> None:
    send = add_command(
        commands, "send", summary="send messages from the command line or stdin", epilog=_SEND_EPILOG,
        description="Send messages from a socket of any sending type: each MESSAGE, or each message read "
                    "from stdin (one per line, or see --frame-lines).")
    add_socket_arguments(send, "PUSH", SEND_TYPES)
    send.add_argument("messages", nargs="*", metavar="MESSAGE",
                      help="a message to send, written as on stdin (--format, --separator); stdin is not read")
    send.add_argument("-n", "--count", type=positive_int, metavar="N", help="send at most N messages")
    send.add_argument("--timeout", type=seconds, metavar="SECONDS",
                      help="give up (status 3) when a message cannot be handed to a connected peer within "
                           "SECONDS, and wait at most SECONDS at the end for the last ones to leave "
                           "(default: wait as long as it takes)")
    add_format_arguments(send)
    add_security_arguments(send)
    send.set_defaults(run=run_send, parser=send)

    recv = add_command(
        commands, "recv", summary="print the messages a socket receives", epilog=_RECV_EPILOG,
        description="Receive messages on a socket of any receiving type and print each one on stdout "
                    "(one per line, or see --frame-lines).")
    add_socket_arguments(recv, "PULL", RECV_TYPES)
    recv.add_argument("--subscribe", action="append", metavar="TOPIC",
                      help="SUB, XSUB: receive messages starting with TOPIC (repeatable; default: everything)")
    recv.add_argument("-n", "--count", type=positive_int, metavar="N", help="exit after N messages")
    recv.add_argument("--timeout", type=seconds, metavar="SECONDS",
                      help="give up (status 3) when no message comes for SECONDS")
    add_format_arguments(recv)
    add_security_arguments(recv)
    recv.set_defaults(run=run_recv, parser=recv)


def run_send(args: argparse.Namespace, session: Session) -> int:
    parser = args.parser
    check_endpoints(parser, args)
    check_type(parser, args, SEND_TYPES, "send")
    framing = framing_from_args(parser, args)
    sock = session.socket(args.type, args.identity)
    if args.timeout is None:
        sock.linger = -1
    else:
        sock.sndtimeo = sock.linger = milliseconds(args.timeout)
        sock.immediate = True  # a send waits for a connected peer, not only for room in a queue
    session.attach(sock, args.bind, args.connect)
    messages: Iterable[list[bytes]]
    if args.messages:
        messages = [framing.decode_line(text.encode("utf-8", "surrogateescape")) for text in args.messages]
    else:
        messages = framing.messages(input_lines())
    sent = 0
    for frames in itertools.islice(messages, args.count):
        try:
            sock.send_multipart(frames)
        except Again:
            raise TimedOut(f"no peer took message {sent + 1} within {show_seconds(args.timeout)}") from None
        sent += 1
    session.note(f"sent {sent} message{'s' if sent != 1 else ''}")
    return 0


def run_recv(args: argparse.Namespace, session: Session) -> int:
    parser = args.parser
    check_endpoints(parser, args)
    check_type(parser, args, RECV_TYPES, "receive")
    if args.subscribe and args.type not in (SocketType.SUB, SocketType.XSUB):
        parser.error("--subscribe is for SUB and XSUB sockets")
    framing = framing_from_args(parser, args)
    sock = session.socket(args.type, args.identity)
    if args.timeout is not None:
        sock.rcvtimeo = milliseconds(args.timeout)
    topics = [topic.encode("utf-8", "surrogateescape") for topic in args.subscribe or [""]]
    if args.type == SocketType.SUB:
        for topic in topics:
            sock.subscribe(topic)
    elif args.type == SocketType.XSUB:
        for topic in topics:
            sock.send(b"\x01" + topic)  # XSUB subscribes with messages, resent to every peer that connects
    session.attach(sock, args.bind, args.connect)
    received = 0
    while args.count is None or received < args.count:
        try:
            frames = sock.recv_multipart()
        except Again:
            after = f" (after {received})" if received else ""
            raise TimedOut(f"no message within {show_seconds(args.timeout)}{after}") from None
        write_output(framing.output(frames))
        received += 1
    return 0

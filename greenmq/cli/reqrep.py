"""``greenmq req`` (a lazy-pirate client) and ``greenmq rep`` (an echo or command-running server).

``req`` sends each request and prints its reply. A reply that does not come
within ``--timeout`` is asked for again, ``--retries`` times, each time on a new
REQ socket (ZeroMQ guide, chapter 4: a REQ socket that lost its request cannot
send again, and the old connection may be the broken part). ``rep`` answers
each request with itself (``--echo``) or with the output of a shell command
that reads the request on its stdin (``--exec``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

import gevent.subprocess

from ..constants import SocketType
from ..error import Again
from ..socket import Socket
from .arguments import Commands, add_command, milliseconds, natural, positive_int, seconds, show_seconds
from .errors import TimedOut
from .formats import Framing, add_format_arguments, framing_from_args
from .security import add_security_arguments
from .sockets import Session, add_endpoint_arguments, check_endpoints
from .streams import input_lines, note, write_output

_REQ_TIMEOUT = 2.5  # seconds per attempt, the guide's lazy-pirate figure
_REQ_RETRIES = 2

_REQ_EPILOG = """\
examples:
  greenmq req -c tcp://127.0.0.1:5555 hello
  printf 'one\\ntwo\\n' | greenmq req -c tcp://127.0.0.1:5555 --timeout 1 --retries 5

Exit status: 0 every request answered, 1 error, 2 bad command line, 3 a request
got no reply after all its attempts, 130 Ctrl-C.
"""

_REP_EPILOG = """\
examples:
  greenmq rep --bind 'tcp://*:5555' --echo
  greenmq rep --bind 'tcp://*:5555' --exec 'tr a-z A-Z'
  greenmq rep -c tcp://broker:5556 -f json --exec 'jq -c .' --count 10

The command gets the request on stdin as one line in --format (a newline at the
end); its stdout, less the last newline, is the reply in the same format (with
--frame-lines, one frame per line). A command that fails still answers with
its output; its status is reported on stderr.
Exit status: 0 after --count requests, 1 error, 2 bad command line, 3 no request
within --timeout, 130 Ctrl-C.
"""


def add_parsers(commands: Commands) -> None:
    req = add_command(
        commands, "req", summary="send requests and print the replies, retrying (lazy pirate)", epilog=_REQ_EPILOG,
        description="Send each REQUEST (or each message read from stdin) from a REQ socket and print its "
                    "reply. A request not answered within --timeout is sent again on a new socket, up to "
                    "--retries times.")
    req.add_argument("requests", nargs="*", metavar="REQUEST",
                     help="a request, written as on stdin (--format, --separator); stdin is not read")
    req.add_argument("--timeout", type=seconds, default=_REQ_TIMEOUT, metavar="SECONDS",
                     help=f"wait this long for each reply (default {_REQ_TIMEOUT:g})")
    req.add_argument("--retries", type=natural, default=_REQ_RETRIES, metavar="N",
                     help=f"send an unanswered request again up to N times (default {_REQ_RETRIES})")
    req.add_argument("--identity", metavar="ID", help="the socket's routing id (ROUTING_ID), as text")
    add_endpoint_arguments(req)
    add_format_arguments(req)
    add_security_arguments(req)
    req.set_defaults(run=run_req, parser=req)

    rep = add_command(
        commands, "rep", summary="answer requests with themselves or with a command's output", epilog=_REP_EPILOG,
        description="Answer each request a REP socket receives: with the request itself (--echo) or with "
                    "the output of a shell command (--exec).")
    answer = rep.add_mutually_exclusive_group(required=True)
    answer.add_argument("--echo", action="store_true", help="reply with the request")
    answer.add_argument("--exec", metavar="COMMAND", dest="exec_command",
                        help="run COMMAND (with /bin/sh) for each request and reply with its output")
    rep.add_argument("-n", "--count", type=positive_int, metavar="N", help="exit after answering N requests")
    rep.add_argument("--timeout", type=seconds, metavar="SECONDS",
                     help="give up (status 3) when no request comes for SECONDS")
    rep.add_argument("--identity", metavar="ID", help="the socket's routing id (ROUTING_ID), as text")
    add_endpoint_arguments(rep)
    add_format_arguments(rep)
    add_security_arguments(rep)
    rep.set_defaults(run=run_rep, parser=rep)


# -- req ------------------------------------------------------------------------------------------

def _request_socket(args: argparse.Namespace, session: Session) -> Socket:
    sock = session.socket(SocketType.REQ, args.identity)
    sock.rcvtimeo = milliseconds(args.timeout)
    session.attach(sock, args.bind, args.connect)
    return sock


def run_req(args: argparse.Namespace, session: Session) -> int:
    check_endpoints(args.parser, args)
    framing = framing_from_args(args.parser, args)
    requests: Iterable[list[bytes]]
    if args.requests:
        requests = [framing.decode_line(text.encode("utf-8", "surrogateescape")) for text in args.requests]
    else:
        requests = framing.messages(input_lines())
    sock = _request_socket(args, session)
    for request in requests:
        sock = _lazy_pirate(args, session, sock, request, framing)
    return 0


def _lazy_pirate(args: argparse.Namespace, session: Session, sock: Socket, request: list[bytes],
                 framing: Framing) -> Socket:
    """Send ``request`` until a reply comes (printed) or the retries run out; the socket to use next."""
    attempts = args.retries + 1
    for attempt in range(1, attempts + 1):
        sock.send_multipart(request)
        try:
            reply = sock.recv_multipart()
        except Again:
            sock.close(linger=0)  # the request may be lost: this REQ cannot send again
            if attempt == attempts:
                raise TimedOut(f"no reply after {attempts} attempt{'s' if attempts > 1 else ''} "
                               f"({show_seconds(args.timeout)} each)") from None
            note(session.command, f"no reply within {show_seconds(args.timeout)}, "
                                  f"retrying ({attempt} of {args.retries})")
            sock = _request_socket(args, session)
            continue
        write_output(framing.output(reply))
        return sock
    raise AssertionError("unreachable: the last attempt returns or raises")


# -- rep ------------------------------------------------------------------------------------------

def run_rep(args: argparse.Namespace, session: Session) -> int:
    check_endpoints(args.parser, args)
    framing = framing_from_args(args.parser, args)
    sock = session.socket(SocketType.REP, args.identity)
    if args.timeout is not None:
        sock.rcvtimeo = milliseconds(args.timeout)
    session.attach(sock, args.bind, args.connect)
    answered = 0
    while args.count is None or answered < args.count:
        try:
            request = sock.recv_multipart()
        except Again:
            raise TimedOut(f"no request within {show_seconds(args.timeout)}") from None
        reply = request if args.echo else _run_command(args.exec_command, request, framing, session)
        sock.send_multipart(reply)
        answered += 1
    return 0


def _run_command(command: str, request: list[bytes], framing: Framing, session: Session) -> list[bytes]:
    """The reply ``command`` writes for ``request`` (on the hub: other greenlets run meanwhile)."""
    done = gevent.subprocess.run(command, shell=True, input=framing.output(request),
                                 stdout=gevent.subprocess.PIPE)
    if done.returncode != 0:
        note(session.command, f"{command!r} exited with status {done.returncode}")
    return framing.parse_block(done.stdout)

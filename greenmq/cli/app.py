"""The ``greenmq`` command: its subcommands, and how any of them ends.

Each subcommand module adds its parser with ``set_defaults(run=...)``;
:func:`execute` gives the run function a :class:`Session` and turns every way
a command can end into an exit status: a :class:`CliError` (or a
``ZMQError``, or a bad input line) into one line on stderr, Ctrl-C into 130
without a traceback, a closed stdout into 141. ``bench``, ``fuzz``, ``soak`` and ``run``
have command lines of their own and get theirs untouched; ``demo`` runs as before.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

import gevent

from ..error import ZMQError
from . import keygen, monitor, proxy, reqrep, sendrecv
from .errors import EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED, CliError
from .formats import FormatError
from .sockets import Session
from .streams import note

_DESCRIPTION = """\
greenmq: ZeroMQ in pure Python on gevent, and a ZeroMQ tool belt that talks to
any ZeroMQ peer (libzmq, pyzmq, czmq, JeroMQ, NetMQ) over tcp:// and ipc://."""

_EPILOG = """\
'greenmq COMMAND --help' describes each command.
Exit status: 0 done, 1 failed (one line on stderr says why), 2 bad command
line, 3 timed out, 130 interrupted (Ctrl-C)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenmq", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sendrecv.add_parsers(commands)
    reqrep.add_parsers(commands)
    proxy.add_parser(commands)
    monitor.add_parser(commands)
    keygen.add_parser(commands)
    commands.add_parser("demo", help="PUSH/PULL pipeline and PAIR signalling over tcp and inproc",
                        description="Show greenmq at work: a PUSH/PULL pipeline and PAIR signalling.")
    commands.add_parser("bench", help="throughput and latency against pyzmq and zmq.green (see bench --help)",
                        add_help=False)
    commands.add_parser("fuzz", help="fuzz greenmq's parsers, handshakes and engine (see fuzz --help)",
                        add_help=False)
    commands.add_parser("soak", help="mixed traffic with peers restarting at random; counts losses (see soak --help)",
                        add_help=False)
    commands.add_parser("run", help="run a pyzmq program on greenmq, unchanged (see run --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``greenmq`` with ``argv`` (default: the command line); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # The benchmark has its own options; hand them over untouched.
        from ..bench import main as bench_main

        return int(bench_main(argv[1:]) or 0)
    if argv[:1] == ["fuzz"]:
        from ..fuzz import main as fuzz_main

        return int(fuzz_main(argv[1:]) or 0)
    if argv[:1] == ["soak"]:
        from ..soak import main as soak_main

        return int(soak_main(argv[1:]) or 0)
    if argv[:1] == ["run"]:
        # Everything after ``run`` belongs to the program that runs.
        from ..monkey import run_program

        return int(run_program(argv[1:]) or 0)
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from ..demo import main as demo_main

        return int(demo_main() or 0)
    return execute(args)


def execute(args: argparse.Namespace) -> int:
    """Run a parsed socket-making subcommand; its exit status."""
    command = args.command
    # Ctrl-C as an exception in this greenlet, wherever the process waits; Python's own handler would
    # raise it inside the gevent hub, which prints it before passing it on.
    interrupt = gevent.signal_handler(signal.SIGINT, gevent.kill, gevent.getcurrent(), KeyboardInterrupt)
    try:
        session = Session(command, args)
        try:
            status: int = args.run(args, session)
            session.close()
        finally:
            session.abort()
        return status
    except CliError as error:
        note(command, str(error))
        return error.status
    except (FormatError, ZMQError) as error:
        note(command, str(error))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (``greenmq recv | head -1``): nothing more to say, and
        # nothing left for Python to flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        interrupt.cancel()

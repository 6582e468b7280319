"""``soak --minutes N [--seconds N] [--seed S] [--restart-every SECONDS] [--json FILE] [--no-curve]``.

Runs REQ/REP, PUB/SUB and PUSH/PULL traffic at once between ten peer
processes on loopback (tcp, and ipc for PUSH/PULL; CURVE on the REQ/REP link
and on one publisher), restarting peers at random with SIGKILL or SIGTERM,
and prints per pattern what was sent, received, lost while a peer was
restarting (allowed) and lost while all were up (not allowed), REQ/REP round
trips, and the RSS of the peers that live through the whole run. Exit
status 0: nothing lost beyond what ZeroMQ allows; 1: something was; 2: bad
usage; 130: interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn, TextIO

import greenmq

from . import report
from .coordinator import Coordinator, SoakFailed
from .plan import SETTLE, Options

MISSING_NACL = "PyNaCl is not installed (pip install 'greenmq[curve]'), so this run has no CURVE links"
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m greenmq soak", description=__doc__.split("\n\n")[1])
    parser.add_argument("--minutes", type=float, default=None, help="how long to run")
    parser.add_argument("--seconds", type=float, default=None, help="how long to run, in seconds (adds to --minutes)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    parser.add_argument("--restart-every", type=float, default=5.0, metavar="SECONDS",
                        help="mean time between two peer restarts (default 5)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="messages (requests) a second from each sending peer (default 100)")
    parser.add_argument("--settle", type=float, default=SETTLE, metavar="SECONDS",
                        help="how long after a restarted peer is up its links may still be joining, so that "
                             f"losses count as allowed (default {SETTLE:g})")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the final figures here")
    parser.add_argument("--no-curve", action="store_true", help="plain links only")
    return parser


def _keypair() -> tuple[str, str]:
    public, secret = greenmq.curve_keypair()
    return public.decode(), secret.decode()


def _interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    seconds = (args.minutes or 0.0) * 60 + (args.seconds or 0.0)
    if seconds <= 0 or args.restart_every <= 0 or args.rate <= 0 or args.settle < 0:
        parser.error("give a positive --minutes or --seconds; --restart-every and --rate must be positive, "
                     "--settle not negative")
    curve = not args.no_curve and greenmq.has("curve")
    settings = {"seed": args.seed, "restart_every": args.restart_every, "rate": args.rate, "settle": args.settle,
                "curve": curve,
                "curve_note": MISSING_NACL if not args.no_curve and not curve else None}
    if settings["curve_note"]:
        print(f"note: {MISSING_NACL}", file=stream)
    options = Options(seconds=seconds, seed=args.seed, restart_every=args.restart_every, curve=curve,
                      rate=args.rate, settle=args.settle)
    keys = {slot.name: _keypair() for slot in options.slots if slot.curve}
    previous = signal.signal(signal.SIGTERM, _interrupt)  # killed: clean up as on Ctrl-C
    status = 0
    with tempfile.TemporaryDirectory(prefix="greenmq-soak-") as workdir:
        coordinator = Coordinator(options, Path(workdir), keys,
                                  lambda partial: report.print_progress(report.figures(partial, settings), stream))
        try:
            coordinator.run()
        except KeyboardInterrupt:
            print("soak: interrupted; the figures so far:", file=stream)
            status = EXIT_INTERRUPTED
        except SoakFailed as error:
            print(f"soak: {error}", file=stream)
            status = 1
        finally:
            coordinator.close()
            signal.signal(signal.SIGTERM, previous)
        result = report.figures(coordinator.report(), settings)
        result["interrupted"] = status == EXIT_INTERRUPTED
    report.print_final(result, stream)
    if args.json is not None:
        report.write_json(result, args.json)
    return status or (0 if result["ok"] else 1)

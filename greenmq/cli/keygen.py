"""``greenmq keygen``: a new CURVE key pair, printed in Z85 or written as zcert certificate files."""

from __future__ import annotations

import argparse
import json
import os

from ..auth.certs import create_certificates
from ..error import ZMQError
from .. import curve_keypair
from .arguments import Commands, add_command
from .errors import CliError
from .sockets import Session
from .streams import write_output

_EPILOG = """\
examples:
  greenmq keygen
  greenmq keygen --json
  greenmq keygen --cert certs/server --metadata name=server

Without --cert it prints the public and the secret key, one a line
("public-key: KEY", "secret-key: KEY"). With --cert BASENAME it writes
BASENAME.key (the public certificate, to hand to peers) and BASENAME.key_secret
(readable by its owner only; give it to --cert of the other commands), and
refuses to overwrite either.
Exit status: 0 done, 1 CURVE unavailable (PyNaCl missing) or files in the way.
"""


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands, "keygen", summary="make a CURVE key pair (Z85), or zcert certificate files", epilog=_EPILOG,
        description="Generate a CURVE key pair for --curve-secretkey/--curve-serverkey (Z85 text), or a "
                    "pair of zcert certificate files for --cert, as pyzmq and czmq read them.")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help='print {"public": KEY, "secret": KEY}')
    out.add_argument("--cert", metavar="BASENAME", dest="cert_basename",
                     help="write BASENAME.key and BASENAME.key_secret instead of printing the keys")
    parser.add_argument("--metadata", action="append", default=[], metavar="NAME=VALUE",
                        help="with --cert: a metadata property for the certificates (repeatable)")
    parser.set_defaults(run=run_keygen, parser=parser)


def run_keygen(args: argparse.Namespace, session: Session) -> int:
    """(``session`` goes unused: no socket is made.)"""
    if args.metadata and not args.cert_basename:
        args.parser.error("--metadata goes with --cert")
    metadata = {}
    for item in args.metadata:
        name, equals, value = item.partition("=")
        if not equals or not name:
            args.parser.error(f"--metadata {item!r}: expected NAME=VALUE")
        metadata[name] = value
    try:
        if args.cert_basename:
            return _write_certificates(args.cert_basename, metadata)
        public, secret = (key.decode("ascii") for key in curve_keypair())
    except ZMQError as error:
        raise CliError(str(error)) from None
    if args.json:
        write_output(json.dumps({"public": public, "secret": secret}).encode() + b"\n")
    else:
        write_output(f"public-key: {public}\nsecret-key: {secret}\n".encode())
    return 0


def _write_certificates(basename: str, metadata: dict[str, str]) -> int:
    directory, name = os.path.split(basename)
    if not name:
        raise CliError(f"--cert {basename!r}: give a file name to which .key and .key_secret are added")
    for suffix in (".key", ".key_secret"):
        if os.path.exists(basename + suffix):
            raise CliError(f"{basename + suffix} exists: not overwritten")
    try:
        public_file, secret_file = create_certificates(directory or ".", name, metadata or None)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot write the certificates: {error}") from None
    write_output(f"{public_file}\n{secret_file}\n".encode())
    return 0

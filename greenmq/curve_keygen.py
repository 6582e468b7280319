"""Generate a CURVE key pair: ``python -m greenmq.curve_keygen [--json] [--secret SECRET]``.

Prints a new public and secret key, in libzmq's ``curve_keygen`` layout
(without its disclaimer) or, with ``--json``, as ``{"public": ..., "secret": ...}``.
``--secret SECRET`` prints the public key that belongs to an existing secret key
instead of making a new pair. Keys are Z85 text (40 ASCII characters), as socket
options and certificate files take them. Needs PyNaCl (the ``curve`` extra).

Exit status: 0; 1 if the secret key is not a Z85 key or CURVE is unavailable (the
message on stderr); 2 for a bad command line. pyzmq's ``python3 -m zmq.curve_keygen``
behaves the same, but shows a traceback where this prints one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .error import ZMQError
from .zmtp.keys import curve_keypair, curve_public


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m greenmq.curve_keygen",
        description="Generate a zmq curve keypair: a 'public' and a 'secret' key, z85-encoded (ASCII safe).")
    parser.add_argument("--json", action="store_true",
                        help='print {"public": ..., "secret": ...} as one JSON object')
    parser.add_argument("--secret", type=str,
                        help="a Z85 secret key: print its public key instead of making a new pair")
    return parser


def _keys(secret: str | None) -> tuple[str, str]:
    """(public, secret) as text: a new pair, or the public key of ``secret``."""
    if secret:
        return curve_public(secret).decode("ascii"), secret
    public_key, secret_key = curve_keypair()
    return public_key.decode("ascii"), secret_key.decode("ascii")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the command line); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        public, secret = _keys(args.secret)
    except (ValueError, ZMQError) as exc:
        print(f"curve_keygen: {'--secret' if args.secret else 'CURVE'}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"public": public, "secret": secret}, indent=1, sort_keys=True))
    else:
        print("== CURVE PUBLIC KEY ==", public, "", "== CURVE SECRET KEY ==", secret, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

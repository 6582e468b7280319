"""The CURVE and PLAIN options of every socket-making subcommand.

CURVE: ``--curve-server`` makes a server, which needs its secret key
(``--curve-secretkey`` or ``--cert``, a zcert secret file); ``--curve-serverkey``
makes a client of the server with that public key (or that certificate file),
with its own key pair from ``--curve-secretkey``/``--curve-publickey`` or
``--cert``, or a fresh one. A CURVE server accepts any client key (no ZAP
handler runs), as libzmq does.

PLAIN: ``--plain-server`` makes a server; given ``--plain-username`` and
``--plain-password`` too, it admits only that user (greenmq.auth's
ThreadAuthenticator checks them), else anyone. Without ``--plain-server`` the
two make a PLAIN client.

The options are checked and the keys loaded before any socket is made, so a
mistake ends the command with one line before it binds anything.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from ..auth.certs import load_certificate
from ..auth.thread import ThreadAuthenticator
from ..context import Context
from ..error import ZMQError
from ..socket import Socket
from .. import curve_keypair, curve_public
from .errors import CliError


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    curve = parser.add_argument_group("CURVE security (needs PyNaCl: pip install 'greenmq[curve]')")
    curve.add_argument("--curve-server", action="store_true",
                       help="be a CURVE server (needs --curve-secretkey or --cert); any client key is accepted")
    curve.add_argument("--curve-serverkey", metavar="KEY",
                       help="be a CURVE client of the server with this public key (Z85, 40 characters), "
                            "or the key in this certificate file")
    curve.add_argument("--curve-secretkey", metavar="KEY", help="this socket's secret key (Z85)")
    curve.add_argument("--curve-publickey", metavar="KEY",
                       help="this socket's public key (Z85; default: derived from the secret key)")
    curve.add_argument("--cert", metavar="FILE",
                       help="take this socket's key pair from a zcert secret certificate (NAME.key_secret, "
                            "as 'greenmq keygen --cert NAME' writes it)")
    plain = parser.add_argument_group("PLAIN security (user name and password in clear: for trusted networks)")
    plain.add_argument("--plain-server", action="store_true",
                       help="be a PLAIN server: admit only --plain-username with --plain-password if given, "
                            "else anyone")
    plain.add_argument("--plain-username", metavar="USER", help="the PLAIN user name (client, or the one to admit)")
    plain.add_argument("--plain-password", metavar="PASSWORD", help="the PLAIN password")


def _key(text: str, option: str) -> bytes:
    data = text.encode("ascii", "replace")
    if len(data) != 40:
        raise CliError(f"{option}: a CURVE key is 40 characters of Z85, not {len(data)}")
    return data


def _certificate(path: str, option: str) -> tuple[bytes, bytes | None]:
    try:
        return load_certificate(path)
    except (OSError, ValueError) as error:
        raise CliError(f"{option}: cannot read the certificate {path!r}: {error}") from None


@dataclass
class Security:
    """The mechanism the command's sockets use, with their keys or credentials, checked."""

    mechanism: str = "NULL"  # "NULL", "CURVE" or "PLAIN"
    server: bool = False
    public_key: bytes | None = None
    secret_key: bytes | None = None
    server_key: bytes | None = None
    username: str | None = None
    password: str | None = None
    _authenticator: ThreadAuthenticator | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Security:
        """The security a command line asks for (commands without the options get NULL)."""
        get = vars(args).get
        curve = get("curve_server") or get("curve_serverkey") or get("curve_secretkey") or get("curve_publickey") \
            or get("cert")
        plain = get("plain_server") or get("plain_username") is not None or get("plain_password") is not None
        if curve and plain:
            raise CliError("choose CURVE or PLAIN options, not both")
        if curve:
            return cls._curve(args)
        if plain:
            return cls._plain(args)
        return cls()

    @classmethod
    def _curve(cls, args: argparse.Namespace) -> Security:
        public = secret = None
        if args.cert:
            public, secret = _certificate(args.cert, "--cert")
            if secret is None:
                raise CliError(f"--cert: {args.cert!r} is a public certificate; give the secret one "
                               "(NAME.key_secret)")
        if args.curve_secretkey:
            secret = _key(args.curve_secretkey, "--curve-secretkey")
        if args.curve_publickey:
            public = _key(args.curve_publickey, "--curve-publickey")
        if args.curve_server and args.curve_serverkey:
            raise CliError("--curve-server and --curve-serverkey: a socket is a CURVE server or a client")
        if not args.curve_server and not args.curve_serverkey:
            raise CliError("CURVE keys need --curve-server (be a server) or --curve-serverkey (be a client)")
        server_key = None
        if args.curve_serverkey:
            if os.path.isfile(args.curve_serverkey):
                server_key = _certificate(args.curve_serverkey, "--curve-serverkey")[0]
            else:
                server_key = _key(args.curve_serverkey, "--curve-serverkey")
        try:
            if secret is None:
                if args.curve_server:
                    raise CliError("--curve-server needs this socket's secret key: --curve-secretkey or --cert")
                public, secret = curve_keypair()  # a client with no key of its own gets a fresh pair
            elif public is None:
                public = curve_public(secret)
        except (ZMQError, ValueError) as error:
            raise CliError(f"CURVE: {error}") from None
        return cls("CURVE", bool(args.curve_server), public, secret, server_key)

    @classmethod
    def _plain(cls, args: argparse.Namespace) -> Security:
        if (args.plain_username is None) != (args.plain_password is None):
            raise CliError("--plain-username and --plain-password go together")
        if not args.plain_server and args.plain_username is None:
            raise CliError("a PLAIN client needs --plain-username and --plain-password")
        return cls("PLAIN", bool(args.plain_server), username=args.plain_username, password=args.plain_password)

    def apply(self, sock: Socket, context: Context) -> None:
        """Set the mechanism's options on ``sock`` (before it binds or connects)."""
        try:
            if self.mechanism == "CURVE":
                sock.curve_secretkey = self.secret_key
                sock.curve_publickey = self.public_key
                if self.server:
                    sock.curve_server = True
                else:
                    sock.curve_serverkey = self.server_key
            elif self.mechanism == "PLAIN":
                if self.server:
                    sock.plain_server = True
                    if self.username is not None:
                        self._admit(context)
                else:
                    sock.plain_username = (self.username or "").encode("utf-8")
                    sock.plain_password = (self.password or "").encode("utf-8")
        except ZMQError as error:
            raise CliError(f"{self.mechanism}: {error} (is every key 40 characters of Z85?)") from None

    def _admit(self, context: Context) -> None:
        """Start the ZAP handler that admits the one PLAIN user (once per context)."""
        if self._authenticator is None:
            self._authenticator = ThreadAuthenticator(context)
            self._authenticator.start()
            self._authenticator.configure_plain("*", {self.username or "": self.password or ""})

    def stop(self) -> None:
        """Stop the ZAP handler, if one runs."""
        if self._authenticator is not None:
            self._authenticator.stop()
            self._authenticator = None

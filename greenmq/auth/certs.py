"""CURVE certificate files in czmq's zcert format, as pyzmq writes and reads them.

A certificate is a pair of small ZPL text files: ``NAME.key`` holds the
public key, ``NAME.key_secret`` the public and the secret key. Keys are the
40-character Z85 text of the 32-byte CURVE keys. What this module writes is
laid out like pyzmq's files (a comment banner, a ``metadata`` section, a
``curve`` section with quoted keys), so certificates move freely between
greenmq, pyzmq and czmq programs; and files from either load here.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Union

from ..zmtp.keys import curve_keypair

__all__ = ["create_certificates", "load_certificate", "load_certificates"]

_PUBLIC_SUFFIX = ".key"
_SECRET_SUFFIX = ".key_secret"

_StrPath = Union[str, os.PathLike[str]]
# Metadata names and values may be str or bytes; a Mapping's key type is invariant, hence the two.
_Metadata = Union[Mapping[str, Union[str, bytes]], Mapping[bytes, Union[str, bytes]]]

# The first two lines follow czmq's zcert banner; the advice is ours.
_PUBLIC_BANNER = """#   ****  Generated on {when} by greenmq  ****
#   ZeroMQ CURVE Public Certificate
#   Hand this file to the peers that must recognise you, over a channel you trust,
#   or compare its key with the owner's by other means after you received it.
#   Public certificates are usually kept in the .curve directory of a home directory.

"""

_SECRET_BANNER = """#   ****  Generated on {when} by greenmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   Keep this file to yourself: whoever reads it can pose as you.
#   It is created readable by its owner only; leave it that way.

"""


def _text(value: str | bytes, encoding: str = "utf-8") -> str:
    return value.decode(encoding) if isinstance(value, bytes) else str(value)


def _check_metadata_text(text: str) -> str:
    # A line break would end the property and let a value forge further lines
    # (say, a second public-key) in the file.
    if "\n" in text or "\r" in text:
        raise ValueError(f"certificate metadata must not contain line breaks: {text!r}")
    return text


def _write_certificate(path: str, banner: str, public_key: bytes, secret_key: bytes | None = None,
                       metadata: _Metadata | None = None, private: bool = False) -> None:
    """Write one zcert file; ``private`` files are created readable and writable by their owner only."""
    lines = [banner.format(when=datetime.datetime.now()), "metadata\n"]
    for name, value in (metadata or {}).items():
        name = _check_metadata_text(_text(name))
        value = _check_metadata_text(_text(value))
        lines.append(f"    {name} = {value}\n")
    lines.append("curve\n")
    lines.append(f'    public-key = "{_text(public_key)}"\n')
    if secret_key:
        lines.append(f'    secret-key = "{_text(secret_key)}"\n')
    mode = 0o600 if private else 0o666
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if private and hasattr(os, "fchmod"):
        # O_CREAT's mode only applies to a new file: tighten an existing one too.
        os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)


def create_certificates(key_dir: _StrPath, name: str, metadata: _Metadata | None = None) -> tuple[str, str]:
    """Create a new CURVE key pair as the certificate files ``NAME.key`` and ``NAME.key_secret`` in ``key_dir``.

    ``metadata`` (a dict of str or bytes) is recorded in the secret file's
    ``metadata`` section, as pyzmq does. Returns the paths of the public and
    the secret file, in that order.
    """
    public_key, secret_key = curve_keypair()
    base = os.path.join(key_dir, name)
    public_file = base + _PUBLIC_SUFFIX
    secret_file = base + _SECRET_SUFFIX
    _write_certificate(public_file, _PUBLIC_BANNER, public_key)
    _write_certificate(secret_file, _SECRET_BANNER, public_key, secret_key, metadata, private=True)
    return public_file, secret_file


def _property_value(raw: bytes) -> bytes:
    """The value of a ZPL property: the text inside quotes, or else the first word.

    (Not "up to a ``#``": ``#`` is a Z85 character, and pyzmq reads unquoted keys whole.)
    """
    raw = raw.strip()
    if raw[:1] in (b"'", b'"'):
        end = raw.find(raw[:1], 1)
        return raw[1:] if end < 0 else raw[1:end]
    words = raw.split()
    return words[0] if words else b""


def load_certificate(filename: _StrPath) -> tuple[bytes, bytes | None]:
    """Read a certificate file: ``(public_key, secret_key)`` as Z85 ``bytes``.

    ``secret_key`` is None for a public certificate. Raises OSError when the
    file does not exist and ValueError when it holds no public key. Keys are
    taken from the ``curve`` section (or from a file without sections), so a
    metadata property that happens to be called ``public-key`` is not mistaken
    for the key.
    """
    if not os.path.exists(filename):
        raise OSError(f"Invalid certificate file: {filename}")
    keys: dict[bytes, bytes] = {}
    section = None
    with open(filename, "rb") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            name, equals, value = line.partition(b"=")
            if not equals:
                section = line
                continue
            name = name.strip()
            if section in (None, b"curve") and name in (b"public-key", b"secret-key"):
                keys.setdefault(name, _property_value(value))
    public_key = keys.get(b"public-key")
    if not public_key:
        raise ValueError(f"No public key found in {filename}")
    return public_key, keys.get(b"secret-key") or None


def load_certificates(directory: _StrPath = ".") -> dict[bytes, bool]:
    """The public keys of all ``*.key`` certificates in ``directory``: a dict of Z85 key ``bytes`` to True.

    Raises OSError if ``directory`` is not a directory. Like a shell glob,
    names that start with a dot are skipped.
    """
    if not os.path.isdir(directory):
        raise OSError(f"Invalid certificate directory: {directory}")
    certs = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(_PUBLIC_SUFFIX) or not entry.is_file():
                continue
            public_key, _ = load_certificate(entry.path)
            certs[public_key] = True
    return certs

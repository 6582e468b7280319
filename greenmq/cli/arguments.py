"""Value types for the command-line options the subcommands share (counts, durations)."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, Protocol


class Commands(Protocol):
    """What the subcommand modules add their parsers to (``ArgumentParser.add_subparsers()``'s result)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def positive_int(text: str) -> int:
    """``--count``, ``--retries``: a whole number, at least 1 (0 for ``--retries`` via :func:`natural`)."""
    value = natural(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {text!r}")
    return value


def natural(text: str) -> int:
    """A whole number, at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, not {text!r}")
    return value


def seconds(text: str) -> float:
    """``--timeout``: seconds, above 0 (fractions allowed)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, not {text!r}")
    return value


def milliseconds(value: float) -> int:
    """A ``--timeout`` as socket options take it (at least 1 ms)."""
    return max(1, round(value * 1000))


def show_seconds(value: float) -> str:
    """A duration as the user wrote it: ``2 s``, ``0.5 s``."""
    return f"{value:g} s"


def add_command(commands: Commands, name: str, *, summary: str,
                description: str, epilog: str) -> argparse.ArgumentParser:
    """A subcommand's parser: ``summary`` in ``greenmq --help``; the ``description`` wrapped, the
    ``epilog`` (examples, exit statuses) laid out as written."""
    return commands.add_parser(name, help=summary, description=textwrap.fill(description, 79),
                               epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)

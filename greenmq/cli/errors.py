"""How a subcommand fails: one exception carrying the line to print and the exit status.

The command line never shows a traceback for something the user can fix (a bad
endpoint, a missing key, a peer that does not answer); it prints one line,
``greenmq COMMAND: what went wrong``, and exits with one of these statuses.
"""

from __future__ import annotations

#: Everything went as asked.
EXIT_OK = 0
#: The command could not do its job: a bad endpoint, key, certificate or input line.
EXIT_FAILURE = 1
#: The command line itself is wrong (argparse's status).
EXIT_USAGE = 2
#: ``--timeout`` passed: no message, no peer to send to, no reply after the retries.
EXIT_TIMEOUT = 3
#: stdout was closed by its reader (``greenmq recv | head -1``): 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141
#: Interrupted with Ctrl-C (SIGINT): 128 + SIGINT, as a shell reports it.
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure to report in one line (the exception's text) and exit with ``status``."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


class TimedOut(CliError):
    """``--timeout`` passed before the command could go on."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_TIMEOUT)

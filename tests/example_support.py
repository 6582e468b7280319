"""Running the programs under examples/ from tests: subprocesses with timeouts."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_TIMEOUT = 60  # seconds an example may take to run to completion


def run(*args, timeout=EXAMPLE_TIMEOUT):
    """Run an example to completion; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, str(EXAMPLES / args[0]), *args[1:]], capture_output=True,
                          text=True, timeout=timeout)


def start(*args):
    """Start an example in the background, with its output piped."""
    return subprocess.Popen([sys.executable, str(EXAMPLES / args[0]), *args[1:]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_line(process, text):
    """Read the process's stdout until a line containing ``text`` (it prints with flush=True)."""
    for line in process.stdout:
        if text in line:
            return line
    raise AssertionError(f"{text!r} never printed; stderr: {process.stderr.read()}")

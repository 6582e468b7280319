"""Running ``python -m greenmq`` subcommands from the tests, cooperatively.

The command runs in a subprocess that imports greenmq from :data:`support.ROOT`;
greenlets read its stdout and stderr line by line, so that a greenmq peer in the
test process keeps running while the test waits for the command's output.
Every wait is bounded; :class:`CliGroup` kills whatever is still running when
the test ends (the tests' ``cli`` fixtures).
"""

import os
import re
import signal
import sys

import gevent
import gevent.queue
import gevent.subprocess

from support import ROOT, TIMEOUT, sigint_as_at_a_terminal

CLI_TIMEOUT = 30  # seconds a command may take to finish once it has its work

_ENDPOINT_LINE = re.compile(r"bound to (\S+)$")


def cli_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


class CliProcess:
    """One running ``python -m greenmq ARGS``, with its stdin a pipe and its output read by greenlets."""

    def __init__(self, args, cwd=None):
        self.args = list(args)
        self.proc = gevent.subprocess.Popen(
            [sys.executable, "-m", "greenmq", *self.args], stdin=gevent.subprocess.PIPE,
            stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE, env=cli_env(), cwd=cwd,
            preexec_fn=sigint_as_at_a_terminal)
        self._out = gevent.queue.Queue()
        self._err = gevent.queue.Queue()
        self.stderr_lines = []  # every stderr line so far (also those a test waited for)
        self._readers = [gevent.spawn(self._read, self.proc.stdout, self._out, None),
                         gevent.spawn(self._read, self.proc.stderr, self._err, self.stderr_lines)]

    def __repr__(self):
        return f"<greenmq {' '.join(self.args)}>"

    @staticmethod
    def _read(stream, queue, keep):
        for line in iter(stream.readline, b""):
            text = line.rstrip(b"\n")
            if keep is not None:
                keep.append(text.decode(errors="replace"))
            queue.put(text)
        queue.put(None)

    def _fail(self, why):
        gevent.joinall(self._readers, timeout=0.5)  # the last stderr lines, if the process has ended
        return AssertionError(f"{self!r}: {why}\n--- stderr ---\n" + "\n".join(self.stderr_lines))

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def line(self, timeout=TIMEOUT):
        """The next line of stdout (bytes, without its newline); AssertionError if none comes."""
        try:
            line = self._out.get(timeout=timeout)
        except gevent.queue.Empty:
            raise self._fail(f"no output line within {timeout} s") from None
        if line is None:
            self._out.put(None)
            raise self._fail("stdout ended")
        return line

    def lines(self, count, timeout=TIMEOUT):
        return [self.line(timeout) for _ in range(count)]

    def err_line(self, pattern, timeout=TIMEOUT):
        """Read stderr until a line matching ``pattern`` (a regex); its match."""
        try:
            with gevent.Timeout(timeout):
                while True:
                    line = self._err.get()
                    if line is None:
                        self._err.put(None)
                        raise self._fail(f"stderr ended without a line like {pattern!r}")
                    match = re.search(pattern, line.decode(errors="replace"))
                    if match:
                        return match
        except gevent.Timeout:
            raise self._fail(f"no stderr line like {pattern!r} within {timeout} s") from None

    def endpoint(self, what="", timeout=TIMEOUT):
        """With ``--verbose``: the endpoint of the next ``... bound to ENDPOINT`` line (``what`` before it)."""
        return self.err_line(re.escape(what) + r".*" + _ENDPOINT_LINE.pattern, timeout).group(1)

    def finish(self, timeout=CLI_TIMEOUT, close_stdin=True):
        """Close stdin (unless told not to), wait for the exit; (status, the stdout lines not read yet,
        the whole stderr text)."""
        if close_stdin:
            self.close_stdin()
        try:
            with gevent.Timeout(timeout):
                status = self.proc.wait()
                gevent.joinall(self._readers, raise_error=True)
        except gevent.Timeout:
            raise self._fail(f"did not exit within {timeout} s") from None
        rest = []
        while True:
            line = self._out.get()
            if line is None:
                break
            rest.append(line)
        return status, rest, "\n".join(self.stderr_lines)

    def stop_reading_stdout(self):
        """Close the reading end of the command's stdout, as a reader that has had enough does."""
        self._readers[0].kill()
        self._out.put(None)
        self.proc.stdout.close()

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        gevent.killall(self._readers)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


class CliGroup:
    """Starts commands; :meth:`close` kills and reaps whatever is left of them."""

    def __init__(self):
        self.processes = []

    def start(self, *args, cwd=None):
        process = CliProcess(args, cwd=cwd)
        self.processes.append(process)
        return process

    def run(self, *args, input=b"", timeout=CLI_TIMEOUT, cwd=None):
        """Run a command to its end with ``input`` on stdin; (status, stdout lines, stderr text)."""
        process = self.start(*args, cwd=cwd)
        if input:
            process.write(input)
        return process.finish(timeout)

    def close(self):
        for process in self.processes:
            process.kill()
        self.processes = []


def assert_one_line_error(stderr, *fragments):
    """The failure was told in one ``greenmq COMMAND: ...`` line holding each fragment, without a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("greenmq "), stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr

"""Test-side helpers for the fault-injection tests: child programs, the fault proxy, monitor events.

The programs themselves (the fault proxy, hostile raw peers, reporting
greenmq peers) are in :mod:`fault_programs` and run in processes of their
own; :class:`Program` starts one, reads its JSON lines and kills, stops or
continues it. The PYTHONPATH of a child puts the tree under test
(:data:`support.ROOT`) first, then tests/ (for zmtp_support and
curve_support) and this directory.

Why the fault proxy is a separate process rather than greenlets in the test:
it is then a network element in its own right. Its sockets are not in the
test process's descriptor table (the EMFILE test counts those), it keeps
forwarding -- or stays frozen -- whatever the test's hub is doing, and
nothing it does can be helped along, or delayed, by the test's own greenlets
being scheduled in the same loop: a frozen link is frozen by the kernel's
full buffers, as behind a real partition. The cost is one interpreter start
(about 0.2 s) per test that uses it.
"""

import json
import os
import signal
import struct
import sys

import gevent
import gevent.event
import gevent.subprocess

import greenmq as zmq
from support import ROOT, TIMEOUT

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


class Program:
    """A child running ``fault_programs.<name>(**args)``. Its stderr goes to a file (shown when
    an expected line does not come); :meth:`cleanup` kills it if still running and reaps it."""

    def __init__(self, tmp_path, name, **args):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([ROOT, TESTS, HERE, env.get("PYTHONPATH", "")])
        self.name = name
        self.stderr_path = tmp_path / f"{name}-{os.urandom(4).hex()}.stderr"
        with open(self.stderr_path, "wb") as stderr:  # the child has its own copy of the descriptor
            self.proc = gevent.subprocess.Popen(
                [sys.executable, os.path.join(HERE, "fault_programs.py"), name, json.dumps(args)],
                stdin=gevent.subprocess.PIPE, stdout=gevent.subprocess.PIPE, stderr=stderr, env=env)

    @property
    def pid(self):
        return self.proc.pid

    def line(self, timeout=TIMEOUT):
        """The next JSON line the program says (AssertionError, with its stderr, if none comes)."""
        with gevent.Timeout(timeout, False):
            text = self.proc.stdout.readline()
            if text:
                return json.loads(text)
        raise AssertionError(f"{self.name} said nothing more (exit status {self.proc.poll()}); "
                             f"stderr:\n{self.stderr_path.read_text()}")

    def tell(self, text):
        """A line on the program's stdin (the proxy's commands)."""
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self):
        """SIGKILL, and wait until the kernel has closed its sockets (the process is reaped)."""
        self.proc.send_signal(signal.SIGKILL)
        with gevent.Timeout(TIMEOUT):
            assert self.proc.wait() == -signal.SIGKILL

    def stop(self):
        self.proc.send_signal(signal.SIGSTOP)

    def cont(self):
        self.proc.send_signal(signal.SIGCONT)

    def wait(self, timeout=TIMEOUT):
        with gevent.Timeout(timeout):
            return self.proc.wait()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class FaultProxy(Program):
    """The fault proxy (fault_programs.FaultProxy) in front of ``target_port``: connect to
    :attr:`endpoint` instead. Each method returns the proxy's stats after the command."""

    def __init__(self, tmp_path, target_port):
        super().__init__(tmp_path, "proxy", target=target_port)
        self.port = self.line()["port"]
        self.endpoint = f"tcp://127.0.0.1:{self.port}"

    def _command(self, text):
        self.tell(text)
        return self.line()

    def freeze(self):
        return self._command("freeze")

    def resume(self):
        return self._command("resume")

    def reset(self):
        return self._command("reset")

    def cut(self, after_bytes):
        return self._command(f"cut {after_bytes}")

    def passing(self):
        return self._command("pass")

    def stats(self):
        return self._command("stats")


def port_of(endpoint):
    """The port of a tcp endpoint (``last_endpoint`` is bytes, as in pyzmq)."""
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode()
    return int(endpoint.rsplit(":", 1)[1])


def seq(number):
    """A numbered message, as fault_programs.greenmq_counter counts them."""
    return [b"seq", b"%d" % number]


def number(msg):
    assert msg[0] == b"seq", msg
    return int(msg[1])


class Events:
    """Every monitor event of a socket, collected by a greenlet as (event, value) pairs.

    Start it before the connections are made; :meth:`wait_for` waits for an event, :meth:`count`
    counts what has come so far. :meth:`close` stops the greenlet.
    """

    def __init__(self, sock):
        self.monitor = sock.get_monitor_socket()
        self.seen = []
        self._arrived = gevent.event.Event()
        self.greenlet = gevent.spawn(self._collect)

    def _collect(self):
        while True:
            header, _endpoint = self.monitor.recv_multipart()
            self.seen.append(struct.unpack("=HI", header))
            self._arrived.set()

    def count(self, event, value=None):
        return sum(1 for kind, got in self.seen if kind == event and (value is None or got == value))

    def wait_for(self, event, count=1, value=None, timeout=TIMEOUT):
        """Wait until ``event`` (with ``value``, if given) has been seen ``count`` times in all."""
        with gevent.Timeout(timeout, False):
            while self.count(event, value) < count:
                self._arrived.clear()
                self._arrived.wait()
            return
        raise AssertionError(f"no {zmq.Event(event).name} (value {value}, x{count}) in {timeout} s; "
                             f"seen: {self.names()}")

    def names(self):
        return [(zmq.Event(kind).name, value) for kind, value in self.seen]

    def close(self):
        self.greenlet.kill()

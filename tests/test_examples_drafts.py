"""The example of the draft socket types, run end to end in subprocesses: client_server.py, a SERVER answering
many greenlets that share one CLIENT socket, replies matched to requests by id."""

import re
import signal

import pytest
from example_support import run, start, wait_for_line

SHUTDOWN_BOUND = 30  # seconds a signalled server may take to exit


def client_summary(line, count):
    """The numbers of the client's summary line, checked: every request answered right, several at once."""
    match = re.fullmatch(r"client: (\d+)/(\d+) right, peak (\d+) in flight, (\d+) replies out of order", line)
    assert match, line
    right, total, peak, _ = map(int, match.groups())
    assert (right, total) == (count, count)
    assert 1 < peak <= count  # the greenlets' requests were on the one socket together


def test_client_server_self_test():
    result = run("client_server.py", "--self-test", "200")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    summary, verdict = result.stdout.splitlines()
    client_summary(summary, 200)
    assert verdict == "self-test: passed"


def served_endpoint(server):
    return re.search(r"tcp://127\.0\.0\.1:\d+", wait_for_line(server, "serving on")).group()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_client_spreads_requests_over_two_server_processes(processes, signum):
    """One CLIENT connected to two SERVER processes: every reply still reaches the greenlet that asked, both
    servers take some of the requests, and each stops cleanly on the signal, saying how many it took."""
    servers = [start("client_server.py", "server", "--bind", "tcp://127.0.0.1:*") for _ in range(2)]
    processes.extend(servers)
    endpoints = [served_endpoint(server) for server in servers]
    result = run("client_server.py", "client", "--connect", endpoints[0], "--connect", endpoints[1],
                 "--requests", "100")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    (summary,) = result.stdout.splitlines()
    client_summary(summary, 100)
    taken = []
    for server in servers:
        server.send_signal(signum)
        assert server.wait(timeout=SHUTDOWN_BOUND) == 0
        (line,) = server.stdout.read().splitlines()
        match = re.fullmatch(r"server stopped after (\d+) requests", line)
        assert match, line
        taken.append(int(match.group(1)))
        assert server.stderr.read() == ""
    assert sum(taken) == 100
    assert min(taken) > 0


def test_client_server_wants_a_mode():
    result = run("client_server.py")
    assert result.returncode == 2
    assert "give a mode (server or client) or --self-test N" in result.stderr

"""Every example under examples/ runs and does what its docstring says."""

import signal

import pytest
from example_support import EXAMPLE_TIMEOUT, run, start, wait_for_line


def test_hello_world(ipc_endpoint, processes):
    server = start("hello_world.py", "server", ipc_endpoint, "3")
    processes.append(server)
    wait_for_line(server, "listening")
    result = run("hello_world.py", "client", ipc_endpoint, "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"client: reply {n}: 'World'" for n in range(3)]
    assert server.wait(timeout=EXAMPLE_TIMEOUT) == 0


def test_broker_serves_every_client_through_proxy():
    result = run("broker.py", "3", "2", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "broker: 12 replies"
    replies = lines[:-1]
    for client in range(3):
        for number in range(4):
            assert sum(line.startswith(f"client-{client}/request-{number} served by worker-")
                       for line in replies) == 1
    # The DEALER backend spreads requests over both workers.
    assert {line.rsplit(" ", 1)[1] for line in replies} == {"worker-0", "worker-1"}


def test_load_balancing_broker():
    result = run("lbbroker.py", "10", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert {line.split(":")[0] for line in lines} == {f"client-{n}" for n in range(10)}
    workers = {line.rsplit(" ", 1)[1] for line in lines}
    assert workers == {"worker-0", "worker-1", "worker-2"}


def test_lazy_pirate_retries_then_abandons(ipc_endpoint, processes):
    # The overload (0.7 s) outlasts the first wait (0.5 s) and ends in the middle of the
    # retry's wait (0.5 s to 1.0 s): a margin of 0.2-0.3 s on either side.
    server = start("lazy_pirate.py", "server", ipc_endpoint, "--slow-at", "2", "--slow-seconds", "0.7",
                   "--crash-after", "4")
    processes.append(server)
    wait_for_line(server, "ready")
    result = run("lazy_pirate.py", "client", ipc_endpoint, "--requests", "5", "--timeout", "500", "--retries", "2")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "client: reply 1 ok",
        "client: no reply to 2, retrying",
        "client: reply 2 ok after 1 retries",
        "client: reply 3 ok",
        "client: no reply to 4, retrying",
        "client: no reply to 4, retrying",
        "client: no reply to 4, retrying",
        "client: server seems to be offline, abandoning",
    ]


def test_lazy_pirate_all_replies_with_a_healthy_server(ipc_endpoint, processes):
    server = start("lazy_pirate.py", "server", ipc_endpoint)
    processes.append(server)
    wait_for_line(server, "ready")
    result = run("lazy_pirate.py", "client", ipc_endpoint, "--requests", "3", "--timeout", "2000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"client: reply {n} ok" for n in (1, 2, 3)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_graceful_shutdown_on_signal(ipc_endpoint, processes, signum):
    server = start("graceful_shutdown.py", ipc_endpoint)
    processes.append(server)
    wait_for_line(server, "listening")
    client = run("hello_world.py", "client", ipc_endpoint, "1")
    assert client.stdout.strip() == "client: reply 0: 'HELLO'"
    server.send_signal(signum)
    assert server.wait(timeout=10) == 0
    rest = server.stdout.read().splitlines()
    assert rest == [
        f"server: got {signum.name}, shutting down",
        "server: context terminated, closing the socket",
        "server: shutdown complete",
    ]

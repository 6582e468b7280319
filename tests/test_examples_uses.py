"""The examples of the three uses greenmq is for, each run end to end in a subprocess: a gevent web server
whose handlers share ROUTER/DEALER workers (web_backend.py), a threaded program made cooperative by
monkey-patching (threaded_legacy.py), and a pool of blocking-style workers that Ctrl-C stops
(worker_pool.py)."""

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from example_support import EXAMPLE_TIMEOUT, EXAMPLES, run, start, wait_for_line

SHUTDOWN_BOUND = 30  # seconds a signalled example may take to exit (its own grace is a few seconds)
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


# -- web_backend.py ----------------------------------------------------------------------------------

def get(url):
    """GET ``url``: (HTTP status, decoded JSON body), error statuses included."""
    try:
        with DIRECT.open(url, timeout=EXAMPLE_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def get_squares(base, numbers):
    """``/square?n=`` for each number, many at once from threads: the replies, in the order asked."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda n: get(f"{base}/square?n={n}"), numbers))


def check_squares(replies, numbers, workers):
    for n, (status, body) in zip(numbers, replies):
        assert status == 200, body
        assert body["worker"] in {f"worker-{k}" for k in range(workers)}
        assert {key: body[key] for key in ("n", "square")} == {"n": n, "square": n * n}


def serving_url(server):
    """The base URL a web_backend.py server prints once it serves."""
    return re.search(r"http://127\.0\.0\.1:\d+", wait_for_line(server, "serving on")).group()


def broker_endpoint(workers):
    """The endpoint a ``web_backend.py --workers-only`` process prints once its broker is bound."""
    return re.search(r"tcp://127\.0\.0\.1:\d+", wait_for_line(workers, "listening on")).group()


def test_web_backend_self_test():
    result = run("web_backend.py", "--self-test", "100", "--workers", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    first, *rest = result.stdout.splitlines()
    assert re.fullmatch(r"self-test: 100/100 replies correct, from [123] workers, "
                        r"up to \d+ requests in flight at once", first), first
    assert rest == ["web: shutdown complete"]


def test_web_backend_serves_concurrent_http_requests_until_sigint(processes):
    server = start("web_backend.py", "--port", "0", "--workers", "3")
    processes.append(server)
    base = serving_url(server)
    numbers = [n * 7 - 50 for n in range(40)]  # negative ones too; each reply must match its own request
    check_squares(get_squares(base, numbers), numbers, workers=3)
    assert get(f"{base}/square?n=twelve") == (400, {"error": "n must be an integer"})
    assert get(f"{base}/cube?n=3") == (404, {"error": "try /square?n=12"})
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=SHUTDOWN_BOUND) == 0
    assert server.stdout.read().splitlines() == ["web: got a signal, shutting down", "web: shutdown complete"]
    assert server.stderr.read() == ""


def test_web_backend_with_workers_in_another_process(processes):
    workers = start("web_backend.py", "--workers-only", "tcp://127.0.0.1:*", "--workers", "2")
    processes.append(workers)
    server = start("web_backend.py", "--port", "0", "--backend", broker_endpoint(workers))
    processes.append(server)
    numbers = list(range(30))
    check_squares(get_squares(serving_url(server), numbers), numbers, workers=2)
    for process, name in ((server, "web"), (workers, "workers")):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=SHUTDOWN_BOUND) == 0
        assert process.stdout.read().splitlines() == [f"{name}: got a signal, shutting down",
                                                      f"{name}: shutdown complete"]
        assert process.stderr.read() == ""


def test_web_backend_answers_504_when_no_worker_replies_in_time(processes):
    # A broker with no workers takes requests and never answers: each handler's wait, on the shared
    # DEALER, ends at its own timeout, and the servers still shut down cleanly.
    broker = start("web_backend.py", "--workers-only", "tcp://127.0.0.1:*", "--workers", "0")
    processes.append(broker)
    server = start("web_backend.py", "--port", "0", "--backend", broker_endpoint(broker), "--reply-timeout", "0.2")
    processes.append(server)
    replies = get_squares(serving_url(server), range(5))
    assert replies == [(504, {"error": "no worker answered in time"})] * 5
    for process in (server, broker):
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=SHUTDOWN_BOUND) == 0
        assert process.stderr.read() == ""


# -- threaded_legacy.py ------------------------------------------------------------------------------

def legacy_lines(tasks, threads):
    squares = sum(n * n for n in range(tasks))
    return [f"collector: {tasks} results, sum of squares {squares} (expected {squares})",
            f"workers: {threads} threads did {tasks} tasks"]


def test_threaded_legacy_program_monkey_patched():
    result = run("threaded_legacy.py", "60", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == legacy_lines(60, 5)
    assert result.stderr == ""


def test_threaded_legacy_program_on_os_threads(tmp_path):
    # The docstring's promise: the same code, not patched, runs on OS threads.
    source = (EXAMPLES / "threaded_legacy.py").read_text()
    assert source.count("\nmonkey.patch_all()\n") == 1
    unpatched = tmp_path / "threaded_unpatched.py"
    unpatched.write_text(source.replace("\nmonkey.patch_all()\n", "\n"))
    result = subprocess.run([sys.executable, str(unpatched), "60", "5"], capture_output=True, text=True,
                            timeout=EXAMPLE_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == legacy_lines(60, 5)


# -- worker_pool.py ----------------------------------------------------------------------------------

def test_worker_pool_does_every_task_once():
    result = run("worker_pool.py", "--tasks", "60", "--workers", "4", "--report-every", "20")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "pool: ready, 4 workers",
        "pool: progress: 20 results",
        "pool: progress: 40 results",
        "pool: progress: 60 results",
        "pool: 60 results right, 0 wrong",
        "pool: every task done exactly once: yes",
        "pool: shutdown complete",
    ]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_worker_pool_stops_cleanly_on_signal_mid_run(processes, signum):
    pool = start("worker_pool.py", "--tasks", "0", "--workers", "6", "--report-every", "25")
    processes.append(pool)
    wait_for_line(pool, "pool: ready, 6 workers")
    wait_for_line(pool, "pool: progress: 50 results")
    pool.send_signal(signum)
    assert pool.wait(timeout=SHUTDOWN_BOUND) == 128 + signum
    assert pool.stderr.read() == ""  # no traceback, no warning
    lines = pool.stdout.read().splitlines()
    shutdown = lines.index(f"pool: got {signum.name}, shutting down")
    assert all(re.fullmatch(r"pool: progress: \d+ results", line) for line in lines[:shutdown])
    summary = re.fullmatch(r"pool: (\d+) results right, 0 wrong", lines[shutdown + 1])
    assert summary and int(summary.group(1)) >= 50
    assert lines[shutdown + 2:] == ["pool: shutdown complete"]

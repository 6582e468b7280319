"""The publish-subscribe examples run and do what their docstrings say.

weather_server.py / weather_client.py (also through pubsub_proxy.py's
forwarder), pubsub_proxy.py, sync_pubsub.py -- each run as subprocesses with
timeouts, asserting on output and exit status -- and, for contrast with the
synchronised publisher, the slow joiner of plain PUB/SUB.
"""

import re
import signal

import gevent
import pytest

import greenmq as zmq
from example_support import EXAMPLE_TIMEOUT, run, start, wait_for_line


def stop(process):
    """SIGTERM ``process``; its exit status and the rest of its output."""
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=EXAMPLE_TIMEOUT)
    return status, process.stdout.read().splitlines()


def assert_weather_client(result, zip_filter, updates):
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"client: collecting {updates} updates for zipcodes starting with {zip_filter!r}",
        f"client: received {updates} updates, every one matched {zip_filter!r}",
    ]
    assert len(lines) == 3
    average = re.fullmatch(r"client: average temperature (-?\d+\.\d) F", lines[2])
    assert average and -80 <= float(average.group(1)) <= 134


def assert_weather_server_stops(server):
    status, rest = stop(server)
    assert status == 0, server.stderr.read()
    assert rest[0] == "server: got SIGTERM, stopping"
    sent = re.fullmatch(r"server: sent (\d+) updates", rest[1])
    assert sent and int(sent.group(1)) > 0
    assert len(rest) == 2


@pytest.mark.parametrize(("zip_filter", "updates"), [("10001", 20), ("1000", 20), ("", 5)])
def test_weather_client_gets_only_its_zipcodes(tmp_path, processes, zip_filter, updates):
    endpoint = f"ipc://{tmp_path}/weather.sock"
    server = start("weather_server.py", endpoint)
    processes.append(server)
    wait_for_line(server, "listening")
    assert_weather_client(run("weather_client.py", zip_filter, str(updates), endpoint), zip_filter, updates)
    assert_weather_server_stops(server)


def test_weather_server_stops_after_count(tmp_path):
    result = run("weather_server.py", f"ipc://{tmp_path}/weather.sock", "50")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"server: listening on ipc://{tmp_path}/weather.sock",
                                          "server: sent 50 updates"]


def test_weather_through_forwarder(tmp_path, processes):
    upstream, downstream = f"ipc://{tmp_path}/weather.sock", f"ipc://{tmp_path}/proxy.sock"
    server = start("weather_server.py", upstream)
    processes.append(server)
    wait_for_line(server, "listening")
    forwarder = start("pubsub_proxy.py", "forward", upstream, downstream)
    processes.append(forwarder)
    wait_for_line(forwarder, "forwarding")
    assert_weather_client(run("weather_client.py", "10001", "20", downstream), "10001", 20)
    status, rest = stop(forwarder)
    assert status == 0, forwarder.stderr.read()
    assert rest == ["proxy: got SIGTERM, stopping"]
    assert_weather_server_stops(server)


@pytest.mark.parametrize(("subscribers", "messages"), [(3, 5), (7, 40)])
def test_pubsub_proxy_demo(subscribers, messages):
    result = run("pubsub_proxy.py", str(subscribers), str(messages))
    assert result.returncode == 0, result.stderr
    topics = ["weather", "sports", "news"]
    assert result.stdout.splitlines() == [
        *(f"subscriber-{n}: {messages} messages on {[topics[n % 3]]}, numbers increasing"
          for n in range(subscribers)),
        f"proxy: {subscribers} subscribers served",
    ]


@pytest.mark.parametrize(("subscribers", "messages"), [(3, 1000), (10, 5000)])
def test_sync_pubsub_demo_loses_nothing(subscribers, messages):
    result = run("sync_pubsub.py", str(subscribers), str(messages))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"publisher: waiting for {subscribers} subscribers",
        f"publisher: sent {messages} messages to {subscribers} subscribers",
        *(f"subscriber-{n}: received {messages} messages, 0 .. n-1 in order" for n in range(subscribers)),
    ]


@pytest.mark.parametrize("publisher_first", [True, False], ids=["publisher-first", "subscribers-first"])
def test_sync_pubsub_processes_lose_nothing(tmp_path, processes, publisher_first):
    endpoints = [f"ipc://{tmp_path}/pub.sock", f"ipc://{tmp_path}/sync.sock"]
    subscribers, messages = 3, 2000

    def start_publisher():
        publisher = start("sync_pubsub.py", "publisher", *endpoints, str(subscribers), str(messages))
        processes.append(publisher)
        wait_for_line(publisher, "waiting")
        return publisher

    publisher = start_publisher() if publisher_first else None
    subs = [start("sync_pubsub.py", "subscriber", *endpoints, f"sub-{n}") for n in range(subscribers)]
    processes.extend(subs)
    if not publisher_first:
        publisher = start_publisher()
    for n, sub in enumerate(subs):
        out, err = sub.communicate(timeout=EXAMPLE_TIMEOUT)
        assert sub.returncode == 0, err
        assert out.splitlines() == [f"sub-{n}: received {messages} messages, 0 .. n-1 in order"]
    out, err = publisher.communicate(timeout=EXAMPLE_TIMEOUT)
    assert publisher.returncode == 0, err
    assert out.splitlines() == [f"publisher: sent {messages} messages to {subscribers} subscribers"]


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_plain_pubsub_slow_joiner_misses_the_start(ctx, tmp_path, transport):
    """ZeroMQ's "slow joiner": a SUB that joins late never sees what was published before.

    A PUB drops every message for which it has no matching subscription at
    the moment of sending -- it keeps no backlog -- and a SUB's connection and
    subscription reach the publisher asynchronously. So a SUB that connects
    after the publisher sent 0 .. K-1 receives a sequence starting at K or
    later, never at 0. This is libzmq's documented behaviour (zguide ch. 1,
    "Getting the Message Out"; ch. 2, "Node Coordination"), not a greenmq bug;
    sync_pubsub.py shows the cure. Once it has joined, the paced subscriber
    loses nothing more: it then receives consecutive numbers.
    """
    k = 50
    endpoint = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/slow.sock",
                "inproc": f"inproc://slow-joiner-{transport}"}[transport]
    pub = ctx.socket(zmq.PUB)
    pub.bind(endpoint)
    endpoint = pub.last_endpoint.decode()
    number = 0
    for number in range(k):  # nobody is subscribed yet: all dropped
        pub.send_string(str(number))
    sub = ctx.socket(zmq.SUB)
    sub.connect(endpoint)
    sub.subscribe(b"")
    received = []
    with gevent.Timeout(10):
        # Keep publishing, one message per poll, until the subscriber has joined and got 10.
        while len(received) < 10:
            number += 1
            pub.send_string(str(number))
            if sub.poll(5 if not received else 1000):
                received.append(int(sub.recv_string()))
    assert received[0] >= k
    assert received == list(range(received[0], received[0] + 10))

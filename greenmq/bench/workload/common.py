"""What every test's roles share: talking to the orchestrator, binding, closing, checking.

Protocol with the orchestrator: one JSON object per stdout line.  A process that
binds first prints ``{"event": "endpoint", ...}`` so that the orchestrator can
start the connecting peer processes; a measuring process finally prints
``{"event": "result", ...}``, a peer ``{"event": "done"}`` once it has closed;
any failure prints ``{"event": "error", ...}`` and exits with status 1.  The
endpoint announcement may carry ``peer_argv``, options the orchestrator passes on
to the peers (a sync or control endpoint, CURVE keys).
"""

import json

STOP = b"stop"  # an echo server's last reply to each client: not an echo, so it cannot be mistaken for one
GO = b"go"  # tells a client (or a process of clients) to start the next phase


def announce(event, **fields):
    """Tell the orchestrator something, one JSON line at a time (it reads line by line)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def bind(sock, endpoint):
    """Bind; ``tcp://host`` without a port means a random free port. Return the endpoint."""
    if endpoint.startswith("tcp://") and endpoint.count(":") == 1:
        port = sock.bind_to_random_port(endpoint)
        return f"{endpoint}:{port}"
    sock.bind(endpoint)
    return endpoint


def next_to(endpoint, suffix):
    """Where a second socket of the same process binds, beside ``endpoint``: any free tcp port, or a sibling path."""
    if endpoint.startswith("tcp://"):
        return "tcp://" + host_port(endpoint)[0]
    return f"{endpoint}-{suffix}"


def host_port(endpoint):
    """``tcp://host[:port]`` as (host, port); no port means 0 (any free one)."""
    host, _, port = endpoint[len("tcp://"):].partition(":")
    return host, int(port or 0)


def make_socket(ctx, kind, hwm):
    """A socket with both high-water marks set to ``hwm`` (0: keep the default 1000).

    The orchestrator lowers them for big messages: a receiver may read up to its
    high-water mark ahead of the application, and the benchmark's counts must
    dwarf that backlog or first-to-last timing measures a buffer drain.
    """
    sock = ctx.socket(kind)
    if hwm:
        sock.sndhwm = hwm
        sock.rcvhwm = hwm
    return sock


def close(ctx, *socks):
    """Close quickly: the measurement is over, so nothing queued still matters."""
    for sock in socks:
        sock.close(linger=0)
    ctx.term()


def check_size(message, size):
    """A figure is only worth reporting if the right messages arrived (checked outside the clock)."""
    if len(message) != size:
        raise ValueError(f"expected {size}-byte messages, received {len(message)} bytes")


def check_echo(reply, message):
    """The echo must be the very message sent, or the round trip measured something else."""
    if reply != message:
        raise ValueError(f"echo returned {bytes(reply[:32])!r}, expected {bytes(message[:32])!r}")


def percentile(sorted_samples, percent):
    """Nearest-rank percentile; enough for thousands of samples and dependency-free."""
    rank = max(0, min(len(sorted_samples) - 1, round(percent / 100 * len(sorted_samples)) - 1))
    return sorted_samples[rank]


def per_second(count, elapsed):
    return count / elapsed if elapsed > 0 else None

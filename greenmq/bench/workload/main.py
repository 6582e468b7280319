"""A worker process's command line: which test, which role, which implementation; run it, report failures.

Roles: ``measure`` binds (or, in the proxy test, connects to the relay's
backend), runs the timed side and prints the result; ``peer`` processes connect
to what it announced (a sender, an echo, the subscribers, the DEALER clients);
``relay`` is the proxy test's proxy, started before the measuring process.
"""

import argparse
import traceback
from pathlib import Path

from .churn import churn_cycles, measure_churn
from .common import announce
from .messages import echo_floor, echo_latency, measure_floor, measure_latency, measure_throughput, send_throughput
from .proxy import measure_proxy, relay
from .pubsub import measure_match, measure_pubsub, subscribe_match, subscribe_pubsub
from .router import measure_router, run_clients
from .runtime import FLOOR, IMPLEMENTATIONS, Runtime

LATENCY_MESSAGE_SIZE = 16
DEFAULT_CLIENTS = 200  # router: the --clients default
PUBSUB_SUBSCRIBERS = 4  # SUB sockets fed by the one PUB of the pub/sub test, as issue 4 asks
SECURITY = ("null", "curve")  # --security: the mechanism of the throughput and round-trip sockets

ROLES = {
    ("throughput", "measure"): measure_throughput,
    ("throughput", "peer"): send_throughput,
    ("latency", "measure"): measure_latency,
    ("latency", "peer"): echo_latency,
    ("reqrep", "measure"): measure_latency,
    ("reqrep", "peer"): echo_latency,
    ("router", "measure"): measure_router,
    ("router", "peer"): run_clients,
    ("pubsub", "measure"): measure_pubsub,
    ("pubsub", "peer"): subscribe_pubsub,
    ("proxy", "relay"): relay,
    ("proxy", "measure"): measure_proxy,
    ("proxy", "peer"): send_throughput,
    ("churn", "measure"): measure_churn,
    ("churn", "peer"): churn_cycles,
    ("match", "measure"): measure_match,
    ("match", "peer"): subscribe_match,
}
FLOOR_ROLES = {"measure": measure_floor, "peer": echo_floor}  # for FLOOR, whatever the round-trip test
TESTS = tuple(dict.fromkeys(test for test, _ in ROLES))
ROLE_NAMES = tuple(dict.fromkeys(role for _, role in ROLES))
SECURE_TESTS = ("throughput", "latency", "reqrep")  # the roles that call secure_server / secure_client


def parse_args(argv):
    parser = argparse.ArgumentParser(description="one greenmq benchmark measurement (internal)")
    parser.add_argument("--impl", choices=(*IMPLEMENTATIONS, FLOOR), required=True,
                        help=f"{FLOOR}: the raw TCP ping-pong floor (round-trip tests over tcp)")
    parser.add_argument("--test", choices=TESTS, required=True)
    parser.add_argument("--role", choices=ROLE_NAMES, required=True)
    parser.add_argument("--transport", choices=("tcp", "ipc", "inproc"), required=True)
    parser.add_argument("--size", type=int, default=LATENCY_MESSAGE_SIZE)
    parser.add_argument("--count", type=int, default=0, help="messages, round trips or cycles (not for router)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed round trips or cycles first")
    parser.add_argument("--hwm", type=int, default=0, help="SNDHWM and RCVHWM of PUSH/PULL (0: default)")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="router: DEALER clients")
    parser.add_argument("--processes", type=int, default=1, help="router: client processes")
    parser.add_argument("--control", help="router peer: the server's control endpoint")
    parser.add_argument("--warmup-seconds", type=float, default=0.5, help="router: untimed echoing first")
    parser.add_argument("--duration", type=float, default=1.5, help="router: seconds of echoing timed")
    parser.add_argument("--subscribers", type=int, default=PUBSUB_SUBSCRIBERS, help="pubsub: SUB sockets")
    parser.add_argument("--subscriptions", type=int, default=1, help="match: distinct topics the SUB subscribes to")
    parser.add_argument("--sync", help="pubsub and match peer: the publisher's PULL endpoint for reports")
    parser.add_argument("--index", type=int, default=0, help="peer: which of several peers this one is")
    parser.add_argument("--security", choices=SECURITY, default="null",
                        help="throughput, latency, reqrep over tcp or ipc: the mechanism (curve: the measuring "
                             "side is the CURVE server and makes the keys)")
    parser.add_argument("--server-key", help="curve peer: the server's public key (Z85)")
    parser.add_argument("--public-key", help="curve peer: this client's public key (Z85)")
    parser.add_argument("--secret-key", help="curve peer: this client's secret key (Z85)")
    endpoint = parser.add_mutually_exclusive_group(required=True)
    endpoint.add_argument("--bind", help="endpoint to bind (tcp://HOST picks a random port)")
    endpoint.add_argument("--connect", help="endpoint to connect to")
    args = parser.parse_args(argv)
    if args.security == "curve":
        if args.test not in SECURE_TESTS or args.transport == "inproc" or args.impl == FLOOR:
            parser.error(f"--security curve applies to {', '.join(SECURE_TESTS)} over tcp or ipc, with ZeroMQ")
        if args.connect and not (args.server_key and args.public_key and args.secret_key):
            parser.error("a curve peer needs --server-key, --public-key and --secret-key")
    if (args.test, args.role) not in ROLES:
        parser.error(f"the {args.test} test has no {args.role} role")
    if args.test == "router" and not 1 <= args.processes <= args.clients:
        parser.error("router: --processes must be between 1 and --clients")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        role = FLOOR_ROLES[args.role] if args.impl == FLOOR else ROLES[args.test, args.role]
        role(Runtime(args.impl), args)
    except BaseException as error:  # report everything, even KeyboardInterrupt, then fail
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        announce("error", error=f"{type(error).__name__}: {error} (at {where})", traceback=traceback.format_exc())
        return 1
    return 0

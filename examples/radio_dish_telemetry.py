"""Telemetry over udp with RADIO and DISH: sensors broadcast readings, dashboards pick the groups they want.

Usage::

    python radio_dish_telemetry.py dish udp://127.0.0.1:5600 temperature humidity [--count N]
    python radio_dish_telemetry.py radio udp://127.0.0.1:5600 [more dish endpoints] [--count N] [--interval MS]
    python radio_dish_telemetry.py --self-test

A DISH binds a udp endpoint (``udp://*:5600``, or a multicast group such as
``udp://239.0.0.1:5600``) and joins groups; a RADIO connects to one or more
such endpoints and sends each reading in its group: ``temperature``,
``humidity`` or ``pressure``. Over udp a RADIO sends every group to every
endpoint (no JOIN travels back over udp), and each DISH keeps only the
groups it joined. Readings are ``"<sequence> <sensor> <value>"``. Datagrams
can be lost -- that is udp, and telemetry that is sent again shortly can
afford it -- so a dashboard counts what it got rather than expecting all.

``--self-test`` runs everything in one process: two dashboards (greenlets)
bind ephemeral ports on 127.0.0.1, one joined to temperature, the other to
humidity and pressure; a sensor greenlet sends readings of all three groups
to both until each dashboard has ``--count`` readings. It prints one line
per dashboard and ``self-test: ok``, exit status 0, if every dashboard got
only its groups, in increasing sequence order.
"""

import argparse
import random
import sys

import gevent
import gevent.event

import greenmq as zmq

GROUPS = ("temperature", "humidity", "pressure")
RANGES = {"temperature": (-20.0, 40.0), "humidity": (10.0, 90.0), "pressure": (980.0, 1040.0)}
SELF_TEST_TIMEOUT = 30  # seconds


def reading(sequence, rng):
    """One reading of a random sensor: (group, text)."""
    group = GROUPS[sequence % len(GROUPS)]
    low, high = RANGES[group]
    return group, f"{sequence} sensor-{rng.randrange(4)} {rng.uniform(low, high):.1f}"


def open_dish(ctx, endpoint, groups):
    dish = ctx.socket(zmq.DISH)
    dish.linger = 0
    dish.bind(endpoint)
    for group in groups:
        dish.join(group)
    return dish


def collect(dish, count):
    """The next ``count`` readings: [(group, sequence, text)]."""
    got = []
    while len(got) < count:
        frame = dish.recv(copy=False)
        text = frame.bytes.decode()
        got.append((frame.group, int(text.split()[0]), text))
    return got


def transmit(radio, count, interval, stop=None):
    """Send readings every ``interval`` seconds: ``count`` of them (0: until ``stop`` is set or forever)."""
    rng = random.Random()
    sequence = 0
    while (not count or sequence < count) and not (stop is not None and stop.is_set()):
        group, text = reading(sequence, rng)
        radio.send_string(text, group=group)
        sequence += 1
        gevent.sleep(interval)
    return sequence


def self_test(count):
    ctx = zmq.Context()
    wanted = {"dash-temperature": ["temperature"], "dash-climate": ["humidity", "pressure"]}
    try:
        with gevent.Timeout(SELF_TEST_TIMEOUT):
            dishes = {name: open_dish(ctx, "udp://127.0.0.1:*", groups) for name, groups in wanted.items()}
            radio = ctx.socket(zmq.RADIO)
            radio.linger = 0
            for dish in dishes.values():
                radio.connect(dish.last_endpoint.decode())
            stop = gevent.event.Event()
            sensor = gevent.spawn(transmit, radio, 0, 0.002, stop)
            dashboards = {name: gevent.spawn(collect, dish, count) for name, dish in dishes.items()}
            gevent.joinall(list(dashboards.values()), raise_error=True)
            stop.set()
            sent = sensor.get()
    finally:
        ctx.destroy(linger=0)
    ok = True
    for name, board in dashboards.items():
        got = board.value
        groups = sorted({group for group, _, _ in got})
        sequences = [sequence for _, sequence, _ in got]
        fine = set(groups) <= set(wanted[name]) and sequences == sorted(sequences)
        ok = ok and fine
        print(f"{name}: {len(got)} readings of {', '.join(groups)}: {'ok' if fine else 'WRONG'}", flush=True)
    print(f"sensor: {sent} readings sent", flush=True)
    print("self-test: ok" if ok else "self-test: FAILED", flush=True)
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true", help="run dashboards and a sensor here, check, exit")
    parser.add_argument("role", nargs="?", choices=["dish", "radio"])
    parser.add_argument("endpoint", nargs="?")
    parser.add_argument("more", nargs="*", help="dish: groups to join; radio: more dish endpoints")
    parser.add_argument("--count", type=int, default=10, help="readings to receive or send (radio: 0 = forever)")
    parser.add_argument("--interval", type=float, default=100, help="radio: milliseconds between readings")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test(args.count)
    if args.role is None or args.endpoint is None:
        parser.error("a role and an endpoint, or --self-test")
    ctx = zmq.Context()
    try:
        if args.role == "dish":
            dish = open_dish(ctx, args.endpoint, args.more or GROUPS)
            print(f"dish: listening on {dish.last_endpoint.decode()}", flush=True)
            for group, _, text in collect(dish, args.count):
                print(f"dish: {group}: {text}", flush=True)
        else:
            radio = ctx.socket(zmq.RADIO)
            for endpoint in [args.endpoint, *args.more]:
                radio.connect(endpoint)
            sent = transmit(radio, args.count, args.interval / 1000.0)
            print(f"radio: {sent} readings sent", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        ctx.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

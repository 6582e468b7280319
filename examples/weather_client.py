"""The zguide weather update client: ``python weather_client.py [filter] [updates] [endpoint]``.

Connects a SUB socket to the weather server (default ``tcp://127.0.0.1:5556``),
subscribes to ``filter`` (default ``10001``, the server's ``KNOWN_ZIPCODE``),
collects ``updates`` updates (default 10), checks that every one is for a
zipcode starting with the filter -- the filtering is ZeroMQ's: a prefix match
on the message, done by the publisher -- and prints the count and the average
temperature. Exit status 0; 1 if an update did not match; 2 if no update came
within 10 seconds (``RCVTIMEO``).

The filter is a prefix: ``1000`` receives 10001 and also, for instance, 10007.
"""

import sys

import greenmq as zmq

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
TIMEOUT_MS = 10_000


def main(argv):
    zip_filter = argv[0] if argv else "10001"
    updates = int(argv[1]) if len(argv) > 1 else 10
    endpoint = argv[2] if len(argv) > 2 else DEFAULT_ENDPOINT
    with zmq.Context() as ctx, ctx.socket(zmq.SUB) as subscriber:
        subscriber.linger = 0
        subscriber.rcvtimeo = TIMEOUT_MS
        subscriber.connect(endpoint)
        subscriber.setsockopt_string(zmq.SUBSCRIBE, zip_filter)
        print(f"client: collecting {updates} updates for zipcodes starting with {zip_filter!r}", flush=True)
        temperatures = []
        mismatched = []
        for _ in range(updates):
            try:
                zipcode, temperature, _humidity = subscriber.recv_string().split()
            except zmq.Again:
                print(f"client: no update within {TIMEOUT_MS} ms, giving up", flush=True)
                return 2
            if not zipcode.startswith(zip_filter):
                mismatched.append(zipcode)
            temperatures.append(int(temperature))
    if mismatched:
        print(f"client: {len(mismatched)} updates did not match: {mismatched}", flush=True)
        return 1
    print(f"client: received {len(temperatures)} updates, every one matched {zip_filter!r}", flush=True)
    print(f"client: average temperature {sum(temperatures) / len(temperatures):.1f} F", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

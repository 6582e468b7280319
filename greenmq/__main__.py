"""``python -m greenmq``: ``demo`` shows greenmq at work, ``bench`` compares it with pyzmq and zmq.green."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m greenmq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="PUSH/PULL pipeline and PAIR signalling over tcp and inproc")
    bench = commands.add_parser("bench", help="throughput and latency against pyzmq and zmq.green",
                                add_help=False)
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main()
    from .bench import main as bench_main

    return bench_main(args.bench_args)


if __name__ == "__main__":
    sys.exit(main())

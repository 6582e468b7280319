"""``python -m greenmq``: ``demo`` shows greenmq at work, ``bench`` compares it with pyzmq and zmq.green,
``run`` runs a program written for pyzmq on greenmq, unchanged."""

import argparse
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # The benchmark has its own options; hand them over untouched.
        from .bench import main as bench_main

        return bench_main(argv[1:])
    if argv[:1] == ["run"]:
        # Everything after ``run`` belongs to the program that runs.
        from .monkey import run_program

        return run_program(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m greenmq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="PUSH/PULL pipeline and PAIR signalling over tcp and inproc")
    commands.add_parser("bench", help="throughput and latency against pyzmq and zmq.green (see bench --help)")
    commands.add_parser("run", help="run a pyzmq program on greenmq, unchanged (see run --help)")
    parser.parse_args(argv)
    from .demo import main as demo_main

    return demo_main()


if __name__ == "__main__":
    sys.exit(main())

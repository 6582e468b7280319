"""``python -m greenmq.log URL``: print the log records a PUBHandler publishes (pyzmq's ``python -m zmq.log``).

It subscribes to ``--topic`` (default: everything, which suits a handler with the
default empty root topic) at the PUB socket ``URL`` and prints one line per
record, ``<topic><separator><text>``, until interrupted (Ctrl-C, SIGINT), then
exits with status 0.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from ..constants import SocketType
from ..context import Context


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m greenmq.log",
        description="ZMQ Log Watcher: print the records a greenmq/pyzmq PUBHandler publishes.")
    parser.add_argument("zmq_pub_url", type=str, help="URL to a ZMQ publisher socket.")
    parser.add_argument("-t", "--topic", type=str, default="",
                        help="Only receive messages that start with this topic.")
    parser.add_argument("--timestamp", action="store_true", help="Append local time to the log messages.")
    parser.add_argument("--separator", type=str, default=" | ", help="String to print between topic and message.")
    parser.add_argument("--dateformat", type=str, default="%Y-%d-%m %H:%M",
                        help="Set alternative date format for use with --timestamp.")
    parser.add_argument("--align", action="store_true", default=False,
                        help="Try to align messages by the width of their topics.")
    parser.add_argument("--color", action="store_true", default=False,
                        help="Color the output based on the error level. Requires the colorama module.")
    return parser


class _Printer:
    """Turns one published record into the line to print, remembering topic widths for ``--align``."""

    def __init__(self, args: argparse.Namespace, colors: dict[str, str]) -> None:
        self.args = args
        self.colors = colors
        self.widths: list[int] = []  # per dot-separated topic part: the widest seen so far

    def line(self, topic: bytes, text: bytes) -> str:
        topic_text = topic.decode("utf8").strip()
        parts = topic_text.split(".")
        # The handler's topic is <root>.<LEVEL>...; a bare level when the root topic is empty.
        level = parts[0] if len(parts) == 1 else parts[1]
        if self.args.align:
            parts += [" "] * (len(self.widths) - len(parts))
            self.widths += [0] * (len(parts) - len(self.widths))
            for i, part in enumerate(parts):
                self.widths[i] = max(self.widths[i], len(part))
            topic_text = ".".join(part.ljust(self.widths[i]) for i, part in enumerate(parts))
        stamp = datetime.now().strftime(self.args.dateformat) + " " if self.args.timestamp else ""
        return (f"{stamp}{self.colors.get(level, '')}{topic_text}{self.args.separator}"
                f"{text.decode('utf8').strip()}{self.colors.get('__RESET__', '')}")


def _colors() -> dict[str, str]:
    """colorama's colours per level name; ImportError without colorama."""
    import colorama

    colorama.init()
    fore = colorama.Fore
    return {"DEBUG": fore.LIGHTCYAN_EX, "INFO": fore.LIGHTWHITE_EX, "WARNING": fore.YELLOW,
            "ERROR": fore.LIGHTRED_EX, "CRITICAL": fore.LIGHTRED_EX, "__RESET__": fore.RESET}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the log watcher with ``argv`` (default: the command line)."""
    parser = _parser()
    args = parser.parse_args(argv)
    colors: dict[str, str] = {}
    if args.color:
        try:
            colors = _colors()
        except ImportError:
            parser.error("--color requires the colorama module")
    printer = _Printer(args, colors)
    with Context() as ctx, ctx.socket(SocketType.SUB) as sub:
        sub.linger = 0
        sub.subscribe(args.topic.encode("utf8"))
        sub.connect(args.zmq_pub_url)
        try:
            while True:
                topic, text = sub.recv_multipart()
                # Flushed at once: the watcher is often read through a pipe.
                print(printer.line(topic, text), flush=True)
        except KeyboardInterrupt:
            pass
    if colors:
        print(colors["__RESET__"])


if __name__ == "__main__":
    main()

"""How messages are written as lines of text, and read back: the ``--format`` and framing options.

A message is a list of frames (``bytes``). On stdin and stdout each message is
one line, its frames joined by a separator (``--separator``), or, with
``--frame-lines``, one frame per line and an empty line after the message.
Each frame is written in one of four formats:

``text``
    the bytes as they are (no decoding: any byte but a newline, or the
    separator, passes through unchanged);
``hex``, ``base64``
    binary-safe encodings; frames are separated by a space unless
    ``--separator`` says otherwise (neither alphabet has a space);
``json``
    a message is a JSON array with one value per frame: a string for a frame
    that is UTF-8 text, ``{"base64": "..."}`` for any other frame. Input may
    also use ``{"hex": "..."}``, or a bare string or object for a one-frame
    message. Binary-safe; ``--separator`` does not apply.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from typing import Any

FORMATS = ("text", "hex", "base64", "json")

# What --separator defaults to, per format: text lines are a single frame unless a separator is given.
_DEFAULT_SEPARATORS = {"text": None, "hex": b" ", "base64": b" ", "json": None}
# Joins the frames of a multipart text message on output when no separator was given (lossy: documented).
_TEXT_OUTPUT_SEPARATOR = b" "


class FormatError(ValueError):
    """An input line that is not in the chosen format (bad hex, bad JSON ...)."""


def _json_frame_value(frame: bytes) -> Any:
    try:
        return frame.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(frame).decode("ascii")}


def _frame_from_json(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and len(value) == 1:
        (kind, text), = value.items()
        if kind == "base64" and isinstance(text, str):
            return _decode_base64(text.encode("ascii", "replace"))
        if kind == "hex" and isinstance(text, str):
            return _decode_hex(text.encode("ascii", "replace"))
    raise FormatError(f'a JSON frame is a string, {{"base64": ...}} or {{"hex": ...}}, not {json.dumps(value)}')


def _decode_hex(data: bytes) -> bytes:
    try:
        return bytes.fromhex(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise FormatError(f"not hex: {data[:60]!r}") from None


def _decode_base64(data: bytes) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"not base64: {data[:60]!r}") from None


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise FormatError(f"not JSON: {data[:60]!r}") from None


class Framing:
    """Turns lines of input into messages, and messages into lines of output, for one format and framing."""

    def __init__(self, fmt: str = "text", separator: bytes | None = None, frame_lines: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        if fmt == "json" and separator is not None:
            raise ValueError("--separator does not apply to --format json (a message is a JSON array)")
        if separator == b"":
            raise ValueError("the separator must not be empty")
        self.format = fmt
        self.frame_lines = frame_lines
        self.separator = _DEFAULT_SEPARATORS[fmt] if separator is None else separator
        if fmt == "text" and separator is None:
            self._output_separator = _TEXT_OUTPUT_SEPARATOR
        else:
            self._output_separator = self.separator or b""

    # -- frames ----------------------------------------------------------------------------------

    def encode_frame(self, frame: bytes) -> bytes:
        if self.format == "hex":
            return frame.hex().encode("ascii")
        if self.format == "base64":
            return base64.b64encode(frame)
        if self.format == "json":
            return json.dumps(_json_frame_value(frame), ensure_ascii=False).encode("utf-8")
        return frame

    def decode_frame(self, data: bytes) -> bytes:
        if self.format == "hex":
            return _decode_hex(data)
        if self.format == "base64":
            return _decode_base64(data)
        if self.format == "json":
            return _frame_from_json(_load_json(data))
        return data

    # -- one message on one line -----------------------------------------------------------------

    def decode_line(self, line: bytes) -> list[bytes]:
        """The frames of one message written on one line (without its newline)."""
        if self.format == "json":
            value = _load_json(line)
            values = value if isinstance(value, list) else [value]
            if not values:
                raise FormatError("a message needs at least one frame, not []")
            return [_frame_from_json(item) for item in values]
        parts = line.split(self.separator) if self.separator is not None else [line]
        return [self.decode_frame(part) for part in parts]

    def encode_line(self, frames: Iterable[bytes]) -> bytes:
        """One message as one line, without its newline."""
        if self.format == "json":
            return json.dumps([_json_frame_value(frame) for frame in frames], ensure_ascii=False).encode("utf-8")
        return self._output_separator.join(self.encode_frame(frame) for frame in frames)

    # -- streams of lines ------------------------------------------------------------------------

    def messages(self, lines: Iterable[bytes]) -> Iterator[list[bytes]]:
        """The messages written as ``lines`` (each without its newline), in order.

        With ``frame_lines`` an empty line ends a message, and a message not
        ended when the lines run out is still a message.
        """
        if not self.frame_lines:
            for line in lines:
                yield self.decode_line(line)
            return
        frames: list[bytes] = []
        for line in lines:
            if line:
                frames.append(self.decode_frame(line))
            elif frames:
                yield frames
                frames = []
        if frames:
            yield frames

    def output(self, frames: list[bytes]) -> bytes:
        """What to write for one message, newline(s) included."""
        if self.frame_lines:
            return b"".join(self.encode_frame(frame) + b"\n" for frame in frames) + b"\n"
        return self.encode_line(frames) + b"\n"

    def parse_block(self, data: bytes) -> list[bytes]:
        """One message written as a whole block of output (``rep --exec``'s command output).

        In text format the whole block, less its last newline, is the message
        (split at the separator if one was given): a command's multi-line
        output becomes one frame. With ``frame_lines`` each line is a frame.
        """
        if self.frame_lines:
            lines = data.rstrip(b"\n").split(b"\n")
            return [self.decode_frame(line) for line in lines] if lines != [b""] else [b""]
        if data.endswith(b"\n"):
            data = data[:-1]
        return self.decode_line(data)


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--separator`` and ``--frame-lines``: how messages look on stdin and stdout."""
    group = parser.add_argument_group("message format on stdin/stdout")
    group.add_argument("-f", "--format", choices=FORMATS, default="text",
                       help="text: bytes as they are; hex, base64: binary-safe, frames separated by a space; "
                            'json: a JSON array per message, a string per UTF-8 frame, {"base64": ...} for others '
                            "(default text)")
    group.add_argument("-s", "--separator", metavar="SEP",
                       help="frames of a multipart message are separated by SEP on its line (text: by default "
                            "a line is one frame, and received frames are joined by a space)")
    group.add_argument("-L", "--frame-lines", action="store_true",
                       help="one frame per line, and an empty line after each message")


def framing_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Framing:
    """The :class:`Framing` the options ask for; a usage error if they contradict each other."""
    separator = None if args.separator is None else args.separator.encode("utf-8", "surrogateescape")
    try:
        return Framing(args.format, separator, args.frame_lines)
    except ValueError as error:
        parser.error(str(error))

"""Logging over PUB sockets (pyzmq's ``zmq.log.handlers``).

:class:`PUBHandler` is a :class:`logging.Handler` that publishes each record as
two frames, a topic and the formatted text. The topic is built from the
handler's ``root_topic`` (left out when empty), the level name and, when the
message starts with ``"subtopic::"``, that subtopic, joined by dots, so a
subscriber can choose by prefix::

    handler = PUBHandler("tcp://127.0.0.1:5555")
    handler.root_topic = "myapp"
    logging.getLogger().addHandler(handler)
    logging.warning("db.pool::exhausted")   # topic b"myapp.WARNING.db.pool"

``python -m greenmq.log URL`` prints what such a handler publishes.
:class:`TopicLogger` is a Logger whose methods take the subtopic as their first argument.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ..constants import SocketType
from ..context import Context
from ..socket import Socket

__all__ = ["TOPIC_DELIM", "PUBHandler", "TopicLogger"]

#: What separates a subtopic from the message text in a log message ("sub.topic::text").
TOPIC_DELIM = "::"

_DETAILED = "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"


class PUBHandler(logging.Handler):
    """A logging handler that publishes records on a PUB socket.

    ``interface_or_socket`` is a PUB socket to publish on (its context becomes ``ctx``), or an
    endpoint for a new PUB socket to bind, made in ``context`` or, without one, in a new Context.
    Records are formatted with the formatter kept for their level in ``formatters``.
    """

    formatters: dict[int, logging.Formatter | None]
    ctx: Context
    socket: Socket

    def __init__(self, interface_or_socket: str | Socket, context: Context | None = None,
                 root_topic: str = "") -> None:
        super().__init__()
        self.root_topic = root_topic
        # pyzmq's defaults: INFO is the bare message, the other levels say where the record came from.
        self.formatters = {
            logging.DEBUG: logging.Formatter(_DETAILED),
            logging.INFO: logging.Formatter("%(message)s\n"),
            logging.WARNING: logging.Formatter(_DETAILED),
            logging.ERROR: logging.Formatter(
                "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n"),
            logging.CRITICAL: logging.Formatter(_DETAILED),
        }
        if isinstance(interface_or_socket, Socket):
            self.socket = interface_or_socket
            self.ctx = interface_or_socket.context
        else:
            self.ctx = context or Context()
            self.socket = self.ctx.socket(SocketType.PUB)
            self.socket.bind(interface_or_socket)

    @property
    def root_topic(self) -> str:
        """The first part of every topic; empty (the default) leaves it out."""
        return self._root_topic

    @root_topic.setter
    def root_topic(self, value: str | bytes) -> None:
        self.setRootTopic(value)

    def setRootTopic(self, root_topic: str | bytes) -> None:
        """Set :attr:`root_topic` (bytes are decoded as UTF-8).

        Subscribers must subscribe to a prefix of it (or to everything) to get any record."""
        self._root_topic = root_topic.decode("utf8") if isinstance(root_topic, bytes) else root_topic

    def setFormatter(self, fmt: logging.Formatter | None, level: int = logging.NOTSET) -> None:
        """Use ``fmt`` for records of ``level``; without a level, for every level in ``formatters``."""
        if level == logging.NOTSET:
            for known in self.formatters:
                self.formatters[known] = fmt
        else:
            self.formatters[level] = fmt

    def format(self, record: logging.LogRecord) -> str:
        """The text published for ``record``: the formatter of its level applied to it.

        A level with no entry in ``formatters`` (a custom level) fails, and ``emit`` reports the
        record through ``handleError``, as pyzmq does. A formatter set to None (``setFormatter(None)``)
        means logging's default, ``"%(message)s"``, where pyzmq would fail."""
        formatter = self.formatters[record.levelno]
        return (formatter or logging.Formatter()).format(record)

    def emit(self, record: logging.LogRecord) -> None:
        """Publish ``record`` as ``[topic, text]``; a failure goes to ``handleError``."""
        subtopic, sep, text = str(record.msg).partition(TOPIC_DELIM)
        if sep:
            record = copy.copy(record)  # other handlers still see the whole message
            record.msg = text
        else:
            subtopic = ""
        parts = [part for part in (self.root_topic, record.levelname, subtopic) if part]
        try:
            body = self.format(record).encode("utf8")
            self.socket.send_multipart([".".join(parts).encode("utf8", "replace"), body])
        except Exception:
            # What the logging module asks of handlers, so that logging never raises into the
            # program; pyzmq lets a failed send (a closed socket, a terminated context) propagate.
            self.handleError(record)


class TopicLogger(logging.Logger):
    """A Logger whose methods take a subtopic before the message: ``logger.info("db.pool", "busy")``.

    The record's message becomes ``"db.pool::busy"``, which :class:`PUBHandler` publishes under
    the topic ``<root>.INFO.db.pool``. Install it with ``logging.setLoggerClass(TopicLogger)``.
    """

    def _topic_log(self, level: int, topic: str, msg: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # Two frames of this module lie between the caller and logging: report the caller's line.
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 2
        logging.Logger.log(self, level, f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def log(self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log ``msg % args`` with ``level`` under ``topic``."""
        self._topic_log(level, topic, msg, args, kwargs)

    def debug(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.DEBUG, topic, msg, args, kwargs)

    def info(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.INFO, topic, msg, args, kwargs)

    def warning(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.WARNING, topic, msg, args, kwargs)

    warn = warning  # type: ignore[assignment]

    def error(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.ERROR, topic, msg, args, kwargs)

    def exception(self, topic: str, msg: str, *args: Any, exc_info: Any = True,  # type: ignore[override]
                  **kwargs: Any) -> None:
        self._topic_log(logging.ERROR, topic, msg, args, dict(kwargs, exc_info=exc_info))

    def critical(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.CRITICAL, topic, msg, args, kwargs)

    fatal = critical  # type: ignore[assignment]

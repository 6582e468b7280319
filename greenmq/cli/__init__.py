"""The ``greenmq`` command line (also ``python -m greenmq``): a ZeroMQ tool belt.

``send``/``recv`` move messages between stdin/stdout and a socket of any type,
``req``/``rep`` are a lazy-pirate client and an echo or command-running
server, ``proxy`` joins two sockets, ``monitor`` prints a socket's events,
``keygen`` makes CURVE keys; ``demo``, ``bench`` and ``run`` are greenmq's
own. docs/cli.rst is the reference.

One module per job: :mod:`.app` (the subcommands, exit statuses, Ctrl-C),
:mod:`.sockets` (the shared socket options and the session owning a command's
sockets), :mod:`.security` (CURVE and PLAIN options), :mod:`.formats` (messages
as lines: text, hex, base64, JSON), :mod:`.streams` (stdin on the gevent hub),
:mod:`.arguments` (option value types), :mod:`.errors`, and one module per
subcommand or pair of them.
"""

from .app import main

__all__ = ["main"]

"""pytest plugin for the conformance run: ``import zmq`` gives greenmq (see pyzmq_suite.py).

Loaded with ``-p`` before pytest reads pyzmq's ``conftest.py``, which imports ``zmq`` and
``zmq.asyncio``. greenmq has no asyncio flavour and the asyncio tests are out of scope, but some
scored tests name ``zmq.asyncio.Context`` (``isinstance(ctx, zmq.asyncio.Context)`` to pick the
asyncio path). A stand-in module answers them: its ``Context`` is a class no context is an
instance of, so those tests take their plain ``zmq`` path.
"""

import sys
import types

import greenmq.monkey

greenmq.monkey.patch()


class _NoAsyncioContext:
    """zmq.asyncio.Context in the conformance run: greenmq has none, so nothing is one."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("greenmq has no zmq.asyncio; the asyncio tests are out of scope")


_asyncio = types.ModuleType("zmq.asyncio", "Not provided by greenmq: out of scope for the conformance run.")
_asyncio.Context = _NoAsyncioContext
sys.modules["zmq.asyncio"] = _asyncio
sys.modules["zmq"].asyncio = _asyncio

"""pytest plugin for the conformance run: ``import zmq`` gives greenmq (see pyzmq_suite.py).

Loaded with ``-p`` before pytest reads pyzmq's ``conftest.py``, which imports ``zmq`` and
``zmq.asyncio``. greenmq has no asyncio flavour; the asyncio tests are out of scope, so a module
that says so stands in for ``zmq.asyncio`` and the conftest can be imported.
"""

import sys
import types

import greenmq.monkey

greenmq.monkey.patch()
sys.modules.setdefault(
    "zmq.asyncio",
    types.ModuleType("zmq.asyncio", "Not provided by greenmq: out of scope for the conformance run."),
)

"""Plain helpers shared by the tests (fixtures are in conftest.py).

Helpers with one narrower job have their own modules: zmtp_support.py (the
engine's split feeding), security_support.py (PLAIN and CURVE), raw_peer_support.py
(a hostile peer on a raw TCP socket), example_support.py (running examples/),
interop/libzmq_peer.py (a libzmq peer process).
"""

import gevent
from greenlet import greenlet as RawGreenlet

TIMEOUT = 10  # seconds: the bound on one blocking step of a test; a hang shows up as gevent.Timeout
SHORT_TIMEOUT = 5  # seconds: the same, in the tests whose steps must all be quick


def blocked(greenlet):
    """Let ``greenlet`` run until it waits (two turns of the event loop); true if it started and is waiting.

    gevent's own truth test of a Greenlet is true as soon as it is scheduled;
    greenlet's (started and not finished) is the one that says it ran and is
    now suspended.
    """
    gevent.sleep(0)
    gevent.sleep(0)
    return not greenlet.ready() and RawGreenlet.__bool__(greenlet)

"""ZAP authentication (RFC 27) and CURVE certificate files: pyzmq's ``zmq.auth``.

:class:`Authenticator` holds the policy (address lists, PLAIN passwords, CURVE
keys) and answers ZAP requests; :class:`~greenmq.auth.thread.ThreadAuthenticator`
serves them in the background, in a greenlet. The certificate functions read
and write czmq/pyzmq ``.key``/``.key_secret`` files.

The handler binds ``inproc://zeromq.zap.01`` in its context, so it serves the
sockets of that context only; each context needs a handler of its own.
"""

from .base import CURVE_ALLOW_ANY, Authenticator
from .certs import create_certificates, load_certificate, load_certificates
from .thread import GreenletAuthenticator, ThreadAuthenticator

__all__ = [
    "Authenticator", "CURVE_ALLOW_ANY", "GreenletAuthenticator", "ThreadAuthenticator",
    "create_certificates", "load_certificate", "load_certificates",
]

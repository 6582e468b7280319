"""The code that benchmark worker processes run: the measured code and each test's roles.

Written once against the pyzmq API and run unchanged on greenmq, pyzmq and
zmq.green.  :mod:`greenmq.bench.worker` loads this package *by path* in a
fresh process under a private name, so that a pyzmq worker never imports
greenmq (and gevent): every module here imports only the standard library,
each other (relatively) and the implementation it is asked to load.  The
orchestrator imports it as ``greenmq.bench.workload`` for its constants only.
"""

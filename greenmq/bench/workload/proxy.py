"""PUSH -> proxy -> PULL: throughput through the implementation's ``zmq.proxy()`` in a process of its own.

Three processes: the relay binds the proxy's frontend (PULL) and backend (PUSH)
and runs ``zmq.proxy(frontend, backend)`` -- libzmq's C proxy under pyzmq
(and under zmq.green, whose sockets it takes as they are), ``greenmq.proxy``
under greenmq -- until the orchestrator kills it; the measuring process (the
sink, a PULL) connects to the backend and times like the throughput test; the
sender (a PUSH) connects to the frontend.
"""

from .common import announce, bind, close, make_socket, next_to
from .messages import receive_messages


def relay(rt, args):
    """The proxy process: bind frontend and backend, announce both, proxy until killed."""
    zmq = rt.zmq
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.PULL)
    backend = ctx.socket(zmq.PUSH)
    endpoint = bind(frontend, args.bind)
    backend_endpoint = bind(backend, next_to(endpoint, "backend"))
    announce("endpoint", endpoint=endpoint, backend=backend_endpoint)
    zmq.proxy(frontend, backend)


def measure_proxy(rt, args):
    """The sink: connect to the proxy's backend, say so, receive and time like the throughput test."""
    zmq = rt.zmq
    ctx = zmq.Context()
    pull = make_socket(ctx, zmq.PULL, args.hwm)
    pull.connect(args.connect)
    announce("ready")
    result = receive_messages(pull, args.count, args.size)
    announce("result", library=rt.describe(), **result)
    close(ctx, pull)

"""A REP server that shuts down cleanly on Ctrl-C (SIGINT) or SIGTERM.

``python graceful_shutdown.py ENDPOINT``. The signal is handled by gevent
(``gevent.signal_handler``), so the handler runs in the hub rather than
interrupting a greenlet in the middle of a call; it terminates the context,
which makes the server's blocked ``recv`` raise ``ContextTerminated``; the
server then closes its socket and ``term()`` returns. No hang, exit status 0.
"""

import signal
import sys

import gevent

import greenmq as zmq


def serve(ctx, endpoint):
    socket = ctx.socket(zmq.REP)
    socket.bind(endpoint)
    print(f"server: listening on {endpoint}", flush=True)
    try:
        while True:
            socket.send_string(socket.recv_string().upper())
    except zmq.ContextTerminated:
        print("server: context terminated, closing the socket", flush=True)
    finally:
        socket.close(linger=0)


def main(argv):
    endpoint = argv[0] if argv else "tcp://127.0.0.1:5556"
    ctx = zmq.Context()

    def stop(signum):
        print(f"server: got {signal.Signals(signum).name}, shutting down", flush=True)
        ctx.shutdown()

    handlers = [gevent.signal_handler(signum, stop, signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    server = gevent.spawn(serve, ctx, endpoint)
    server.join()
    ctx.term()
    for handler in handlers:
        handler.cancel()
    print("server: shutdown complete", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m pyzmq_user_app {rep,req} (--bind EP | --connect EP) --count N``

rep: answer N requests, each with ``b"echo:" + request``; req: send N requests ``b"hello <i>"``
and print each reply. Prints ``READY <endpoint>`` once bound or connected, one ``REPLY <text>``
per reply (req), then ``DONE <module of the socket class> <number of messages>``.
"""

import argparse
import sys

import zmq.green as zmq
import zmq.constants
import zmq.error
from zmq.sugar.socket import Socket
from zmq.utils import z85


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["rep", "req"])
    parser.add_argument("--bind")
    parser.add_argument("--connect")
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()

    ctx = zmq.Context.instance()
    kind = zmq.constants.SocketType.REP if args.role == "rep" else zmq.constants.SocketType.REQ
    sock = ctx.socket(kind)
    assert isinstance(sock, Socket)
    sock.rcvtimeo = 10_000
    sock.sndtimeo = 10_000
    sock.linger = 1000
    if args.bind:
        sock.bind(args.bind)
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    else:
        sock.connect(args.connect)
        endpoint = args.connect
    print("READY", endpoint, flush=True)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    done = 0
    try:
        for i in range(args.count):
            if args.role == "req":
                sock.send(b"hello %d" % i)
            if not poller.poll(10_000):
                raise zmq.error.Again("nothing arrived")
            message = sock.recv()
            if args.role == "rep":
                sock.send(b"echo:" + message)
            else:
                print("REPLY", message.decode(), flush=True)
            done += 1
    except zmq.error.ZMQError as error:
        print("ERROR", error.errno, error, flush=True)
        return 1
    finally:
        sock.close()
        ctx.term()
    # z85 round trip: the utils modules came along with the package.
    assert z85.decode(z85.encode(b"\x00" * 4)) == b"\x00" * 4
    print("DONE", type(sock).__module__, done, flush=True)
    return 0


sys.exit(main())

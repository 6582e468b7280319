import gevent
import greenmq as zmq

ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
port = rep.bind_to_random_port("tcp://127.0.0.1")


def serve(count):
    for _ in range(count):
        name = rep.recv_string()
        rep.send_string(f"hello, {name}")


server = gevent.spawn(serve, 2)
req = ctx.socket(zmq.REQ)
req.connect(f"tcp://127.0.0.1:{port}")
for name in ["ada", "grace"]:
    req.send_string(name)  # a REQ must alternate: send, recv, send, recv ...
    print(req.recv_string())
server.join()
ctx.destroy(linger=0)

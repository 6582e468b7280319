import greenmq as zmq
from greenmq.auth.thread import ThreadAuthenticator

ctx = zmq.Context()
auth = ThreadAuthenticator(ctx)  # the context's ZAP handler; a greenlet in greenmq
auth.start()
auth.configure_plain(domain="*", passwords={"admin": "secret"})

server = ctx.socket(zmq.PULL)
server.plain_server = True
port = server.bind_to_random_port("tcp://127.0.0.1")

client = ctx.socket(zmq.PUSH)
client.plain_username = b"admin"
client.plain_password = b"secret"
client.connect(f"tcp://127.0.0.1:{port}")
client.send(b"hello")

frame = server.recv(copy=False)  # a Frame carries the properties of its connection
print(frame["User-Id"], "says", frame.bytes.decode(), "using", frame["Socket-Type"])
auth.stop()
ctx.destroy(linger=0)

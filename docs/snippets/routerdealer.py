import gevent
import greenmq as zmq

ctx = zmq.Context()
router = ctx.socket(zmq.ROUTER)
port = router.bind_to_random_port("tcp://127.0.0.1")


def serve(count):
    for _ in range(count):
        # A ROUTER prefixes each message with the routing id of the peer it came from,
        # and sends a reply back to the peer whose id comes first.
        client_id, request = router.recv_multipart()
        router.send_multipart([client_id, request.upper()])


server = gevent.spawn(serve, 2)
dealers = []
for name in [b"alice", b"bob"]:
    dealer = ctx.socket(zmq.DEALER)
    dealer.routing_id = name  # otherwise the ROUTER makes one up
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"hi from " + name)
    dealers.append(dealer)
for dealer in dealers:
    print(dealer.routing_id.decode(), "got", dealer.recv().decode())
server.join()
ctx.destroy(linger=0)

import gevent
import greenmq as zmq

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
port = pub.bind_to_random_port("tcp://127.0.0.1")
sub = ctx.socket(zmq.SUB)
sub.connect(f"tcp://127.0.0.1:{port}")
sub.subscribe("weather.")  # a prefix: topics are the start of the first frame


def publish():
    # A subscriber that joins late misses what was published before its subscription
    # arrived, so this publisher keeps publishing until it is stopped.
    number = 0
    while True:
        pub.send_multipart([b"sports.football", b"%d" % number])
        pub.send_multipart([b"weather.paris", b"%d" % number])
        number += 1
        gevent.sleep(0.01)


publisher = gevent.spawn(publish)
for _ in range(3):
    topic, body = sub.recv_multipart()
    print(topic.decode())  # never sports.football
publisher.kill()
ctx.destroy(linger=0)

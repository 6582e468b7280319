"""The programs the fault tests run in processes of their own: ``python fault_programs.py NAME JSON-ARGS``.

Each prints JSON lines on stdout (the first one says it is ready, with
whatever the test needs to know, such as a port) and runs until it is
done, or until the test SIGKILLs or SIGSTOPs it: a separate process is what
makes a kill a real one (the kernel closes its sockets, a half-written
frame stays half-written) and a stopped reader a real one (the kernel's
buffers fill and nothing drains them). :mod:`fault_support` starts them
and reads their lines.

- ``proxy``: the fault proxy (:class:`FaultProxy`), a TCP relay between a
  client and a server on 127.0.0.1 that the test freezes, resumes, resets
  and cuts through commands on stdin.
- ``raw_*``: hostile peers on plain blocking sockets (no gevent, no greenmq),
  which write part of something and then hang until killed.
- ``greenmq_*``: greenmq peers that report what they received.
"""

import json
import os
import resource
import socket
import struct
import sys
import time


def say(**fields):
    """One JSON line to the test (flushed: the test waits for it)."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def hang(sleep=time.sleep):
    """Wait to be killed (bounded: a program the test forgot still ends); a greenmq program
    passes ``gevent.sleep``, so that its hub runs meanwhile."""
    sleep(120)
    sys.exit(3)


# -- the fault proxy --------------------------------------------------------------------------

class FaultProxy:
    """Relays each accepted connection to ``target`` (a port on 127.0.0.1) and back, one greenlet
    per direction, and obeys the test:

    - ``freeze``: stop forwarding, both ways, on every connection, present and future, but keep
      them open. The relay stops reading, so the kernel buffers fill and the senders' writes
      stall, as behind a partitioned network.
    - ``resume``: forward again, starting with what waited in the buffers.
    - ``reset``: RST both ends of every connection (SO_LINGER 0, then close) and forward again
      (new connections pass).
    - ``cut N``: from now on, reset a connection once N bytes have gone through it from the
      client to the server (counted from its start): N inside a greeting cuts the handshake,
      N inside a frame cuts a message. ``pass`` lifts it.
    - ``stats``: connections accepted and open, and bytes forwarded each way.

    Every command is answered with a JSON line (the stats, for each).
    """

    def __init__(self, target):
        import gevent.event
        import gevent.server

        self.target = target
        self.flowing = gevent.event.Event()
        self.flowing.set()
        self.cut_after = None
        self.pairs = set()
        self.accepted = 0
        self.upstream = 0  # bytes forwarded client -> server
        self.downstream = 0
        self.server = gevent.server.StreamServer(("127.0.0.1", 0), self._relay)
        self.server.start()
        self.port = self.server.address[1]

    def _relay(self, client, _address):
        import gevent
        import gevent.socket

        self.accepted += 1
        try:
            server = gevent.socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            _reset(client)
            return
        pair = (client, server)
        self.pairs.add(pair)
        sent = [0]
        try:
            down = gevent.spawn(self._pump, server, client, False, sent, pair)
            self._pump(client, server, True, sent, pair)
            down.join()
        finally:
            self.pairs.discard(pair)
            for sock in pair:
                sock.close()

    def _pump(self, source, sink, upstream, sent, pair):
        """Forward ``source`` to ``sink`` until either end goes; a clean end is passed on as a FIN."""
        try:
            while True:
                self.flowing.wait()
                data = source.recv(65536)
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                self.flowing.wait()  # frozen while this chunk was in hand: it waits in the "network"
                if upstream and self.cut_after is not None and sent[0] + len(data) >= self.cut_after:
                    sink.sendall(data[:max(self.cut_after - sent[0], 0)])
                    self._reset(pair)
                    return
                sink.sendall(data)
                if upstream:
                    sent[0] += len(data)
                    self.upstream += len(data)
                else:
                    self.downstream += len(data)
        except OSError:
            self._reset(pair)

    def _reset(self, pair):
        if pair in self.pairs:
            self.pairs.discard(pair)
            for sock in pair:
                _reset(sock)

    def command(self, line):
        words = line.split()
        if words[0] == "freeze":
            self.flowing.clear()
        elif words[0] == "resume":
            self.flowing.set()
        elif words[0] == "reset":
            for pair in list(self.pairs):
                self._reset(pair)
            self.flowing.set()
        elif words[0] == "cut":
            self.cut_after = int(words[1])
        elif words[0] == "pass":
            self.cut_after = None
        self.report()

    def report(self):
        say(port=self.port, accepted=self.accepted, open=len(self.pairs), upstream=self.upstream,
            downstream=self.downstream)


def _reset(sock):
    """Close with an RST rather than a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def proxy(target):
    import gevent
    from gevent.fileobject import FileObjectPosix

    relay = FaultProxy(target)
    relay.report()
    commands = FileObjectPosix(sys.stdin.fileno(), "rb")  # a cooperative stdin: the relay runs while we wait
    while True:
        line = commands.readline()
        if not line:
            break
        if line.strip():
            relay.command(line.decode())
    relay.server.stop()
    gevent.sleep(0)


# -- raw hostile peers ---------------------------------------------------------------------------

def _connect(port):
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return raw


def _recv_exactly(raw, size):
    data = b""
    while len(data) < size:
        chunk = raw.recv(size - len(data))
        if not chunk:
            raise SystemExit(f"the peer closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def raw_half_frame(port, complete, size):
    """A PUSH that sends ``complete`` messages ``b"raw-<i>"``, then the header and half the body
    of a ``size``-byte frame, and hangs there."""
    from zmtp_support import command, frame, greeting, properties

    raw = _connect(port)
    raw.sendall(greeting(b"NULL") + command(b"READY", properties((b"Socket-Type", b"PUSH"))))
    _recv_exactly(raw, 64)
    flags, length = _recv_exactly(raw, 2)
    _recv_exactly(raw, length)  # the peer's READY
    raw.sendall(b"".join(frame(b"raw-%d" % i) for i in range(complete)))
    whole = frame(bytes(size))
    raw.sendall(whole[:len(whole) // 2])
    say(sent=complete, partial=len(whole) // 2)
    hang()


def raw_half_greeting(port, length):
    """Connects and sends the first ``length`` bytes of a ZMTP 3.1 greeting, then hangs."""
    from zmtp_support import greeting

    raw = _connect(port)
    raw.sendall(greeting(b"NULL")[:length])
    say(sent=length)
    hang()


def raw_half_greeting_server(length):
    """Listens; to the first connection, sends the first ``length`` bytes of a greeting, then hangs."""
    from zmtp_support import greeting

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    say(port=listener.getsockname()[1])
    raw, _ = listener.accept()
    raw.sendall(greeting(b"NULL", as_server=True)[:length])
    say(sent=length)
    hang()


def raw_curve_hello(port):
    """A CURVE client (curve_support.RawCurve) that sends its greeting and HELLO, reads the
    WELCOME, and hangs before its INITIATE."""
    from curve_support import RawCurve
    from zmtp_support import greeting

    raw = _connect(port)
    client = RawCurve()
    raw.sendall(greeting(b"CURVE") + client.hello())
    _recv_exactly(raw, 64)
    flags, = _recv_exactly(raw, 1)
    length = _recv_exactly(raw, 8 if flags & 0x02 else 1)
    body = _recv_exactly(raw, int.from_bytes(length, "big"))
    client.read_welcome(body)
    say(welcomed=True)
    hang()


def raw_curve_server(hello_only):
    """A CURVE server (RawCurve) that reads the client's greeting and HELLO and hangs, without
    answering (``hello_only``) or after its WELCOME, before the INITIATE."""
    from curve_support import RawCurve
    from zmtp_support import greeting

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    say(port=listener.getsockname()[1])
    raw, _ = listener.accept()
    server = RawCurve(as_server=True)
    raw.sendall(greeting(b"CURVE", as_server=True))
    _recv_exactly(raw, 64)
    flags, length = _recv_exactly(raw, 2)
    server.read_hello(_recv_exactly(raw, length))
    if not hello_only:
        raw.sendall(server.welcome())
    say(hello=True)
    hang()


# -- greenmq peers ------------------------------------------------------------------------------

def _greenmq_socket(socket_type, options):
    import greenmq as zmq

    ctx = zmq.Context()
    sock = ctx.socket(getattr(zmq, socket_type))
    sock.linger = 0
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name), value.encode() if isinstance(value, str) else value)
    return zmq, sock


def greenmq_big_sender(port, size):
    """A PUSH that connects, sends ``b"small"`` and then one ``size``-byte message, and waits to be
    killed while its writer pushes the big one out."""
    import gevent

    zmq, push = _greenmq_socket("PUSH", {})
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"small")
    push.send(bytes(size))
    say(queued=size)
    hang(gevent.sleep)


def greenmq_counter(socket_type, endpoint, options, bind=False):
    """A PULL or SUB that counts what it receives: ``[b"seq", b"<n>", ...]`` messages, until ``[b"end"]``.

    Says ``{"first": n}`` on the first one (the test knows the link works), ``{"mark": text}``
    on a ``[b"mark", text]`` (the test knows it reads again), and at the end how many came,
    the last number and whether the numbers only ever increased (none twice, none out of
    order) and were contiguous (none lost).
    """
    zmq, sock = _greenmq_socket(socket_type, options)
    if socket_type == "SUB":
        sock.setsockopt(zmq.SUBSCRIBE, b"")
    if bind:
        sock.bind(endpoint)
        say(endpoint=sock.last_endpoint.decode())
    else:
        sock.connect(endpoint)
        say(endpoint=endpoint)
    received = []
    marked = set()
    while True:
        msg = sock.recv_multipart()
        if msg == [b"end"]:
            break
        if msg[0] == b"mark":
            if msg[1] not in marked:
                marked.add(msg[1])
                say(mark=msg[1].decode())
            continue
        received.append(int(msg[1]))
        if len(received) == 1:
            say(first=received[0])
    say(count=len(received), last=received[-1] if received else None,
        increasing=all(a < b for a, b in zip(received, received[1:])),
        contiguous=received == list(range(received[0], received[0] + len(received))) if received else True)


def greenmq_echo(socket_type, options):
    """Binds on a free port and sends every message back (REP, or PAIR/DEALER echo)."""
    zmq, sock = _greenmq_socket(socket_type, options)
    sock.bind("tcp://127.0.0.1:*")
    say(endpoint=sock.last_endpoint.decode())
    while True:
        sock.send_multipart(sock.recv_multipart())


def emfile_listener(spare):
    """A PULL listener in a process whose RLIMIT_NOFILE leaves ``spare`` descriptors free after
    binding. Says its endpoint; once accept has failed with EMFILE, measures the CPU time the
    process uses for one second while the limit is hit, and says it with the monitor's events;
    then receives ``[b"seq", n]`` messages until ``[b"end"]`` and says how many came."""
    import errno

    import gevent

    from greenmq.utils.monitor import recv_monitor_message

    zmq, pull = _greenmq_socket("PULL", {})
    monitor = pull.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_ACCEPT_FAILED | zmq.EVENT_DISCONNECTED)
    pull.bind("tcp://127.0.0.1:*")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + spare, hard))
    say(endpoint=pull.last_endpoint.decode(), limit=in_use + spare)
    events = {"accepted": 0, "emfile": 0, "other_failures": 0, "disconnected": 0}

    def count_event():
        event = recv_monitor_message(monitor)
        if event["event"] == zmq.EVENT_ACCEPTED:
            events["accepted"] += 1
        elif event["event"] == zmq.EVENT_ACCEPT_FAILED:
            events["emfile" if event["value"] == errno.EMFILE else "other_failures"] += 1
        elif event["event"] == zmq.EVENT_DISCONNECTED:
            events["disconnected"] += 1

    while not events["emfile"]:
        count_event()
    cpu_before, wall_before = time.process_time(), time.monotonic()
    def count_events():
        while True:
            count_event()
    watcher = gevent.spawn(count_events)
    gevent.sleep(1.0)
    cpu, wall = time.process_time() - cpu_before, time.monotonic() - wall_before
    say(cpu=cpu, wall=wall, events=dict(events), closed=pull.closed)
    received = 0
    while pull.recv_multipart() != [b"end"]:
        received += 1
    watcher.kill()
    say(received=received, events=events)


PROGRAMS = {function.__name__: function for function in (
    proxy, raw_half_frame, raw_half_greeting, raw_half_greeting_server, raw_curve_hello,
    raw_curve_server, greenmq_big_sender, greenmq_counter, greenmq_echo, emfile_listener)}

if __name__ == "__main__":
    PROGRAMS[sys.argv[1]](**json.loads(sys.argv[2]))

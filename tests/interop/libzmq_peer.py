#!/usr/bin/env python
"""A libzmq (pyzmq) peer for greenmq's interoperability tests, and the tests' side of it.

Run as a script, it is a small pyzmq program (``import zmq`` is real libzmq
here) playing one role on one socket::

    python libzmq_peer.py ROLE TYPE (--bind EP | --connect EP) [options]

    ROLE  recv     receive messages and report digests of what arrived
          send     send messages, report, then close (lingering until delivered)
          echo     receive messages and send each one back (PAIR)
          idle     just be there (with --monitor: report the socket's events)
          ctl      obey JSON commands read from stdin, one a line, answering
                   each with a RESULT line (see _control)
          serve    a request-reply worker: answer each message with itself plus
                   a last frame --tag, until QUIT; then report the count
          request  a REQ client: send --count requests of --frames frames
                   ("TAG:i:j"), take each reply, report them all
          broker   zmq.proxy between TYPE (the ROUTER frontend, --bind) and a
                   DEALER backend bound at --backend (a second READY line), until QUIT
          forwarder
                   zmq.proxy between TYPE (the XSUB frontend, --bind or --connect)
                   and an XPUB backend bound at --backend (a second READY line), until QUIT
    TYPE  PAIR, PUSH, PULL, REQ, REP, DEALER, ROUTER (any pyzmq socket type name)

    Socket options: --sockopt NAME=VALUE (repeatable, set before bind/connect);
    VALUE is an int, x:HEX for bytes, or s:TEXT for text (Z85 keys, user names).

    Authentication (set up before the socket): --auth-plain USER:PASSWORD,
    --auth-curve DIR (a directory of public certificates, or * for
    CURVE_ALLOW_ANY), --auth-allow ADDR, --auth-deny ADDR (all repeatable but
    --auth-curve; --auth-domain, default *) start pyzmq's ThreadAuthenticator;
    --zap-handler STATUS binds a hand-made handler instead that reports every
    request as ``ZAP <json list of hex frames>`` and answers STATUS (user id
    "zap-user" when admitting).

    What travels: --plan '[[frame sizes of message 0], [sizes of message 1], ...]'
    (contents from frame_payload()), or --bulk N small messages
    (bulk_payload(offset + i)); recv/echo without either take what comes
    (--count at most).

It talks to the test on stdout, one line each: ``READY <endpoint>`` once
bound or connected, ``EVENT <name> <value>`` for monitor events (--monitor),
``RESULT <json>`` when the role is done, ``ZAP <json>`` for requests to
--zap-handler, ``ERROR <text>`` on failure. It
always ends by itself: every blocking call has a timeout (RCVTIMEO/SNDTIMEO),
a watchdog ends the process after --lifetime seconds, and it exits at once if
its stdin reaches EOF (the test process went away). ``QUIT`` on stdin ends
--hold and the idle, serve, broker, forwarder and ctl roles.

Imported by the tests (which run greenmq as ``zmq``), the module never
imports pyzmq: it provides the payload generators both sides share, and
:class:`PeerGroup`/:class:`PeerProcess`, which start the script with
``gevent.subprocess`` and read its reports cooperatively.
"""

import argparse
import functools
import hashlib
import json
import os
import random
import sys
import tempfile
import threading

PEER_SCRIPT = os.path.abspath(__file__)

# -- payloads both sides generate ------------------------------------------------------


@functools.lru_cache(maxsize=256)
def frame_payload(msg_index, frame_index, size):
    """Deterministic pseudo-random bytes for one frame of a planned message.

    The content depends on the message's and frame's position as well as the
    size, so a frame delivered in the wrong place does not match.
    """
    return random.Random(f"greenmq-interop/{msg_index}/{frame_index}/{size}").randbytes(size)


def plan_message(plan, index):
    """The frames of message ``index`` of a plan (a list of lists of frame sizes)."""
    return [frame_payload(index, j, size) for j, size in enumerate(plan[index])]


def bulk_payload(i):
    """Small message number ``i`` of a bulk run: 5 to 65 bytes, unique per ``i``."""
    return i.to_bytes(4, "big") + bytes((i % 251,)) * (i % 61 + 1)


def message_digest(frames):
    """What a receiver reports about one message: [[size, sha256], ...] per frame."""
    return [[len(frame), hashlib.sha256(frame).hexdigest()] for frame in frames]


class BulkChecksum:
    """A running sha256 over a sequence of messages (frame count and sizes included), in order.

    With ``offset`` given, it also notes the first message that is not
    ``bulk_payload(offset + index)`` (wrong content, or out of order).
    """

    def __init__(self, offset=None):
        self._sha = hashlib.sha256()
        self.count = 0
        self.offset = offset
        self.first_mismatch = None

    def update(self, frames):
        sha = self._sha
        sha.update(len(frames).to_bytes(4, "big"))
        for frame in frames:
            sha.update(len(frame).to_bytes(8, "big"))
            sha.update(frame)
        if (self.offset is not None and self.first_mismatch is None
                and frames != [bulk_payload(self.offset + self.count)]):
            self.first_mismatch = self.count
        self.count += 1

    def hexdigest(self):
        return self._sha.hexdigest()


def bulk_checksum(count, offset=0):
    """The checksum of ``bulk_payload(offset) ... bulk_payload(offset + count - 1)``."""
    checksum = BulkChecksum()
    for i in range(offset, offset + count):
        checksum.update([bulk_payload(i)])
    return checksum.hexdigest()


def assert_same_message(got, expected, what="message"):
    """Compare two multipart messages exactly, without pytest diffing megabytes of bytes."""
    assert len(got) == len(expected), f"{what}: {len(got)} frames, expected {len(expected)}"
    for j, (frame, want) in enumerate(zip(got, expected)):
        assert len(frame) == len(want), f"{what} frame {j}: {len(frame)} bytes, expected {len(want)}"
        if frame != want:
            offset = next(k for k in range(len(want)) if frame[k] != want[k])
            raise AssertionError(f"{what} frame {j} ({len(want)} bytes) differs from byte {offset} on")


# -- the peer (runs under pyzmq) -----------------------------------------------------------

_emit_lock = threading.Lock()


def _emit(*words):
    line = " ".join(str(word) for word in words)
    with _emit_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("role", choices=("recv", "send", "echo", "idle", "ctl", "serve", "request", "broker",
                                         "forwarder"))
    parser.add_argument("type", help="socket type name: PAIR, PUSH, PULL ...")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", metavar="ENDPOINT")
    where.add_argument("--connect", metavar="ENDPOINT")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--plan", type=json.loads, help="JSON list of lists of frame sizes")
    what.add_argument("--bulk", type=int, metavar="N", help="N small messages")
    parser.add_argument("--offset", type=int, default=0, help="first bulk message number")
    parser.add_argument("--count", type=int, help="recv/echo: stop after this many messages")
    parser.add_argument("--rcvtimeo", type=int, default=10000, help="ms")
    parser.add_argument("--sndtimeo", type=int, default=10000, help="ms")
    parser.add_argument("--linger", type=int, default=10000, help="ms, when closing")
    parser.add_argument("--immediate", action="store_true")
    parser.add_argument("--heartbeat", metavar="IVL,TIMEOUT,TTL", help="ZMTP heartbeat options, ms")
    parser.add_argument("--monitor", action="store_true", help="report socket events as EVENT lines")
    parser.add_argument("--hold", action="store_true", help="after the role, stay until QUIT")
    parser.add_argument("--lifetime", type=float, default=60.0, help="hard limit, seconds")
    parser.add_argument("--sockopt", action="append", default=[], metavar="NAME=VALUE",
                        help="a socket option set before bind/connect: an int, or x:HEX for bytes")
    parser.add_argument("--tag", default="libzmq", help="serve: the frame added to replies; request: the prefix")
    parser.add_argument("--frames", type=int, default=1, help="request: frames per request")
    parser.add_argument("--backend", metavar="ENDPOINT", help="broker: where the DEALER backend binds")
    parser.add_argument("--auth-plain", action="append", default=[], metavar="USER:PASSWORD",
                        help="ThreadAuthenticator: a PLAIN user")
    parser.add_argument("--auth-curve", metavar="DIR", help="ThreadAuthenticator: public certificates, or *")
    parser.add_argument("--auth-allow", action="append", default=[], metavar="ADDRESS")
    parser.add_argument("--auth-deny", action="append", default=[], metavar="ADDRESS")
    parser.add_argument("--auth-domain", default="*", help="the ZAP domain the authenticator's policies are for")
    parser.add_argument("--zap-handler", metavar="STATUS", help="a hand-made ZAP handler answering STATUS")
    return parser.parse_args(argv)


def _watch_stdin(quit_event):
    """QUIT ends --hold/idle; EOF means the test process is gone: exit at once."""
    for line in sys.stdin:
        if line.strip() == "QUIT":
            quit_event.set()
    os._exit(3)


def _watch_events(zmq, monitor):
    from zmq.utils.monitor import recv_monitor_message

    try:
        while True:
            event = recv_monitor_message(monitor)
            name = zmq.Event(event["event"]).name
            # pyzmq wraps the value in zmq.Event too; before Python 3.11 str() of an IntFlag is
            # "Event.A|B", not the number the reading side parses.
            _emit("EVENT", name, int(event["value"]))
            if event["event"] == zmq.EVENT_MONITOR_STOPPED:
                break
    except zmq.ZMQError:
        pass
    finally:
        monitor.close(linger=0)


def _expected_count(args):
    if args.plan is not None:
        return len(args.plan)
    if args.bulk is not None:
        return args.bulk
    return args.count


def _receive(zmq, sock, args, echo):
    """recv and echo: take messages until the expected count, or until RCVTIMEO passes."""
    limit = _expected_count(args)
    bulk = BulkChecksum(args.offset) if args.bulk is not None else None
    digests = []
    timed_out = False
    count = 0
    while limit is None or count < limit:
        try:
            frames = sock.recv_multipart()
        except zmq.Again:
            timed_out = True
            break
        count += 1
        if bulk is not None:
            bulk.update(frames)
        else:
            digests.append(message_digest(frames))
        if echo:
            sock.send_multipart(frames)
    result = {"count": count, "timed_out": timed_out}
    if bulk is not None:
        result.update(sha256=bulk.hexdigest(), first_mismatch=bulk.first_mismatch)
    else:
        result["messages"] = digests
    return result


def _send(zmq, sock, args):
    if args.plan is not None:
        messages = (plan_message(args.plan, i) for i in range(len(args.plan)))
    elif args.bulk is not None:
        messages = ([bulk_payload(i)] for i in range(args.offset, args.offset + args.bulk))
    else:
        raise SystemExit("send needs --plan or --bulk")
    checksum = BulkChecksum()
    timed_out = False
    for frames in messages:
        try:
            sock.send_multipart(frames)
        except zmq.Again:
            timed_out = True
            break
        checksum.update(frames)
    return {"sent": checksum.count, "timed_out": timed_out, "sha256": checksum.hexdigest()}


def encode_sockopt(name, value):
    """``--sockopt`` text for an option value (the tests' side): int, bytes as x:HEX, str as s:TEXT."""
    if isinstance(value, (bytes, bytearray)):
        return f"{name}=x:{bytes(value).hex()}"
    if isinstance(value, str):
        return f"{name}=s:{value}"
    return f"{name}={int(value)}"


def _decode_sockopt(text):
    name, _, value = text.partition("=")
    if value.startswith("x:"):
        return name, bytes.fromhex(value[2:])
    if value.startswith("s:"):
        return name, value[2:].encode()
    return name, int(value)


def write_public_certificate(path, public_key):
    """A public certificate (ZPL, as zmq.auth writes them) for a Z85 key: for ``configure_curve`` directories.

    Lives here so that the tests can fill a directory for both authenticators
    with keys of their choosing (create_certificates only makes new ones)."""
    if isinstance(public_key, bytes):
        public_key = public_key.decode("ascii")
    with open(path, "w", encoding="utf-8") as cert:
        cert.write(f'#   interop test certificate\nmetadata\ncurve\n    public-key = "{public_key}"\n')


def _errno_name(zmq, error):
    try:
        return zmq.Errno(error.errno).name
    except ValueError:
        return str(error.errno)


def _control(zmq, sock):
    """ctl: one JSON command a line on stdin, one ``RESULT <json>`` line back for each.

    Frames travel as hex strings. Commands (``op``) and answers::

        send     frames, [dontwait]   {"ok": true} or {"error": "EAGAIN"}, "EHOSTUNREACH" ...
                 (or head, index, sizes instead of frames: the head frames, then
                 frame_payload(index, j, size) for each size)
        recv     [timeout] (ms)       {"frames": [...]} or {"error": "EAGAIN"}
                 [digest]             frames holds the first frame only, "rest" a message_digest
                                      of the others
                 [properties]         names: "properties" has the last frame's metadata
                                      (null where it has none)
        poll     [timeout], [flags]   {"events": n}
        set      name, value          (value: int, or {"hex": ...})   {"ok": true} or {"error": ...}
        connect / disconnect / bind / unbind   endpoint   {"ok": true, "endpoint": LAST_ENDPOINT}
        close    [linger]             {"ok": true}
        quit                          (no answer: the peer closes and exits; a QUIT line does the same)

    EOF on stdin ends the process at once.
    """
    while True:
        line = sys.stdin.readline()
        if not line:
            os._exit(3)
        if line.strip() == "QUIT":
            return
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            return
        try:
            if op == "send":
                if "sizes" in command:
                    frames = [bytes.fromhex(frame) for frame in command.get("head", [])]
                    frames += [frame_payload(command["index"], j, size) for j, size in enumerate(command["sizes"])]
                else:
                    frames = [bytes.fromhex(frame) for frame in command["frames"]]
                sock.send_multipart(frames, zmq.DONTWAIT if command.get("dontwait") else 0)
                answer = {"ok": True}
            elif op == "recv":
                timeout = command.get("timeout")
                if timeout is not None and not sock.poll(timeout):
                    raise zmq.Again()
                answer = _received(zmq, sock.recv_multipart(copy=False), command)
            elif op == "poll":
                answer = {"events": sock.poll(command.get("timeout", 0), command.get("flags", zmq.POLLIN))}
            elif op == "set":
                value = command["value"]
                sock.setsockopt(getattr(zmq, command["name"]),
                                bytes.fromhex(value["hex"]) if isinstance(value, dict) else value)
                answer = {"ok": True}
            elif op in ("connect", "disconnect", "bind", "unbind"):
                getattr(sock, op)(command["endpoint"])
                answer = {"ok": True, "endpoint": sock.last_endpoint.decode()}
            elif op == "close":
                sock.close(command.get("linger"))
                answer = {"ok": True}
            else:
                answer = {"error": f"unknown op {op}"}
        except zmq.ZMQError as error:
            answer = {"error": _errno_name(zmq, error)}
        _emit("RESULT", json.dumps(answer))


def _received(zmq, frames, command):
    """ctl's answer to recv: the frames (hex), or the first one and a digest of the rest; metadata."""
    data = [frame.bytes for frame in frames]
    if command.get("digest"):
        answer = {"frames": [data[0].hex()], "rest": message_digest(data[1:])}
    else:
        answer = {"frames": [frame.hex() for frame in data]}
    if command.get("properties"):
        answer["properties"] = {name: _property(zmq, frames[-1], name) for name in command["properties"]}
    return answer


def _property(zmq, frame, name):
    try:
        return frame.get(name)
    except zmq.ZMQError:  # EINVAL: the message has no such property
        return None


def _start_authentication(zmq, ctx, args):
    """pyzmq's ThreadAuthenticator (or, with --zap-handler, a hand-made handler) for the peer's context.

    Returns a function that stops it; both are running before this returns,
    so the socket's first handshake already finds its handler."""
    if args.zap_handler:
        return _start_zap_handler(zmq, ctx, args.zap_handler.encode())
    if not (args.auth_plain or args.auth_curve or args.auth_allow or args.auth_deny):
        return None
    from zmq.auth import CURVE_ALLOW_ANY
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx)
    auth.start()
    if args.auth_allow:
        auth.allow(*args.auth_allow)
    if args.auth_deny:
        auth.deny(*args.auth_deny)
    if args.auth_plain:
        auth.configure_plain(args.auth_domain, dict(user.split(":", 1) for user in args.auth_plain))
    if args.auth_curve:
        auth.configure_curve(args.auth_domain, CURVE_ALLOW_ANY if args.auth_curve == "*" else args.auth_curve)
    return auth.stop


def _start_zap_handler(zmq, ctx, status):
    """A REP at inproc://zeromq.zap.01 that reports each request (ZAP line) and answers ``status``."""
    handler = ctx.socket(zmq.REP)
    handler.linger = 0
    handler.bind("inproc://zeromq.zap.01")
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            if not handler.poll(50):
                continue
            request = handler.recv_multipart()
            _emit("ZAP", json.dumps([frame.hex() for frame in request]))
            user_id = b"zap-user" if status == b"200" else b""
            handler.send_multipart([request[0], request[1], status, b"interop", user_id, b""])
        handler.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def stop():
        stopping.set()
        thread.join(5)
    return stop


def _serve(zmq, sock, args, quit_event):
    """serve: answer every message with itself plus the tag frame, until QUIT (or --count)."""
    tag = args.tag.encode()
    count = 0
    while not quit_event.is_set() and (args.count is None or count < args.count):
        if not sock.poll(20):
            continue
        frames = sock.recv_multipart()
        sock.send_multipart([*frames, tag])
        count += 1
    return {"count": count}


def _request(zmq, sock, args):
    """request: --count requests of --frames frames each, one at a time; report every reply."""
    replies = []
    timed_out = False
    for i in range(args.count or 0):
        frames = [f"{args.tag}:{i}:{j}".encode() for j in range(args.frames)]
        try:
            sock.send_multipart(frames)
            replies.append([frame.hex() for frame in sock.recv_multipart()])
        except zmq.Again:
            timed_out = True
            break
    return {"replies": replies, "timed_out": timed_out}


def _proxy_role(zmq, ctx, frontend, args, quit_event, backend_type, name):
    """libzmq's proxy from the frontend to a backend of ``backend_type`` bound at --backend, until QUIT."""
    backend = ctx.socket(backend_type)
    backend.linger = 0
    control = ctx.socket(zmq.PAIR)
    control.bind(f"inproc://{name}-control")
    steer = ctx.socket(zmq.PAIR)
    steer.connect(f"inproc://{name}-control")
    try:
        backend.bind(args.backend)
        _emit("READY", backend.last_endpoint.decode())
        thread = threading.Thread(target=zmq.proxy_steerable, args=(frontend, backend, None, control), daemon=True)
        thread.start()
        quit_event.wait(args.lifetime)
        steer.send(b"TERMINATE")
        thread.join(10)
    finally:
        for sock in (steer, control, backend):
            sock.close(linger=0)


def _broker(zmq, ctx, frontend, args, quit_event):
    """broker: libzmq's proxy from the frontend to a DEALER backend, until QUIT."""
    _proxy_role(zmq, ctx, frontend, args, quit_event, zmq.DEALER, "broker")


def _forwarder(zmq, ctx, frontend, args, quit_event):
    """forwarder: libzmq's proxy from an XSUB frontend to an XPUB backend, until QUIT."""
    _proxy_role(zmq, ctx, frontend, args, quit_event, zmq.XPUB, "forwarder")


def main(argv=None):
    import zmq  # real libzmq, via pyzmq: this runs in its own process

    args = _parse_args(argv)
    watchdog = threading.Timer(args.lifetime, os._exit, (4,))
    watchdog.daemon = True
    watchdog.start()
    quit_event = threading.Event()
    if args.role != "ctl":  # ctl reads its commands from stdin itself
        threading.Thread(target=_watch_stdin, args=(quit_event,), daemon=True).start()

    ctx = zmq.Context()
    stop_authentication = _start_authentication(zmq, ctx, args)
    sock = ctx.socket(getattr(zmq, args.type))
    sock.rcvtimeo = args.rcvtimeo
    sock.sndtimeo = args.sndtimeo
    sock.linger = args.linger
    if args.immediate:
        sock.immediate = 1
    if args.heartbeat:
        sock.heartbeat_ivl, sock.heartbeat_timeout, sock.heartbeat_ttl = map(int, args.heartbeat.split(","))
    for text in args.sockopt:
        name, value = _decode_sockopt(text)
        sock.setsockopt(getattr(zmq, name), value)
    monitor_thread = None
    if args.monitor:
        monitor = sock.get_monitor_socket()
        monitor_thread = threading.Thread(target=_watch_events, args=(zmq, monitor), daemon=True)
        monitor_thread.start()
    try:
        if args.bind:
            sock.bind(args.bind)
        else:
            sock.connect(args.connect)
        _emit("READY", sock.last_endpoint.decode())
        if args.role in ("recv", "echo"):
            _emit("RESULT", json.dumps(_receive(zmq, sock, args, echo=args.role == "echo")))
        elif args.role == "send":
            _emit("RESULT", json.dumps(_send(zmq, sock, args)))
        elif args.role == "ctl":
            _control(zmq, sock)
        elif args.role == "serve":
            _emit("RESULT", json.dumps(_serve(zmq, sock, args, quit_event)))
        elif args.role == "request":
            _emit("RESULT", json.dumps(_request(zmq, sock, args)))
        elif args.role == "broker":
            _broker(zmq, ctx, sock, args, quit_event)
        elif args.role == "forwarder":
            _forwarder(zmq, ctx, sock, args, quit_event)
        if args.hold or args.role == "idle":
            quit_event.wait(args.lifetime)
    except zmq.ZMQError as error:
        _emit("ERROR", f"{type(error).__name__}: {error}")
        os._exit(2)
    if monitor_thread is not None and not sock.closed:
        sock.disable_monitor()
        monitor_thread.join(5)
    sock.close()
    if stop_authentication is not None:
        stop_authentication()
    ctx.term()  # waits for queued messages to be sent, up to LINGER
    return 0


# -- the tests' side: start peers with gevent.subprocess, read their reports ---------------


BINDERS = ["greenmq", "libzmq"]  # which side binds: the tests try each pairing both ways
WAIT = 30  # seconds: the bound on each interop test

# Reports that may come at any time, between the answers a test waits for.
_SIDE_REPORTS = ("EVENT", "ZAP")


class PeerError(AssertionError):
    """The peer failed, exited early, or did not report in time."""


class PeerProcess:
    """One running peer script. Use :meth:`PeerGroup.start` (which kills it at the end)."""

    def __init__(self, argv):
        from gevent import subprocess  # cooperative: never blocks the hub (greenmq's I/O)

        self.argv = argv
        self.events = []
        self.zap_requests = []  # the frames of each request to --zap-handler
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, PEER_SCRIPT, *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)

    def __repr__(self):
        return f"<libzmq peer {' '.join(self.argv)}>"

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _fail(self, why):
        return PeerError(f"{self!r}: {why}\n--- peer stderr ---\n{self.stderr()}")

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise self._fail(f"exited (status {self.proc.returncode}) without reporting")
        kind, _, rest = line.decode().rstrip("\n").partition(" ")
        if kind == "ERROR":
            raise self._fail(f"reported an error: {rest}")
        if kind == "EVENT":
            name, _, value = rest.partition(" ")
            self.events.append((name, int(value)))
        elif kind == "ZAP":
            self.zap_requests.append([bytes.fromhex(frame) for frame in json.loads(rest)])
        return kind, rest

    def expect(self, keyword, timeout=20):
        """Read reports until a ``keyword`` line (events are collected on the way); return its text."""
        import gevent

        with gevent.Timeout(timeout, self._fail(f"no {keyword} line within {timeout} s")):
            while True:
                kind, rest = self._line()
                if kind == keyword:
                    return rest
                if kind not in _SIDE_REPORTS:
                    raise self._fail(f"unexpected report {kind} {rest}")

    def ready(self, timeout=20):
        """Wait for the peer's socket to be bound or connected; return its LAST_ENDPOINT."""
        return self.expect("READY", timeout)

    def result(self, timeout=30):
        """Wait for the role to finish; return its report (a dict)."""
        return json.loads(self.expect("RESULT", timeout))

    def event_count(self, name):
        return sum(1 for event, _ in self.events if event == name)

    def wait_for_events(self, name, count, timeout=20):
        """Read EVENT reports until ``name`` has been seen ``count`` times."""
        import gevent

        with gevent.Timeout(timeout, self._fail(f"fewer than {count} {name} events within {timeout} s")):
            while self.event_count(name) < count:
                kind, rest = self._line()
                if kind not in _SIDE_REPORTS:
                    raise self._fail(f"unexpected report {kind} {rest}")

    def wait_for_zap_requests(self, count, timeout=20):
        """Read reports until --zap-handler has reported ``count`` requests; return them all."""
        import gevent

        with gevent.Timeout(timeout, self._fail(f"fewer than {count} ZAP requests within {timeout} s")):
            while len(self.zap_requests) < count:
                kind, rest = self._line()
                if kind not in _SIDE_REPORTS:
                    raise self._fail(f"unexpected report {kind} {rest}")
        return self.zap_requests

    def collect_events(self, seconds):
        """Read EVENT reports for ``seconds`` (to show that something does *not* happen)."""
        import gevent

        with gevent.Timeout(seconds, False):
            while True:
                kind, rest = self._line()
                if kind not in _SIDE_REPORTS:
                    raise self._fail(f"unexpected report {kind} {rest}")

    def quit(self):
        """Ask the peer to end --hold, idle, serve, broker or ctl."""
        self.proc.stdin.write(b"QUIT\n")
        self.proc.stdin.flush()

    # -- the ctl role ------------------------------------------------------------

    def command(self, op, wait=30, **fields):
        """Send one command to a ``ctl`` peer and return its answer (a dict) within ``wait`` s.

        ``fields`` go to the peer (``timeout`` among them is the peer's, in ms).
        """
        self.proc.stdin.write(json.dumps({"op": op, **fields}).encode() + b"\n")
        self.proc.stdin.flush()
        return self.result(wait)

    def send_planned(self, index, sizes, head=()):
        """ctl: send ``head`` plus frame_payload(index, j, size) for each size; None, or the errno name."""
        return self.command("send", head=[bytes(frame).hex() for frame in head], index=index, sizes=sizes).get("error")

    def recv_message(self, timeout=10000, digest=False, properties=()):
        """ctl: one message within ``timeout`` ms, or None; the whole answer (frames as bytes).

        With ``digest``, ``frames`` holds the first frame only and ``rest`` a
        message_digest of the others; ``properties`` names metadata to report
        from the last frame (User-Id, Peer-Address ...)."""
        answer = self.command("recv", timeout=timeout, digest=digest, properties=list(properties))
        if "frames" not in answer:
            if answer.get("error") != "EAGAIN":
                raise self._fail(f"recv failed: {answer}")
            return None
        answer["frames"] = [bytes.fromhex(frame) for frame in answer["frames"]]
        return answer

    def send_frames(self, frames, dontwait=False):
        """ctl: send one multipart message; None, or the errno name (``"EAGAIN"``, ``"EHOSTUNREACH"``)."""
        answer = self.command("send", frames=[bytes(frame).hex() for frame in frames], dontwait=dontwait)
        return answer.get("error")

    def recv_frames(self, timeout=10000):
        """ctl: receive one message within ``timeout`` ms; its frames, or None if nothing came."""
        answer = self.command("recv", timeout=timeout)
        if "frames" in answer:
            return [bytes.fromhex(frame) for frame in answer["frames"]]
        if answer.get("error") != "EAGAIN":
            raise self._fail(f"recv failed: {answer}")
        return None

    def set_option(self, name, value):
        """ctl: setsockopt; None, or the errno name."""
        value = {"hex": bytes(value).hex()} if isinstance(value, (bytes, bytearray)) else value
        return self.command("set", name=name, value=value).get("error")

    def wait(self, timeout=20):
        """Wait for the peer to exit by itself; return its status."""
        import gevent

        with gevent.Timeout(timeout, self._fail(f"did not exit within {timeout} s")):
            return self.proc.wait()

    def kill(self):
        """SIGKILL the peer (if still running) and reap it."""
        import gevent

        if self.proc.poll() is None:
            self.proc.kill()
            with gevent.Timeout(10, self._fail("did not die after SIGKILL")):
                self.proc.wait()

    def close(self):
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr.close()


def greenmq_socket(ctx, socket_type, timeout_ms=10000):
    """A greenmq socket for a test: LINGER 0, and RCVTIMEO/SNDTIMEO so that no call waits forever."""
    sock = ctx.socket(socket_type)
    sock.linger = 0
    sock.rcvtimeo = timeout_ms
    sock.sndtimeo = timeout_ms
    return sock


def local_endpoint(transport, tmp_path, name="interop"):
    """A bindable endpoint: tcp on 127.0.0.1 (any port), or ipc inside the test's tmp_path."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    return f"ipc://{tmp_path}/{name}.sock"


def link(sock, peers, binder, endpoint, role, socket_type, **options):
    """Join a greenmq socket and a new libzmq peer: ``binder`` ("greenmq" or "libzmq") binds
    ``endpoint``, the other side connects. Returns the peer, once its socket is set up."""
    if binder == "greenmq":
        sock.bind(endpoint)
        peer = peers.start(role, socket_type, connect=sock.last_endpoint, **options)
        peer.ready()
    else:
        peer = peers.start(role, socket_type, bind=endpoint, **options)
        sock.connect(peer.ready())
    return peer


class PeerGroup:
    """Starts peers and kills whatever is left of them at the end (used by the tests' fixture)."""

    def __init__(self):
        self.peers = []

    def start(self, role, socket_type, *, bind=None, connect=None, plan=None, bulk=None, offset=None,
              count=None, rcvtimeo=None, sndtimeo=None, linger=None, immediate=False, heartbeat=None,
              monitor=False, hold=False, lifetime=None, sockopts=None, tag=None, frames=None, backend=None,
              auth=None, zap_handler=None):
        """Start a peer (see the script's usage for the options).

        ``auth`` configures pyzmq's ThreadAuthenticator in the peer: a dict with
        any of ``plain`` ({user: password}), ``curve`` (a certificate directory,
        or "*"), ``allow`` and ``deny`` (address lists) and ``domain``.
        ``zap_handler`` ("200", "400" ...) binds the hand-made handler instead."""
        argv = [role, socket_type]
        for user, password in (auth or {}).get("plain", {}).items():
            argv += ["--auth-plain", f"{user}:{password}"]
        for name in ("allow", "deny"):
            for address in (auth or {}).get(name, ()):
                argv += [f"--auth-{name}", address]
        for name in ("curve", "domain"):
            if (auth or {}).get(name) is not None:
                argv += [f"--auth-{name}", str(auth[name])]
        if zap_handler is not None:
            argv += ["--zap-handler", zap_handler]
        for name, value in (sockopts or {}).items():
            argv += ["--sockopt", encode_sockopt(name, value)]
        if bind is not None:
            argv += ["--bind", bind]
        if connect is not None:
            argv += ["--connect", connect.decode() if isinstance(connect, bytes) else connect]
        if plan is not None:
            argv += ["--plan", json.dumps(plan, separators=(",", ":"))]
        if heartbeat is not None:
            argv += ["--heartbeat", ",".join(str(ms) for ms in heartbeat)]
        for name, value in (("bulk", bulk), ("offset", offset), ("count", count), ("rcvtimeo", rcvtimeo),
                            ("sndtimeo", sndtimeo), ("linger", linger), ("lifetime", lifetime), ("tag", tag),
                            ("frames", frames), ("backend", backend)):
            if value is not None:
                argv += [f"--{name}", str(value)]
        for name, flag in (("immediate", immediate), ("monitor", monitor), ("hold", hold)):
            if flag:
                argv.append(f"--{name}")
        peer = PeerProcess(argv)
        self.peers.append(peer)
        return peer

    def close(self):
        for peer in self.peers:
            peer.close()
        self.peers = []


if __name__ == "__main__":
    sys.exit(main())

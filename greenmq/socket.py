"""``Socket``: pyzmq's socket API over greenmq's patterns, pipes and engines.

Blocking is cooperative: a call that must wait sleeps on a gevent event that
a pipe sets when it goes from empty to non-empty (``recv``) or from full to
its low-water mark (``send``). Waiting is atomic with respect to
interruption: a message is taken from, or put into, a pipe in one step with no
switch in between, so a ``gevent.Timeout``, ``greenlet.kill()`` or
``RCVTIMEO``/``SNDTIMEO`` that ends a wait has consumed or sent nothing, and
a multipart message moves as a whole.
"""

import errno
import itertools
import json
import pickle
import random
import struct
from time import monotonic

import gevent

from ._socket import options as _options, security as _security
from .constants import Errno, Event as MonitorEvent, Flag, PollEvent, SocketOption, SocketType
from .error import Again, ZMQBindError, ZMQError, zmq_error
from .frame import Frame, MessageTracker
from .patterns import PATTERNS
from ._pipe import Peer, Pipe
from ._connection.session import ConnectSession, Listener
from ._connection import endpoint as _endpoint, tcp_ipc as _tcp_ipc
from ._socket.wakeup import Wakeup
from .zmtp.sockettypes import WIRE_NAMES

# Plain ints: testing bits against IntFlag members costs an enum call each time.
DONTWAIT = int(Flag.DONTWAIT)
SNDMORE = int(Flag.SNDMORE)
# The socket types on which libzmq honours CONFLATE.
_CONFLATING_TYPES = (SocketType.PUSH, SocketType.PULL, SocketType.PUB, SocketType.SUB, SocketType.DEALER)
POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
# Every this many send/recv calls, yield to the hub once, so that a tight loop
# cannot starve engines and other greenlets. (A power of two: tested with a mask.)
_FAIRNESS_PERIOD = 512
_FAIRNESS_MASK = _FAIRNESS_PERIOD - 1


def _not_bytes_message(data):
    return f"a bytes-like object is required, not '{type(data).__name__}'"


def _frame_data(data, copy):
    """Normalise what ``send`` was given into bytes (or a zero-copy view for ``copy=False``)."""
    if isinstance(data, Frame):
        return data._data
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(_not_bytes_message(data)) from None
    if copy or not view.c_contiguous:
        return view.tobytes()
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


class SocketContext:
    """What ``bind``/``connect`` return: usable as a context manager that undoes the call."""

    def __init__(self, socket, kind, addr):
        self.socket = socket
        self.kind = kind
        self.addr = addr

    def __repr__(self):
        return f"<SocketContext({self.kind}={self.addr!r})>"

    def __enter__(self):
        return self.socket

    def __exit__(self, *args):
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.addr)
        elif self.kind == "connect":
            self.socket.disconnect(self.addr)


class Socket:
    """A ZeroMQ socket, with pyzmq's API, blocking cooperatively on the gevent hub.

    Create sockets with :meth:`Context.socket`. Options are read and written
    with :meth:`getsockopt`/:meth:`setsockopt` (aliases :meth:`get`/:meth:`set`)
    or as attributes: ``sock.linger = 0``, ``sock.rcvhwm``. The attributes are
    properties generated from the option table; ``__setattr__`` only rejects
    unknown names, and the send/recv fast paths never assign to the socket.
    """

    _closed = True  # until __init__ finishes
    # Plain attributes (anything else set as an attribute is a socket option).
    context = None
    socket_type = None
    _recv_index = 0
    _recv_metadata = None
    _monitor_socket = None

    def __init__(self, context, socket_type=0, **kwargs):
        try:
            socket_type = SocketType(socket_type)
        except ValueError:
            raise zmq_error(Errno.EINVAL) from None
        pattern_class = PATTERNS.get(socket_type)
        if pattern_class is None:
            raise NotImplementedError(f"greenmq does not implement {socket_type.name} sockets yet")
        context._check_open()
        self.context = context
        self.socket_type = socket_type
        self._options = {spec.option: spec.default for spec in _options.OPTIONS.values()}
        self._options[SocketOption.TYPE] = socket_type
        _security.defaults(self._options)
        self._rcvtimeo = -1
        self._sndtimeo = -1
        self._readable = Wakeup()
        self._writable = Wakeup()
        self._pattern = pattern_class(self)
        self._pattern_send = self._pattern.send
        self._pattern_recv = self._pattern.recv
        self._peers = []
        self._listeners = {}
        self._sessions = {}
        self._inproc_names = {}
        self._send_parts = []
        self._recv_parts = None
        # A C-level counter: the hot path never writes an attribute of the socket.
        self._tick = itertools.count(1).__next__
        self._monitors = []
        self._usable = True
        self._closed = False
        context._socket_opened(self)

    def __repr__(self):
        state = " closed" if self._closed else ""
        return f"<greenmq.Socket(greenmq.{self.socket_type.name}) at {id(self):#x}{state}>"

    # -- pyzmq conveniences --------------------------------------------------

    @property
    def closed(self):
        return self._closed

    @property
    def type(self):
        return self.socket_type

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        if upper == "HWM":
            return self.get_hwm()
        option = SocketOption.__members__.get(upper)
        if option is None:
            raise AttributeError(f"Socket has no such option: {upper}")
        try:
            return self.getsockopt(option)
        except ZMQError as error:
            if error.errno == Errno.EINVAL:
                raise AttributeError(f"{name} attribute is write-only") from None
            raise

    def __setattr__(self, name, value):
        # As in pyzmq: attributes the class defines (options included) can be set,
        # anything else is taken for a misspelt option.
        if name[0] == "_" or name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        raise AttributeError(f"Socket has no such option: {name.upper()}")

    def get_hwm(self):
        """The send high-water mark (pyzmq's ``hwm`` reads SNDHWM)."""
        return self.getsockopt(SocketOption.SNDHWM)

    def set_hwm(self, value):
        """Set both SNDHWM and RCVHWM."""
        self.setsockopt(SocketOption.SNDHWM, value)
        self.setsockopt(SocketOption.RCVHWM, value)

    hwm = property(get_hwm, set_hwm)

    # -- options ---------------------------------------------------------------

    def _check_usable(self, addr=None):
        if not self._usable:
            if self._closed:
                raise zmq_error(Errno.ENOTSOCK, addr)
            raise zmq_error(Errno.ETERM, addr)

    def setsockopt(self, option, value):
        """Set a socket option (libzmq's number); see ``zmq_setsockopt``."""
        self._check_usable()
        spec = _options.lookup(option)
        if option in (SocketOption.SUBSCRIBE, SocketOption.UNSUBSCRIBE):
            _options.validate(spec, value, self.socket_type)
            self._pattern.subscription_option(option == SocketOption.SUBSCRIBE, value)
            return
        value = _options.validate(spec, value, self.socket_type)
        if spec.option in _security.OPTIONS:
            _security.set_option(self._options, spec.option, value)
            return
        self._pattern.option_changed(spec.option, value)
        if option == SocketOption.IPV4ONLY:
            self._options[SocketOption.IPV6] = 1 - value
        elif option == SocketOption.IPV6:
            self._options[SocketOption.IPV4ONLY] = 1 - value
        elif option == SocketOption.RCVTIMEO:
            self._rcvtimeo = value
        elif option == SocketOption.SNDTIMEO:
            self._sndtimeo = value
        elif option == SocketOption.METADATA:
            self._options.setdefault("metadata", []).append(value)
            return
        self._options[spec.option] = value

    def getsockopt(self, option):
        """Get a socket option (libzmq's number); see ``zmq_getsockopt``."""
        self._check_usable()
        spec = _options.lookup(option)
        if not spec.readable:
            raise zmq_error(Errno.EINVAL)
        if option == SocketOption.RCVMORE:
            return 0 if self._recv_parts is None else 1
        if option == SocketOption.EVENTS:
            return self._events()
        if option == SocketOption.FD:
            raise NotImplementedError(
                "greenmq sockets have no ZMQ_FD: wait with Socket.poll() or gevent instead")
        if option in _security.OPTIONS:
            return _security.get_option(self._options, spec.option)
        return self._options[spec.option]

    set = setsockopt
    get = getsockopt

    def setsockopt_string(self, option, optval, encoding="utf-8"):
        """Set a bytes option from a str."""
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}: {optval!r}")
        self.setsockopt(option, optval.encode(encoding))

    def getsockopt_string(self, option, encoding="utf-8"):
        """Get a bytes option as a str."""
        spec = _options.lookup(option)
        if spec.kind != _options.BYTES:
            raise TypeError(f"option {option} will not return a string to be decoded")
        return self.getsockopt(option).decode(encoding)

    set_string = setsockopt_string
    get_string = getsockopt_string

    def _options_get_int(self, name):
        """Internal: an option's current value by name (for sessions, engines, transports)."""
        return self._options[SocketOption[name]]

    def subscribe(self, topic):
        """Subscribe to messages whose first frame starts with ``topic`` (str is encoded as utf-8)."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.SUBSCRIBE, topic)

    def unsubscribe(self, topic):
        """Undo one :meth:`subscribe` of ``topic``."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(SocketOption.UNSUBSCRIBE, topic)

    def _security(self):
        """The security settings a new connect/bind endpoint keeps (see greenmq.security)."""
        return _security.config(self._options)

    def _handshake_options(self):
        metadata = [
            (raw.partition(b":")[0].decode("ascii"), raw.partition(b":")[2])
            for raw in self._options.get("metadata", ())
        ]
        return {
            "socket_type": WIRE_NAMES[self.socket_type],
            "identity": self._options[SocketOption.ROUTING_ID],
            "metadata": metadata,
            "max_message_size": self._options[SocketOption.MAXMSGSIZE],
        }

    def _events(self):
        events = 0
        if self._recv_parts is not None or self._pattern.can_recv():
            events = POLLIN
        if self._pattern.can_send():
            events |= POLLOUT
        return events

    # -- endpoints ---------------------------------------------------------------

    def _split(self, addr):
        """Check the socket and parse an endpoint, with pyzmq's errors (which name the address)."""
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        elif not isinstance(addr, str):
            raise TypeError(f"Expected addr to be str, got addr={addr!r}")
        self._check_usable(addr)
        transport, address = _endpoint.split(addr, self.socket_type)
        return addr, transport, address

    def bind(self, addr):
        """Accept connections on an endpoint (``tcp://``, ``ipc://``, ``inproc://``).

        Returns a context manager that unbinds the concrete endpoint (the one
        in ``LAST_ENDPOINT``, so ``tcp://host:*`` works) on exit.
        """
        addr, transport, address = self._split(addr)
        if transport == "inproc":
            self.context._inproc.bind(self, address, addr)
            self._inproc_names[addr] = address
            endpoint = addr
        else:
            listener = Listener(self, transport, address)
            endpoint = listener.endpoint
            self._listeners[endpoint] = listener
        self._options[SocketOption.LAST_ENDPOINT] = endpoint.encode()
        return SocketContext(self, "bind", endpoint)

    def bind_to_random_port(self, addr, min_port=49152, max_port=65536, max_tries=100):
        """Bind to a random port of ``addr`` (``tcp://host``); return the port."""
        if min_port == 49152 and max_port == 65536:
            self.bind(f"{addr}:*")
            return int(self._options[SocketOption.LAST_ENDPOINT].decode().rsplit(":", 1)[1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as error:
                if error.errno in (Errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            return port
        raise ZMQBindError("Could not bind socket to random port.")

    def unbind(self, addr):
        """Stop listening on an endpoint bound earlier (the concrete one from LAST_ENDPOINT)."""
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        self._check_usable()
        transport, address = _endpoint.split(addr, self.socket_type, name_address=False)
        if transport == "inproc":
            if self._inproc_names.pop(addr, None) is None:
                raise zmq_error(errno.ENOENT)
            self.context._inproc.unbind(self, address)
            return
        listener = self._listeners.pop(addr, None)
        if listener is None:
            listener = self._listeners.pop(self._resolved(transport, address), None)
        if listener is None:
            raise zmq_error(errno.ENOENT)
        self.context._linger(listener.close(self._options[SocketOption.LINGER]))

    def _resolved(self, transport, address):
        """The concrete form of a bind address (host names resolved), or None."""
        if transport != "tcp":
            return None
        try:
            resolved = _endpoint.parse_tcp_bind(address, "", bool(self._options[SocketOption.IPV6]))
        except ZMQError:
            return None
        return None if resolved.port == 0 else resolved.uri()

    def connect(self, addr):
        """Connect to an endpoint; returns at once, the connection is made (and remade) in the background."""
        addr, transport, address = self._split(addr)
        if transport == "inproc":
            self.context._inproc.connect(self, address, addr)
        else:
            _tcp_ipc.check_connect(transport, address, addr)
            session = ConnectSession(self, transport, address, addr)
            self._sessions.setdefault(addr, []).append(session)
        self._options[SocketOption.LAST_ENDPOINT] = addr.encode()
        return SocketContext(self, "connect", addr)

    def disconnect(self, addr):
        """Undo a ``connect``: stop reconnecting and drop the peer."""
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        self._check_usable()
        transport, _ = _endpoint.split(addr, self.socket_type, name_address=False)
        if transport == "inproc":
            self.context._inproc.disconnect(self, addr)
            return
        sessions = self._sessions.pop(addr, None)
        if not sessions:
            raise zmq_error(errno.ENOENT)
        linger = self._options[SocketOption.LINGER]
        for session in sessions:
            self.context._linger([session.close(linger)])
            session.detach()

    # -- peers (called by sessions, engines and the inproc registry) -------------------

    def _create_peer(self, endpoint, encrypted=False):
        pattern = self._pattern
        inbound = outbound = None
        if pattern.receives:
            inbound = Pipe(self._options[SocketOption.RCVHWM], wake_reader=self._readable.set)
        if pattern.sends:
            outbound = Pipe(self._options[SocketOption.SNDHWM], wake_writer=self._writable.set)
        if self._conflates():
            for pipe in (inbound, outbound):
                if pipe is not None:
                    pipe.set_conflate()
        peer = Peer(inbound, outbound, endpoint)
        # Sessions' peers: a ZMTP engine drains the outbound pipe, and takes pre-encoded
        # messages unless it encrypts each connection's traffic on its own.
        peer.encoded = not pattern.raw and not encrypted
        return peer

    def _conflates(self):
        """CONFLATE is set and applies to this socket type (libzmq ignores it on the others)."""
        return bool(self._options[SocketOption.CONFLATE]) and self.socket_type in _CONFLATING_TYPES

    def _take_connect_routing_id(self):
        """CONNECT_ROUTING_ID names the peer of the next connect(), then is used up (None if unset)."""
        routing_id = self._options[SocketOption.CONNECT_ROUTING_ID]
        self._options[SocketOption.CONNECT_ROUTING_ID] = b""
        return routing_id or None

    def _attach(self, peer):
        if self._closed or not self._pattern.attach(peer):
            return False
        peer.attached = True
        self._peers.append(peer)
        self._writable.set()
        return True

    def _detach(self, peer, close_pipes=True):
        """Forget a peer. For an engine's peer the pipes die with it: what we queued for
        it is dropped, what it sent us can still be read."""
        if not peer.attached:
            return
        peer.attached = False
        self._peers.remove(peer)
        self._pattern.detach(peer)
        if close_pipes:
            if peer.outbound is not None:
                peer.outbound.close_reader()
            if peer.inbound is not None:
                peer.inbound.close_writer()

    def _inproc_disconnect(self, peer):
        """Cut an inproc link from this side: the other side may still drain what we sent."""
        remote = peer.remote
        peer.remote = None
        self._detach(peer, close_pipes=False)
        peer.outbound.close_writer()
        peer.inbound.close_reader()
        if remote is not None:
            other_socket, other_peer = remote
            other_peer.remote = None
            other_socket._detach(other_peer, close_pipes=False)

    def _event(self, event, value, endpoint):
        """Report a monitor event to every socket monitor."""
        if not self._monitors:
            return
        frames = [struct.pack("=HI", int(event), int(value) & 0xFFFFFFFF), endpoint.encode()]
        for monitor, mask in list(self._monitors):
            if mask & event and not monitor.closed:
                try:
                    monitor.send_multipart(frames, DONTWAIT)
                except ZMQError:
                    pass

    # -- sending -------------------------------------------------------------------

    def send(self, data, flags=0, copy=True, track=False, routing_id=None, group=None):
        """Send one frame; with ``SNDMORE``, more frames of the same message follow.

        Blocks while no peer can take the message, unless ``flags`` has
        ``NOBLOCK``/``DONTWAIT`` (then raises :class:`Again`) or ``SNDTIMEO``
        expires (also :class:`Again`). A message is sent when its last frame is.
        """
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        if not self._usable:
            self._check_usable()
        if data.__class__ is not bytes:
            data = _frame_data(data, copy)
        if flags & SNDMORE:
            if not self._send_parts:
                self._pattern.check_send(data)
            self._send_parts.append(data)
            return MessageTracker() if track else None
        if self._send_parts:
            msg = self._send_parts
            msg.append(data)
            self._send_parts = []
        else:
            msg = data if data.__class__ is bytes else [data]
        if not self._pattern_send(msg):
            try:
                self._send_wait(msg, flags)
            except BaseException:
                # The last frame may be retried: keep the earlier SNDMORE frames.
                if msg.__class__ is list and len(msg) > 1:
                    self._send_parts = msg[:-1]
                raise
        return MessageTracker() if track else None

    def send_multipart(self, msg_parts, flags=0, copy=True, track=False, **kwargs):
        """Send a sequence of frames as one message: all of them or, on error or timeout, none."""
        msg = []
        for index, part in enumerate(msg_parts):
            if part.__class__ is bytes:
                msg.append(part)
                continue
            if isinstance(part, (Frame, bytearray, memoryview)):
                msg.append(_frame_data(part, copy))
                continue
            try:
                memoryview(part)
            except TypeError:
                raise TypeError(f"Frame {index} ({part!r:.32}) does not support the buffer interface.") from None
            msg.append(_frame_data(part, copy))
        if not msg:
            raise TypeError("send_multipart needs at least one frame")
        if len(msg) == 1 and msg[0].__class__ is bytes:
            msg = msg[0]
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        self._check_usable()
        if self._send_parts:
            msg = self._send_parts + (msg if msg.__class__ is list else [msg])
            self._send_parts = []
        if not self._pattern_send(msg):
            self._send_wait(msg, flags & DONTWAIT)
        return MessageTracker() if track else None

    def _send_wait(self, msg, flags):
        self._wait_until(self._writable, lambda: True if self._pattern_send(msg) else None,
                         self._sndtimeo, flags)

    def send_string(self, u, flags=0, copy=True, encoding="utf-8", **kwargs):
        """Send a str, encoded (utf-8 by default)."""
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags=flags, copy=copy, **kwargs)

    send_unicode = send_string

    def send_json(self, obj, flags=0, **kwargs):
        """Send a Python object as a JSON message."""
        send_kwargs = {key: kwargs.pop(key) for key in ("routing_id", "group") if key in kwargs}
        return self.send(json.dumps(obj, **kwargs).encode("utf8"), flags, **send_kwargs)

    def send_pyobj(self, obj, flags=0, protocol=pickle.DEFAULT_PROTOCOL, **kwargs):
        """Send a Python object pickled."""
        return self.send(pickle.dumps(obj, protocol), flags=flags, **kwargs)

    def send_serialized(self, msg, serialize, flags=0, copy=True, **kwargs):
        """Send ``serialize(msg)`` (a list of frames) as one multipart message."""
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    # -- receiving -------------------------------------------------------------------

    def recv(self, flags=0, copy=True, track=False):
        """Receive one frame: ``bytes``, or a :class:`Frame` with ``copy=False``.

        Blocks until a message arrives unless ``NOBLOCK`` is given or
        ``RCVTIMEO`` expires (both raise :class:`Again`). After a frame with
        more to follow, ``RCVMORE`` is 1 and the next ``recv`` returns the next
        frame of the same message.
        """
        if self._recv_parts is not None:
            return self._next_part(copy)
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        if not self._usable:
            self._check_usable()
        msg = self._pattern_recv()
        if msg is None:
            msg = self._recv_wait(flags)
        if msg.__class__ is bytes:
            return msg if copy else Frame._received(msg, False, self._source_metadata())
        if len(msg) == 1:
            frame = msg[0]
            if copy:
                return frame if frame.__class__ is bytes else bytes(frame)
            return Frame._received(frame, False, self._source_metadata())
        self._recv_parts = msg
        self._recv_index = 0
        self._recv_metadata = self._source_metadata()
        return self._next_part(copy)

    def _source_metadata(self):
        pipe = self._pattern.source()
        return None if pipe is None or pipe.peer is None else pipe.peer.metadata

    def _next_part(self, copy):
        msg = self._recv_parts
        index = self._recv_index
        frame = msg[index]
        more = index + 1 < len(msg)
        if more:
            self._recv_index = index + 1
        else:
            self._recv_parts = None
        if copy:
            return frame if frame.__class__ is bytes else bytes(frame)
        return Frame._received(frame, more, self._recv_metadata)

    def recv_multipart(self, flags=0, copy=True, track=False):
        """Receive a whole message as a list of frames (``bytes``, or :class:`Frame` with ``copy=False``)."""
        if self._recv_parts is not None:
            parts = []
            while self._recv_parts is not None:
                parts.append(self._next_part(copy))
            return parts
        if not self._tick() & _FAIRNESS_MASK:
            gevent.sleep(0)
        if not self._usable:
            self._check_usable()
        msg = self._pattern_recv()
        if msg is None:
            msg = self._recv_wait(flags)
        if msg.__class__ is bytes:
            return [msg] if copy else [Frame._received(msg, False, self._source_metadata())]
        if copy:
            for frame in msg:
                if frame.__class__ is not bytes:
                    return [f if f.__class__ is bytes else bytes(f) for f in msg]
            return msg
        metadata = self._source_metadata()
        last = len(msg) - 1
        return [Frame._received(frame, i < last, metadata) for i, frame in enumerate(msg)]

    def _recv_wait(self, flags):
        return self._wait_until(self._readable, self._pattern_recv, self._rcvtimeo, flags)

    def _wait_until(self, wakeup, attempt, timeout, flags):
        """Retry ``attempt`` (non-None on success) each time ``wakeup`` is set; Again on
        DONTWAIT or when ``timeout`` ms pass. Clearing before each attempt means a wake-up
        that comes after a failed attempt is never lost."""
        if flags & DONTWAIT:
            raise Again()
        deadline = None if timeout < 0 else monotonic() + timeout / 1000.0
        while True:
            wakeup.clear()
            result = attempt()
            if result is not None:
                return result
            self._check_usable()
            remaining = None
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    raise Again()
            wakeup.wait(remaining)

    def recv_string(self, flags=0, encoding="utf-8"):
        """Receive a frame and decode it (utf-8 by default)."""
        return self.recv(flags=flags).decode(encoding)

    recv_unicode = recv_string

    def recv_json(self, flags=0, **kwargs):
        """Receive a JSON message and return the Python object."""
        return json.loads(self.recv(flags), **kwargs)

    def recv_pyobj(self, flags=0):
        """Receive a pickled Python object (only from peers you trust)."""
        return pickle.loads(self.recv(flags))

    def recv_serialized(self, deserialize, flags=0, copy=True):
        """Receive a multipart message and return ``deserialize(frames)``."""
        return deserialize(self.recv_multipart(flags, copy=copy))

    # -- polling ---------------------------------------------------------------------

    def poll(self, timeout=None, flags=PollEvent.POLLIN):
        """Wait until the socket can receive (``POLLIN``) and/or send (``POLLOUT``).

        ``timeout`` is in milliseconds (None or -1: forever). Returns the events
        that are ready (0 on timeout).
        """
        if self._closed:
            raise zmq_error(Errno.ENOTSUP)
        self._check_usable()
        if timeout is not None and timeout < 0:
            timeout = None
        deadline = None if timeout is None else monotonic() + timeout / 1000.0
        while True:
            self._readable.clear()
            self._writable.clear()
            ready = self._events() & flags
            if ready or (deadline is not None and deadline <= monotonic()):
                return ready
            remaining = None if deadline is None else deadline - monotonic()
            wakeups = [w for w, bit in ((self._readable, POLLIN), (self._writable, POLLOUT)) if flags & bit]
            if not wakeups:
                gevent.sleep(remaining)
                return 0
            for wakeup in wakeups:
                wakeup.hold()
            try:
                gevent.wait([w.event for w in wakeups], timeout=remaining, count=1)
            finally:
                for wakeup in wakeups:
                    wakeup.release()
            self._check_usable()

    # -- monitoring ------------------------------------------------------------------

    def monitor(self, addr, events=MonitorEvent.ALL):
        """Publish this socket's events on an inproc PAIR bound at ``addr`` (``zmq_socket_monitor``)."""
        self._check_usable()
        if addr is None:
            self._stop_monitors()
            return
        transport, _ = _endpoint.split(addr)
        if transport != "inproc":
            raise zmq_error(Errno.EPROTONOSUPPORT, addr)
        self._stop_monitors()
        monitor = self.context.socket(SocketType.PAIR)
        monitor.linger = 0
        monitor.bind(addr)
        self._monitors.append((monitor, int(events)))

    def _stop_monitors(self):
        monitors, self._monitors = self._monitors, []
        for monitor, mask in monitors:
            if mask & MonitorEvent.MONITOR_STOPPED and not monitor.closed:
                try:
                    monitor.send_multipart([struct.pack("=HI", MonitorEvent.MONITOR_STOPPED, 0), b""], DONTWAIT)
                except ZMQError:
                    pass
            monitor.close()

    def get_monitor_socket(self, events=None, addr=None):
        """Start monitoring and return a connected PAIR socket that receives the events."""
        if addr is None:
            addr = f"inproc://monitor.s-{id(self)}"
        self.monitor(addr, MonitorEvent.ALL if events is None else events)
        self._monitor_socket = self.context.socket(SocketType.PAIR)
        self._monitor_socket.connect(addr)
        return self._monitor_socket

    def disable_monitor(self):
        """Stop monitoring."""
        self._monitor_socket = None
        self.monitor(None)

    # -- closing -------------------------------------------------------------------

    def close(self, linger=None):
        """Close the socket. Queued outgoing messages are still sent for up to ``linger`` ms
        (the LINGER option when not given; -1 waits forever, which makes ``Context.term`` wait too)."""
        if self._closed:
            return
        if linger is not None and self._usable:
            self.setsockopt(SocketOption.LINGER, linger)
        linger = self._options[SocketOption.LINGER] if linger is None else linger
        self._closed = True
        self._usable = False
        self._stop_monitors()
        self._readable.set()
        self._writable.set()
        lingering = []
        for listener in self._listeners.values():
            lingering.extend(listener.close(linger))
        self._listeners.clear()
        for sessions in self._sessions.values():
            for session in sessions:
                lingering.append(session.close(linger))
        self._sessions.clear()
        self.context._inproc.forget(self)
        for peer in list(self._peers):
            if peer.remote is not None:
                self._inproc_disconnect(peer)
            elif peer.inbound is not None:
                peer.inbound.close_reader()
        self.context._socket_closed(self, lingering)

    def _context_terminated(self):
        """The context is terminating: blocked and future calls raise ContextTerminated."""
        self._usable = False
        self._readable.set()
        self._writable.set()



def _option_property(option):
    def getter(self):
        try:
            return self.getsockopt(option)
        except ZMQError as error:
            if error.errno == Errno.EINVAL:
                raise AttributeError(f"{option.name.lower()} attribute is write-only") from None
            raise

    def setter(self, value):
        self.setsockopt(option, value)

    return property(getter, setter, doc=f"The {option.name} socket option.")


for _name, _option in SocketOption.__members__.items():
    for _attr in (_name.lower(), _name):
        if not hasattr(Socket, _attr):
            setattr(Socket, _attr, _option_property(_option))
del _name, _option, _attr

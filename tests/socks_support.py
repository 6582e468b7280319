"""A small SOCKS5 server (RFC 1928, RFC 1929) on loopback, for the SOCKS_PROXY tests.

It runs in the test's process on gevent, so that greenmq (in the test) and
libzmq (pyzmq in a subprocess) can both connect through it. It records what
each client asked for -- the methods offered, the credentials, the address
type and destination of each CONNECT -- and can be told to insist on a
username and password or to refuse every request. Destination names are
looked up in ``names`` (a test maps made-up names to 127.0.0.1, which proves
that the client did not resolve them itself); anything else must be a
loopback address.
"""

import ipaddress
import struct

import gevent
from gevent import socket
from gevent.server import StreamServer

NO_AUTHENTICATION = 0x00
USERNAME_PASSWORD = 0x02
NO_ACCEPTABLE_METHOD = 0xFF
SUCCEEDED = 0x00
CONNECTION_REFUSED = 0x05


class SocksRequest:
    """What one client said: ``methods`` offered, ``credentials`` (or None), and the CONNECT's
    ``address_type``, ``host`` and ``port`` (None until it got that far)."""

    def __init__(self):
        self.methods = b""
        self.credentials = None
        self.address_type = None
        self.host = None
        self.port = None


def _recv_exactly(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SocksServer:
    """A SOCKS5 server on 127.0.0.1; ``address`` is its ``host:port`` (what SOCKS_PROXY takes).

    ``credentials``: a (username, password) pair to insist on, else no authentication.
    ``reply``: the reply code to every CONNECT (0: connect and relay).
    """

    def __init__(self, credentials=None, reply=SUCCEEDED, names=None):
        self.credentials = credentials
        self.reply = reply
        self.names = dict(names or {})
        self.requests = []
        self._greenlets = set()
        self._sockets = set()
        self._server = StreamServer(("127.0.0.1", 0), self._handle)
        self._server.start()
        self.address = f"127.0.0.1:{self._server.server_port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._server.stop(timeout=0)
        for sock in list(self._sockets):
            sock.close()
        gevent.killall(list(self._greenlets), block=True, timeout=5)

    def connected(self):
        """The requests that got a CONNECT through."""
        return [request for request in self.requests if request.port is not None]

    def _handle(self, conn, _address):
        self._sockets.add(conn)
        request = SocksRequest()
        self.requests.append(request)
        try:
            target = self._negotiate(conn, request)
            if target is not None:
                self._relay(conn, target)
        except (EOFError, OSError):
            pass
        finally:
            self._sockets.discard(conn)
            conn.close()

    def _negotiate(self, conn, request):
        version, count = _recv_exactly(conn, 2)
        assert version == 5, f"SOCKS version {version}"
        request.methods = _recv_exactly(conn, count)
        wanted = USERNAME_PASSWORD if self.credentials is not None else NO_AUTHENTICATION
        if wanted not in request.methods:
            conn.sendall(bytes((5, NO_ACCEPTABLE_METHOD)))
            return None
        conn.sendall(bytes((5, wanted)))
        if wanted == USERNAME_PASSWORD:
            version, size = _recv_exactly(conn, 2)
            username = _recv_exactly(conn, size)
            password = _recv_exactly(conn, _recv_exactly(conn, 1)[0])
            request.credentials = (username, password)
            accepted = version == 1 and request.credentials == self.credentials
            conn.sendall(bytes((1, 0 if accepted else 1)))
            if not accepted:
                return None
        version, command, _, address_type = _recv_exactly(conn, 4)
        assert (version, command) == (5, 1), f"SOCKS request version {version} command {command}"
        if address_type == 1:
            host = str(ipaddress.IPv4Address(_recv_exactly(conn, 4)))
        elif address_type == 4:
            host = str(ipaddress.IPv6Address(_recv_exactly(conn, 16)))
        else:
            host = _recv_exactly(conn, _recv_exactly(conn, 1)[0]).decode()
        (port,) = struct.unpack("!H", _recv_exactly(conn, 2))
        request.address_type, request.host, request.port = address_type, host, port
        reply = self.reply
        target = None
        if reply == SUCCEEDED:
            destination = self.names.get(host, host)
            assert ipaddress.ip_address(destination).is_loopback, f"not a loopback destination: {host}"
            try:
                target = socket.create_connection((destination, port), timeout=5)
            except OSError:
                reply = CONNECTION_REFUSED
        conn.sendall(bytes((5, reply, 0, 1, 0, 0, 0, 0, 0, 0)))
        if target is not None:
            target.settimeout(None)
        return target

    def _relay(self, conn, target):
        self._sockets.add(target)
        back = gevent.spawn(_pump, target, conn)
        self._greenlets.add(back)
        try:
            _pump(conn, target)
            back.join()
        finally:
            self._greenlets.discard(back)
            self._sockets.discard(target)
            target.close()

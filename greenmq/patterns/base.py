"""What every socket type provides to the socket: where a message goes and where one comes from."""

from ..constants import Errno
from ..error import zmq_error


class Pattern:
    """Base class for a socket type's routing rules.

    ``attach``/``detach`` are told about peers as they come and go;
    ``send``/``recv`` never block: they return False/None when the socket
    would have to wait. ``sends``/``receives`` say which pipes a peer needs.
    """

    sends = True
    receives = True
    max_peers = None

    def __init__(self, socket):
        self.socket = socket

    def attach(self, peer):
        """Take a new peer; return False to refuse it (the connection is then closed)."""
        raise NotImplementedError

    def detach(self, peer):
        raise NotImplementedError

    def send(self, msg):
        raise zmq_error(Errno.ENOTSUP)

    def recv(self):
        raise zmq_error(Errno.ENOTSUP)

    def source(self):
        """The pipe the last received message came from (for its peer's metadata), or None."""
        return None

    def can_send(self):
        return False

    def can_recv(self):
        return False

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
    # STREAM speaks raw TCP (greenmq.raw_engine) instead of ZMTP.
    raw = False
    # PUB/XPUB: SUBSCRIBE/CANCEL commands from peers go into the inbound pipe.
    takes_subscriptions = False

    def __init__(self, socket):
        self.socket = socket

    def attach(self, peer):
        """Take a new peer; return False to refuse it (the connection is then closed)."""
        raise NotImplementedError

    def detach(self, peer):
        raise NotImplementedError

    def peer_ready(self, peer):
        """A peer attached before its handshake (connect side) now has its properties.

        Return False to refuse it (ROUTER: its routing id is taken)."""
        return True

    def check_send(self, first_frame=None):
        """Called with the first frame of a message before it is accepted (libzmq checks EFSM,
        ENOTSUP and ROUTER_MANDATORY's EHOSTUNREACH there)."""
        if not self.sends:
            raise zmq_error(Errno.ENOTSUP)

    def option_changed(self, option, value):
        """A socket option this pattern may care about was set."""

    def subscription_option(self, subscribe, topic):
        """setsockopt(SUBSCRIBE/UNSUBSCRIBE) on a type that takes it (SUB, XSUB, XPUB)."""
        raise zmq_error(Errno.EINVAL)

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

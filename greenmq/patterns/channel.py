"""CHANNEL (RFC 52): a PAIR of single frames -- one peer, both ways, never dropping."""

from ..constants import Errno
from ..error import zmq_error
from .base import Pattern
from .pair import Pair
from .singlepart import next_single, outgoing


class Channel(Pair):
    """PAIR's single link, with the one-frame rule of greenmq.patterns.singlepart."""

    # One message at a time, through the one-frame rule (not PAIR's batches).
    recv_many = Pattern.recv_many
    send_many = Pattern.send_many

    def check_send(self, first_frame=None):
        raise zmq_error(Errno.EINVAL)  # only the first frame of a SNDMORE message is checked

    def send(self, msg, over_hwm=False):
        return super().send(outgoing(msg), over_hwm)

    def recv(self):
        return next_single(super().recv)

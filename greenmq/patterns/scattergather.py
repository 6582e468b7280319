"""Scatter-gather (RFC 49): SCATTER and GATHER, PUSH and PULL of single frames.

SCATTER round-robins each message to one GATHER with room (waiting while all
are full); GATHER fair-queues what its SCATTERs send. They talk only to each
other: libzmq's manual lists SCATTER-SCATTER and GATHER-GATHER, but the
working pairs (and the ones greenmq's handshake accepts) are SCATTER-GATHER.
"""

from .pipeline import Pull, Push
from .singlepart import SinglePart, next_single, outgoing


class Scatter(SinglePart, Push):
    """A PUSH of single frames: SinglePart refuses ``SNDMORE``, and what is sent goes as one frame."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.send = self._send_single  # in place of the balancer's send, which PUSH binds

    def _send_single(self, msg, over_hwm=False):
        return self._lb.send(outgoing(msg), over_hwm)


class Gather(SinglePart, Pull):
    """A PULL of single frames: multipart messages from a peer are dropped."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.recv = self._recv_single  # in place of the fair queue's recv, which PULL binds

    def _recv_single(self):
        return next_single(self._fq.recv)

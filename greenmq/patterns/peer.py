"""Peer-to-peer (RFC 51): PEER, a SERVER whose peers are other PEERs it may also connect to.

``Socket.connect_peer(endpoint)`` connects and returns the routing id of the
new peer at once, before any connection is made, so that messages to it
queue meanwhile -- which is why it refuses to work with ``IMMEDIATE``
(``EFAULT``), as libzmq's ``zmq_connect_peer``.
"""

from .clientserver import Server


class PeerToPeer(Server):
    """SERVER's routing, remembering the routing id of the peer attached last."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.newest_routing_id = 0

    def attach(self, peer):
        super().attach(peer)
        self.newest_routing_id = self.routing_id_of(peer)
        return True

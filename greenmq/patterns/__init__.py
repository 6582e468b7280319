"""Socket types: one class per type, composed from the routing strategies."""

from ..constants import SocketType
from .channel import Channel
from .clientserver import Client, Server
from .pair import Pair
from .peer import PeerToPeer
from .pipeline import Pull, Push
from .pubsub import Pub, Sub, XPub, XSub
from .radiodish import Dish, Radio
from .reqrep import Dealer, Rep, Req, Router, Stream
from .scattergather import Gather, Scatter

PATTERNS = {
    SocketType.PAIR: Pair,
    SocketType.PUSH: Push,
    SocketType.PULL: Pull,
    SocketType.REQ: Req,
    SocketType.REP: Rep,
    SocketType.DEALER: Dealer,
    SocketType.ROUTER: Router,
    SocketType.STREAM: Stream,
    SocketType.PUB: Pub,
    SocketType.SUB: Sub,
    SocketType.XPUB: XPub,
    SocketType.XSUB: XSub,
    # The thread-safe types, single-frame (libzmq's drafts; stable in greenmq).
    SocketType.CLIENT: Client,
    SocketType.SERVER: Server,
    SocketType.RADIO: Radio,
    SocketType.DISH: Dish,
    SocketType.SCATTER: Scatter,
    SocketType.GATHER: Gather,
    SocketType.CHANNEL: Channel,
    SocketType.PEER: PeerToPeer,
}

__all__ = ["PATTERNS", "Channel", "Client", "Dealer", "Dish", "Gather", "Pair", "PeerToPeer", "Pub", "Pull", "Push",
           "Radio", "Rep", "Req", "Router", "Scatter", "Server", "Stream", "Sub", "XPub", "XSub"]

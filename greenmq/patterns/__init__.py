"""Socket types: one class per type, composed from the routing strategies."""

from ..constants import SocketType
from .pair import Pair
from .pipeline import Pull, Push
from .pubsub import Pub, Sub, XPub, XSub
from .reqrep import Dealer, Rep, Req, Router, Stream

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
}

__all__ = ["PATTERNS", "Dealer", "Pair", "Pub", "Pull", "Push", "Rep", "Req", "Router", "Stream", "Sub", "XPub",
           "XSub"]

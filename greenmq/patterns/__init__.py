"""Socket types: one class per type, composed from the routing strategies."""

from ..constants import SocketType
from .pair import Pair
from .pipeline import Pull, Push
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
}

__all__ = ["PATTERNS", "Dealer", "Pair", "Pull", "Push", "Rep", "Req", "Router", "Stream"]

"""Socket types: one class per type, composed from the routing strategies."""

from ..constants import SocketType
from .pair import Pair
from .pipeline import Pull, Push

PATTERNS = {
    SocketType.PAIR: Pair,
    SocketType.PUSH: Push,
    SocketType.PULL: Pull,
}

__all__ = ["PATTERNS", "Pair", "Pull", "Push"]

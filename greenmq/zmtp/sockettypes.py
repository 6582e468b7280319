"""Socket-type names on the wire and which types may talk to each other (RFC 37, libzmq)."""

from ..constants import SocketType

WIRE_NAMES = {t: t.name.encode() for t in SocketType if t.name not in ("XREQ", "XREP")}

_PEERS = {
    "PAIR": ("PAIR",),
    "PUB": ("SUB", "XSUB"),
    "SUB": ("PUB", "XPUB"),
    "REQ": ("REP", "ROUTER"),
    "REP": ("REQ", "DEALER"),
    "DEALER": ("REP", "DEALER", "ROUTER"),
    "ROUTER": ("REQ", "DEALER", "ROUTER"),
    "PULL": ("PUSH",),
    "PUSH": ("PULL",),
    "XPUB": ("SUB", "XSUB"),
    "XSUB": ("PUB", "XPUB"),
    "SERVER": ("CLIENT",),
    "CLIENT": ("SERVER",),
    "RADIO": ("DISH",),
    "DISH": ("RADIO",),
    "GATHER": ("SCATTER",),
    "SCATTER": ("GATHER",),
    "DGRAM": ("DGRAM",),
    "PEER": ("PEER",),
    "CHANNEL": ("CHANNEL",),
}

COMPATIBLE = {name.encode(): frozenset(p.encode() for p in peers) for name, peers in _PEERS.items()}


def compatible(ours, theirs):
    """Whether a socket of wire type ``ours`` accepts a peer announcing ``theirs`` (case-insensitive)."""
    return theirs.upper() in COMPATIBLE.get(ours, ())

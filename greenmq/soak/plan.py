"""What a soak run does: its options, and the peers of each pattern and how they are linked.

Three patterns run at once, ten processes in all, each peer in a process of
its own on loopback:

* REQ/REP over tcp with CURVE: ``rep`` binds; the lazy-pirate clients
  ``req-1`` and ``req-2`` connect.
* PUB/SUB over tcp: ``pub-a`` binds with CURVE, ``pub-b`` without; ``sub-1``
  and ``sub-2`` connect to both and count each publisher's sequence numbers.
* PUSH/PULL over ipc: ``pull`` binds; ``push-1`` and ``push-2`` connect.

"Steady" peers are never restarted: they live through the whole run, so
their RSS is the leak signal (each restart of a peer churns connections,
handshakes and sockets in them). The others are restarted at random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PATTERNS = ("reqrep", "pubsub", "pushpull")
SETTLE = 5.0  # seconds after a restarted peer says ready during which its links may still be joining
REQUEST_TIMEOUT = 3.0  # seconds a REQ client waits for a reply before it retries on a new socket


@dataclass(frozen=True)
class Slot:
    """One peer: its role, its pattern, whether it is ever restarted, what it binds and connects to.

    ``links`` names the slots it connects to; ``curve`` that its bound endpoint speaks CURVE (as
    server; whoever connects to it does so as client).
    """

    name: str
    role: str
    pattern: str
    steady: bool
    bind: str | None = None
    links: tuple[str, ...] = ()
    curve: bool = False
    rate: float = 0.0  # messages (requests) a second, for senders


@dataclass
class Options:
    seconds: float
    seed: int
    restart_every: float  # mean seconds between two restarts
    curve: bool
    rate: float = 100.0  # each sender's messages a second
    max_size: int = 1024  # payload bytes, drawn at random up to this
    settle: float = SETTLE
    request_timeout: float = REQUEST_TIMEOUT
    slots: tuple[Slot, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.slots:
            self.slots = topology(self.rate, self.curve)

    def slot(self, name: str) -> Slot:
        return next(slot for slot in self.slots if slot.name == name)


def topology(rate: float, curve: bool) -> tuple[Slot, ...]:
    """The ten peers; binders come first, since the others need their endpoints."""
    tcp = "tcp://127.0.0.1"
    return (
        Slot("rep", "rep", "reqrep", steady=False, bind=tcp, curve=curve),
        Slot("pub-a", "pub", "pubsub", steady=True, bind=tcp, curve=curve, rate=rate),
        Slot("pub-b", "pub", "pubsub", steady=False, bind=tcp, rate=rate),
        Slot("pull", "pull", "pushpull", steady=False, bind="ipc://{dir}/pull"),
        Slot("req-1", "req", "reqrep", steady=True, links=("rep",), rate=rate),
        Slot("req-2", "req", "reqrep", steady=False, links=("rep",), rate=rate),
        Slot("sub-1", "sub", "pubsub", steady=True, links=("pub-a", "pub-b")),
        Slot("sub-2", "sub", "pubsub", steady=False, links=("pub-a", "pub-b")),
        Slot("push-1", "push", "pushpull", steady=True, links=("pull",), rate=rate),
        Slot("push-2", "push", "pushpull", steady=False, links=("pull",), rate=rate),
    )

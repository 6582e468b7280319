"""Radio-dish (RFC 48): RADIO and DISH, as libzmq builds them.

A DISH joins groups (``Socket.join``/``leave``); each join or leave goes to
every RADIO it is connected to as a JOIN/LEAVE command
(:class:`~greenmq.zmtp.framing.GroupCommand`), and all its groups are sent
again to a RADIO that (re)connects. A RADIO sends each message only to the
DISHes that joined the message's group (``send(..., group=...)``, or the
Frame's ``group``; none is the empty group) and, like PUB, never waits: a
DISH without room misses the message, unless ``XPUB_NODROP`` is set.

On the wire, and through inproc pipes alike, a message is two frames: the
group (at most 255 bytes), then the body -- libzmq's form towards a ZMTP 3.0
or 3.1 peer. A DISH checks that shape, drops anything else (libzmq drops the
connection instead) and, as libzmq, filters what arrives by its own groups
too. What a DISH receives carries its group (``Frame.group``).

Over udp no JOIN comes back from the DISH, so a RADIO sends every message
to each of its udp peers (the peer's ``all_groups``), as libzmq does.
"""

from ..constants import Errno, SocketOption
from ..error import zmq_error
from ..zmtp.framing import GroupCommand
from .singlepart import SinglePart, as_single, body_of, outgoing
from .strategies import Distributor, FairQueue

GROUP_MAX_LENGTH = 255  # libzmq's ZMQ_GROUP_MAX_LENGTH


class Radio(SinglePart):
    """Distribute each message to the DISHes that joined its group."""

    takes_subscriptions = True  # JOIN/LEAVE arrive in the inbound pipes, and are applied at once
    fans_out = True

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._dist = Distributor()
        self._members = {}  # group -> outbound pipes of the DISHes that joined it
        self._groups_of = {}  # peer -> its groups, to forget them when it goes
        self._all_groups = set()  # outbound pipes of udp peers, which get every group
        self.nodrop = False

    def attach(self, peer):
        self._dist.attach(peer.outbound)
        if peer.all_groups:
            self._all_groups.add(peer.outbound)
            return True
        self._groups_of[peer] = set()
        self.inbound_activated(peer)  # what it sent before it was attached (inproc)
        return True

    def detach(self, peer):
        self._dist.detach(peer.outbound)
        self._all_groups.discard(peer.outbound)
        for group in self._groups_of.pop(peer, ()):
            self._leave(peer, group)

    def inbound_activated(self, peer):
        """Apply a DISH's joins and leaves; anything else it sends is dropped, as by libzmq."""
        groups = self._groups_of.get(peer)
        inbound = peer.inbound
        while True:
            msg = inbound.read()
            if msg is None:
                return
            if msg.__class__ is not GroupCommand or groups is None:
                continue
            group = msg.group
            if msg.join:
                if group not in groups:
                    groups.add(group)
                    self._members.setdefault(group, set()).add(peer.outbound)
            elif group in groups:
                groups.discard(group)
                self._leave(peer, group)

    def _leave(self, peer, group):
        pipes = self._members.get(group)
        if pipes is not None:
            pipes.discard(peer.outbound)
            if not pipes:
                del self._members[group]

    def send(self, msg, over_hwm=False):
        return self.send_addressed(msg, 0, b"", over_hwm)

    def send_addressed(self, msg, routing_id, group, over_hwm=False):
        body = body_of(outgoing(msg))
        targets = self._members.get(group)
        if self._all_groups:
            targets = self._all_groups.union(targets) if targets else self._all_groups
        if not targets:
            return True  # nobody joined the group: dropped, as by PUB
        if self.nodrop and not over_hwm and not Distributor.all_have_room(targets):
            return False
        Distributor.send_to([group, body], targets, over_hwm and self.nodrop)
        return True

    def can_send(self):
        return not self.nodrop or Distributor.all_have_room(self._dist.pipes)

    def option_changed(self, option, value):
        if option == SocketOption.XPUB_NODROP:
            self.nodrop = bool(value)


class Dish(SinglePart):
    """Join groups; receive the messages of the groups joined."""

    carries_address = True

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        # RADIOs whose connection is up: joins and leaves go only to them, and a peer
        # becoming ready gets every group at once (see peer_ready).
        self._ready = Distributor()
        self._groups = set()
        self._last_group = b""

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        if peer.metadata is not None:
            self.peer_ready(peer)
        return True

    def peer_ready(self, peer):
        """Send the peer every group joined. A connect-side peer outlives its connections, and
        joins and leaves queued while it was away are sent first on the new connection: only
        the groups they leave out are sent again, so that a RADIO never sees a group twice."""
        outbound = peer.outbound
        if outbound not in self._ready.pipes:
            self._ready.attach(outbound)
        queued = set()
        for msg in outbound:
            if msg.__class__ is GroupCommand:
                if msg.join:
                    queued.add(msg.group)
                else:
                    queued.discard(msg.group)
        for group in self._groups - queued:
            outbound.write(GroupCommand(True, group))
        return True

    def detach(self, peer):
        self._ready.detach(peer.outbound)

    def join(self, group):
        """libzmq's rules: EINVAL for a group over 255 bytes, or one joined already."""
        if len(group) > GROUP_MAX_LENGTH or group in self._groups:
            raise zmq_error(Errno.EINVAL)
        self._groups.add(group)
        self._announce(GroupCommand(True, group))

    def leave(self, group):
        """libzmq's rules: EINVAL for a group over 255 bytes, or one not joined."""
        if len(group) > GROUP_MAX_LENGTH or group not in self._groups:
            raise zmq_error(Errno.EINVAL)
        self._groups.discard(group)
        self._announce(GroupCommand(False, group))

    def _announce(self, command):
        for pipe in self._ready.pipes:
            pipe.write(command)

    def _accepts(self, msg):
        """A message of the wire shape, [group, body], for a group joined."""
        return msg.__class__ is list and len(msg) == 2 and bytes(msg[0]) in self._groups

    def recv(self):
        receive = self._fq.recv
        while True:
            msg = receive()
            if msg is None:
                return None
            if self._accepts(msg):
                self._last_group = bytes(msg[0])
                return as_single(msg[1])

    def can_recv(self):
        # Level-triggered readiness must not report messages the filter will drop.
        for pipe in self._fq.pipes:
            for msg in pipe:
                if self._accepts(msg):
                    return True
        return False

    def last_address(self):
        return 0, self._last_group

    def source(self):
        return self._fq.last

    def check_send(self, first_frame=None):
        raise zmq_error(Errno.ENOTSUP)

    def send(self, msg, over_hwm=False):
        raise zmq_error(Errno.ENOTSUP)

    def can_send(self):
        return True  # as libzmq's DISH: joins and leaves can be made at any time

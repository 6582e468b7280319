"""Publish-subscribe (RFC 29): PUB, XPUB, SUB and XSUB, as libzmq builds them.

Filtering happens on the publisher: each peer's subscriptions are prefixes of
the first frame of the messages it wants. A publisher takes subscriptions the
moment they arrive (its peers' inbound pipes wake it: ``inbound_activated``),
so a send always sees the current set, and hands each message to the
:class:`~greenmq.patterns.strategies.Distributor` with the pipes that match.
PUB never blocks: a subscriber whose pipe is full misses the message
(XPUB_NODROP makes the publisher wait or raise Again instead). A subscriber
counts its own subscriptions (subscribing twice to "A" needs two
unsubscribes), tells every publisher about changes, repeats them all when a
publisher (re)connects, and filters what it receives as well.
"""

from collections import deque

from ..constants import Errno, SocketOption
from ..error import zmq_error
from ..zmtp.framing import Subscription
from .base import Pattern
from .message import as_frames, first_frame
from .strategies import Distributor, FairQueue
from .topics import TopicIndex


class Pub(Pattern):
    """Distribute each message to the peers whose subscriptions match its first frame."""

    takes_subscriptions = True
    fans_out = True

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._dist = Distributor()  # every subscriber's outbound pipe
        self._subscribers = TopicIndex()  # topic -> set of outbound pipes
        self.nodrop = False
        self.invert = False

    # -- subscriptions from peers ---------------------------------------------

    def attach(self, peer):
        self._dist.attach(peer.outbound)
        self.inbound_activated(peer)  # what it sent before it was attached (inproc)
        return True

    def detach(self, peer):
        self._dist.detach(peer.outbound)
        for topic in self._subscribers.topics():
            if self._remove(peer, topic):
                self._topic_gone(topic)

    def _topic_gone(self, topic):
        """The last subscriber of ``topic`` left (an XPUB tells the application)."""

    def inbound_activated(self, peer):
        inbound = peer.inbound
        while True:
            msg = inbound.read()
            if msg is None:
                return
            self._handle(peer, msg)

    def _handle(self, peer, msg):
        if msg.__class__ is Subscription:
            subscribe, topic = msg.subscribe, msg.topic
        else:
            frames = as_frames(msg)
            first = bytes(frames[0])
            if len(frames) != 1 or not first or first[0] > 1:
                self.data_from_peer(peer, msg)
                return
            subscribe, topic = first[0] == 1, first[1:]
        self.subscription_from_peer(peer, subscribe, topic)

    def data_from_peer(self, peer, msg):
        """A message from a subscriber that is not a subscription: a PUB ignores it."""

    def subscription_from_peer(self, peer, subscribe, topic):
        if subscribe:
            self._add(peer, topic)
        else:
            self._remove(peer, topic)

    def _add(self, peer, topic):
        """Subscribe ``peer``; True if no peer had this topic before."""
        pipes = self._subscribers.get(topic)
        if pipes is None:
            self._subscribers.set(topic, {peer.outbound})
            return True
        pipes.add(peer.outbound)
        return False

    def _remove(self, peer, topic):
        """Unsubscribe ``peer``; True if that was the topic's last subscriber."""
        pipes = self._subscribers.get(topic)
        if pipes is None or peer.outbound not in pipes:
            return False
        pipes.discard(peer.outbound)
        if not pipes:
            self._subscribers.remove(topic)
            return True
        return False

    # -- sending ----------------------------------------------------------------

    def _targets(self, first):
        """The outbound pipes of the peers a message starting with ``first`` goes to."""
        matched = self._subscribers.matching(first)
        if not self.invert:
            if len(matched) == 1:
                return matched[0]
            targets = set()
            for pipes in matched:
                targets |= pipes
            return targets
        excluded = set().union(*matched) if matched else set()
        return [pipe for pipe in self._dist.pipes if pipe not in excluded]

    def send(self, msg, over_hwm=False):
        """Queue ``msg`` for every matching peer with room; the others miss it (PUB never blocks).

        With XPUB_NODROP nothing is queued unless every matching peer has room."""
        targets = self._targets(msg if msg.__class__ is bytes else first_frame(msg))
        if self.nodrop and not over_hwm and not Distributor.all_have_room(targets):
            return False
        Distributor.send_to(msg, targets, over_hwm and self.nodrop)
        return True

    def room_for(self, first):
        return not self.nodrop or Distributor.all_have_room(self._targets(bytes(first)))

    def can_send(self):
        return not self.nodrop or Distributor.all_have_room(self._dist.pipes)

    def room(self, limit):
        # Never waits without XPUB_NODROP (a full subscriber misses the message).
        return limit if not self.nodrop else super().room(limit)

    def topics_count(self):
        """The topics some subscriber has (libzmq counts its trie's prefixes)."""
        return len(self._subscribers)

    def option_changed(self, option, value):
        if option == SocketOption.XPUB_NODROP:
            self.nodrop = bool(value)
        elif option == SocketOption.INVERT_MATCHING:
            self.invert = bool(value)


class XPub(Pub):
    """A PUB that also hands subscriptions to the application as ``0x01``/``0x00`` + topic."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._pending = deque()
        self.verbose = False
        self.verboser = False
        self.manual = False
        self.welcome = None
        self._last_peer = None

    def attach(self, peer):
        attached = super().attach(peer)
        if self.welcome is not None:
            peer.outbound.write(self.welcome)
        return attached

    def detach(self, peer):
        super().detach(peer)
        if self._last_peer is peer:
            self._last_peer = None

    def _topic_gone(self, topic):
        self._notify(b"\x00" + topic)

    def _notify(self, msg):
        self._pending.append(msg)
        if len(self._pending) == 1:
            self.wake_readers()

    def data_from_peer(self, peer, msg):
        self._notify(msg)

    def subscription_from_peer(self, peer, subscribe, topic):
        if self.manual:
            self._last_peer = peer
            self._notify((b"\x01" if subscribe else b"\x00") + topic)
            return
        if subscribe:
            if self._add(peer, topic) or self.verbose or self.verboser:
                self._notify(b"\x01" + topic)
        elif self._remove(peer, topic) or self.verboser:
            self._notify(b"\x00" + topic)

    def subscription_option(self, subscribe, topic):
        """XPUB_MANUAL: apply a subscription for the peer that last sent one (EINVAL otherwise)."""
        if not self.manual:
            raise zmq_error(Errno.EINVAL)
        if self._last_peer is None:
            return
        if subscribe:
            self._add(self._last_peer, topic)
        else:
            self._remove(self._last_peer, topic)

    def recv(self):
        pending = self._pending
        return pending.popleft() if pending else None

    def can_recv(self):
        return bool(self._pending)

    def option_changed(self, option, value):
        if option == SocketOption.XPUB_VERBOSE:
            self.verbose = bool(value)
        elif option == SocketOption.XPUB_VERBOSER:
            self.verboser = bool(value)
        elif option == SocketOption.XPUB_MANUAL:
            self.manual = bool(value)
        elif option == SocketOption.XPUB_WELCOME_MSG:
            self.welcome = value or None
        else:
            super().option_changed(option, value)


class XSub(Pattern):
    """Receive everything from all publishers; send subscriptions (``0x01``/``0x00`` + topic) upstream."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._fq = FairQueue()
        self.recv = self._fq.recv
        self.can_recv = self._fq.can_recv
        # Publishers whose connection is up: subscriptions go only to them, and a
        # peer becoming ready gets all of them at once (so none is sent twice).
        self._ready = Distributor()
        self._counts = {}  # topic -> subscriptions, to repeat them to a (re)connected publisher

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        if peer.metadata is not None:
            self.peer_ready(peer)
        return True

    def peer_ready(self, peer):
        # A connect-side peer outlives its connections: after a reconnection it is ready
        # again with the same pipe, which then gets every subscription once more.
        if peer.outbound not in self._ready.pipes:
            self._ready.attach(peer.outbound)
        for topic in self._counts:
            peer.outbound.write(Subscription(True, topic))
        return True

    def detach(self, peer):
        self._ready.detach(peer.outbound)

    def source(self):
        return self._fq.last

    def topics_count(self):
        """The distinct topics subscribed, however many times each."""
        return len(self._counts)

    def _announce(self, subscribe, topic):
        for pipe in self._ready.pipes:
            pipe.write(Subscription(subscribe, topic))

    def _subscribe(self, topic):
        """Count a subscription; True if it is the topic's first."""
        count = self._counts.get(topic, 0)
        self._counts[topic] = count + 1
        return count == 0

    def _unsubscribe(self, topic):
        """Uncount a subscription; True if it was the topic's last."""
        count = self._counts.get(topic, 0)
        if count <= 1:
            if count:
                del self._counts[topic]
            return count == 1
        self._counts[topic] = count - 1
        return False

    def send(self, msg, over_hwm=False):
        frames = as_frames(msg)
        first = bytes(frames[0])
        if len(frames) == 1 and first and first[0] <= 1:
            topic = first[1:]
            if first[0] == 1:
                self._subscribe(topic)
                self._announce(True, topic)
            elif self._unsubscribe(topic):
                self._announce(False, topic)
            return True
        Distributor.send_to(msg, self._ready.pipes)  # a publisher with a full pipe misses it
        return True

    def can_send(self):
        return True

    def room(self, limit):
        return limit  # never waits: a publisher with a full pipe misses the message


class Sub(XSub):
    """Subscribe with the SUBSCRIBE option; receive only matching messages."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.recv = self._recv
        self.can_recv = self._can_recv
        self._filter = TopicIndex()  # the counted subscriptions, for local filtering
        self.invert = False

    room = Pattern.room  # can_send: nothing

    def check_send(self, first_frame=None):
        raise zmq_error(Errno.ENOTSUP)

    def send(self, msg, over_hwm=False):
        raise zmq_error(Errno.ENOTSUP)

    def can_send(self):
        return False

    def subscription_option(self, subscribe, topic):
        # As libzmq: every subscribe goes upstream (a verbose XPUB sees each one),
        # a cancel only when the topic's last subscription goes.
        if subscribe:
            if self._subscribe(topic):
                self._filter.set(topic, True)
            self._announce(True, topic)
        elif self._unsubscribe(topic):
            self._filter.remove(topic)
            self._announce(False, topic)

    def _matches(self, msg):
        return self._filter.any_prefix(msg if msg.__class__ is bytes else first_frame(msg)) is not self.invert

    def _recv(self):
        # _matches, written out: this loop runs once per message a subscriber receives.
        receive = self._fq.recv
        accepts = self._filter.any_prefix
        invert = self.invert
        while True:
            msg = receive()
            if msg is None or accepts(msg if msg.__class__ is bytes else first_frame(msg)) is not invert:
                return msg

    def _can_recv(self):
        # Level-triggered readiness must not report messages the filter will drop.
        for pipe in self._fq.pipes:
            for msg in pipe:
                if self._matches(msg):
                    return True
        return False

    def option_changed(self, option, value):
        if option == SocketOption.INVERT_MATCHING:
            self.invert = bool(value)

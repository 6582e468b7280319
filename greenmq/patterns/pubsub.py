"""Publish-subscribe (RFC 29): PUB, XPUB, SUB and XSUB, as libzmq builds them.

Filtering happens on the publisher: each peer's subscriptions are prefixes of
the first frame of the messages it wants. A publisher takes subscriptions the
moment they arrive -- it hooks its peers' inbound pipes -- so a send always
sees the current set. PUB never blocks: a subscriber whose pipe is full
misses the message (XPUB_NODROP makes the publisher wait or raise Again
instead). A subscriber counts its own subscriptions (subscribing twice to "A"
needs two unsubscribes), tells every publisher about changes, repeats them
all when a publisher (re)connects, and filters what it receives as well.
"""

from collections import deque

from ..constants import Errno, SocketOption
from ..error import zmq_error
from ..zmtp.framing import Subscription, encode_message
from .base import Pattern
from .reqrep import as_frames
from .strategies import FairQueue


class TopicIndex:
    """Topics and their values, searchable by "which topics prefix these bytes".

    Topics are bucketed by length, so a lookup costs one slice and one dict
    probe per distinct topic length, however many topics there are.
    """

    __slots__ = ("_buckets", "_lengths")

    def __init__(self):
        self._buckets = {}
        self._lengths = ()

    def __len__(self):
        return sum(len(bucket) for bucket in self._buckets.values())

    def get(self, topic):
        bucket = self._buckets.get(len(topic))
        return None if bucket is None else bucket.get(topic)

    def set(self, topic, value):
        bucket = self._buckets.get(len(topic))
        if bucket is None:
            bucket = self._buckets[len(topic)] = {}
            self._lengths = tuple(sorted(self._buckets))
        bucket[topic] = value

    def remove(self, topic):
        bucket = self._buckets[len(topic)]
        del bucket[topic]
        if not bucket:
            del self._buckets[len(topic)]
            self._lengths = tuple(sorted(self._buckets))

    def topics(self):
        return [topic for bucket in self._buckets.values() for topic in bucket]

    def matching(self, data):
        """Values of every topic that is a prefix of ``data``."""
        found = []
        size = len(data)
        buckets = self._buckets
        for length in self._lengths:
            if length > size:
                break
            value = buckets[length].get(data[:length])
            if value is not None:
                found.append(value)
        return found


def _first_frame(msg):
    first = msg if msg.__class__ is bytes else msg[0]
    return first if first.__class__ is bytes else bytes(first)


class Pub(Pattern):
    """Distribute each message to the peers whose subscriptions match its first frame."""

    takes_subscriptions = True

    def __init__(self, socket):
        super().__init__(socket)
        self.peers = []
        self._subscribers = TopicIndex()  # topic -> set of peers
        self.nodrop = False
        self.invert = False

    # -- subscriptions from peers ---------------------------------------------

    def attach(self, peer):
        self.peers.append(peer)
        if peer.encoded:
            peer.outbound.wire = True
        inbound = peer.inbound
        inbound.wake_reader = lambda: self._take_subscriptions(peer)
        self._take_subscriptions(peer)
        return True

    def detach(self, peer):
        if peer in self.peers:
            self.peers.remove(peer)
        for topic in self._subscribers.topics():
            if self._remove(peer, topic):
                self._topic_gone(topic)

    def _topic_gone(self, topic):
        """The last subscriber of ``topic`` left (an XPUB tells the application)."""

    def _take_subscriptions(self, peer):
        queue = peer.inbound.queue
        while queue:
            self._handle(peer, peer.inbound.read())

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
        peers = self._subscribers.get(topic)
        if peers is None:
            self._subscribers.set(topic, {peer})
            return True
        peers.add(peer)
        return False

    def _remove(self, peer, topic):
        """Unsubscribe ``peer``; True if that was the topic's last subscriber."""
        peers = self._subscribers.get(topic)
        if peers is None or peer not in peers:
            return False
        peers.discard(peer)
        if not peers:
            self._subscribers.remove(topic)
            return True
        return False

    # -- sending ----------------------------------------------------------------

    def _targets(self, msg):
        matched = self._subscribers.matching(_first_frame(msg))
        if not self.invert:
            if len(matched) == 1:
                return matched[0]
            targets = set()
            for peers in matched:
                targets |= peers
            return targets
        excluded = set().union(*matched) if matched else set()
        return [peer for peer in self.peers if peer not in excluded]

    def send(self, msg):
        """Queue ``msg`` for every matching peer with room; the others miss it (PUB never blocks).

        The message is encoded once for all peers served by a ZMTP engine. The
        pipe writes are inlined: this runs once per message per subscriber.
        """
        targets = self._targets(msg)
        if self.nodrop:
            for peer in targets:
                if not peer.outbound.can_write():
                    return False
        encoded = None
        for peer in targets:
            pipe = peer.outbound
            queue = pipe.queue
            hwm = pipe.hwm
            if hwm > 0 and len(queue) >= hwm:
                continue
            if peer.encoded:
                if encoded is None:
                    encoded = encode_message(msg)
                queue.append(encoded)
            else:
                queue.append(msg)
            if len(queue) == 1:
                pipe.wake_reader()
        return True

    def can_send(self):
        if not self.nodrop:
            return True
        return all(peer.outbound.hwm <= 0 or len(peer.outbound) < peer.outbound.hwm for peer in self.peers)

    def option_changed(self, option, value):
        if option == SocketOption.XPUB_NODROP:
            self.nodrop = bool(value)
        elif option == SocketOption.INVERT_MATCHING:
            self.invert = bool(value)


class XPub(Pub):
    """A PUB that also hands subscriptions to the application as ``0x01``/``0x00`` + topic."""

    def __init__(self, socket):
        super().__init__(socket)
        self._pending = deque()
        self.verbose = False
        self.verboser = False
        self.manual = False
        self.welcome = None
        self._last_peer = None

    def attach(self, peer):
        attached = super().attach(peer)
        if self.welcome is not None:
            peer.outbound.write(encode_message(self.welcome) if peer.encoded else self.welcome)
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
            self.socket._readable.set()

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

    def __init__(self, socket):
        super().__init__(socket)
        self._fq = FairQueue()
        self.recv = self._fq.recv
        self.can_recv = self._fq.can_recv
        self.peers = []
        # Peers whose connection is up: subscriptions go only to them, and a peer
        # becoming ready gets all of them at once (so none is sent twice).
        self._ready = set()
        self._counts = {}  # topic -> subscriptions, to repeat them to a (re)connected publisher

    def attach(self, peer):
        self.peers.append(peer)
        self._fq.attach(peer.inbound)
        if peer.metadata is not None:
            self.peer_ready(peer)
        return True

    def peer_ready(self, peer):
        self._ready.add(peer)
        self._announce_all(peer)
        return True

    def detach(self, peer):
        if peer in self.peers:
            self.peers.remove(peer)
        self._ready.discard(peer)

    def source(self):
        return self._fq.last

    def _announce_all(self, peer):
        for topic in self._counts:
            peer.outbound.write(Subscription(True, topic))

    def _announce(self, subscribe, topic):
        for peer in self.peers:
            if peer in self._ready:
                peer.outbound.write(Subscription(subscribe, topic))

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

    def send(self, msg):
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
        for peer in self.peers:
            if peer in self._ready and peer.outbound.can_write():
                peer.outbound.write(msg)
        return True

    def can_send(self):
        return True


class Sub(XSub):
    """Subscribe with the SUBSCRIBE option; receive only matching messages."""

    def __init__(self, socket):
        super().__init__(socket)
        self.recv = self._recv
        self.can_recv = self._can_recv
        self._filter = TopicIndex()  # the counted subscriptions, for local filtering
        self.invert = False

    def check_send(self, first_frame=None):
        raise zmq_error(Errno.ENOTSUP)

    def send(self, msg):
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
        return bool(self._filter.matching(_first_frame(msg))) != self.invert

    def _recv(self):
        while True:
            msg = self._fq.recv()
            if msg is None or self._matches(msg):
                return msg

    def _can_recv(self):
        # Level-triggered readiness must not report messages the filter will drop.
        for pipe in self._fq.pipes:
            for msg in pipe.queue:
                if self._matches(msg):
                    return True
        return False

    def option_changed(self, option, value):
        if option == SocketOption.INVERT_MATCHING:
            self.invert = bool(value)

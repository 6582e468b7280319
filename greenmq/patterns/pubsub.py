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

A multipart message between an XSUB and an XPUB is read part by part, as
libzmq reads it: each part that starts with ``0x00``/``0x01`` is a cancel or
subscription and the others are data, unless ``ONLY_FIRST_SUBSCRIBE`` is set
and the first part is data -- then the whole message is data (libzmq's code;
its manual says "only the first part", but a message whose first part is a
subscription has its later parts read as subscriptions too).
"""

from collections import deque

from ..constants import Errno, SocketOption
from ..error import zmq_error
from ..zmtp.framing import Subscription
from .base import Pattern
from .message import as_message, first_frame
from .strategies import Distributor, FairQueue
from .topics import TopicIndex


def subscription_in(frame):
    """(subscribe, topic) if a frame of a message is a subscription (``0x01`` + topic) or a
    cancel (``0x00`` + topic); None for data."""
    first = frame[:1]
    if first == b"\x01" or first == b"\x00":
        return first == b"\x01", bytes(frame[1:])
    return None


def read_parts(frames, only_first):
    """libzmq's reading of a multipart message: (frame, subscription-or-None) for each part.
    With ``only_first``, a message whose first part is data is data throughout."""
    if only_first and subscription_in(frames[0]) is None:
        return [(frame, None) for frame in frames]
    return [(frame, subscription_in(frame)) for frame in frames]


class Pub(Pattern):
    """Distribute each message to the peers whose subscriptions match its first frame."""

    takes_subscriptions = True
    fans_out = True

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._dist = Distributor()  # every subscriber's outbound pipe
        self._subscribers = TopicIndex()  # topic -> set of outbound pipes
        # (topic, its pipes) while there is exactly one topic -- often b"", or a shared prefix:
        # then a message is matched with one bytes.startswith.
        self._sole_topic = None
        self.nodrop = False
        self.invert = False
        self.only_first = False  # ONLY_FIRST_SUBSCRIBE

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
            notice = self.subscription_from_peer(peer, msg.subscribe, msg.topic)
            if notice is not None:
                self.notify(notice, peer)
            return
        if msg.__class__ is bytes:
            subscription = subscription_in(msg)
            if subscription is None:
                self.data_from_peer(msg)
                return
            notice = self.subscription_from_peer(peer, *subscription)
            if notice is not None:
                self.notify(notice, peer)
            return
        self._multipart_from_peer(peer, msg)

    def _multipart_from_peer(self, peer, frames):
        """Part by part, as libzmq: a subscription's notice ends the message the application
        receives (libzmq queues it without MORE), the data parts around it are kept."""
        current = []
        for frame, subscription in read_parts(frames, self.only_first):
            if subscription is None:
                current.append(frame)
                continue
            notice = self.subscription_from_peer(peer, *subscription)
            if notice is not None:
                current.append(notice)
                self.notify(as_message(current), peer)
                current = []
        if current:
            self.data_from_peer(as_message(current))

    def data_from_peer(self, msg):
        """A message from a subscriber that is not a subscription: a PUB ignores it."""

    def notify(self, msg, peer):
        """A subscription notice for the application (``peer`` sent it): a PUB has none."""

    def subscription_from_peer(self, peer, subscribe, topic):
        """Apply a peer's subscription or cancel; returns the notice for the application, if any."""
        if subscribe:
            self._add(peer, topic)
        else:
            self._remove(peer, topic)
        return None

    def _add(self, peer, topic):
        """Subscribe ``peer``; True if no peer had this topic before."""
        pipes = self._subscribers.get(topic)
        if pipes is None:
            self._subscribers.set(topic, {peer.outbound})
            self._topics_changed()
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
            self._topics_changed()
            return True
        return False

    def _topics_changed(self):
        topics = self._subscribers.few_topics(1)
        self._sole_topic = (topics[0], self._subscribers.get(topics[0])) if topics else None

    # -- sending ----------------------------------------------------------------

    def _targets(self, first):
        """The outbound pipes of the peers a message starting with ``first`` goes to."""
        sole = self._sole_topic
        if sole is not None and not self.invert:
            return sole[1] if first.startswith(sole[0]) else ()
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
        elif option == SocketOption.ONLY_FIRST_SUBSCRIBE:
            self.only_first = bool(value)


class XPub(Pub):
    """A PUB that also hands subscriptions to the application as ``0x01``/``0x00`` + topic.

    Under XPUB_MANUAL the application applies each subscription itself: ``SUBSCRIBE`` after
    receiving a notice subscribes the peer that sent it (libzmq's ``_last_pipe``, set when the
    notice is received). XPUB_MANUAL_LAST_VALUE adds last-value caching: the next send after
    such a notice goes to that peer alone (if it matches), then sends go to all again.
    """

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self._pending = deque()
        # Beside each pending message: the peer of a notice, None (a topic gone), or False (data);
        # under XPUB_MANUAL, SUBSCRIBE applies to the peer of the notice received last.
        self._pending_peers = deque()
        self.verbose = False
        self.verboser = False
        self.manual = False
        self.send_last = False  # XPUB_MANUAL_LAST_VALUE: the next send goes to the last subscriber only
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
        self.notify(b"\x00" + topic, None)

    def notify(self, msg, peer):
        self._pending.append(msg)
        self._pending_peers.append(peer)
        if len(self._pending) == 1:
            self.wake_readers()

    def data_from_peer(self, msg):
        self.notify(msg, False)  # a data message leaves the last subscriber as it is

    def subscription_from_peer(self, peer, subscribe, topic):
        notice = (b"\x01" if subscribe else b"\x00") + topic
        if self.manual:
            return notice
        if subscribe:
            if self._add(peer, topic) or self.verbose or self.verboser:
                return notice
        elif self._remove(peer, topic) or self.verboser:
            return notice
        return None

    def subscription_option(self, subscribe, topic):
        """XPUB_MANUAL: apply a subscription for the peer of the notice received last (EINVAL otherwise)."""
        if not self.manual:
            raise zmq_error(Errno.EINVAL)
        if self._last_peer is None:
            return
        if subscribe:
            self._add(self._last_peer, topic)
        else:
            self._remove(self._last_peer, topic)

    def send(self, msg, over_hwm=False):
        """Pub.send, but under XPUB_MANUAL_LAST_VALUE the message after a notice goes to the
        peer of that notice alone, if its subscriptions match (INVERT_MATCHING: to all but it),
        as libzmq's ``_send_last_pipe``; then to every match again."""
        last = self._last_peer
        first = msg if msg.__class__ is bytes else first_frame(msg)
        last_value = last is not None and self.send_last and self.manual
        if last_value:
            matched = any(last.outbound in pipes for pipes in self._subscribers.matching(first))
            if self.invert:
                targets = [pipe for pipe in self._dist.pipes if not (matched and pipe is last.outbound)]
            else:
                targets = (last.outbound,) if matched else ()
        else:
            targets = self._targets(first)
        if self.nodrop and not over_hwm and not Distributor.all_have_room(targets):
            return False
        Distributor.send_to(msg, targets, over_hwm and self.nodrop)
        if last_value:
            self._last_peer = None
        return True

    def recv(self):
        pending = self._pending
        if not pending:
            return None
        peer = self._pending_peers.popleft()
        if self.manual and peer is not False:
            # A notice of a peer that has gone since cannot be applied (libzmq's has_pipe check).
            self._last_peer = peer if peer is not None and peer.outbound in self._dist.pipes else None
        return pending.popleft()

    def can_recv(self):
        return bool(self._pending)

    def option_changed(self, option, value):
        if option == SocketOption.XPUB_VERBOSE:
            self.verbose = bool(value)
        elif option == SocketOption.XPUB_VERBOSER:
            self.verboser = bool(value)
        elif option == SocketOption.XPUB_MANUAL:
            self.manual = bool(value)
        elif option == SocketOption.XPUB_MANUAL_LAST_VALUE:
            self.manual = self.send_last = bool(value)
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
        self.only_first = False  # ONLY_FIRST_SUBSCRIBE

    def attach(self, peer):
        self._fq.attach(peer.inbound)
        if peer.metadata is not None:
            self.peer_ready(peer)
        return True

    def peer_ready(self, peer):
        """Send the peer every topic subscribed. A connect-side peer outlives its connections,
        and what was queued while it was away goes first on the new connection: only the
        topics that leaves out are sent again, so that a publisher sees each one once."""
        outbound = peer.outbound
        if outbound not in self._ready.pipes:
            self._ready.attach(outbound)
        queued = set()
        for msg in outbound:
            if msg.__class__ is Subscription:
                if msg.subscribe:
                    queued.add(msg.topic)
                else:
                    queued.discard(msg.topic)
        for topic in self._counts:
            if topic not in queued:
                outbound.write(Subscription(True, topic))
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
        if msg.__class__ is not bytes and len(msg) > 1:
            return self._send_multipart(msg)
        frame = msg if msg.__class__ is bytes else msg[0]
        subscription = subscription_in(frame)
        if subscription is None:
            Distributor.send_to(msg, self._ready.pipes)  # a publisher with a full pipe misses it
            return True
        subscribe, topic = subscription
        if subscribe:
            self._subscribe(topic)
            self._announce(True, topic)
        elif self._unsubscribe(topic):
            self._announce(False, topic)
        return True

    def _send_multipart(self, frames):
        """As libzmq, part by part: subscriptions are counted, cancels that leave the topic
        subscribed are dropped, and what is left goes upstream as one message (subscriptions as
        ``0x01`` + topic frames, where libzmq's parts carry them too)."""
        upstream = []
        for frame, subscription in read_parts(frames, self.only_first):
            if subscription is not None:
                subscribe, topic = subscription
                if subscribe:
                    self._subscribe(topic)
                elif not self._unsubscribe(topic):
                    continue
            upstream.append(frame)
        if upstream:
            Distributor.send_to(as_message(upstream), self._ready.pipes)
        return True

    def can_send(self):
        return True

    def option_changed(self, option, value):
        if option == SocketOption.ONLY_FIRST_SUBSCRIBE:
            self.only_first = bool(value)

    def room(self, limit):
        return limit  # never waits: a publisher with a full pipe misses the message


# Up to this many subscriptions, a SUB tests a message against all of them in one bytes.startswith.
_STARTSWITH_TOPICS = 16


class Sub(XSub):
    """Subscribe with the SUBSCRIBE option; receive only matching messages."""

    def __init__(self, wake_readers):
        super().__init__(wake_readers)
        self.recv = self._recv
        self.can_recv = self._can_recv
        self._filter = TopicIndex()  # the counted subscriptions, for local filtering
        self._few_topics = ()  # the same, as a tuple while there are few (see _recv); else None
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
                self._few_topics = self._filter.few_topics(_STARTSWITH_TOPICS)
            self._announce(True, topic)
        elif self._unsubscribe(topic):
            self._filter.remove(topic)
            self._few_topics = self._filter.few_topics(_STARTSWITH_TOPICS)
            self._announce(False, topic)

    def _matches(self, msg):
        return self._filter.any_prefix(msg if msg.__class__ is bytes else first_frame(msg)) is not self.invert

    def _recv(self):
        # _matches, written out: this loop runs once per message a subscriber receives. With
        # few subscriptions one bytes.startswith tests them all, without a Python call.
        receive = self._fq.recv
        few_topics = self._few_topics
        accepts = self._filter.any_prefix
        invert = self.invert
        while True:
            msg = receive()
            if msg is None:
                return None
            first = msg if msg.__class__ is bytes else first_frame(msg)
            if (first.startswith(few_topics) if few_topics is not None else accepts(first)) is not invert:
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

"""Topic prefixes, looked up by the message they start: the subscription index of PUB, XPUB and SUB."""


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

    def few_topics(self, limit):
        """Every topic, as a tuple, when there are at most ``limit`` (``bytes.startswith`` takes
        such a tuple and tests them all in C); None when there are more."""
        if len(self) > limit:
            return None
        return tuple(self.topics())

    def any_prefix(self, data):
        """Whether some topic is a prefix of ``data`` (a subscriber's filter: no list is built)."""
        size = len(data)
        buckets = self._buckets
        for length in self._lengths:
            if length > size:
                return False
            if data[:length] in buckets[length]:
                return True
        return False

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

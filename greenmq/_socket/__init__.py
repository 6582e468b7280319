"""What stands behind :class:`greenmq.Socket` (private: no API promise).

``base`` holds the send/receive core; ``settings`` the option values,
``options`` their table and ``security_options`` the security options' side
effects; ``port`` the narrow interface the connection side uses;
``endpoints``, ``monitor``, ``readiness``, ``registry`` and ``wakeup`` one
job each. See docs/design.rst.
"""

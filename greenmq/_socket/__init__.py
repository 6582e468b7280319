"""What stands behind :class:`greenmq.Socket` (private: no API promise).

``base`` holds the send/receive core; ``settings``, ``options`` and ``security_options`` the option
values and table; ``port`` the narrow interface the connection side uses;
``endpoints``, ``monitor``, ``readiness``, ``registry`` and ``wakeup`` one
job each. See docs/design.rst.
"""

"""The connection side (private: no API promise): sessions, listeners, engines and transports.

Everything here reaches a socket only through its
:class:`~greenmq._socket.port.SocketPort` and the
:class:`~greenmq._socket.settings.EndpointOptions` of an endpoint. See
docs/design.rst.
"""

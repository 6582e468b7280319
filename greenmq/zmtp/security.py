"""Which mechanism a connection uses, in which role, with which credentials."""

from .curve import CurveClient, CurveServer
from .null import NullMechanism
from .plain import PlainClient, PlainServer


class SecurityConfig:
    """A socket's security settings, copied at connect/bind time as libzmq does.

    ``mechanism`` is b"NULL", b"PLAIN" or b"CURVE"; keys are 32 raw bytes.
    ``zap_enforce_domain`` is ZAP_ENFORCE_DOMAIN (RFC 27 strictly: ZAP needs a domain, and a
    domain needs a handler).
    """

    __slots__ = ("mechanism", "as_server", "username", "password", "public_key", "secret_key", "server_key",
                 "zap_domain", "zap_enforce_domain")

    def __init__(self, mechanism=b"NULL", as_server=False, username=b"", password=b"", public_key=b"",
                 secret_key=b"", server_key=b"", zap_domain=b"", zap_enforce_domain=False):
        self.mechanism = mechanism
        self.as_server = as_server
        self.username = username
        self.password = password
        self.public_key = public_key
        self.secret_key = secret_key
        self.server_key = server_key
        self.zap_domain = zap_domain
        self.zap_enforce_domain = zap_enforce_domain

    @property
    def encrypts(self):
        """True when traffic is encrypted per connection (so it cannot be pre-encoded)."""
        return self.mechanism == b"CURVE"

    def create(self, properties):
        """A fresh mechanism for one connection; ``properties`` is our metadata."""
        if self.mechanism == b"PLAIN":
            return (PlainServer if self.as_server else PlainClient)(self, properties)
        if self.mechanism == b"CURVE":
            return (CurveServer if self.as_server else CurveClient)(self, properties)
        return NullMechanism(self, properties)


NULL_SECURITY = SecurityConfig()

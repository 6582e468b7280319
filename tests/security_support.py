"""Test support for PLAIN and CURVE: the test keys, and greenmq connections (sans-I/O) that use them.

The wire bytes are built and read with zmtp_support.py; a CurveZMQ peer
written with PyNaCl is in curve_support.py. Nothing here needs PyNaCl to
import (greenmq's CURVE connections need it to be created).
"""

from greenmq.zmtp import ZmtpConnection
from greenmq.zmtp.security import SecurityConfig
from greenmq.zmtp.zap import ZapReply

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # where a ZAP handler binds (RFC 27)

# The official test key pairs of libzmq/zmq_curve.adoc ("TEST KEY VALUES").
CLIENT_PUBLIC = bytes.fromhex("BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518")
CLIENT_SECRET = bytes.fromhex("7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888")
SERVER_PUBLIC = bytes.fromhex("54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652")
SERVER_SECRET = bytes.fromhex("8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7")
CLIENT_PUBLIC_Z85 = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
CLIENT_SECRET_Z85 = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
SERVER_PUBLIC_Z85 = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
SERVER_SECRET_Z85 = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"


def curve_client(socket_type=b"PUSH", public=CLIENT_PUBLIC, secret=CLIENT_SECRET, server_key=SERVER_PUBLIC,
                 **kwargs):
    config = SecurityConfig(b"CURVE", False, public_key=public, secret_key=secret, server_key=server_key)
    return ZmtpConnection(socket_type, security=config, **kwargs)


def curve_server(socket_type=b"PULL", secret=SERVER_SECRET, **kwargs):
    config = SecurityConfig(b"CURVE", True, public_key=SERVER_PUBLIC, secret_key=secret)
    return ZmtpConnection(socket_type, security=config, **kwargs)


def plain_client(socket_type=b"PUSH", username=b"admin", password=b"secret", **kwargs):
    return ZmtpConnection(socket_type, security=SecurityConfig(b"PLAIN", False, username=username,
                                                               password=password), **kwargs)


def plain_server(socket_type=b"PULL", zap_domain=b"", **kwargs):
    return ZmtpConnection(socket_type, security=SecurityConfig(b"PLAIN", True, zap_domain=zap_domain), **kwargs)


def admit(mechanism, credentials):
    """A ZAP answer for :func:`pump` (or ``zap_reply``): admit anyone."""
    return ZapReply(b"200")


def pump(client, server, zap=None, limit=20):
    """Move bytes between two connections until neither has anything to say.

    ``zap`` answers the server's ZAP requests: a callable taking
    (mechanism, credentials) and returning a ZapReply or None. Returns the
    messages each side received: (at client, at server).
    """
    at_client, at_server = [], []
    for _ in range(limit):
        moved = False
        data = client.data_to_send()
        if data:
            at_server.extend(server.receive(data))
            moved = True
        if server.zap_request is not None and zap is not None:
            at_server.extend(server.zap_reply(zap(*server.zap_request)))
            moved = True
        data = server.data_to_send()
        if data:
            at_client.extend(client.receive(data))
            moved = True
        if not moved:
            return at_client, at_server
    raise AssertionError("the connections kept talking")

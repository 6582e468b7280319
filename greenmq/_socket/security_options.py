"""The security socket options, with libzmq's side effects, and the config each connection gets.

libzmq keeps one ``mechanism`` and one ``as_server`` per socket, and the
options move them: ``PLAIN_SERVER``/``CURVE_SERVER`` set both (0 falls back
to NULL); a PLAIN user name or password makes the socket a PLAIN client; any
CURVE key selects CURVE, and ``CURVE_SERVERKEY`` makes it a client. The values
in force at ``connect``/``bind`` time are copied into a
:class:`~greenmq.zmtp.security.SecurityConfig`, as libzmq copies its options
into each session.
"""

from ..constants import Errno, SecurityMechanism, SocketOption as O
from ..zmtp.keys import raw_key, require_curve
from ..error import zmq_error
from ..utils import z85
from ..zmtp.security import SecurityConfig

AS_SERVER = "as_server"
OPTIONS = frozenset({O.PLAIN_SERVER, O.PLAIN_USERNAME, O.PLAIN_PASSWORD, O.CURVE_SERVER, O.CURVE_PUBLICKEY,
                     O.CURVE_SECRETKEY, O.CURVE_SERVERKEY})
_KEYS = (O.CURVE_PUBLICKEY, O.CURVE_SECRETKEY, O.CURVE_SERVERKEY)
_WIRE_NAMES = {SecurityMechanism.NULL: b"NULL", SecurityMechanism.PLAIN: b"PLAIN", SecurityMechanism.CURVE: b"CURVE"}


def defaults(options):
    """Add the security state that is not an option of its own to a new socket's ``options``."""
    options[AS_SERVER] = 0


def set_option(options, option, value):
    """Apply an already type-checked security option to ``options``."""
    if option in (O.PLAIN_SERVER, O.CURVE_SERVER):
        if option == O.CURVE_SERVER:
            require_curve()
        mechanism = SecurityMechanism.PLAIN if option == O.PLAIN_SERVER else SecurityMechanism.CURVE
        options[AS_SERVER] = value
        options[O.MECHANISM] = mechanism if value else SecurityMechanism.NULL
    elif option in (O.PLAIN_USERNAME, O.PLAIN_PASSWORD):
        options[option] = value
        options[AS_SERVER] = 0
        options[O.MECHANISM] = SecurityMechanism.PLAIN
    else:
        require_curve()
        key = raw_key(value)
        if key is None:
            raise zmq_error(Errno.EINVAL)
        options[option] = key
        options[O.MECHANISM] = SecurityMechanism.CURVE
        if option == O.CURVE_SERVERKEY:
            options[AS_SERVER] = 0


def get_option(options, option):
    """The value ``getsockopt`` returns for a security option."""
    if option == O.PLAIN_SERVER:
        return int(bool(options[AS_SERVER]) and options[O.MECHANISM] == SecurityMechanism.PLAIN)
    if option == O.CURVE_SERVER:
        return int(bool(options[AS_SERVER]) and options[O.MECHANISM] == SecurityMechanism.CURVE)
    if option in _KEYS:
        # libzmq's 41-byte form without its NUL (pyzmq 27 cannot read keys at all).
        return z85.encode(options[option])
    return options[option]


def config(options):
    """The :class:`SecurityConfig` a new connection or listener uses."""
    return SecurityConfig(
        mechanism=_WIRE_NAMES[options[O.MECHANISM]],
        as_server=bool(options[AS_SERVER]),
        username=options[O.PLAIN_USERNAME],
        password=options[O.PLAIN_PASSWORD],
        public_key=options[O.CURVE_PUBLICKEY],
        secret_key=options[O.CURVE_SECRETKEY],
        server_key=options[O.CURVE_SERVERKEY],
        zap_domain=options[O.ZAP_DOMAIN],
        zap_enforce_domain=bool(options[O.ZAP_ENFORCE_DOMAIN]),
    )

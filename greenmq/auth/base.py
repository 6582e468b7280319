"""``Authenticator``: a ZAP handler (RFC 27) with pyzmq's policies and replies.

A socket that authenticates its peers (PLAIN or CURVE servers, and NULL
sockets with a ``ZAP_DOMAIN``) asks the handler bound at
``inproc://zeromq.zap.01`` *in its own context* whether a peer may connect.
This class is that handler's policy: an allow list or a deny list of IP
addresses, PLAIN passwords per domain, CURVE public keys per domain (from a
certificate directory, any key, or a callback). Its answers -- status codes,
status texts, user ids -- are pyzmq's, so programs and tests written against
``zmq.auth`` see the same results.

This class only binds the socket and answers the messages it is given; see
:mod:`greenmq.auth.thread` for a handler that serves requests by itself.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from ..constants import SocketType
from ..context import Context
from ..socket import Socket
from ..utils import z85
from ..zmtp import zap
from .certs import load_certificates

__all__ = ["Authenticator", "CURVE_ALLOW_ANY", "CredentialsProvider"]

CURVE_ALLOW_ANY = "*"
# The ZAP protocol's version and endpoint, as the ZAP client of greenmq's sockets uses them.
VERSION = zap.VERSION
ZAP_ENDPOINT = zap.ENDPOINT
_DEFAULT_DOMAIN = "*"
_CURVE_KEY_SIZE = 32

_T = TypeVar("_T")


class CredentialsProvider(Protocol):
    """What :meth:`Authenticator.configure_curve_callback` takes: an object with this ``callback``."""

    def callback(self, domain: str, key: bytes) -> object:
        """Whether the client with the Z85 public ``key`` may connect in ``domain``: a true value
        accepts it. The value may also be an awaitable of one, as pyzmq allows."""


def _run_awaitable(awaitable: Awaitable[_T]) -> _T:
    """The result of an awaitable, computed on a private asyncio loop.

    pyzmq lets a CURVE credentials provider be a coroutine, which its handler
    awaits on its own loop; greenmq's handler is a greenlet, so the coroutine
    runs to completion here instead (holding up this thread's hub meanwhile).
    """

    async def wait() -> _T:
        return await awaitable

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(wait())
    finally:
        loop.close()
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # a no-op once it has finished; silences "never awaited" otherwise


class Authenticator:
    """ZAP authentication for the sockets of one context.

    Nothing here runs by itself: after :meth:`start`, feed each request
    received on :attr:`zap_socket` to :meth:`handle_zap_message`::

        auth = Authenticator(ctx)
        auth.allow("127.0.0.1")
        auth.start()
        while True:
            auth.handle_zap_message(auth.zap_socket.recv_multipart())

    or use :class:`greenmq.auth.thread.ThreadAuthenticator`, which does that
    in a greenlet. Unlike pyzmq's, ``handle_zap_message`` is a plain method:
    it blocks cooperatively like everything in greenmq, so there is nothing
    to ``await``.

    The policy, as in pyzmq:

    - NULL connections are allowed unless the address list says otherwise
      (an address missing from the allow list, or present in the deny list).
    - PLAIN and CURVE connections are denied until configured
      (:meth:`configure_plain`, :meth:`configure_curve`,
      :meth:`configure_curve_callback`), and must authenticate even when
      their address is on the allow list.
    - A request whose domain is empty is looked up under the domain ``"*"``;
      any other domain must have been configured by that exact name.

    ``log`` is a :class:`logging.Logger` (``greenmq.auth`` by default);
    requests, decisions and configuration changes are logged at DEBUG level
    and malformed requests at ERROR level.

    Configuration may change at any time; every request is judged by the
    configuration at the moment it arrives.
    """

    def __init__(self, context: Context | None = None, encoding: str = "utf-8",
                 log: logging.Logger | None = None) -> None:
        self.context: Context = context if context is not None else Context.instance()
        self.encoding = encoding
        self.allow_any = False
        self.credentials_providers: dict[str, CredentialsProvider] = {}
        # None until start() and after stop().
        self.zap_socket: Socket | None = None
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        # domain -> {username: password}; the dict given is kept, not copied,
        # so changes the application makes to it apply at once.
        self.passwords: dict[str, dict[str, str]] = {}
        # domain -> {Z85 public key (bytes): True}
        self.certs: dict[str, dict[bytes, bool]] = {}
        self.log = log if log is not None else logging.getLogger("greenmq.auth")

    # -- the socket ---------------------------------------------------------------

    def start(self) -> None:
        """Create the REP socket and bind it at ``inproc://zeromq.zap.01``.

        Raises ZMQError (EADDRINUSE) when the context already has a handler;
        this authenticator is then left as it was.
        """
        sock = self.context.socket(SocketType.REP, socket_class=Socket)
        try:
            sock.linger = 1
            sock.bind(ZAP_ENDPOINT)
        except BaseException:
            sock.close(linger=0)
            raise
        self.zap_socket = sock
        self.log.debug("Starting ZAP handler")

    def stop(self) -> None:
        """Close the ZAP socket, which frees the endpoint for another handler. Safe to repeat."""
        sock, self.zap_socket = self.zap_socket, None
        if sock is not None:
            sock.close()

    # -- configuration --------------------------------------------------------------

    def allow(self, *addresses: str) -> None:
        """Allow connections from these IP addresses (strings, compared as written), and from no other.

        NULL clients from an allowed address are accepted; PLAIN and CURVE
        clients still have to authenticate. An authenticator has either an
        allow list or a deny list: ValueError if :meth:`deny` was used.
        """
        if self._denied:
            raise ValueError("allow() cannot be combined with deny(): choose an allow list or a deny list")
        self.log.debug("Allowing %s", ",".join(addresses))
        self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse connections from these IP addresses; the others go on to authenticate.

        ValueError if :meth:`allow` was used.
        """
        if self._allowed:
            raise ValueError("deny() cannot be combined with allow(): choose an allow list or a deny list")
        self.log.debug("Denying %s", ",".join(addresses))
        self._denied.update(addresses)

    def configure_plain(self, domain: str = "*", passwords: dict[str, str] | None = None) -> None:
        """Accept PLAIN clients of ``domain`` whose password matches ``passwords[username]``.

        ``"*"`` is the domain of requests that name none. The dict is kept by
        reference: edit it to add or remove users. An empty or missing
        ``passwords`` leaves the domain's configuration as it was.
        """
        if passwords:
            self.passwords[domain] = passwords
        self.log.debug("Configure plain: %s", domain)

    def configure_curve(self, domain: str = "*", location: str | os.PathLike[str] = ".") -> None:
        """Accept CURVE clients of ``domain`` whose public key has a certificate in directory ``location``.

        The ``*.key`` files are read now: call again after adding or removing
        certificates. If the directory cannot be read, the error is logged and
        the domain keeps its previous keys. ``location=CURVE_ALLOW_ANY``
        accepts every client key, in every domain, until the next call of
        this method or of :meth:`configure_curve_callback`.
        """
        self.log.debug("Configure curve: %s[%s]", domain, location)
        if location == CURVE_ALLOW_ANY:
            self.allow_any = True
            return
        self.allow_any = False
        try:
            self.certs[domain] = load_certificates(location)
        except Exception as error:
            self.log.error("Could not load CURVE certificates from %s: %s", location, error)

    def configure_curve_callback(self, domain: str = "*",
                                 credentials_provider: CredentialsProvider | None = None) -> None:
        """Let ``credentials_provider.callback(domain, key)`` decide on the CURVE clients of ``domain``.

        ``key`` is the client's public key as Z85 ``bytes``; a true result
        accepts it. (It may also return an awaitable, as pyzmq allows; that is
        run to completion on a private asyncio loop.) Once any provider is
        configured, providers decide for every domain and certificate
        directories are no longer consulted, as in pyzmq.
        """
        self.allow_any = False
        if credentials_provider is None:
            self.log.error("No credentials provider given for domain %s", domain)
            return
        self.credentials_providers[domain] = credentials_provider

    def configure_gssapi(self, domain: str = "*", location: str | None = None) -> None:
        """Does nothing, as in pyzmq: GSSAPI has nothing to configure.

        greenmq has no GSSAPI mechanism, so no greenmq socket asks about
        GSSAPI clients; requests that say GSSAPI are answered as pyzmq does
        (accepted, with the principal as user id).
        """
        self.log.debug("Configure gssapi: %s (greenmq has no GSSAPI mechanism; nothing to do)", domain)

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The user id reported for an accepted CURVE client: its public key as Z85 text.

        Override to map keys to names of your own. Only called for accepted keys.
        """
        return z85.encode(client_public_key).decode("ascii")

    # -- requests -------------------------------------------------------------------

    def handle_zap_message(self, msg: list[bytes]) -> None:
        """Answer one ZAP request (the frames after the REP envelope) on :attr:`zap_socket`.

        Malformed requests get a 400 reply; if judging a request fails (a
        credentials provider raises, say), the error is logged and the reply
        is "500 Internal error", so the handler keeps serving.
        """
        if len(msg) < 6:
            self.log.error("Invalid ZAP message, not enough frames: %r", msg)
            # pyzmq leaves a request without a request id unanswered, which
            # wedges its REP socket for good; answer with an empty id instead.
            request_id = msg[1] if len(msg) >= 2 else b""
            self._send_zap_reply(request_id, b"400", b"Not enough frames")
            return
        request_id = msg[1]
        try:
            status_code, status_text, user_id = self._judge(msg)
        except Exception:
            self.log.exception("ZAP handler failed on request %r", request_id)
            status_code, status_text, user_id = b"500", b"Internal error", b""
        self._send_zap_reply(request_id, status_code, status_text, user_id)

    def _judge(self, msg: list[bytes]) -> tuple[bytes, bytes, bytes]:
        """The reply to a request of at least six frames: ``(status_code, status_text, user_id)``."""
        version, request_id, domain_frame, address_frame, identity, mechanism = msg[:6]
        credentials = msg[6:]
        if version != VERSION:
            self.log.error("Invalid ZAP version: %r", msg)
            return b"400", b"Invalid version", b""
        domain = domain_frame.decode(self.encoding, "replace")
        address = address_frame.decode(self.encoding, "replace")
        self.log.debug(
            "version: %r, request_id: %r, domain: %r, address: %r, identity: %r, mechanism: %r",
            version, request_id, domain, address, identity, mechanism,
        )

        allowed, denied, reason = self._check_address(address)
        if denied:
            return b"400", reason, b""

        # str, or whatever an overridden curve_user_id returns (bytes are accepted too).
        username: str | bytes = "anonymous"
        if mechanism == b"NULL":
            # An address on the allow list, or not on the deny list, was already
            # accepted; with no list at all NULL is accepted too.
            allowed = True
            self.log.debug("ALLOWED (NULL)")
        elif mechanism == b"PLAIN":
            if len(credentials) != 2:
                self.log.error("Invalid PLAIN credentials: %r", credentials)
                return b"400", b"Invalid credentials", b""
            username, password = (c.decode(self.encoding, "replace") for c in credentials)
            allowed, reason = self._authenticate_plain(domain, username, password)
        elif mechanism == b"CURVE":
            if len(credentials) != 1 or len(credentials[0]) != _CURVE_KEY_SIZE:
                self.log.error("Invalid CURVE credentials: %r", credentials)
                return b"400", b"Invalid credentials", b""
            key = credentials[0]
            allowed, reason = self._authenticate_curve(domain, key)
            if allowed:
                username = self.curve_user_id(key)
        elif mechanism == b"GSSAPI":
            if len(credentials) != 1:
                self.log.error("Invalid GSSAPI credentials: %r", credentials)
                return b"400", b"Invalid credentials", b""
            principal = credentials[0]
            username = principal.decode(self.encoding, "replace")
            allowed, reason = self._authenticate_gssapi(domain, principal)
        # Any other mechanism: accepted only if its address was (pyzmq's rule).

        if not allowed:
            return b"400", reason, b""
        if isinstance(username, str):
            username = username.encode(self.encoding, "replace")
        if not isinstance(username, bytes):
            raise TypeError(f"a user id must be str or bytes, not {type(username).__name__}")
        return b"200", b"OK", username

    def _check_address(self, address: str) -> tuple[bool, bool, bytes]:
        """``(allowed, denied, reason)`` from the allow or deny list; both False without a list."""
        if self._allowed:
            if address in self._allowed:
                self.log.debug("PASSED (allowed) address=%s", address)
                return True, False, b"NO ACCESS"
            self.log.debug("DENIED (not allowed) address=%s", address)
            return False, True, b"Address not allowed"
        if self._denied:
            if address in self._denied:
                self.log.debug("DENIED (denied) address=%s", address)
                return False, True, b"Address denied"
            self.log.debug("PASSED (not denied) address=%s", address)
            return True, False, b"NO ACCESS"
        return False, False, b"NO ACCESS"

    def _authenticate_plain(self, domain: str, username: str, password: str) -> tuple[bool, bytes]:
        """PLAIN: ``(allowed, reason)`` for a username and password in ``domain``."""
        if not self.passwords:
            self.log.debug("DENIED (PLAIN) no passwords defined")
            return False, b"No passwords defined"
        domain = domain or _DEFAULT_DOMAIN
        users = self.passwords.get(domain)
        if users is None:
            allowed, reason = False, b"Invalid domain"
        elif username not in users:
            allowed, reason = False, b"Invalid username"
        elif users[username] != password:
            allowed, reason = False, b"Invalid password"
        else:
            allowed, reason = True, b""
        if allowed:
            self.log.debug("ALLOWED (PLAIN) domain=%s username=%s", domain, username)
        else:
            self.log.debug("DENIED (PLAIN) domain=%s username=%s: %s", domain, username, reason)
        return allowed, reason

    def _authenticate_curve(self, domain: str, client_key: bytes) -> tuple[bool, bytes]:
        """CURVE: ``(allowed, reason)`` for a client's 32-byte public key in ``domain``."""
        if self.allow_any:
            self.log.debug("ALLOWED (CURVE allow any client)")
            return True, b"OK"
        domain = domain or _DEFAULT_DOMAIN
        z85_key = z85.encode(client_key)
        if self.credentials_providers:
            provider = self.credentials_providers.get(domain)
            if provider is None:
                return False, b"Unknown domain"
            verdict = provider.callback(domain, z85_key)
            if inspect.isawaitable(verdict):
                verdict = _run_awaitable(verdict)
            how = "CURVE auth_callback"
        else:
            keys = self.certs.get(domain)
            if keys is None:
                return False, b"Unknown domain"
            verdict = keys.get(z85_key)
            how = "CURVE"
        self.log.debug("%s (%s) domain=%s client_key=%s", "ALLOWED" if verdict else "DENIED", how, domain, z85_key)
        return (True, b"OK") if verdict else (False, b"Unknown key")

    def _authenticate_gssapi(self, domain: str, principal: bytes) -> tuple[bool, bytes]:
        """GSSAPI: the mechanism itself has authenticated the principal, so accept it (as pyzmq does)."""
        self.log.debug("ALLOWED (GSSAPI) domain=%s principal=%s", domain, principal)
        return True, b"OK"

    def _send_zap_reply(self, request_id: bytes, status_code: bytes, status_text: bytes,
                        user_id: str | bytes = "anonymous") -> None:
        """Send the six reply frames; the user id is sent only with status 200, and metadata is empty."""
        if status_code != b"200":
            user_id = b""
        elif isinstance(user_id, str):
            user_id = user_id.encode(self.encoding, "replace")
        self.log.debug("ZAP reply code=%s text=%s", status_code, status_text)
        sock = self.zap_socket
        if sock is None:
            self.log.debug("ZAP handler stopped; reply to request %r dropped", request_id)
            return
        sock.send_multipart([VERSION, request_id, status_code, status_text, user_id, b""])

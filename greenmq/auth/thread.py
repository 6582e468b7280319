"""``ThreadAuthenticator``: a ZAP handler that serves requests in the background.

The name is pyzmq's, kept so that ``zmq.auth.thread.ThreadAuthenticator``
code runs unchanged, but the handler is a **greenlet** on the gevent hub of
the thread that calls :meth:`~ThreadAuthenticator.start`, not an OS thread:
greenmq sockets block cooperatively, and a greenlet is gevent's background
task. It follows that

- configuration needs no messages to a thread: ``allow()``,
  ``configure_plain()`` and the rest change the state the greenlet reads, so
  they apply to every request that arrives after they return;
- requests are answered while that thread's hub runs, that is, while the
  thread waits on greenmq sockets or anything else gevent-aware (a thread
  stuck in a blocking call that gevent does not patch answers nothing);
- :meth:`~ThreadAuthenticator.stop` belongs to the thread that started it.
"""

from __future__ import annotations

import logging

import gevent

from ..constants import Errno
from ..context import Context
from ..error import ZMQError
from ..socket import Socket
from .base import Authenticator

__all__ = ["GreenletAuthenticator", "ThreadAuthenticator"]

# A closed socket (stop(), Context.destroy) or a terminating context ends the handler.
_STOPPING = (Errno.ETERM, Errno.ENOTSOCK)


class ThreadAuthenticator(Authenticator):
    """Run ZAP authentication in a greenlet (pyzmq's name; see the module docstring).

    ``start()`` binds the ZAP socket and starts the greenlet, ``stop()`` ends
    the greenlet and closes the socket (so another handler may then bind),
    ``is_alive()`` tells whether the greenlet runs. If the context is
    terminated while the handler runs, the handler closes its socket and ends,
    so that ``Context.term()`` can finish.
    """

    def __init__(self, context: Context | None = None, encoding: str = "utf-8",
                 log: logging.Logger | None = None) -> None:
        super().__init__(context=context, encoding=encoding, log=log)
        self.greenlet: gevent.Greenlet[[Socket], None] | None = None

    @property
    def thread(self) -> gevent.Greenlet[[Socket], None] | None:
        """The greenlet that serves requests (pyzmq's attribute name); None when stopped."""
        return self.greenlet

    def start(self) -> None:
        """Bind the ZAP socket and start serving requests.

        ZMQError (EADDRINUSE) if the context already has a ZAP handler;
        RuntimeError if this authenticator is already running.
        """
        if self.is_alive():
            raise RuntimeError("the authenticator is already running")
        super().start()
        assert self.zap_socket is not None  # bound by super().start(), which raises if it cannot
        self.greenlet = gevent.spawn(self._serve, self.zap_socket)

    def _serve(self, sock: Socket) -> None:
        try:
            while True:
                self.handle_zap_message(sock.recv_multipart())
        except ZMQError as error:
            if error.errno in _STOPPING:
                sock.close()  # Context.term() waits for every socket to be closed
                self.log.debug("ZAP handler finished")
                return
            self.log.exception("ZAP handler failed")
        except Exception:
            self.log.exception("ZAP handler failed")
        # The socket stays bound though nobody answers: handshakes then wait and
        # fail, where a context without a handler might let every client in.

    def stop(self) -> None:
        """Stop serving and close the ZAP socket. Safe before ``start()`` and when repeated."""
        greenlet, self.greenlet = self.greenlet, None
        if greenlet is not None and greenlet is not gevent.getcurrent():
            greenlet.kill()
        # Called by the handler itself (from a credentials provider, say), the
        # greenlet ends when it next touches the closed socket.
        super().stop()

    def is_alive(self) -> bool:
        """Whether the handler greenlet is running."""
        return self.greenlet is not None and not self.greenlet.dead


GreenletAuthenticator = ThreadAuthenticator

"""SSH tunnels for tcp connections (pyzmq's ``zmq.ssh.tunnel``).

``tunnel_connection(socket, "tcp://10.0.0.5:5555", "user@gateway")`` opens a
tunnel from a free local port, through the ssh server ``gateway``, to
10.0.0.5:5555 as the server sees it, and connects the socket to the local end.

Two ways to make the tunnel, as in pyzmq:

- OpenSSH (the default on POSIX; :func:`openssh_tunnel`): the ``ssh`` command
  driven through pexpect, so password and host-key prompts can be answered. It
  reuses a running ControlMaster connection if there is one; otherwise it starts
  ``ssh -f -S none -L ... server sleep TIMEOUT``, which keeps the tunnel up for
  TIMEOUT seconds plus as long as a connection uses it.
- paramiko (:func:`paramiko_tunnel`): a child process that forwards the port
  over a paramiko connection (:mod:`greenmq.ssh.forward`).

pexpect and paramiko are imported only when a tunnel is made, so this module
imports without them; a missing one is an ImportError then. Setting a tunnel up blocks
the calling thread (and so its gevent hub) while ssh logs in, as in pyzmq.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket as stdlib_socket
import subprocess
import sys
from getpass import getpass, getuser
from multiprocessing import Process
from typing import Any

__all__ = ["tunnel_connection", "ssh_tunnel", "openssh_tunnel", "paramiko_tunnel", "try_passwordless_ssh",
           "select_random_ports", "open_tunnel", "MaxRetryExceeded", "SSHException"]

_MAX_RETRY = 10  # prompts answered (or 0.1 s waits for one) before giving up
_PASSWORD_PROMPT = re.compile(rb"pass(word|phrase)", re.IGNORECASE)
_NEW_HOST_PROMPT = "Are you sure you want to continue connecting"


class MaxRetryExceeded(Exception):
    """ssh neither finished nor asked for anything we could answer within the retries."""


class SSHException(Exception):
    """The ssh server cannot be used as asked: its host key is not known yet.

    pyzmq uses paramiko's SSHException when paramiko is installed; greenmq imports paramiko only
    for a paramiko tunnel, so this is its own class (paramiko's errors propagate as they are)."""


def select_random_ports(n: int) -> list[int]:
    """``n`` distinct tcp ports that are free now (each bound at once, then all released)."""
    sockets = [stdlib_socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _pexpect() -> Any:
    try:
        import pexpect
    except ImportError:
        raise ImportError("pexpect unavailable, use paramiko") from None
    return pexpect


def _paramiko() -> Any:
    try:
        import paramiko
    except ImportError:
        raise ImportError("Paramiko unavailable, use OpenSSH" if sys.platform != "win32" else
                          "Paramiko unavailable, Paramiko is required for ssh tunnels on Windows.") from None
    return paramiko


def _use_paramiko(paramiko: bool | None) -> bool:
    """pyzmq's default: paramiko on Windows, OpenSSH elsewhere."""
    return sys.platform == "win32" if paramiko is None else paramiko


def _split_server(server: str) -> tuple[str, str, int]:
    """``[user@]host[:port]`` as (user, host, port), with the login name and port 22 by default."""
    user, at, rest = server.rpartition("@")
    host, colon, port = rest.partition(":")
    return (user if at else getuser()), host, (int(port) if colon else 22)


def _ssh_command(server: str, keyfile: str | None) -> tuple[list[str], str]:
    """The ``ssh`` argv prefix for ``server`` (a port becomes ``-p``), and the destination to name."""
    argv = ["ssh"]
    if keyfile:
        argv += ["-i", keyfile]
    if ":" in server:
        server, port = server.split(":", 1)
        argv += ["-p", port]
    return argv, server


def _env_without_askpass() -> dict[str, str]:
    """The environment for ssh, without SSH_ASKPASS, so that ssh prompts on the terminal pexpect reads."""
    env = dict(os.environ)
    env.pop("SSH_ASKPASS", None)
    return env


def try_passwordless_ssh(server: str, keyfile: str | None, paramiko: bool | None = None) -> bool:
    """Whether ``server`` lets us log in without a password (with ``keyfile`` or ssh's defaults).

    Used to ask for a password only once when several tunnels go through one server."""
    if _use_paramiko(paramiko):
        return _try_passwordless_paramiko(server, keyfile)
    return _try_passwordless_openssh(server, keyfile)


def _try_passwordless_openssh(server: str, keyfile: str | None) -> bool:
    pexpect = _pexpect()
    argv = ["ssh", "-f", server] + (["-i", keyfile] if keyfile else []) + ["exit"]
    child = pexpect.spawn(argv[0], argv[1:], env=_env_without_askpass())
    try:
        for _ in range(_MAX_RETRY):
            try:
                if child.expect([_NEW_HOST_PROMPT, _PASSWORD_PROMPT], timeout=0.1) == 0:
                    raise SSHException("The authenticity of the host can't be established.")
                return False  # asked for a password
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return True
        raise MaxRetryExceeded(f"Failed after {_MAX_RETRY} attempts")
    finally:
        child.close(force=True)


def _try_passwordless_paramiko(server: str, keyfile: str | None) -> bool:
    paramiko = _paramiko()
    username, host, port = _split_server(server)
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(os.path.expanduser("~/.ssh/known_hosts"))
    except FileNotFoundError:
        pass
    # As pyzmq: PYZMQ_PARAMIKO_HOST_KEY_POLICY=AutoAdd (Reject, Warning) picks paramiko's policy.
    policy = os.environ.get("PYZMQ_PARAMIKO_HOST_KEY_POLICY")
    if policy:
        client.set_missing_host_key_policy(getattr(paramiko, f"{policy}Policy")())
    try:
        client.connect(host, port, username=username, key_filename=keyfile, look_for_keys=True)
    except paramiko.AuthenticationException:
        return False
    client.close()
    return True


def tunnel_connection(socket: Any, addr: str, server: str, keyfile: str | None = None,
                      password: str | None = None, paramiko: bool | None = None,
                      timeout: int = 60) -> Process | int:
    """Connect ``socket`` to ``addr`` (``tcp://ip:port`` as ``server`` sees it) through an ssh tunnel.

    Returns the tunnel: the ssh process id (OpenSSH) or the forwarding Process (paramiko)."""
    url, tunnel = open_tunnel(addr, server, keyfile=keyfile, password=password, paramiko=paramiko,
                              timeout=timeout)
    socket.connect(url)
    return tunnel


def open_tunnel(addr: str, server: str, keyfile: str | None = None, password: str | None = None,
                paramiko: bool | None = None, timeout: int = 60) -> tuple[str, Process | int]:
    """Open a tunnel to the tcp endpoint ``addr`` through ``server``; returns (local url, tunnel)."""
    _transport, _, hostport = addr.partition("://")
    ip, port = hostport.split(":")
    lport = select_random_ports(1)[0]
    make = paramiko_tunnel if _use_paramiko(paramiko) else openssh_tunnel
    tunnel = make(lport, int(port), server, remoteip=ip, keyfile=keyfile, password=password, timeout=timeout)
    return f"tcp://127.0.0.1:{lport}", tunnel


def openssh_tunnel(lport: int, rport: int, server: str, remoteip: str = "127.0.0.1",
                   keyfile: str | None = None, password: str | None = None, timeout: int = 60) -> int:
    """Forward 127.0.0.1:``lport`` here to ``remoteip``:``rport`` as seen from ``server``, with OpenSSH.

    ``server`` is ``[user@]host[:port]``. With a ControlMaster already connected to it, the
    forwarding is added to that connection (and cancelled at exit). Otherwise a new ssh runs in
    the background; it ends once ``timeout`` seconds have passed and no connection uses the
    tunnel. A password prompt is answered with ``password``, or one typed at the terminal
    (``getpass``) when it is None or was rejected. Returns the ssh process id.

    SSHException if ssh asks to accept an unknown host key; RuntimeError if ssh fails.
    """
    pexpect = _pexpect()
    ssh, host = _ssh_command(server, keyfile)
    forward = f"127.0.0.1:{lport}:{remoteip}:{rport}"

    master = subprocess.run(ssh + ["-O", "check", host], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    pid = re.search(rb"\(pid=(\d+)\)", master.stdout)
    if master.returncode == 0 and pid:
        added = subprocess.run(ssh + ["-O", "forward", "-L", forward, host], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        if added.returncode == 0:
            atexit.register(subprocess.run, ssh + ["-O", "cancel", "-L", forward, host],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            return int(pid.group(1))

    argv = ssh + ["-f", "-S", "none", "-L", forward, host, "sleep", str(timeout)]
    tunnel = pexpect.spawn(argv[0], argv[1:], env=_env_without_askpass())
    started = False
    try:
        answered = False
        for _ in range(_MAX_RETRY):
            try:
                if tunnel.expect([_NEW_HOST_PROMPT, _PASSWORD_PROMPT], timeout=0.1) == 0:
                    raise SSHException("The authenticity of the host can't be established.")
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                tunnel.close()  # reaps ssh, so that its exit status is known
                if tunnel.exitstatus:
                    raise RuntimeError(f"tunnel {' '.join(argv)!r} failed to start (exit status "
                                       f"{tunnel.exitstatus}): {tunnel.before.decode(errors='replace').strip()}"
                                       ) from None
                started = True
                return int(tunnel.pid)
            if answered:
                print("Password rejected, try again")
                password = None
            if password is None:
                password = getpass(f"{server}'s password: ")  # Ctrl-C here must not leave ssh behind
            tunnel.sendline(password)
            answered = True
    finally:
        if not started:
            tunnel.close(force=True)
    raise MaxRetryExceeded(f"Failed after {_MAX_RETRY} attempts")


def paramiko_tunnel(lport: int, rport: int, server: str, remoteip: str = "127.0.0.1",
                    keyfile: str | None = None, password: str | None = None, timeout: int = 60) -> Process:
    """Forward 127.0.0.1:``lport`` here to ``remoteip``:``rport`` as seen from ``server``, with paramiko.

    For machines without the ``ssh`` command. The password is asked for first (``getpass``) if
    ``server`` needs one and none is given; the forwarding then runs in a daemon child process,
    which is returned. ``timeout`` is accepted for symmetry with :func:`openssh_tunnel` and unused,
    as in pyzmq: the tunnel lasts as long as the process.
    """
    _paramiko()
    if password is None and not _try_passwordless_paramiko(server, keyfile):
        password = getpass(f"{server}'s password: ")
    process = Process(target=_run_paramiko_tunnel, args=(lport, rport, server, remoteip),
                      kwargs={"keyfile": keyfile, "password": password}, daemon=True)
    process.start()
    return process


def _run_paramiko_tunnel(lport: int, rport: int, server: str, remoteip: str, keyfile: str | None = None,
                         password: str | None = None) -> None:
    """The child process of :func:`paramiko_tunnel`: log in, then forward until killed."""
    from .forward import forward_tunnel

    paramiko = _paramiko()
    username, host, port = _split_server(server)
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    client.set_missing_host_key_policy(paramiko.WarningPolicy())
    try:
        client.connect(host, port, username=username, key_filename=keyfile, look_for_keys=True,
                       password=password)
    except Exception as exc:
        print(f"*** Failed to connect to {host}:{port}: {exc!r}")
        sys.exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the parent's terminal leaves the tunnel up
    try:
        forward_tunnel(lport, remoteip, rport, client.get_transport())
    except Exception as exc:
        print(f"Port forwarding stopped uncleanly: {exc}")
        sys.exit(255)


ssh_tunnel = paramiko_tunnel if sys.platform == "win32" else openssh_tunnel

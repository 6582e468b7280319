"""SSH tunnels for connecting sockets to endpoints behind an ssh server (pyzmq's ``zmq.ssh``)."""

from .tunnel import (
    MaxRetryExceeded,
    SSHException,
    open_tunnel,
    openssh_tunnel,
    paramiko_tunnel,
    select_random_ports,
    ssh_tunnel,
    try_passwordless_ssh,
    tunnel_connection,
)

__all__ = ["MaxRetryExceeded", "SSHException", "open_tunnel", "openssh_tunnel", "paramiko_tunnel",
           "select_random_ports", "ssh_tunnel", "try_passwordless_ssh", "tunnel_connection"]

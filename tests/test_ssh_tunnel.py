"""greenmq.ssh (pyzmq's zmq.ssh.tunnel) without an ssh server.

The OpenSSH tunnels run against a stand-in ``ssh`` command (FAKE_SSH, put first
on PATH) that follows the parts of OpenSSH's command line and terminal dialogue
that greenmq relies on: ``-O check``/``-O forward`` for a ControlMaster, the
password and host-key prompts, and ``-f -L 127.0.0.1:LPORT:HOST:RPORT`` -- after
which it forwards the port in a background process, as ssh does. The paramiko
forwarder runs with a stand-in transport whose channels are plain tcp
connections. paramiko itself (and a real ssh server) is not exercised here.
"""

import json
import os
import signal
import socket
import sys
import textwrap

import gevent
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq.ssh import tunnel

from support import ROOT, TIMEOUT, new_socket

FAKE_SSH = textwrap.dedent("""\
    #!{python}
    import json, os, socket, sys, threading, time

    mode = os.environ.get("FAKE_SSH_MODE", "ok")
    state = os.environ["FAKE_SSH_STATE"]
    args = sys.argv[1:]
    with open(state + "/calls", "a") as calls:
        calls.write(json.dumps(args) + "\\n")

    if "-O" in args:  # ControlMaster requests
        if mode != "master":
            print("Control socket connect(/tmp/none): No such file or directory")
            sys.exit(255)
        print("Master running (pid=4242)")
        sys.exit(0)
    if "-f" in args and "-L" not in args:  # try_passwordless_ssh: ssh -f server exit
        if mode == "password":
            sys.stdout.write("user@host's password: ")
            sys.stdout.flush()
            sys.stdin.readline()
        sys.exit(0)
    if mode == "unreachable":
        print("ssh: Could not resolve hostname nowhere: Name or service not known")
        sys.exit(255)
    if mode == "newhost":
        sys.stdout.write("Are you sure you want to continue connecting (yes/no/[fingerprint])? ")
        sys.stdout.flush()
        sys.stdin.readline()
        sys.exit(255)
    if mode == "password":
        for _ in range(3):
            sys.stdout.write("user@host's password: ")
            sys.stdout.flush()
            if sys.stdin.readline().strip() == "right":
                break
            print("Permission denied, please try again.")
        else:
            sys.exit(255)

    spec = args[args.index("-L") + 1]
    bind_host, lport, host, rport = spec.split(":")
    listener = socket.create_server((bind_host, int(lport)))
    lifetime = float(args[args.index("sleep") + 1])
    if os.fork():  # ssh -f: the foreground process ends once the forwarding is set up
        sys.exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with open(state + "/pids", "a") as pids:
        pids.write(f"{{os.getpid()}}\\n")

    def pump(a, b):
        while True:
            data = a.recv(65536)
            if not data:
                b.shutdown(socket.SHUT_WR)
                return
            b.sendall(data)

    listener.settimeout(lifetime)
    while True:
        try:
            local, _ = listener.accept()
        except socket.timeout:
            sys.exit(0)
        remote = socket.create_connection((host, int(rport)))
        threading.Thread(target=pump, args=(local, remote), daemon=True).start()
        threading.Thread(target=pump, args=(remote, local), daemon=True).start()
""")


@pytest.fixture
def fake_ssh(tmp_path, monkeypatch):
    """Put the stand-in ssh first on PATH; yields a function that sets its mode and reads its calls."""
    pytest.importorskip("pexpect", reason="OpenSSH tunnels are driven through pexpect (optional)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH.format(python=sys.executable))
    script.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_STATE", str(state))

    class Fake:
        def mode(self, mode):
            monkeypatch.setenv("FAKE_SSH_MODE", mode)

        def calls(self):
            path = state / "calls"
            return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    yield Fake()
    pids = state / "pids"
    for pid in pids.read_text().split() if pids.exists() else []:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_select_random_ports_are_distinct_and_free():
    for _ in range(20):
        ports = tunnel.select_random_ports(10)
        assert len(ports) == len(set(ports)) == 10
    for port in ports:
        with socket.socket() as s:
            s.bind(("", port))  # released again


def _pull_and_push(ctx):
    pull = new_socket(ctx, zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    return pull, port, new_socket(ctx, zmq.PUSH)


def test_tunnel_connection_with_a_new_ssh(ctx, fake_ssh, monkeypatch):
    fake_ssh.mode("ok")
    monkeypatch.setattr(tunnel, "getpass", lambda prompt: pytest.fail("no password was asked for"))
    pull, port, push = _pull_and_push(ctx)
    pid = tunnel.tunnel_connection(push, f"tcp://127.0.0.1:{port}", "alice@gateway:2222", keyfile="/keys/id",
                                   timeout=30)
    assert isinstance(pid, int)
    with gevent.Timeout(TIMEOUT):
        push.send(b"through the tunnel")
        assert pull.recv() == b"through the tunnel"
    check, start = fake_ssh.calls()
    assert check == ["-i", "/keys/id", "-p", "2222", "-O", "check", "alice@gateway"]
    lport = int(push.last_endpoint.decode().rsplit(":", 1)[1])
    assert start == ["-i", "/keys/id", "-p", "2222", "-f", "-S", "none", "-L", f"127.0.0.1:{lport}:127.0.0.1:{port}",
                     "alice@gateway", "sleep", "30"]
    assert lport != port


def test_a_password_is_sent_and_asked_again_when_rejected(ctx, fake_ssh, monkeypatch, capsys):
    fake_ssh.mode("password")
    asked = []
    monkeypatch.setattr(tunnel, "getpass", lambda prompt: asked.append(prompt) or "right")
    pull, port, push = _pull_and_push(ctx)
    url, pid = tunnel.open_tunnel(f"tcp://127.0.0.1:{port}", "gateway", password="wrong", paramiko=False)
    assert asked == ["gateway's password: "]
    assert "Password rejected, try again" in capsys.readouterr().out
    push.connect(url)
    with gevent.Timeout(TIMEOUT):
        push.send(b"after login")
        assert pull.recv() == b"after login"


def test_an_unknown_host_key_is_an_ssh_exception(fake_ssh):
    fake_ssh.mode("newhost")
    with pytest.raises(tunnel.SSHException, match="authenticity"):
        tunnel.openssh_tunnel(tunnel.select_random_ports(1)[0], 5555, "gateway")


def test_a_failing_ssh_is_a_runtime_error(fake_ssh):
    fake_ssh.mode("unreachable")
    with pytest.raises(RuntimeError, match="failed to start .*exit status 255.*Could not resolve hostname"):
        tunnel.openssh_tunnel(tunnel.select_random_ports(1)[0], 5555, "nowhere")


def test_a_running_control_master_gets_the_forwarding(fake_ssh):
    fake_ssh.mode("master")
    lport = tunnel.select_random_ports(1)[0]
    assert tunnel.openssh_tunnel(lport, 5555, "gateway", remoteip="10.0.0.5") == 4242
    assert fake_ssh.calls() == [["-O", "check", "gateway"],
                                ["-O", "forward", "-L", f"127.0.0.1:{lport}:10.0.0.5:5555", "gateway"]]


def test_try_passwordless_ssh(fake_ssh):
    fake_ssh.mode("ok")
    assert tunnel.try_passwordless_ssh("gateway", None) is True
    fake_ssh.mode("password")
    assert tunnel.try_passwordless_ssh("gateway", "/keys/id", paramiko=False) is False
    assert fake_ssh.calls()[-1] == ["-f", "gateway", "-i", "/keys/id", "exit"]


def test_paramiko_is_needed_only_for_a_paramiko_tunnel(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", None)  # as if not installed: importing it fails
    with pytest.raises(ImportError, match="Paramiko unavailable"):
        tunnel.paramiko_tunnel(tunnel.select_random_ports(1)[0], 5555, "gateway")
    with pytest.raises(ImportError, match="Paramiko unavailable"):
        tunnel.open_tunnel("tcp://127.0.0.1:5555", "gateway", paramiko=True)


# The paramiko forwarder, in a process of its own, with a transport whose channels are tcp connections.
FORWARDER = textwrap.dedent("""
    import socket, sys
    from greenmq.ssh.forward import forward_tunnel

    class Transport:
        def open_channel(self, kind, destination, origin):
            assert kind == "direct-tcpip", kind
            return socket.create_connection(destination)

    forward_tunnel(int(sys.argv[1]), "127.0.0.1", int(sys.argv[2]), Transport())
""")


def test_forward_tunnel_carries_zmtp(ctx, processes):
    pull, port, push = _pull_and_push(ctx)
    lport = tunnel.select_random_ports(1)[0]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    forwarder = gevent.subprocess.Popen([sys.executable, "-c", FORWARDER, str(lport), str(port)], env=env,
                                        stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE)
    processes.append(forwarder)
    push.connect(f"tcp://127.0.0.1:{lport}")  # retried by ZeroMQ until the forwarder listens
    with gevent.Timeout(TIMEOUT):
        for i in range(3):
            push.send(b"forwarded %d" % i)
        assert [pull.recv() for _ in range(3)] == [b"forwarded 0", b"forwarded 1", b"forwarded 2"]
    assert forwarder.poll() is None

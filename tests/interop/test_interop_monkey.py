"""A program written for pyzmq, run unchanged on greenmq by ``python -m greenmq run``, against libzmq.

tests/pyzmq_user_app is the program (``import zmq.green as zmq`` and pyzmq's submodules); the
libzmq side is a few lines of pyzmq in another process. Both ways: the program binds and libzmq
connects, and the reverse.
"""

import os
import sys
import textwrap

import gevent
import gevent.subprocess
import pytest

from support import PROGRAM_TIMEOUT, ROOT

pytest.importorskip("zmq")  # pyzmq: the test extra installs it

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A libzmq REQ or REP peer: REQ sends "hello <i>" and prints each reply; REP answers "echo:" + request.
LIBZMQ_PEER = textwrap.dedent("""
    import sys
    import zmq
    role, how, endpoint, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ if role == "req" else zmq.REP)
    sock.rcvtimeo = sock.sndtimeo = 10000
    sock.linger = 1000
    if how == "bind":
        sock.bind(endpoint)
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    else:
        sock.connect(endpoint)
    print("READY", endpoint, zmq.__file__, flush=True)
    for i in range(count):
        if role == "req":
            sock.send(b"hello %d" % i)
            print("REPLY", sock.recv().decode(), flush=True)
        else:
            sock.send(b"echo:" + sock.recv())
    sock.close()
    ctx.term()
    print("DONE", flush=True)
""")


def start(args, env=None):
    return gevent.subprocess.Popen(args, stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE,
                                   env=env, cwd=TESTS)


def finish(process):
    """Wait for *process*; its exit status and whole stdout, as lines."""
    out, err = process.communicate(timeout=PROGRAM_TIMEOUT)
    assert process.returncode == 0, err.decode()
    return out.decode().splitlines()


def greenmq_app(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return start([sys.executable, "-m", "greenmq", "run", "-m", "pyzmq_user_app", *args], env)


def libzmq_peer(*args):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return start([sys.executable, "-c", LIBZMQ_PEER, *args], env)


def ready_endpoint(process):
    with gevent.Timeout(PROGRAM_TIMEOUT):
        line = process.stdout.readline().decode().split()
    assert line[:1] == ["READY"], line
    return line


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_app_binds_libzmq_connects(transport, tmp_path):
    endpoint = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/app"
    app = greenmq_app("rep", "--bind", endpoint, "--count", "3")
    peer = None
    try:
        bound = ready_endpoint(app)[1]
        peer = libzmq_peer("req", "connect", bound, "3")
        lines = finish(peer)
        assert "greenmq" not in lines[0]  # the peer's zmq.__file__: pyzmq's
        assert lines[1:] == ["REPLY echo:hello 0", "REPLY echo:hello 1", "REPLY echo:hello 2", "DONE"]
        assert finish(app) == ["DONE greenmq.socket 3"]
    finally:
        for process in (app, peer):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_libzmq_binds_app_connects(transport, tmp_path):
    endpoint = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/peer"
    peer = libzmq_peer("rep", "bind", endpoint, "3")
    app = None
    try:
        bound = ready_endpoint(peer)[1]
        app = greenmq_app("req", "--connect", bound, "--count", "3")
        assert finish(app) == ["READY " + bound, "REPLY echo:hello 0", "REPLY echo:hello 1",
                               "REPLY echo:hello 2", "DONE greenmq.socket 3"]
        assert finish(peer) == ["DONE"]
    finally:
        for process in (app, peer):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

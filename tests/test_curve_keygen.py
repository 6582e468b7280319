"""``python -m greenmq.curve_keygen``, run as a subprocess as a user would."""

import json
import os
import sys

import gevent
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq.utils import z85

from support import PROGRAM_TIMEOUT, ROOT, TIMEOUT, new_socket


def _keygen(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return gevent.subprocess.run([sys.executable, "-m", "greenmq.curve_keygen", *args], env=env,
                                 capture_output=True, text=True, timeout=PROGRAM_TIMEOUT)


def _keys_work(public, secret):
    """A CURVE server with this key pair accepts a client that knows ``public``."""
    with zmq.Context() as ctx:
        server = new_socket(ctx, zmq.PULL, curve_server=True, curve_secretkey=secret.encode())
        client_public, client_secret = zmq.curve_keypair()
        client = new_socket(ctx, zmq.PUSH, curve_serverkey=public.encode(), curve_publickey=client_public,
                            curve_secretkey=client_secret)
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client.connect(f"tcp://127.0.0.1:{port}")
        with gevent.Timeout(TIMEOUT):
            client.send(b"sealed")
            assert server.recv() == b"sealed"
        client.close()
        server.close()


def test_help():
    done = _keygen("-h")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: python3 -m greenmq.curve_keygen")
    assert "--json" in done.stdout and "--secret" in done.stdout


def test_bad_arguments_exit_2():
    done = _keygen("--no-such-option")
    assert done.returncode == 2
    assert "unrecognized arguments" in done.stderr


@pytest.mark.curve
def test_text_output_is_a_working_key_pair():
    done = _keygen()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "== CURVE PUBLIC KEY ==" and lines[2] == "" and lines[3] == "== CURVE SECRET KEY =="
    assert lines[5:] == [""]  # ends with one newline
    public, secret = lines[1], lines[4]
    assert len(z85.decode(public)) == 32 and len(z85.decode(secret)) == 32
    assert zmq.curve_public(secret).decode() == public
    _keys_work(public, secret)


@pytest.mark.curve
def test_json_output():
    done = _keygen("--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("}\n")
    keys = json.loads(done.stdout)
    assert sorted(keys) == ["public", "secret"]
    assert zmq.curve_public(keys["secret"]).decode() == keys["public"]
    _keys_work(keys["public"], keys["secret"])


@pytest.mark.curve
def test_secret_gives_its_public_key():
    public, secret = zmq.curve_keypair()
    # --secret=KEY: Z85 keys may start with "-", which argparse would take for an option.
    done = _keygen(f"--secret={secret.decode()}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"public": public.decode(), "secret": secret.decode()}


@pytest.mark.curve
@pytest.mark.parametrize("secret", ["short", "~" * 40])
def test_a_bad_secret_exits_1_with_one_line(secret):
    done = _keygen(f"--secret={secret}")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("curve_keygen: --secret: ") and done.stderr.count("\n") == 1

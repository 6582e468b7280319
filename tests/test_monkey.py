"""greenmq.monkey and ``python -m greenmq run``: pyzmq programs on greenmq without an edit.

Patching changes ``sys.modules`` for the whole process, so every check runs in a fresh
interpreter (support.run_program); the test process itself is never patched.
"""

import os
import sys
import textwrap

import gevent.subprocess
import pytest

from support import PROGRAM_TIMEOUT, ROOT, run_program

HERE = os.path.dirname(os.path.abspath(__file__))

# The pyzmq names a program imports, with the greenmq object each must be after the patch.
PYZMQ_NAMES = {
    "zmq": "greenmq",
    "zmq.green": "greenmq",
    "zmq.error": "greenmq.error",
    "zmq.constants": "greenmq.constants",
    "zmq.sugar": "greenmq",
    "zmq.sugar.socket": "greenmq.socket",
    "zmq.sugar.context": "greenmq.context",
    "zmq.sugar.frame": "greenmq.frame",
    "zmq.sugar.tracker": "greenmq.frame",
    "zmq.sugar.poll": "greenmq.poll",
    "zmq.backend": "greenmq",
    "zmq.green.poll": "greenmq.poll",
    "zmq.utils.z85": "greenmq.utils.z85",
    "zmq.utils.jsonapi": "greenmq.utils.jsonapi",
    "zmq.auth": "greenmq.auth",
    "zmq.auth.thread": "greenmq.auth.thread",
    "zmq.auth.certs": "greenmq.auth.certs",
    "zmq.devices": "greenmq.devices",
    "zmq.devices.monitoredqueue": "greenmq.devices.monitoredqueue",
}


def test_patch_resolves_every_pyzmq_name_to_the_greenmq_module(tmp_path):
    result = run_program(tmp_path, textwrap.dedent(f"""
        import importlib, json, sys
        import greenmq.monkey
        greenmq.monkey.patch()
        names = {PYZMQ_NAMES!r}
        got = {{name: importlib.import_module(name).__name__ for name in names}}
        import zmq, zmq.green, zmq.error
        from zmq import green
        import zmq.green as gzmq
        checks = {{
            "socket class": zmq.Socket is sys.modules["greenmq"].Socket,
            "green context": gzmq.Context is zmq.Context,
            "from zmq import green": green is zmq,
            "error class": zmq.error.ZMQError is sys.modules["greenmq.error"].ZMQError,
            "module names kept": zmq.__name__ == "greenmq" and zmq.__spec__.name == "greenmq",
            "backend attribute": zmq.backend.Socket is zmq.Socket,
        }}
        print(json.dumps({{"got": got, "checks": checks}}))
    """))
    assert result["got"] == PYZMQ_NAMES
    assert all(result["checks"].values()), result["checks"]


def test_patch_replaces_pyzmq_imported_before_it_and_unpatch_brings_it_back(tmp_path):
    pytest.importorskip("zmq")  # pyzmq: the test extra installs it
    result = run_program(tmp_path, textwrap.dedent("""
        import json
        import zmq, zmq.error
        before = zmq.__name__, zmq.error.__name__
        import greenmq.monkey
        greenmq.monkey.patch()
        import zmq, zmq.error
        patched = zmq.__name__, zmq.error.__name__
        greenmq.monkey.unpatch()
        import zmq
        print(json.dumps({"before": before, "patched": patched, "after": zmq.__name__,
                          "still patched": greenmq.monkey.is_patched()}))
    """))
    assert result == {"before": ["zmq", "zmq.error"], "patched": ["greenmq", "greenmq.error"],
                      "after": "zmq", "still patched": False}


def test_patched_imports_never_consult_pyzmq(tmp_path):
    """Whether or not pyzmq is installed: a finder placed after greenmq's records every ``zmq`` name
    that reached it; none may, so pyzmq (installed here) is never looked up."""
    result = run_program(tmp_path, textwrap.dedent("""
        import json, sys
        import greenmq.monkey
        asked = []
        class Witness:
            def find_spec(self, name, path, target=None):
                if name == "zmq" or name.startswith("zmq."):
                    asked.append(name)
                return None
        greenmq.monkey.patch()
        sys.meta_path.insert(1, Witness())
        import zmq, zmq.green, zmq.sugar.socket, zmq.utils.z85, zmq.auth.thread, zmq.devices
        print(json.dumps({"asked": asked, "file": zmq.__file__}))
    """))
    assert result["asked"] == []
    assert result["file"].startswith(os.path.join(ROOT, "greenmq"))


def test_a_pyzmq_part_greenmq_lacks_fails_to_import_with_module_not_found(tmp_path):
    result = run_program(tmp_path, textwrap.dedent("""
        import json
        import greenmq.monkey
        greenmq.monkey.patch()
        outcome = {}
        for name in ("zmq.asyncio", "zmq.eventloop.ioloop", "zmq.backend.cython"):
            try:
                __import__(name)
                outcome[name] = "imported"
            except ModuleNotFoundError as error:
                outcome[name] = error.name
        print(json.dumps(outcome))
    """))
    assert result == {"zmq.asyncio": "zmq.asyncio", "zmq.eventloop.ioloop": "zmq.eventloop",
                      "zmq.backend.cython": "zmq.backend.cython"}


def run_greenmq(*args, cwd=HERE):
    """``python -m greenmq ARGS`` with this tree's greenmq; (exit status, stdout, stderr)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    done = gevent.subprocess.run(
        [sys.executable, "-m", "greenmq", *args], stdout=gevent.subprocess.PIPE,
        stderr=gevent.subprocess.PIPE, env=env, cwd=cwd, timeout=PROGRAM_TIMEOUT,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_run_script_passes_arguments_and_exit_status(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import sys
        import zmq
        import helper  # from the script's folder, as under ``python prog.py``
        print(zmq.__name__, __name__, sys.argv[1:], helper.VALUE)
        sys.exit(7)
    """))
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    status, out, err = run_greenmq("run", str(script), "a", "--flag")
    assert (status, out) == (7, "greenmq __main__ ['a', '--flag'] 42\n"), err


def test_run_module_with_patch_all(tmp_path):
    package = tmp_path / "someapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent("""
        import sys
        import gevent.monkey
        import zmq.green as zmq
        print(zmq.Context.__module__, gevent.monkey.is_module_patched("socket"), sys.argv[1:])
    """))
    status, out, err = run_greenmq("run", "--patch-all", "-m", "someapp", "x", cwd=str(tmp_path))
    assert (status, out) == (0, "greenmq.context True ['x']\n"), err
    status, out, err = run_greenmq("run", "-m", "someapp", cwd=str(tmp_path))
    assert (status, out) == (0, "greenmq.context False []\n"), err


@pytest.mark.parametrize("args", [[], ["-m"], ["--patch-all"]])
def test_run_without_a_program_is_a_usage_error(args):
    status, out, err = run_greenmq("run", *args)
    assert status == 2
    assert err.startswith("usage: python -m greenmq run")


def test_the_user_app_runs_on_greenmq_through_the_runner():
    """The package that test_interop_monkey runs against libzmq, here against itself (both greenmq)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    server = gevent.subprocess.Popen(
        [sys.executable, "-m", "greenmq", "run", "-m", "pyzmq_user_app", "rep",
         "--bind", "tcp://127.0.0.1:*", "--count", "2"],
        stdout=gevent.subprocess.PIPE, env=env, cwd=HERE,
    )
    try:
        with gevent.Timeout(PROGRAM_TIMEOUT):
            ready = server.stdout.readline().decode().split()
            assert ready[0] == "READY", ready
            status, out, err = run_greenmq("run", "-m", "pyzmq_user_app", "req", "--connect", ready[1],
                                           "--count", "2")
            assert status == 0, err
            assert out.splitlines() == ["READY " + ready[1], "REPLY echo:hello 0", "REPLY echo:hello 1",
                                        "DONE greenmq.socket 2"]
            assert server.stdout.read().decode() == "DONE greenmq.socket 2\n"
            assert server.wait() == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

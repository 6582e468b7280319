"""Run programs written for pyzmq on greenmq without editing them.

``greenmq.monkey.patch()`` does for ``zmq`` what ``gevent.monkey`` does for the standard library:
after it, ``import zmq``, ``import zmq.green`` and their submodules (``zmq.error``,
``zmq.utils.monitor``, ``zmq.auth.thread``, ``zmq.sugar.socket`` ...) give greenmq's modules, in
this process, whether or not pyzmq is installed. Call it before the program imports zmq: objects
that a module took from pyzmq before the patch keep pointing at pyzmq.

``python -m greenmq run SCRIPT [ARGS]`` and ``python -m greenmq run -m MODULE [ARGS]`` apply the
patch and run a program, as ``python -m gevent.monkey`` does.

A name with no greenmq counterpart (``zmq.asyncio``, ``zmq.eventloop``, the backends' Cython and
CFFI internals) fails to import with ``ModuleNotFoundError``, which is what a program that probes
for an optional part of pyzmq expects.
"""

from __future__ import annotations

import importlib
import importlib.util
import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Sequence

#: pyzmq module names whose greenmq counterpart has another name. Any other ``zmq.X.Y`` is looked
#: up as ``greenmq.X.Y``. pyzmq's ``sugar`` and ``backend`` layers, and ``zmq.green``, are all one
#: module in greenmq: greenmq itself.
RENAMED: dict[str, str] = {
    "zmq": "greenmq",
    "zmq.green": "greenmq",
    "zmq.green.core": "greenmq",
    "zmq.green.poll": "greenmq.poll",
    "zmq.green.device": "greenmq.proxy",
    "zmq.backend": "greenmq",
    "zmq.backend.select": "greenmq",
    "zmq.sugar": "greenmq",
    "zmq.sugar.context": "greenmq.context",
    "zmq.sugar.socket": "greenmq.socket",
    "zmq.sugar.frame": "greenmq.frame",
    "zmq.sugar.tracker": "greenmq.frame",
    "zmq.sugar.poll": "greenmq.poll",
    "zmq.sugar.version": "greenmq.version",
    "zmq.sugar.stopwatch": "greenmq.utils.stopwatch",
    "zmq.sugar.attrsettr": "greenmq.socket",
}

#: Submodules that ``import zmq`` makes attributes of the package in pyzmq (``zmq.backend``,
#: ``zmq.sugar`` ...), so programs use them without importing them.
EAGER = ("zmq.backend", "zmq.sugar", "zmq.constants", "zmq.error", "zmq.utils")

#: Top-level names that stand for pyzmq in a program.
ROOTS = ("zmq",)


def target_name(name: str) -> str | None:
    """The greenmq module that stands for the pyzmq module *name*, or None if *name* is not pyzmq's."""
    if name in RENAMED:
        return RENAMED[name]
    if not any(name == root or name.startswith(root + ".") for root in ROOTS):
        return None
    if name.startswith("zmq.green."):
        return "greenmq." + name[len("zmq.green."):]
    return "greenmq" + name[len("zmq"):]


class _AliasLoader(importlib.abc.Loader):
    """Loads a pyzmq name by importing its greenmq module and filing that object under the name.

    The import system takes whatever ``sys.modules[name]`` holds once ``exec_module`` returns, so
    the placeholder module that it made is replaced by greenmq's own module object: both names
    then refer to one module, with greenmq's ``__name__`` and ``__spec__`` untouched."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class AliasFinder(importlib.abc.MetaPathFinder):
    """The meta path finder that ``patch()`` installs: ``zmq`` names resolve to greenmq modules."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        name = target_name(fullname)
        if name is None:
            return None
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise ModuleNotFoundError(f"No module named {fullname!r} (greenmq has no {name!r})",
                                      name=fullname)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(name), is_package=True)


_finder = AliasFinder()


def is_patched() -> bool:
    """Whether ``patch()`` has been called in this process."""
    return _finder in sys.meta_path


def patch() -> None:
    """Make ``zmq`` and its submodules resolve to greenmq in this process (idempotent).

    pyzmq modules already imported are dropped from ``sys.modules``, so that the next import of
    each gives greenmq's; references already taken from them stay as they are."""
    if not is_patched():
        sys.meta_path.insert(0, _finder)
    for name in list(sys.modules):
        module = sys.modules[name]
        if target_name(name) is not None and not getattr(module, "__name__", "").startswith("greenmq"):
            del sys.modules[name]
    for name in EAGER:
        importlib.import_module(name)


def unpatch() -> None:
    """Undo ``patch()``: the ``zmq`` names are forgotten and imports go back to pyzmq, if installed."""
    if is_patched():
        sys.meta_path.remove(_finder)
    for name in list(sys.modules):
        if target_name(name) is not None:
            del sys.modules[name]


RUN_USAGE = """\
usage: python -m greenmq run [--patch-all] SCRIPT [ARGS ...]
       python -m greenmq run [--patch-all] -m MODULE [ARGS ...]

Run a program written for pyzmq (``import zmq`` or ``import zmq.green as zmq``) on greenmq,
unchanged: greenmq.monkey.patch() is applied, then the program runs as ``python SCRIPT`` or
``python -m MODULE`` would run it, with ARGS as its sys.argv[1:].

  --patch-all  also apply gevent.monkey.patch_all() first, for a program written for threads and
               the standard library's blocking calls (what a zmq.green program does itself)
"""


def run_program(argv: Sequence[str]) -> int:
    """``python -m greenmq run``: patch, then run a script or module as ``__main__``.

    Returns the exit status for the command line (2 on a usage error); the program's own
    ``SystemExit`` passes through, as it would under ``python SCRIPT``."""
    import runpy

    args = list(argv)
    patch_all = False
    while args and args[0] in ("--patch-all", "-h", "--help"):
        if args[0] != "--patch-all":
            sys.stdout.write(RUN_USAGE)
            return 0
        patch_all = True
        args.pop(0)
    if not args or (args[0] == "-m" and len(args) < 2):
        sys.stderr.write(RUN_USAGE)
        return 2
    if patch_all:
        from gevent import monkey as gevent_monkey

        gevent_monkey.patch_all()
    patch()
    if args[0] == "-m":
        module, rest = args[1], args[2:]
        sys.argv = [module, *rest]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script, rest = args[0], args[1:]
        sys.argv = [script, *rest]
        # As ``python SCRIPT`` does: the script's folder comes first on the module path.
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        runpy.run_path(script, run_name="__main__")
    return 0

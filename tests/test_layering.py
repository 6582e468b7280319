"""The layers talk through methods: checked on greenmq's source, so that a shortcut fails CI.

* A private member (``_name``) is used only in the module whose classes
  define it: ``other._name`` (or ``from greenmq.x import _name``) anywhere
  else reaches into another layer.
* In particular nothing outside ``socket.py`` and ``_socket/base.py`` (the
  two halves of :class:`greenmq.Socket`) touches a Socket's private members.
* Imports go downwards only: the connection side never imports the socket,
  the context or the socket's core; the socket types never import the
  connection side; the protocol (``zmtp``) does no I/O and imports no other
  layer; the pipe imports nothing of greenmq.
"""

import ast
from pathlib import Path

import pytest

import greenmq

PACKAGE = Path(greenmq.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
SOCKET_HALVES = (PACKAGE / "socket.py", PACKAGE / "_socket" / "base.py")


def _name(path):
    return path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".")


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _defined_privates(tree):
    """Private names the classes (and the top level) of a module define."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _is_private(node.name):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _is_private(node.attr):
            names.add(node.attr)  # self._x = ..., and frame._data = ... on an object the module makes
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and _is_private(node.id):
            names.add(node.id)
        elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__slots__" for target in node.targets):
            names.update(element.value for element in ast.walk(node.value)
                         if isinstance(element, ast.Constant) and isinstance(element.value, str)
                         and _is_private(element.value))
    return names


def _foreign_private_uses(tree):
    """``(line, name, text)`` for every ``x._name`` where ``x`` is not ``self`` or ``cls``,
    and every ``from greenmq... import _name``."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("greenmq")):
            uses += [(node.lineno, alias.name, f"import {alias.name}") for alias in node.names
                     if _is_private(alias.name)]
            continue
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        uses.append((node.lineno, node.attr, ast.unparse(node)))
    return uses


def _trees():
    return {path: ast.parse(path.read_text(), str(path)) for path in MODULES}


TREES = _trees()


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_private_members_stay_in_their_module(path):
    tree = TREES[path]
    own = _defined_privates(tree)
    foreign = [(line, text) for line, attr, text in _foreign_private_uses(tree) if attr not in own]
    assert not foreign, f"{_name(path)} uses private members of other modules' objects: {foreign}"


def test_no_module_but_the_socket_touches_socket_privates():
    socket_privates = set().union(*(_defined_privates(TREES[path]) for path in SOCKET_HALVES))
    assert {"_pattern", "_settings", "_port", "_send_parts", "_readable"} <= socket_privates  # the check sees them
    offenders = [f"{_name(path)}:{line}: {text}"
                 for path, tree in TREES.items() if path not in SOCKET_HALVES
                 for line, attr, text in _foreign_private_uses(tree) if attr in socket_privates]
    assert not offenders, offenders


def _imports(tree, module_name):
    """Every module a module imports, as dotted names (relative imports resolved)."""
    package = module_name[:-len(".__init__")] if module_name.endswith(".__init__") else module_name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


FORBIDDEN_IMPORTS = {
    # layer (module prefix): what it must not import
    "greenmq._connection": ("greenmq.socket", "greenmq.context", "greenmq._socket.base", "greenmq._socket.endpoints"),
    "greenmq.patterns": ("greenmq._connection", "greenmq._socket", "greenmq.socket", "greenmq.context"),
    "greenmq.zmtp": ("greenmq._connection", "greenmq._socket", "greenmq.patterns", "greenmq._pipe", "greenmq.socket",
                     "greenmq.context", "gevent"),
    "greenmq._pipe": ("greenmq.",),
}


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_imports_go_downwards(path):
    module_name = _name(path)
    rules = [forbidden for prefix, forbidden in FORBIDDEN_IMPORTS.items()
             if module_name == prefix or module_name.startswith(prefix + ".")]
    if not rules:
        return
    imported = _imports(TREES[path], module_name)
    bad = sorted(name for name in imported for forbidden in rules[0]
                 if name == forbidden.rstrip(".") or name.startswith(forbidden.rstrip(".") + "."))
    assert not bad, f"{module_name} imports {bad}"

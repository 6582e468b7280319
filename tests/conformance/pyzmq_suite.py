"""Run pyzmq's own test suite against greenmq, and check that nothing that passed stops passing.

pyzmq's tests are not part of this repository: this script downloads pyzmq's source distribution
from the package index (``pip download``), takes its ``tests/`` folder and ``pytest.ini``, and
runs the scored test files with the pytest of the current environment in a child process that

- monkey-patches the standard library with gevent first (``gevent.monkey.patch_all()``), as a
  ``zmq.green`` program would run, and
- loads ``greenmq_alias_plugin`` (next to this file), which applies ``greenmq.monkey.patch()``,
  so that every ``import zmq`` in the tests and in their fixtures gives greenmq.

``--reference`` runs the same files on pyzmq itself instead (no alias, no gevent patching): what
passes there is what greenmq is scored on.

The outcome is compared with two lists kept next to this script:

- ``pyzmq_passes.txt``: the tests that pass on pyzmq itself (written by ``--reference --update``);
- ``greenmq_passes.txt``: the tests that passed on greenmq when the list was last updated
  (``--update``).

``--check`` fails (exit 1) when a test of ``greenmq_passes.txt`` did not pass. The score printed is
the number of tests passing on greenmq among those passing on pyzmq. The files and tests left out
of the score, each with its reason, are in ``OUT_OF_SCOPE`` and ``out_of_scope.txt``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

PYZMQ_VERSION = "27.3.0"
HERE = Path(__file__).resolve().parent

#: pyzmq test files that are not scored, and why. Every other ``tests/test_*.py`` file is.
OUT_OF_SCOPE = {
    "test_asyncio.py": "zmq.asyncio: greenmq is the gevent flavour; it has no asyncio sockets",
    "test_future.py": "zmq.asyncio / zmq.eventloop.future",
    "test_ioloop.py": "tornado integration (zmq.eventloop)",
    "test_zmqstream.py": "tornado integration (zmq.eventloop.zmqstream)",
    "test_auth.py": "every test drives the authenticator through zmq.asyncio or tornado",
    "test_cffi_backend.py": "pyzmq's CFFI backend internals",
    "test_cython.py": "pyzmq's Cython API (compiles a Cython extension against libzmq)",
    "test_ext.py": "subclassing pyzmq's Cython-level classes in a compiled extension",
    "test_includes.py": "pyzmq's C headers for building extensions",
    "test_mypy.py": "type-checks pyzmq's own source tree",
    "test_win32_shim.py": "Windows only",
    "test_draft.py": "draft socket types: issue #12 (pyzmq's wheels are built without them, so "
    "these tests skip on pyzmq itself)",
}

#: The interpreter line that the child runs: gevent's patch first, then pytest.
CHILD = (
    "import sys\n"
    "if sys.argv[1] == 'greenmq':\n"
    "    from gevent import monkey\n"
    "    monkey.patch_all()\n"
    "import pytest\n"
    "sys.exit(pytest.main(sys.argv[2:]))\n"
)


def fetch_tests(cache: Path) -> Path:
    """pyzmq's unpacked source tree in *cache*, downloaded with pip the first time."""
    tree = cache / f"pyzmq-{PYZMQ_VERSION}"
    if (tree / "tests").is_dir():
        return tree
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"pyzmq-{PYZMQ_VERSION}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(cache), f"pyzmq=={PYZMQ_VERSION}"],
            check=True,
        )
    with tarfile.open(archive) as tar:
        wanted = [m for m in tar.getmembers()
                  if m.name.startswith(f"pyzmq-{PYZMQ_VERSION}/tests/")
                  or m.name == f"pyzmq-{PYZMQ_VERSION}/pytest.ini"]
        tar.extractall(cache, members=wanted, filter="data")
    return tree


def scored_files(tree: Path) -> list[str]:
    return sorted(p.name for p in (tree / "tests").glob("test_*.py") if p.name not in OUT_OF_SCOPE)


def run_suite(tree: Path, target: str, workdir: Path, timeout: int, extra: list[str]) -> dict[str, str]:
    """Run the scored files on *target* (``greenmq`` or ``pyzmq``): {node id: outcome}."""
    shutil.copytree(tree / "tests", workdir / "tests")
    shutil.copy(tree / "pytest.ini", workdir / "pytest.ini")
    report = workdir / "report.xml"
    args = [sys.executable, "-c", CHILD, target, "-p", "no:cacheprovider", "-q", "-rfE",
            "--continue-on-collection-errors", f"--timeout={timeout}", f"--junitxml={report}",
            "-o", "junit_family=xunit1"]
    if target == "greenmq":
        args += ["-p", "greenmq_alias_plugin"]
    # Whole node ids, not --deselect's prefixes (see exact_deselect.py).
    args += ["-p", "exact_deselect"]
    args += [f"tests/{name}" for name in scored_files(tree)] + extra
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["GREENMQ_OUT_OF_SCOPE"] = str(HERE / "out_of_scope.txt")
    subprocess.run(args, cwd=workdir, env=env)
    if not report.exists():
        raise SystemExit("pytest wrote no report: the run did not start")
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    """{node id: passed | failed | error | skipped} from a pytest junit report."""
    result = {}
    for case in ElementTree.parse(report).iter("testcase"):
        # classname is "tests.test_x.TestClass", or "tests.test_x" for a test function.
        parts = case.get("classname", "").split(".")
        node = "::".join(["/".join(parts[:2]) + ".py", *parts[2:], case.get("name", "")])
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                status = "failed"
            elif child.tag == "skipped":
                status = "skipped"
        result[node] = status
    return result


def read_list(name: str) -> set[str]:
    path = HERE / name
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def write_list(name: str, tests: set[str], header: str) -> None:
    (HERE / name).write_text("# " + header + "\n" + "".join(t + "\n" for t in sorted(tests)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", action="store_true", help="run on pyzmq itself instead of greenmq")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a test listed in greenmq_passes.txt did not pass")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the list of passing tests (greenmq_passes.txt, or pyzmq_passes.txt "
                        "with --reference) from this run")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("GREENMQ_CONFORMANCE_CACHE",
                                                    Path(tempfile.gettempdir()) / "greenmq-pyzmq-suite")),
                        help="where pyzmq's sdist is downloaded and unpacked (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per test (pytest-timeout)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    options = parser.parse_args(argv)

    tree = fetch_tests(options.cache)
    target = "pyzmq" if options.reference else "greenmq"
    with tempfile.TemporaryDirectory(prefix="greenmq-conformance-") as workdir:
        results = run_suite(tree, target, Path(workdir), options.timeout, options.pytest_args)
    passed = {node for node, status in results.items() if status == "passed"}
    print(f"\n{target}: {len(passed)} passed of {len(results)} collected "
          f"({sum(s == 'failed' for s in results.values())} failed, "
          f"{sum(s == 'skipped' for s in results.values())} skipped)")

    if options.reference:
        if options.update:
            write_list("pyzmq_passes.txt", passed,
                       f"pyzmq {PYZMQ_VERSION}'s tests that pass on pyzmq {PYZMQ_VERSION} itself "
                       "(tests/conformance/pyzmq_suite.py --reference --update)")
        return 0

    reference = read_list("pyzmq_passes.txt")
    scored = passed & reference
    print(f"score: {len(scored)} of the {len(reference)} tests that pass on pyzmq itself")
    for node in sorted(reference - passed):
        print(f"  not passing: {node} ({results.get(node, 'not collected')})")
    expected = read_list("greenmq_passes.txt")
    lost = sorted(expected - passed)
    gained = sorted(passed - expected)
    if gained:
        print(f"{len(gained)} tests pass that greenmq_passes.txt does not list (--update adds them)")
    if options.update:
        write_list("greenmq_passes.txt", passed,
                   f"pyzmq {PYZMQ_VERSION}'s tests that pass on greenmq "
                   "(tests/conformance/pyzmq_suite.py --update); --check fails if one stops passing")
    if lost:
        print(f"{len(lost)} tests that passed before did not pass:")
        for node in lost:
            print(f"  {node} ({results.get(node, 'not collected')})")
        if options.check:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

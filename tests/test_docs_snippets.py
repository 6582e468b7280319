"""The documentation's code cannot rot: every snippet it shows runs and prints what it shows.

The user guide and the migration page show programs from ``docs/snippets/`` with
``.. literalinclude::``, each followed by its output, ``docs/snippets/NAME.out``, included the same
way. Here each program runs in a fresh interpreter (with a timeout) and must print exactly that
output; every snippet must be shown somewhere and every included file must exist; and the shorter
``.. code-block:: python`` fragments of the pages must at least be valid Python.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
SNIPPETS = DOCS / "snippets"
SNIPPET_TIMEOUT = 60  # seconds; each snippet takes well under one

PROGRAMS = sorted(SNIPPETS.glob("*.py"))
INCLUDE = re.compile(r"^\s*\.\. literalinclude:: (\S+)", re.MULTILINE)


def pages():
    return sorted(DOCS.glob("**/*.rst"))


def included_files():
    """Every file a page includes with literalinclude, resolved against that page's folder."""
    return {(page.parent / target).resolve(): page for page in pages()
            for target in INCLUDE.findall(page.read_text())}


def python_fragments():
    """(page, first line, code) of each ``.. code-block:: python`` block of the pages."""
    for page in pages():
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() != ".. code-block:: python":
                continue
            indent = len(line) - len(line.lstrip())
            body = []
            for following in lines[number + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
            yield page.name, number + 1, "\n".join(body)


def test_there_are_snippets():
    assert len(PROGRAMS) >= 10


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_snippet_prints_its_documented_output(program, tmp_path):
    expected = program.with_suffix(".out").read_text()
    result = subprocess.run([sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=SNIPPET_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected, result.stderr


def test_every_snippet_and_its_output_is_shown_in_the_docs():
    shown = included_files()
    for program in PROGRAMS:
        assert program.resolve() in shown, f"{program.name} is not included by any page"
        assert program.with_suffix(".out").resolve() in shown, f"{program.stem}.out is not included by any page"
    outputs = {p.stem for p in SNIPPETS.glob("*.out")}
    assert outputs == {p.stem for p in PROGRAMS}


def test_every_included_file_exists():
    shown = included_files()
    assert shown
    for path, page in shown.items():
        assert path.is_file(), f"{page.name} includes {path}, which does not exist"


def test_python_fragments_are_valid_python():
    fragments = list(python_fragments())
    assert fragments
    for page, line, code in fragments:
        compile(textwrap.dedent(code), f"{page}:{line}", "exec")

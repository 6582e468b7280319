"""CHANGELOG.rst and the version number tell the same story (docs/versioning.rst).

The newest section of the changelog is the release ``greenmq.__version__`` is, or leads to (a
development build ``X.Y.Z.devN`` is written up under ``X.Y.Z``); sections go from newest to oldest,
each headed by a version number and, in parentheses, its date or "unreleased".
"""

import re
from pathlib import Path

import greenmq
from greenmq import version

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.rst"
HEADING = re.compile(r"^(\d+)\.(\d+)\.(\d+) \((unreleased|\d{4}-\d{2}-\d{2})\)\n-+$", re.MULTILINE)


def releases():
    return [(tuple(int(n) for n in match.group(1, 2, 3)), match.group(4))
            for match in HEADING.finditer(CHANGELOG.read_text())]


def test_newest_section_is_the_current_version():
    sections = releases()
    assert sections, "no release section in CHANGELOG.rst"
    numbers, _ = sections[0]
    assert numbers == (version.VERSION_MAJOR, version.VERSION_MINOR, version.VERSION_PATCH)
    assert greenmq.__version__.startswith("%d.%d.%d" % numbers)


def test_sections_go_from_newest_to_oldest_and_only_the_newest_may_be_unreleased():
    sections = releases()
    numbers = [n for n, _ in sections]
    assert numbers == sorted(set(numbers), reverse=True)
    assert all(when != "unreleased" for _, when in sections[1:])


def test_version_is_semantic_and_pep_440():
    # X.Y.Z for a release, X.Y.Z.devN between releases: nothing else (no local or pre-release tags).
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", greenmq.__version__)
    assert version.VERSION_EXTRA == "" or re.fullmatch(r"dev\d+", version.VERSION_EXTRA)

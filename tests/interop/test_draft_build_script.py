"""build_draft_libzmq.py's reading of apt's sources (the deb-src entries it adds are twins of bookworm's deb
ones), and how the draft_libzmq fixture takes its outcome: a path, a skip only when the machine cannot build,
a failure otherwise.

(The build itself runs in CI's draft step and behind the draft_libzmq fixture.)
"""

import pytest

from . import build_draft_libzmq as build
from . import draft_support

DEB822 = """\
Types: deb
# a comment inside the stanza
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://other.invalid/node
Suites: nodistro
Components: main

Types: deb
Enabled: no
URIs: http://disabled.invalid/debian
Suites: bookworm
Components: main
"""

ONE_LINE = """\
# deb-src http://commented.invalid/debian bookworm main
deb [arch=amd64 signed-by=/etc/keys/debian.gpg] http://mirror.invalid/debian-security bookworm-security main contrib
deb http://mirror.invalid/ubuntu jammy main
"""


@pytest.fixture
def apt_dir(tmp_path, monkeypatch):
    (tmp_path / "sources.list.d").mkdir()
    monkeypatch.setattr(build, "APT_DIR", str(tmp_path))
    return tmp_path


def test_deb822_bookworm_stanzas_become_deb_src_twins(apt_dir):
    (apt_dir / "sources.list.d" / "debian.sources").write_text(DEB822)
    (apt_dir / "sources.list.d" / "ignored.sources.disabled").write_text(DEB822.replace("deb\n", "deb-src\n"))
    stanzas, lines, have_source = build.bookworm_entries()
    assert (len(stanzas), lines, have_source) == (1, [], False)
    text = build.source_entries_text(stanzas, lines)
    assert text.splitlines()[1:] == [
        "Types: deb-src",
        "URIs: http://mirror.invalid/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    ]
    # Read back, the new file is an existing deb-src entry: a second run adds nothing.
    (apt_dir / "sources.list.d" / "new.sources").write_text(text)
    assert build.bookworm_entries()[2] is True


def test_one_line_entries_become_deb822_deb_src(apt_dir):
    (apt_dir / "sources.list").write_text(ONE_LINE)
    stanzas, lines, have_source = build.bookworm_entries()
    assert (stanzas, have_source) == ([], False)
    assert build.source_entries_text(stanzas, lines).splitlines()[1:] == [
        "Types: deb-src",
        "URIs: http://mirror.invalid/debian-security",
        "Suites: bookworm-security",
        "Components: main contrib",
        "Signed-By: /etc/keys/debian.gpg",
    ]


def test_an_existing_one_line_deb_src_is_found(apt_dir):
    (apt_dir / "sources.list.d" / "src.list").write_text("deb-src http://mirror.invalid/debian bookworm main\n")
    assert build.bookworm_entries() == ([], [], True)


def test_no_bookworm_entries_means_cannot_build(apt_dir, monkeypatch):
    """Nothing to copy a deb-src entry from: exit status 3, which the fixture turns into a skip."""
    (apt_dir / "sources.list").write_text("deb http://mirror.invalid/ubuntu jammy main\n")
    monkeypatch.setattr(build.shutil, "which", lambda tool: "/usr/bin/" + tool)  # every tool present
    assert build.main([str(apt_dir / "cache")]) == build.CANNOT_BUILD


# -- the fixture's use of it (draft_support.draft_libzmq_path) ----------------------------------


@pytest.fixture
def fake_build(tmp_path, monkeypatch):
    """Replace the build script by one that exits with a given status; GREENMQ_DRAFT_LIBZMQ unset."""
    monkeypatch.delenv(draft_support.LIBRARY_VARIABLE, raising=False)

    def install(status, stdout=""):
        script = tmp_path / "fake_build.py"
        script.write_text(f"import sys\nprint({stdout!r})\nsys.stderr.write('the reason')\nsys.exit({status})\n")
        monkeypatch.setattr(draft_support, "BUILD_SCRIPT", str(script))

    return install


def test_library_path_from_the_build(fake_build):
    fake_build(0, "/somewhere/libzmq.so")
    assert draft_support.draft_libzmq_path() == "/somewhere/libzmq.so"


def test_skips_only_when_the_machine_cannot_build(fake_build):
    fake_build(build.CANNOT_BUILD)
    with pytest.raises(pytest.skip.Exception) as info:
        draft_support.draft_libzmq_path()
    assert "the reason" in str(info.value)
    assert "set GREENMQ_DRAFT_LIBZMQ or run tests/interop/build_draft_libzmq.py" in str(info.value)


def test_a_failed_build_fails(fake_build):
    fake_build(1)
    with pytest.raises(pytest.fail.Exception, match="the reason"):
        draft_support.draft_libzmq_path()


def test_a_missing_named_library_fails(tmp_path, monkeypatch):
    monkeypatch.setenv(draft_support.LIBRARY_VARIABLE, str(tmp_path / "absent.so"))
    with pytest.raises(pytest.fail.Exception, match="no such file"):
        draft_support.draft_libzmq_path()

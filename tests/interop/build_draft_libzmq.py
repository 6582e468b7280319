#!/usr/bin/env python
"""Build libzmq 4.3.4 with its draft API from Debian bookworm's source package, for the draft interop tests.

    python tests/interop/build_draft_libzmq.py [CACHE_DIR]

pyzmq's wheels are built without libzmq's draft socket types (CLIENT, SERVER,
RADIO, DISH ...), so the tests that check greenmq's against libzmq's need a
libzmq of their own. This script makes one on a fresh Debian machine:

1. a ``deb-src`` entry for bookworm, copied from apt's own ``deb`` entries
   for bookworm, if apt has none (the mirrors are the machine's own);
2. the build tools (cmake, g++, make, pkg-config, dpkg-dev, xz-utils) with
   ``apt-get install``, only those missing;
3. ``apt-get source zeromq3`` (libzmq 4.3.4, Debian's patches applied) into
   CACHE_DIR/src;
4. cmake with ``-DENABLE_DRAFTS=ON -DWITH_LIBSODIUM=OFF -DBUILD_TESTS=OFF``,
   Release, the shared library only (no docs, static library or perf tools)
   into CACHE_DIR/build.

It prints the path of the resulting ``libzmq.so`` as its only line on stdout
(what it runs is logged to CACHE_DIR/build.log; stderr says what it is doing).
A second run finds the finished build and only prints the path; two runs at
once take turns (a lock in CACHE_DIR). CACHE_DIR defaults to
``$TMPDIR/greenmq-draft-libzmq``, the one the test fixture uses when
``GREENMQ_DRAFT_LIBZMQ`` is not set.

Exit status: 0 built (or found); 3 cannot build on this machine (no apt, not
root where apt must change something, no bookworm entries to copy, or apt
could not fetch); 1 the build itself failed.
"""

import fcntl
import glob
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE_PACKAGE = "zeromq3"
SUITE = "bookworm"
CANNOT_BUILD = 3  # the exit status the test fixture turns into a skip
DEFAULT_CACHE = os.path.join(tempfile.gettempdir(), "greenmq-draft-libzmq")
SOURCES_FILE = f"/etc/apt/sources.list.d/greenmq-{SUITE}-src.sources"
APT_DIR = "/etc/apt"

# The commands the build runs, and the Debian package that brings each.
TOOLS = {"cmake": "cmake", "g++": "g++", "make": "make", "pkg-config": "pkg-config",
         "dpkg-source": "dpkg-dev", "xz": "xz-utils"}

CMAKE_OPTIONS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DENABLE_DRAFTS=ON",
    "-DWITH_LIBSODIUM=OFF",
    "-DBUILD_TESTS=OFF",
    "-DBUILD_STATIC=OFF",
    "-DWITH_DOCS=OFF",
    "-DWITH_PERF_TOOL=OFF",
    "-DENABLE_CPACK=OFF",
]

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


class CannotBuild(Exception):
    """This machine lacks something the build needs and the script cannot provide (exit status 3)."""


class BuildFailed(Exception):
    """A step of the build itself failed (exit status 1)."""


def say(text):
    print(f"build_draft_libzmq: {text}", file=sys.stderr, flush=True)


# -- apt's sources ---------------------------------------------------------------------------


def _source_files():
    """apt's source lists, as apt reads them: sources.list and sources.list.d/*.list|*.sources."""
    files = [os.path.join(APT_DIR, "sources.list")]
    files += sorted(glob.glob(os.path.join(APT_DIR, "sources.list.d", "*.list")))
    files += sorted(glob.glob(os.path.join(APT_DIR, "sources.list.d", "*.sources")))
    return [path for path in files if os.path.isfile(path)]


def _stanzas(text):
    """The stanzas of a deb822 .sources file: dicts of field -> value, in order (continuation lines kept)."""
    stanzas, fields, key = [], {}, None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                stanzas.append(fields)
            fields, key = {}, None
        elif line[0] in " \t" and key is not None:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    return stanzas


def _field(stanza, name):
    """A deb822 field's value (names are case-insensitive), or ''."""
    return next((value for key, value in stanza.items() if key.lower() == name), "")


def _one_line_entries(text):
    """The entries of a one-line-style .list file: (type, rest of the line)."""
    entries = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(None, 1)
        if len(words) == 2 and words[0] in ("deb", "deb-src"):
            entries.append((words[0], words[1]))
    return entries


def _is_suite(suite):
    return suite == SUITE or suite.startswith(SUITE + "-")


def _one_line_suite(rest):
    """The suite of a one-line entry's ``[options] URI suite components``."""
    if rest.startswith("["):
        rest = rest.partition("]")[2]
    words = rest.split()
    return words[1] if len(words) > 1 else ""


def bookworm_entries():
    """apt's entries for bookworm: (deb stanzas/lines to copy, whether a deb-src one exists)."""
    binary_stanzas, binary_lines, have_source = [], [], False
    for path in _source_files():
        with open(path) as f:
            text = f.read()
        if path.endswith(".sources"):
            for stanza in _stanzas(text):
                if _field(stanza, "enabled").lower() == "no":
                    continue
                if not any(_is_suite(suite) for suite in _field(stanza, "suites").split()):
                    continue
                types = _field(stanza, "types").split()
                have_source = have_source or "deb-src" in types
                if "deb" in types:
                    binary_stanzas.append(stanza)
        else:
            for kind, rest in _one_line_entries(text):
                if _is_suite(_one_line_suite(rest)):
                    have_source = have_source or kind == "deb-src"
                    if kind == "deb":
                        binary_lines.append(rest)
    return binary_stanzas, binary_lines, have_source


def source_entries_text(binary_stanzas, binary_lines):
    """A deb822 file with a deb-src twin of each bookworm deb entry (same mirrors, suites, keys)."""
    blocks = []
    for stanza in binary_stanzas:
        fields = {key: "deb-src" if key.lower() == "types" else value for key, value in stanza.items()}
        blocks.append("\n".join(f"{key}: {value}" for key, value in fields.items()))
    for rest in binary_lines:
        options = ""
        if rest.startswith("["):
            options, _, rest = rest[1:].partition("]")
        uri, suite, *components = rest.split()
        lines = ["Types: deb-src", f"URIs: {uri}", f"Suites: {suite}", f"Components: {' '.join(components)}"]
        for option in options.split():
            key, _, value = option.partition("=")
            if key == "signed-by":
                lines.append(f"Signed-By: {value}")
        blocks.append("\n".join(lines))
    header = "# Added by greenmq's tests/interop/build_draft_libzmq.py: apt-get source zeromq3\n"
    return header + "\n\n".join(blocks) + "\n"


# -- running things --------------------------------------------------------------------------


def run(command, log, cwd=None, env=None, failure=BuildFailed):
    """Run ``command`` with its output appended to ``log``; ``failure`` (with the log's tail) if it fails."""
    log.write(f"\n$ {' '.join(command)}\n")
    log.flush()
    status = subprocess.call(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    if status != 0:
        log.flush()
        with open(log.name, errors="replace") as f:
            tail = "".join(f.readlines()[-25:])
        raise failure(f"{' '.join(command)} exited with status {status}:\n{tail}")


def need_root(what):
    if os.geteuid() != 0:
        raise CannotBuild(f"{what} needs root (apt-get), and this is uid {os.geteuid()}")


def apt_get(arguments, log):
    run(["apt-get", "-q", "-y", *arguments], log, env=APT_ENV, failure=CannotBuild)


def has_source_record(log):
    """Whether apt's lists already know the source package (no apt-get update needed)."""
    found = subprocess.run(["apt-cache", "showsrc", "--only-source", SOURCE_PACKAGE], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=log, text=True)
    return found.returncode == 0 and f"Package: {SOURCE_PACKAGE}" in found.stdout


# -- the steps ---------------------------------------------------------------------------------


def install_tools(log):
    missing = sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})
    if not missing:
        return
    need_root(f"installing {', '.join(missing)}")
    say(f"apt-get install {' '.join(missing)}")
    apt_get(["update"], log)
    apt_get(["install", "--no-install-recommends", *missing], log)


def add_source_entries(log):
    """Make ``apt-get source`` work: a deb-src entry for bookworm, and Sources lists that know zeromq3."""
    if shutil.which("apt-get") is None:
        raise CannotBuild("no apt-get on this machine (the source comes from Debian's zeromq3 package)")
    binary_stanzas, binary_lines, have_source = bookworm_entries()
    if not have_source:
        if not binary_stanzas and not binary_lines:
            raise CannotBuild(f"apt has no entries for Debian {SUITE} to copy a deb-src entry from")
        need_root("adding a deb-src entry to apt's sources")
        say(f"adding deb-src entries for {SUITE}: {SOURCES_FILE}")
        with open(SOURCES_FILE, "w") as f:
            f.write(source_entries_text(binary_stanzas, binary_lines))
        # Only the new entries' indexes: the binary lists are apt's business (and already there).
        update = ["-o", f"Dir::Etc::sourcelist={SOURCES_FILE}", "-o", "Dir::Etc::sourceparts=-",
                  "-o", "APT::Get::List-Cleanup=0", "update"]
    else:
        update = ["update"]
    if not has_source_record(log):
        need_root("apt-get update (for the Sources lists)")
        say("apt-get update")
        apt_get(update, log)


def fetch_source(cache, log):
    """The unpacked source tree of zeromq3 under cache/src (downloaded once)."""
    src = os.path.join(cache, "src")
    found = sorted(glob.glob(os.path.join(src, f"{SOURCE_PACKAGE}-*", "CMakeLists.txt")))
    if found:
        return os.path.dirname(found[-1])
    add_source_entries(log)
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    say(f"apt-get source {SOURCE_PACKAGE}")
    run(["apt-get", "-q", "source", SOURCE_PACKAGE], log, cwd=src, env=APT_ENV, failure=CannotBuild)
    found = sorted(glob.glob(os.path.join(src, f"{SOURCE_PACKAGE}-*", "CMakeLists.txt")))
    if not found:
        raise BuildFailed(f"apt-get source {SOURCE_PACKAGE} left no source tree with a CMakeLists.txt in {src}")
    return os.path.dirname(found[-1])


def compile_library(source, cache, log):
    build = os.path.join(cache, "build")
    say(f"cmake: {source} -> {build}")
    run(["cmake", "-S", source, "-B", build, *CMAKE_OPTIONS], log)
    run(["cmake", "--build", build, "--target", "libzmq", "--parallel", str(os.cpu_count() or 1)], log)
    library = os.path.join(build, "lib", "libzmq.so")
    if not os.path.exists(library):
        raise BuildFailed(f"the build finished without {library}")
    return library


def build(cache):
    """The path of a draft libzmq.so under ``cache``, built unless a finished build is there."""
    cache = os.path.abspath(cache)
    os.makedirs(cache, exist_ok=True)
    stamp = os.path.join(cache, "built")  # holds the library's path, written last
    with open(os.path.join(cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp):
            with open(stamp) as f:
                library = f.read().strip()
            if os.path.exists(library):
                return library
        with open(os.path.join(cache, "build.log"), "a") as log:
            install_tools(log)
            library = compile_library(fetch_source(cache, log), cache, log)
        with open(stamp + ".new", "w") as f:
            f.write(library + "\n")
        os.replace(stamp + ".new", stamp)
        return library


def main(argv):
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        library = build(argv[0] if argv else DEFAULT_CACHE)
    except CannotBuild as error:
        say(f"cannot build here: {error}")
        return CANNOT_BUILD
    except BuildFailed as error:
        say(f"build failed: {error}")
        return 1
    print(library)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""CURVE certificate files (greenmq.auth.certs, pyzmq's zmq.auth.certs).

Files greenmq writes must load in pyzmq and the reverse; pyzmq runs in a
subprocess for that, as the reference for what the files look like and for
what loading them returns and raises.
"""

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenmq as zmq
from greenmq.auth import create_certificates, load_certificate, load_certificates
from greenmq.utils import z85

needs_pyzmq = pytest.mark.skipif(find_spec("zmq") is None, reason="needs pyzmq as the reference")

# pyzmq's side: reads a list of operations as JSON, prints what each gave.
PYZMQ_CERTS = textwrap.dedent('''
    import json, sys
    from zmq.auth import create_certificates, load_certificate, load_certificates

    def text(value):
        return None if value is None else value.decode("ascii")

    results = []
    for op, *args in json.load(sys.stdin):
        try:
            if op == "create":
                results.append(list(create_certificates(*args)))
            elif op == "load":
                results.append([text(k) for k in load_certificate(args[0])])
            elif op == "load_dir":
                results.append(sorted(text(k) for k in load_certificates(args[0])))
        except Exception as error:
            results.append({"error": type(error).__name__})
    print(json.dumps(results))
''')


def pyzmq(*ops):
    done = subprocess.run([sys.executable, "-c", PYZMQ_CERTS], input=json.dumps(ops), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def greenmq_result(op, *args):
    """What greenmq gives for one of the operations above, in the same JSON shape."""
    try:
        if op == "load":
            return [None if k is None else k.decode("ascii") for k in load_certificate(args[0])]
        if op == "load_dir":
            return sorted(k.decode("ascii") for k in load_certificates(args[0]))
    except Exception as error:
        return {"error": type(error).__name__}
    raise ValueError(op)


def body(path):
    """A certificate's lines without comments, keys replaced by a placeholder: its layout."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [re.sub(r'"[^"]{40}"', '"KEY"', line) for line in lines]


# -- on their own -----------------------------------------------------------------------


@pytest.mark.curve
def test_create_and_load(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "server")
    assert public_file == os.path.join(tmp_path, "server.key")
    assert secret_file == os.path.join(tmp_path, "server.key_secret")
    public, no_secret = load_certificate(public_file)
    public_again, secret = load_certificate(secret_file)
    assert no_secret is None
    assert public == public_again
    assert isinstance(public, bytes) and isinstance(secret, bytes)
    assert len(public) == len(secret) == 40
    assert zmq.curve_public(secret) == public
    assert len(z85.decode(public)) == 32
    # Each call makes a new key pair.
    other, _ = load_certificate(create_certificates(str(tmp_path), "client")[0])
    assert other != public


@pytest.mark.curve
def test_file_layout(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "server", metadata={"name": "srv", b"role": b"edge"})
    public_text = Path(public_file).read_text(encoding="utf-8")
    secret_text = Path(secret_file).read_text(encoding="utf-8")
    assert public_text.startswith("#   ****  Generated on ")
    assert "#   ZeroMQ CURVE Public Certificate\n" in public_text
    assert "#   ZeroMQ CURVE **Secret** Certificate\n" in secret_text
    assert body(public_file) == ["", "metadata", "curve", '    public-key = "KEY"']
    assert body(secret_file) == ["", "metadata", "    name = srv", "    role = edge", "curve",
                                 '    public-key = "KEY"', '    secret-key = "KEY"']


@pytest.mark.curve
@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")
def test_secret_file_is_private(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "server")
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    # Also when an existing file is overwritten.
    os.chmod(secret_file, 0o644)
    create_certificates(tmp_path, "server")
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


@pytest.mark.curve
def test_metadata_cannot_break_lines(tmp_path):
    with pytest.raises(ValueError):
        create_certificates(tmp_path, "bad", metadata={"name": 'x\n    public-key = "forged"'})
    with pytest.raises(ValueError):
        create_certificates(tmp_path, "bad", metadata={"na\rme": "x"})


@pytest.mark.curve
def test_metadata_named_like_a_key_is_not_a_key(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "server", metadata={"public-key": "not-it"})
    public, secret = load_certificate(secret_file)
    assert public == load_certificate(public_file)[0] != b"not-it"
    assert zmq.curve_public(secret) == public


def test_load_errors(tmp_path):
    with pytest.raises(OSError):
        load_certificate(tmp_path / "missing.key")
    empty = tmp_path / "empty.key"
    empty.write_text("#   nothing here\nmetadata\ncurve\n")
    with pytest.raises(ValueError):
        load_certificate(empty)
    secret_only = tmp_path / "secret_only.key"
    secret_only.write_text('curve\n    secret-key = "%s"\n' % ("x" * 40))
    with pytest.raises(ValueError):
        load_certificate(secret_only)
    with pytest.raises(OSError):
        load_certificates(tmp_path / "missing")
    with pytest.raises(OSError):
        load_certificates(empty)  # a file, not a directory


@pytest.mark.curve
def test_hand_written_files(tmp_path):
    public, secret = (k.decode() for k in zmq.curve_keypair())
    variants = {
        # czmq's layout with a comment after the value
        "czmq": f'metadata\n    name = "x"\ncurve\n    public-key = "{public}"   # mine\n    secret-key = "{secret}"\n',
        "single_quotes": f"curve\n    public-key = '{public}'\n    secret-key = '{secret}'\n",
        "unquoted": f"curve\n    public-key = {public}\n    secret-key={secret}\n",
        "no_sections": f'public-key = "{public}"\nsecret-key = "{secret}"\n',
        "crlf": f'metadata\r\ncurve\r\n    public-key = "{public}"\r\n    secret-key = "{secret}"\r\n',
    }
    for name, text in variants.items():
        path = tmp_path / f"{name}.key"
        path.write_bytes(text.encode())
        assert load_certificate(path) == (public.encode(), secret.encode()), name


@pytest.mark.curve
def test_load_certificates_reads_public_files_only(tmp_path):
    keys = {load_certificate(create_certificates(tmp_path, name)[0])[0] for name in ("a", "b", "c")}
    (tmp_path / "notes.txt").write_text("public-key = \"%s\"\n" % ("y" * 40))
    (tmp_path / ".hidden.key").write_text("public-key = \"%s\"\n" % ("z" * 40))
    (tmp_path / "dir.key").mkdir()
    loaded = load_certificates(tmp_path)
    assert loaded == {key: True for key in keys}
    assert load_certificates(str(tmp_path)) == loaded


@pytest.mark.curve
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=st.dictionaries(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n=#"),
            min_size=1, max_size=12).filter(lambda k: k.strip() == k),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20),
    max_size=4))
def test_any_metadata_leaves_the_keys_intact(tmp_path, metadata):
    public_file, secret_file = create_certificates(tmp_path, "m", metadata=metadata)
    public, secret = load_certificate(secret_file)
    assert load_certificate(public_file) == (public, None)
    assert zmq.curve_public(secret) == public


# -- against pyzmq -------------------------------------------------------------------------


@pytest.mark.curve
@needs_pyzmq
def test_pyzmq_files_load_in_greenmq(tmp_path):
    (public_file, secret_file), from_public, from_secret, directory = pyzmq(
        ["create", str(tmp_path), "peer", {"name": "pyzmq peer"}],
        ["load", str(tmp_path / "peer.key")],
        ["load", str(tmp_path / "peer.key_secret")],
        ["load_dir", str(tmp_path)],
    )
    assert greenmq_result("load", public_file) == from_public
    assert greenmq_result("load", secret_file) == from_secret
    assert greenmq_result("load_dir", str(tmp_path)) == directory
    assert from_public[1] is None and from_secret[0] == from_public[0]
    assert zmq.curve_public(from_secret[1]).decode() == from_public[0]


@pytest.mark.curve
@needs_pyzmq
def test_greenmq_files_load_in_pyzmq(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "peer", metadata={"name": "greenmq peer"})
    ops = [["load", public_file], ["load", secret_file], ["load_dir", str(tmp_path)]]
    expected = [greenmq_result(*op) for op in ops]
    assert pyzmq(*ops) == expected
    assert expected[0][1] is None and expected[1][1] is not None


@pytest.mark.curve
@needs_pyzmq
def test_same_layout_as_pyzmq(tmp_path):
    metadata = {"name": "peer", "email": "peer@example.com"}
    (ours := tmp_path / "ours").mkdir()
    (theirs := tmp_path / "theirs").mkdir()
    create_certificates(ours, "peer", metadata=metadata)
    pyzmq(["create", str(theirs), "peer", metadata])
    for suffix in (".key", ".key_secret"):
        assert body(ours / ("peer" + suffix)) == body(theirs / ("peer" + suffix))
        # The banners' first two lines alike (the advice below them is worded differently).
        our_comments = [line for line in (ours / ("peer" + suffix)).read_text().splitlines() if line[:1] == "#"]
        their_comments = [line for line in (theirs / ("peer" + suffix)).read_text().splitlines() if line[:1] == "#"]
        assert our_comments[1] == their_comments[1]
        assert our_comments[0].replace("greenmq", "pyzmq")[:22] == their_comments[0][:22]


@needs_pyzmq
def test_errors_match_pyzmq(tmp_path):
    empty = tmp_path / "empty.key"
    empty.write_text("metadata\ncurve\n")
    (tmp_path / "dir").mkdir()
    ops = [["load", str(tmp_path / "missing.key")], ["load", str(empty)],
           ["load_dir", str(tmp_path / "missing")], ["load_dir", str(empty)], ["load_dir", str(tmp_path / "dir")]]
    expected = pyzmq(*ops)
    assert expected[:4] == [{"error": "OSError"}, {"error": "ValueError"}, {"error": "OSError"}, {"error": "OSError"}]
    assert [greenmq_result(*op) for op in ops] == expected

"""The security socket options, Z85 and CURVE keys at the API level, checked against pyzmq 27 + libzmq 4.3.

The expected values below were taken from pyzmq, and ``test_option_script_matches_pyzmq``
replays every scenario against pyzmq in a subprocess (pyzmq sockets never open
in this process) to keep them honest. Only ``zmq.utils.z85``, which is pure
Python, is loaded in-process, from its file, without importing pyzmq's package.

Where greenmq differs on purpose:

- pyzmq 27 cannot read CURVE keys (``getsockopt`` is EINVAL, so the attribute
  says "write-only"); greenmq returns libzmq's documented 41-byte Z85 form
  without its NUL (40 characters).
- pyzmq reads byte options through a 255-byte buffer, so a 255-byte user name
  or ZAP domain cannot be read back (EINVAL); greenmq returns it. The replayed
  scenarios never read back a 255-byte value.
- ``z85.decode`` of a group above 2**32 - 1 raises ``struct.error`` in pyzmq and
  ``ValueError`` in greenmq.
"""

import importlib.util
import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest
from hypothesis import given, settings, strategies as st

import greenmq as zmq
from greenmq.utils import z85
from greenmq.zmtp import crypto

from security_support import (
    CLIENT_PUBLIC,
    CLIENT_PUBLIC_Z85,
    CLIENT_SECRET,
    CLIENT_SECRET_Z85,
    SERVER_PUBLIC,
    SERVER_PUBLIC_Z85,
    SERVER_SECRET,
    SERVER_SECRET_Z85,
)

# The key pairs of zmq_curve(7), "TEST KEY VALUES": (raw, Z85) for each key.
OFFICIAL_KEYS = [(CLIENT_PUBLIC, CLIENT_PUBLIC_Z85), (CLIENT_SECRET, CLIENT_SECRET_Z85),
                 (SERVER_PUBLIC, SERVER_PUBLIC_Z85), (SERVER_SECRET, SERVER_SECRET_Z85)]

EINVAL = zmq.EINVAL
PUB = SERVER_PUBLIC_Z85
SEC = CLIENT_SECRET_Z85
RAW = SERVER_PUBLIC


def _errno(excinfo):
    return excinfo.value.errno


# -- MECHANISM and the server flags -------------------------------------------------


def test_fresh_socket_is_null(sock):
    assert sock.mechanism == 0 == zmq.NULL
    assert (sock.plain_server, sock.curve_server) == (0, 0)
    assert (sock.plain_username, sock.plain_password, sock.zap_domain) == (b"", b"", b"")


def test_plain_server_switches_mechanism(sock):
    sock.plain_server = 1
    assert (sock.mechanism, sock.plain_server, sock.curve_server) == (zmq.PLAIN, 1, 0)
    sock.plain_server = 0
    assert (sock.mechanism, sock.plain_server) == (zmq.NULL, 0)
    sock.plain_server = True  # pyzmq takes a bool as an int
    assert sock.plain_server == 1


def test_plain_username_makes_a_plain_client(sock):
    sock.plain_server = 1
    sock.plain_username = b"admin"
    assert (sock.mechanism, sock.plain_server) == (zmq.PLAIN, 0)
    assert (sock.plain_username, sock.plain_password) == (b"admin", b"")
    sock.plain_password = b"secret"
    assert sock.plain_password == b"secret"


@pytest.mark.curve  # it sets CURVE_SERVER first
def test_plain_password_alone_makes_a_plain_client(sock):
    sock.curve_server = 1
    sock.plain_password = b"secret"
    assert (sock.mechanism, sock.plain_server, sock.curve_server) == (zmq.PLAIN, 0, 0)


@pytest.mark.curve
def test_curve_server_switches_mechanism(sock):
    sock.curve_server = 1
    assert (sock.mechanism, sock.curve_server, sock.plain_server) == (zmq.CURVE, 1, 0)
    sock.curve_server = 0
    assert (sock.mechanism, sock.curve_server) == (zmq.NULL, 0)


@pytest.mark.curve
@pytest.mark.parametrize("option", [zmq.CURVE_PUBLICKEY, zmq.CURVE_SECRETKEY, zmq.CURVE_SERVERKEY])
def test_any_curve_key_selects_curve(sock, option):
    sock.setsockopt(option, PUB)
    assert (sock.mechanism, sock.curve_server) == (zmq.CURVE, 0)


@pytest.mark.curve
def test_curve_serverkey_makes_a_client_other_keys_keep_the_role(sock):
    sock.curve_server = 1
    sock.curve_secretkey = SEC
    sock.curve_publickey = PUB
    assert (sock.mechanism, sock.curve_server) == (zmq.CURVE, 1)
    sock.curve_serverkey = PUB
    assert (sock.mechanism, sock.curve_server) == (zmq.CURVE, 0)
    sock.curve_server = 1
    assert sock.curve_server == 1


@pytest.mark.curve
def test_the_server_flag_survives_a_change_of_mechanism(sock):
    """libzmq keeps one as_server flag: a PLAIN server given a CURVE key is a CURVE server."""
    sock.plain_server = 1
    sock.curve_secretkey = SEC
    assert (sock.mechanism, sock.curve_server, sock.plain_server) == (zmq.CURVE, 1, 0)
    sock.plain_server = 0
    assert (sock.mechanism, sock.curve_server) == (zmq.NULL, 0)


@pytest.mark.curve
def test_either_server_flag_at_zero_means_null(ctx):
    a = ctx.socket(zmq.REQ)
    a.curve_server = 1
    a.plain_server = 0
    b = ctx.socket(zmq.REQ)
    b.plain_server = 1
    b.curve_server = 0
    assert (a.mechanism, a.curve_server, b.mechanism, b.plain_server) == (zmq.NULL, 0, zmq.NULL, 0)
    a.close(0)
    b.close(0)


@pytest.mark.parametrize("option", [zmq.PLAIN_SERVER, pytest.param(zmq.CURVE_SERVER, marks=pytest.mark.curve)])
@pytest.mark.parametrize("value", [2, -1])
def test_server_flags_take_only_0_and_1(sock, option, value):
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.setsockopt(option, value)
    assert _errno(excinfo) == EINVAL
    assert sock.mechanism == zmq.NULL


def test_mechanism_is_read_only(sock):
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.setsockopt(zmq.MECHANISM, zmq.PLAIN)
    assert _errno(excinfo) == EINVAL


# -- PLAIN credentials and ZAP domain -------------------------------------------------


@pytest.mark.parametrize("option", [zmq.PLAIN_USERNAME, zmq.PLAIN_PASSWORD])
@pytest.mark.parametrize("value", [b"", b"x" * 256])
def test_plain_credentials_must_be_1_to_255_bytes(sock, option, value):
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.setsockopt(option, value)
    assert _errno(excinfo) == EINVAL
    assert sock.mechanism == zmq.NULL  # a refused value changes nothing


@pytest.mark.parametrize("option", [zmq.PLAIN_USERNAME, zmq.PLAIN_PASSWORD])
def test_plain_credentials_of_255_bytes_are_accepted(sock, option):
    sock.setsockopt(option, b"x" * 255)
    assert sock.mechanism == zmq.PLAIN
    # (pyzmq could not read it back: its getsockopt buffer is 255 bytes, and libzmq wants room for a NUL.)
    assert sock.getsockopt(option) == b"x" * 255


@pytest.mark.parametrize("option", [zmq.PLAIN_USERNAME, zmq.PLAIN_PASSWORD, zmq.ZAP_DOMAIN,
                                    pytest.param(zmq.CURVE_PUBLICKEY, marks=pytest.mark.curve)])
def test_byte_options_refuse_str(sock, option):
    with pytest.raises(TypeError, match="unicode not allowed, use setsockopt_string"):
        sock.setsockopt(option, "abc")
    name = zmq.SocketOption(option).name.lower()
    with pytest.raises(TypeError, match="unicode not allowed, use setsockopt_string"):
        setattr(sock, name, "abc")
    with pytest.raises(TypeError, match="expected bytes, got: bytearray"):
        sock.setsockopt(option, bytearray(b"a" * 32))


def test_setsockopt_string_sets_credentials(sock):
    sock.setsockopt_string(zmq.PLAIN_USERNAME, "abç")
    sock.set_string(zmq.PLAIN_PASSWORD, "pässword")
    assert sock.plain_username == "abç".encode()
    assert sock.getsockopt_string(zmq.PLAIN_PASSWORD) == "pässword"
    assert sock.mechanism == zmq.PLAIN
    sock.setsockopt_string(zmq.ZAP_DOMAIN, "global")
    assert sock.zap_domain == b"global"


def test_zap_domain_length(sock):
    sock.zap_domain = b"d" * 255
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.zap_domain = b"d" * 256
    assert _errno(excinfo) == EINVAL
    assert sock.getsockopt(zmq.ZAP_DOMAIN) == b"d" * 255
    assert sock.mechanism == zmq.NULL


def test_empty_zap_domain_is_einval_as_in_pyzmq(sock):
    """pyzmq passes libzmq a non-NULL pointer of length 0, which ZAP_DOMAIN refuses (as it
    refuses an empty PLAIN user name); the domain already set is kept."""
    sock.zap_domain = b"abc"
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.zap_domain = b""
    assert _errno(excinfo) == EINVAL
    assert sock.zap_domain == b"abc"


# -- CURVE keys ---------------------------------------------------------------------------


@pytest.mark.curve
@pytest.mark.parametrize("value", [RAW, PUB, PUB + b"\0", PUB.decode()], ids=["raw32", "z85", "z85+nul", "string"])
def test_keys_accepted_forms(sock, value):
    for option in (zmq.CURVE_PUBLICKEY, zmq.CURVE_SECRETKEY, zmq.CURVE_SERVERKEY):
        if isinstance(value, str):
            sock.setsockopt_string(option, value)
        else:
            sock.setsockopt(option, value)
        # Deliberate difference: pyzmq 27 cannot read keys (EINVAL); greenmq returns
        # libzmq's 41-byte Z85 form without its NUL.
        assert sock.getsockopt(option) == PUB
    assert sock.curve_publickey == PUB


@pytest.mark.curve
def test_keys_read_back_as_z85(sock):
    assert sock.curve_serverkey == b"0" * 40  # libzmq's keys start zero-filled
    secret = bytes(range(32))
    sock.curve_secretkey = secret
    assert len(sock.curve_secretkey) == 40
    assert z85.decode(sock.curve_secretkey) == secret
    assert sock.getsockopt_string(zmq.CURVE_SECRETKEY) == z85.encode(secret).decode()


@pytest.mark.curve
@pytest.mark.parametrize("value", [
    b"x" * 31, b"x" * 33, b"x" * 39, PUB[:39] + b"\0", PUB + b"x", b"x" * 41, PUB + b"\0\0",
    b" " * 40, b'"' * 40, b"#" * 40, PUB[:-1] + b"~", b"",
], ids=["31", "33", "39", "39+nul", "41-no-nul", "41-x", "42", "space", "quote", "overflow", "tilde", "empty"])
def test_bad_keys_are_einval(sock, value):
    sock.curve_server = 1
    for option in (zmq.CURVE_PUBLICKEY, zmq.CURVE_SECRETKEY, zmq.CURVE_SERVERKEY):
        with pytest.raises(zmq.ZMQError) as excinfo:
            sock.setsockopt(option, value)
        assert _errno(excinfo) == EINVAL
    assert (sock.mechanism, sock.curve_server) == (zmq.CURVE, 1)
    assert sock.curve_publickey == b"0" * 40


@pytest.mark.curve
def test_any_40_character_z85_text_is_a_key(sock):
    sock.curve_publickey = b"x" * 40  # like libzmq: only the alphabet and the 32-bit groups are checked
    assert sock.curve_publickey == b"x" * 40


def test_has_curve():
    assert zmq.has("curve") is crypto.AVAILABLE
    assert zmq.has("ipc") is True
    assert zmq.has("no-such-thing") is False


@pytest.mark.curve
def test_has_curve_with_pynacl():
    assert zmq.has("curve") is True


@pytest.mark.parametrize("option", [zmq.CURVE_SERVER, zmq.CURVE_PUBLICKEY, zmq.CURVE_SECRETKEY, zmq.CURVE_SERVERKEY])
def test_curve_without_pynacl_is_enotsup(sock, monkeypatch, option):
    monkeypatch.setattr(crypto, "AVAILABLE", False)
    value = 1 if option == zmq.CURVE_SERVER else PUB
    with pytest.raises(zmq.ZMQError) as excinfo:
        sock.setsockopt(option, value)
    assert _errno(excinfo) == zmq.ENOTSUP
    assert "'curve' extra" in str(excinfo.value)
    assert (sock.mechanism, sock.curve_server) == (zmq.NULL, 0)
    sock.plain_server = 1  # PLAIN needs no crypto
    assert sock.mechanism == zmq.PLAIN


def test_curve_key_functions_without_pynacl_are_enotsup(monkeypatch):
    monkeypatch.setattr(crypto, "AVAILABLE", False)
    for call in (zmq.curve_keypair, lambda: zmq.curve_public(SEC)):
        with pytest.raises(zmq.ZMQError) as excinfo:
            call()
        assert _errno(excinfo) == zmq.ENOTSUP
        assert "'curve' extra" in str(excinfo.value)


# -- curve_keypair / curve_public --------------------------------------------------------


@pytest.mark.curve
def test_curve_keypair():
    public, secret = zmq.curve_keypair()
    for key in (public, secret):
        assert type(key) is bytes and len(key) == 40
        assert len(z85.decode(key)) == 32
    assert zmq.curve_public(secret) == public
    assert zmq.curve_public(secret.decode()) == public
    assert zmq.curve_keypair() != (public, secret)


@pytest.mark.curve
def test_official_test_keys():
    for raw, z85_key in OFFICIAL_KEYS:
        assert z85.encode(raw) == z85_key
        assert z85.decode(z85_key) == raw
    assert zmq.curve_public(CLIENT_SECRET_Z85) == CLIENT_PUBLIC_Z85
    assert zmq.curve_public(SERVER_SECRET_Z85) == SERVER_PUBLIC_Z85


@pytest.mark.curve
@pytest.mark.parametrize("secret", [b"", b"short", SEC[:39], SEC + b"\0", CLIENT_SECRET])
def test_curve_public_wants_40_z85_characters(secret):
    with pytest.raises(ValueError, match="^secret key must be a 40 byte z85 encoded string$"):
        zmq.curve_public(secret)


@pytest.mark.curve
@pytest.mark.parametrize("secret", [b'"' * 40, b"#" * 40], ids=["bad-character", "overflow"])
def test_curve_public_of_bad_z85_is_einval_as_in_pyzmq(secret):
    """pyzmq hands the text to zmq_z85_decode, which fails with EINVAL (bad character, group overflow)."""
    with pytest.raises(zmq.ZMQError) as excinfo:
        zmq.curve_public(secret)
    assert _errno(excinfo) == EINVAL


# -- Z85 -------------------------------------------------------------------------------------


def _pyzmq_z85():
    """pyzmq's pure-Python zmq.utils.z85, loaded from its file so that pyzmq's package (and libzmq) stay out."""
    package = find_spec("zmq")
    if package is None:
        pytest.skip("pyzmq is not installed")
    path = os.path.join(package.submodule_search_locations[0], "utils", "z85.py")
    spec = importlib.util.spec_from_file_location("_pyzmq_z85", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PYZMQ_Z85 = _pyzmq_z85()


def test_z85_rfc32_test_vector():
    raw = bytes.fromhex("864FD26FB559F75B")
    assert z85.encode(raw) == b"HelloWorld"
    assert z85.decode(b"HelloWorld") == raw
    assert z85.decode("HelloWorld") == raw
    assert z85.encode(b"") == b"" and z85.decode(b"") == b""


@pytest.mark.parametrize("module", [z85, PYZMQ_Z85], ids=["greenmq", "pyzmq"])
def test_z85_errors(module):
    with pytest.raises(ValueError, match="^length must be multiple of 4, not 3$"):
        module.encode(b"abc")
    with pytest.raises(ValueError, match="^Z85 length must be multiple of 5, not 4$"):
        module.decode(b"abcd")
    with pytest.raises(KeyError):
        module.decode(b"abc d")
    with pytest.raises(KeyError):
        module.decode('abc"d')
    with pytest.raises(ValueError):
        module.decode("abcdé")
    with pytest.raises(TypeError):
        module.encode("abcd")


def test_z85_group_overflow():
    with pytest.raises(ValueError):  # pyzmq: struct.error
        z85.decode(b"#####")
    assert z85.decode(b"%nSc0") == b"\xff\xff\xff\xff"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200).map(lambda data: data[:len(data) // 4 * 4]))
def test_z85_round_trip_and_agrees_with_pyzmq(raw):
    text = z85.encode(raw)
    assert len(text) == len(raw) * 5 // 4
    assert text == PYZMQ_Z85.encode(raw)
    assert z85.decode(text) == raw
    assert z85.decode(text.decode("ascii")) == raw


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(z85.Z85CHARS), max_size=60).map(lambda chars: bytes(chars[:len(chars) // 5 * 5])))
def test_z85_decode_agrees_with_pyzmq(text):
    try:
        expected = PYZMQ_Z85.decode(text)
    except Exception:  # a group above 2**32 - 1: struct.error in pyzmq
        with pytest.raises(ValueError):
            z85.decode(text)
        return
    assert z85.decode(text) == expected
    assert z85.encode(expected) == text


# -- the whole option script against pyzmq -------------------------------------------------------

# Each scenario runs on a fresh REQ socket; each step is (verb, option name, value). Values
# are JSON: {"b": hex} for bytes, {"s": text} for str. Outcomes are compared verbatim.
SCENARIOS = [
    [("get", "MECHANISM"), ("get", "PLAIN_SERVER"), ("get", "CURVE_SERVER"), ("get", "PLAIN_USERNAME"),
     ("get", "PLAIN_PASSWORD"), ("get", "ZAP_DOMAIN")],
    [("set", "PLAIN_SERVER", 1), ("get", "MECHANISM"), ("get", "PLAIN_SERVER"), ("get", "CURVE_SERVER"),
     ("set", "PLAIN_SERVER", 0), ("get", "MECHANISM"), ("get", "PLAIN_SERVER"), ("set", "PLAIN_SERVER", True),
     ("get", "PLAIN_SERVER")],
    [("set", "PLAIN_SERVER", 1), ("set", "PLAIN_USERNAME", b"u"), ("get", "MECHANISM"), ("get", "PLAIN_SERVER"),
     ("get", "PLAIN_USERNAME"), ("get", "PLAIN_PASSWORD"), ("set", "PLAIN_PASSWORD", b"p"), ("get", "PLAIN_PASSWORD")],
    [("set", "PLAIN_USERNAME", b""), ("set", "PLAIN_PASSWORD", b""), ("set", "PLAIN_USERNAME", b"x" * 256),
     ("set", "PLAIN_PASSWORD", b"x" * 256), ("get", "MECHANISM"), ("set", "PLAIN_USERNAME", b"x" * 254),
     ("get", "PLAIN_USERNAME"), ("set", "PLAIN_PASSWORD", b"y" * 255), ("get", "MECHANISM"),
     ("set", "PLAIN_USERNAME", "abc"), ("set_string", "PLAIN_USERNAME", "abç"), ("get", "PLAIN_USERNAME"),
     ("get_string", "PLAIN_USERNAME"), ("set", "PLAIN_USERNAME", None), ("set", "PLAIN_USERNAME", 5)],
    [("set", "CURVE_SERVER", 1), ("get", "MECHANISM"), ("get", "CURVE_SERVER"), ("get", "PLAIN_SERVER"),
     ("set", "CURVE_SERVER", 0), ("get", "MECHANISM"), ("get", "CURVE_SERVER"), ("set", "CURVE_SERVER", 2),
     ("set", "CURVE_SERVER", -1), ("set", "PLAIN_SERVER", 2), ("get", "MECHANISM"), ("set", "MECHANISM", 1),
     ("set", "CURVE_SERVER", "1")],
    [("set", "CURVE_PUBLICKEY", PUB), ("get", "MECHANISM"), ("get", "CURVE_SERVER"), ("set", "CURVE_SERVER", 1),
     ("get", "CURVE_SERVER"), ("set", "CURVE_SERVERKEY", PUB), ("get", "CURVE_SERVER"), ("get", "MECHANISM"),
     ("set", "CURVE_SERVER", 1), ("set", "CURVE_SECRETKEY", SEC), ("get", "CURVE_SERVER"),
     ("set", "CURVE_PUBLICKEY", RAW), ("get", "CURVE_SERVER"), ("set", "CURVE_SERVERKEY", PUB + b"\0"),
     ("get", "CURVE_SERVER")],
    [("set", "CURVE_SERVER", 1), ("set", "PLAIN_PASSWORD", b"p"), ("get", "MECHANISM"), ("get", "CURVE_SERVER"),
     ("get", "PLAIN_SERVER")],
    [("set", "PLAIN_SERVER", 1), ("set", "CURVE_SECRETKEY", SEC), ("get", "MECHANISM"), ("get", "CURVE_SERVER"),
     ("get", "PLAIN_SERVER"), ("set", "PLAIN_SERVER", 0), ("get", "MECHANISM")],
    [("set", "CURVE_SERVER", 1), ("set", "PLAIN_SERVER", 0), ("get", "MECHANISM"), ("get", "CURVE_SERVER")],
    [("set", "PLAIN_SERVER", 1), ("set", "CURVE_SERVER", 0), ("get", "MECHANISM"), ("get", "PLAIN_SERVER")],
    [("set", "CURVE_SERVER", 1)]
    + [("set", option, bad) for option in ("CURVE_PUBLICKEY", "CURVE_SECRETKEY", "CURVE_SERVERKEY")
       for bad in (b"x" * 31, b"x" * 33, b"x" * 39, b"x" * 41, b"x" * 42, PUB + b"x", PUB[:39] + b"\0",
                   b" " * 40, b'"' * 40, b"#" * 40, b"", PUB.decode(), bytearray(32))]
    + [("get", "MECHANISM"), ("get", "CURVE_SERVER"), ("set", "CURVE_PUBLICKEY", b"x" * 32),
       ("set", "CURVE_PUBLICKEY", b"x" * 40), ("set_string", "CURVE_SERVERKEY", PUB.decode()),
       ("get", "CURVE_SERVER"), ("get", "MECHANISM")],
    [("set", "ZAP_DOMAIN", b"d" * 255), ("set", "ZAP_DOMAIN", b"d" * 256), ("set", "ZAP_DOMAIN", b"abc"),
     ("get", "ZAP_DOMAIN"), ("set", "ZAP_DOMAIN", b""), ("get", "ZAP_DOMAIN"), ("set", "ZAP_DOMAIN", "x"),
     ("set_string", "ZAP_DOMAIN", "global"), ("get", "ZAP_DOMAIN"), ("get", "MECHANISM")],
]

RUNNER = r'''
import json


def _decode(value):
    if isinstance(value, dict):
        return bytes.fromhex(value["b"]) if "b" in value else bytearray.fromhex(value["ba"])
    return value


def _outcome(zmq, call):
    try:
        value = call()
    except zmq.ZMQError as error:
        return ["ZMQError", error.errno]
    except (TypeError, ValueError, AttributeError) as error:
        return [type(error).__name__, str(error).split(":")[0]]
    if isinstance(value, bytes):
        return ["ok", {"b": value.hex()}]
    return ["ok", value if value is None or isinstance(value, str) else int(value)]


def run(zmq, scenarios):
    ctx = zmq.Context()
    results = []
    try:
        for steps in scenarios:
            sock = ctx.socket(zmq.REQ)
            outcomes = []
            for verb, name, *args in steps:
                option = getattr(zmq, name)
                value = _decode(args[0]) if args else None
                if verb == "set":
                    call = lambda: sock.setsockopt(option, value)  # noqa: E731
                elif verb == "set_string":
                    call = lambda: sock.setsockopt_string(option, value)  # noqa: E731
                elif verb == "get_string":
                    call = lambda: sock.getsockopt_string(option)  # noqa: E731
                else:
                    call = lambda: sock.getsockopt(option)  # noqa: E731
                outcomes.append([verb, name, _outcome(zmq, call)])
            sock.close(0)
            results.append(outcomes)
    finally:
        ctx.term()
    return results
'''


def _encode(value):
    if isinstance(value, bytes):
        return {"b": value.hex()}
    if isinstance(value, bytearray):
        return {"ba": value.hex()}
    return value


def _scenarios_json():
    return [[[verb, name, *[_encode(arg) for arg in args]] for verb, name, *args in steps] for steps in SCENARIOS]


@pytest.mark.curve
def test_option_script_matches_pyzmq():
    if find_spec("zmq") is None:
        pytest.skip("pyzmq is not installed")
    scenarios = _scenarios_json()
    program = RUNNER + "\nimport sys, zmq\nprint(json.dumps(run(zmq, json.loads(sys.stdin.read()))))\n"
    done = subprocess.run([sys.executable, "-c", program], input=json.dumps(scenarios), capture_output=True,
                          text=True, timeout=60, check=True)
    expected = json.loads(done.stdout)
    namespace = {}
    exec(RUNNER, namespace)  # the same code, given greenmq
    actual = json.loads(json.dumps(namespace["run"](zmq, scenarios)))
    assert len(actual) == len(expected) == len(SCENARIOS)
    for index, (mine, theirs) in enumerate(zip(actual, expected)):
        assert mine == theirs, f"scenario {index} differs from pyzmq"

"""greenmq.version, Stopwatch, and the small pyzmq compatibility modules (utils.strtypes, utils.win32)."""

import re
import time
import warnings

import pytest

import greenmq as zmq
from greenmq import version
from greenmq.utils import strtypes, win32


def test_version_names():
    assert zmq.__version__ is version.__version__
    assert zmq.__revision__ == version.__revision__ == ""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(.*)", zmq.__version__)
    assert match is not None
    numbers = (version.VERSION_MAJOR, version.VERSION_MINOR, version.VERSION_PATCH)
    assert tuple(int(match.group(i)) for i in (1, 2, 3)) == numbers
    assert match.group(4).lstrip(".") == version.VERSION_EXTRA
    assert version.version_info[:3] == numbers
    assert len(version.version_info) == (4 if version.VERSION_EXTRA else 3)


def test_pyzmq_and_libzmq_versions():
    assert zmq.pyzmq_version is version.pyzmq_version
    info = zmq.pyzmq_version_info()
    assert isinstance(info, tuple) and len(info) == 3 and all(isinstance(n, int) for n in info)
    assert zmq.pyzmq_version() == "%d.%d.%d" % info
    assert info >= (27, 0, 0)
    assert zmq.zmq_version() == "%d.%d.%d" % zmq.zmq_version_info()
    assert zmq.zmq_version_info()[:2] == (4, 3)
    for name in version.__all__:
        assert getattr(zmq, name) is getattr(version, name)
        assert name in zmq.__all__


def test_stopwatch_warns_and_measures_microseconds():
    with pytest.warns(DeprecationWarning, match="Stopwatch is deprecated"):
        watch = zmq.Stopwatch()
    before = time.monotonic()
    watch.start()
    time.sleep(0.01)
    elapsed = watch.stop()
    after = time.monotonic()
    assert isinstance(elapsed, int)
    assert 10_000 <= elapsed <= (after - before) * 1e6 + 1  # the interval lies within [before, after]


def test_stopwatch_stop_before_start_is_no_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        watch = zmq.Stopwatch()
    assert watch.stop() >= int(time.monotonic() * 1e6) - 1_000_000


def test_strtypes():
    assert strtypes.bytes is bytes and strtypes.unicode is str and strtypes.basestring == (str,)
    assert strtypes.b is strtypes.asbytes is strtypes.cast_bytes and strtypes.u is strtypes.cast_unicode
    with pytest.warns(DeprecationWarning, match="strtypes is deprecated"):
        assert strtypes.cast_bytes("h\u00e9") == b"h\xc3\xa9"
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_bytes(b"raw") == b"raw"
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_unicode(b"h\xe9", "latin-1") == "h\u00e9"
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="Expected unicode or bytes"):
        strtypes.cast_unicode(5)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError):
        strtypes.cast_bytes(5)


def test_allow_interrupt_does_nothing_on_posix():
    called = []
    with win32.allow_interrupt(lambda: called.append(1)) as entered:
        assert entered is None
    with win32.allow_interrupt():
        pass
    assert called == []

"""Shared fixtures: a greenmq context that is always destroyed, transports and endpoints, subprocesses.

And the ``curve`` marker: PyNaCl is greenmq's optional ``curve`` extra, so a
test that needs it (greenmq's CURVE, its CURVE key functions, or
curve_support.RawCurve) is marked ``@pytest.mark.curve`` -- a module
``pytestmark``, or ``pytest.param(..., marks=pytest.mark.curve)`` for one
parameter -- and is skipped, with the reason shown by ``-rs``, when PyNaCl is
not installed. Everything else runs either way.
"""

import io

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, TRANSPORTS, endpoint_for

CURVE_SKIP_REASON = "needs PyNaCl (greenmq's optional 'curve' extra: pip install 'greenmq[curve]'), not installed"


def pytest_configure(config):
    config.addinivalue_line("markers", "curve: needs PyNaCl, greenmq's optional 'curve' extra; skipped without it")


def pytest_collection_modifyitems(config, items):
    if zmq.has("curve"):  # true exactly when PyNaCl imports
        return
    skip = pytest.mark.skip(reason=CURVE_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("curve") is not None:
            item.add_marker(skip)


@pytest.fixture
def ctx():
    """A fresh greenmq Context, destroyed (linger 0) after the test."""
    context = zmq.Context()
    yield context
    with gevent.Timeout(TIMEOUT):
        context.destroy(linger=0)


@pytest.fixture
def sock(ctx):
    """A PUSH socket with LINGER 0, closed after the test: for the option tests, where the type does not matter."""
    s = ctx.socket(zmq.PUSH)
    s.linger = 0
    yield s
    s.close()


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    """Each of tcp, ipc and inproc in turn."""
    return request.param


@pytest.fixture
def endpoint(transport, tmp_path):
    """A fresh endpoint to bind for ``transport`` (:func:`support.endpoint_for`)."""
    return endpoint_for(transport, tmp_path)


@pytest.fixture
def ipc_endpoint(tmp_path):
    """An ipc:// endpoint in the test's temporary directory."""
    return f"ipc://{tmp_path}/sock"


@pytest.fixture
def processes():
    """Subprocesses a test started (examples, peers); killed if still running, and reaped, at the end."""
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()


@pytest.fixture
def hub_errors(monkeypatch):
    """Whatever the gevent hub reports about greenlets that died of an unhandled exception."""
    stream = io.StringIO()
    monkeypatch.setattr(gevent.get_hub(), "exception_stream", stream)
    return stream

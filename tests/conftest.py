"""Shared fixtures: a greenmq context that is always destroyed, transports and endpoints, subprocesses."""

import io

import gevent
import pytest

import greenmq as zmq

from support import TIMEOUT, TRANSPORTS, endpoint_for


@pytest.fixture
def ctx():
    """A fresh greenmq Context, destroyed (linger 0) after the test."""
    context = zmq.Context()
    yield context
    with gevent.Timeout(TIMEOUT):
        context.destroy(linger=0)


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

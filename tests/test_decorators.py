"""greenmq.decorators: @context() and @socket(...) (pyzmq's zmq.decorators)."""

import gevent
import pytest

import greenmq as zmq
from greenmq.decorators import context, socket

from support import TIMEOUT


@pytest.fixture(autouse=True)
def fresh_instance():
    """Tests here may create Context.instance(); it is destroyed after each one."""
    yield
    with gevent.Timeout(TIMEOUT):
        zmq.Context.instance().destroy(linger=0)


def test_context_is_appended_and_terminated_after_the_call():
    seen = []

    @context()
    def f(a, ctx, b=None):
        seen.append((a, ctx, b))
        assert not ctx.closed
        return "result"

    assert f(1, b=2) == "result"
    (a, ctx, b), = seen
    assert (a, b) == (1, 2)
    assert isinstance(ctx, zmq.Context)
    assert ctx.closed
    assert ctx is not zmq.Context.instance()


def test_context_arguments_and_keyword_names():
    @context("myctx", 3)
    def positional(myctx):
        return myctx.IO_THREADS

    @context(name="kw", io_threads=4)
    def keyword(kw=None):
        return kw.IO_THREADS

    assert positional() == 3
    assert keyword() == 4


def test_a_named_context_given_by_the_caller_is_a_type_error():
    @context(name="ctx")
    def f(ctx):
        raise AssertionError("not called")

    with pytest.raises(TypeError, match="multiple values for argument 'ctx'"):
        f(ctx="mine")
    with pytest.raises(TypeError):  # Python's own: 'mock' and the keyword both fill ctx
        f("mock")


def test_a_name_the_function_does_not_take_is_a_type_error():
    @context(name="ctx")
    def f(other):
        raise AssertionError("not called")

    with pytest.raises(TypeError):
        f()


def test_each_call_gets_its_own_context():
    got = []

    @context()
    def f(ctx):
        got.append(ctx)

    f()
    f()
    assert got[0] is not got[1]


def test_socket_in_the_context_of_an_outer_context_decorator_is_closed_after():
    kept = []

    @context()
    @socket(zmq.PUSH)
    @socket("pull", zmq.PULL)
    def f(ctx, push, pull):
        kept.extend([ctx, push, pull])
        assert push.context is ctx and pull.context is ctx
        assert (push.type, pull.type) == (zmq.PUSH, zmq.PULL)
        push.linger = 0
        pull.linger = 0
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push.connect(f"tcp://127.0.0.1:{port}")
        with gevent.Timeout(TIMEOUT):
            push.send(b"through decorators")
            return pull.recv()

    assert f() == b"through decorators"
    ctx, push, pull = kept
    assert push.closed and pull.closed and ctx.closed


def test_socket_without_a_context_uses_the_instance():
    @socket(zmq.PUB, name="pub")
    def f(pub):
        assert pub.context is zmq.Context.instance()
        return pub

    assert f().closed


def test_socket_finds_a_context_by_keyword_or_argument():
    with zmq.Context() as mine:
        @socket("skt", zmq.SUB, context_name="c")
        def by_keyword(c, skt):
            return skt.context

        @socket(zmq.SUB)
        def by_argument(label, c, skt):
            return skt.context

        assert by_keyword(c=mine) is mine
        assert by_argument("x", mine) is mine


def test_socket_without_a_type_is_a_type_error():
    @socket("s")
    def f(s):
        raise AssertionError("not called")

    with pytest.raises(TypeError):
        f()


def test_a_method_gets_self_first():
    class Worker:
        @context()
        @socket(zmq.DEALER)
        def run(self, ctx, dealer, flag="default"):
            return self, dealer.context is ctx, flag

    worker = Worker()
    assert worker.run() == (worker, True, "default")
    assert worker.run(flag="set")[2] == "set"


def test_the_socket_is_closed_when_the_function_raises():
    kept = []

    @context()
    @socket(zmq.REQ)
    def f(ctx, req):
        kept.append(req)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        f()
    assert kept[0].closed


def test_wraps_keeps_the_name():
    @context()
    def documented(ctx):
        """Docs."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."

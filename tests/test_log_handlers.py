"""greenmq.log.handlers (PUBHandler, TopicLogger) over real PUB/SUB pairs, and ``python -m greenmq.log``."""

import logging
import os
import signal
import sys
import uuid

import gevent
import gevent.queue
import gevent.subprocess
import pytest

import greenmq as zmq
from greenmq.log.handlers import TOPIC_DELIM, PUBHandler, TopicLogger

from support import ROOT, TIMEOUT, assert_nothing_arrives, new_socket, sigint_as_at_a_terminal


@pytest.fixture
def logger():
    """A logger of its own, DEBUG and up, not passing records to the root logger; handlers removed after."""
    log = logging.getLogger(f"greenmq-test-{uuid.uuid4().hex}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)


def _pair(ctx, *subscriptions):
    pub = new_socket(ctx, zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = new_socket(ctx, zmq.SUB)
    for topic in subscriptions:
        sub.subscribe(topic)
    sub.connect(f"tcp://127.0.0.1:{port}")
    return pub, sub


def _sync(logger, sub):
    """Log numbered INFO probes (subtopic "sync") until ``sub`` gets them, and read up to the last one sent,
    so that the subscription has reached the PUB socket and nothing of the probing is left unread."""
    sent = 0
    with gevent.Timeout(TIMEOUT):
        while True:
            sent += 1
            logger.info("sync::%d", sent)
            if sub.poll(20):
                break
        while True:
            topic, body = sub.recv_multipart()
            assert topic.endswith(b"INFO.sync"), topic
            if int(body) == sent:
                return


def _recv(sub):
    with gevent.Timeout(TIMEOUT):
        return sub.recv_multipart()


@pytest.fixture
def published(ctx, logger):
    """A PUBHandler on a tcp PUB with root topic "app", and a SUB that receives everything it publishes."""
    pub, sub = _pair(ctx, b"")
    handler = PUBHandler(pub, root_topic="app")
    logger.addHandler(handler)
    _sync(logger, sub)
    return handler, sub


def test_topics_and_default_formats(logger, published):
    handler, sub = published
    logger.info("plain")
    assert _recv(sub) == [b"app.INFO", b"plain\n"]
    logger.info("db.pool::exhausted after %d tries", 3)
    assert _recv(sub) == [b"app.INFO.db.pool", b"exhausted after 3 tries\n"]
    logger.info("t\u00f8pic::h\u00e9llo")
    assert _recv(sub) == [b"app.INFO.t\xc3\xb8pic", "h\u00e9llo\n".encode()]

    line = sys._getframe().f_lineno + 1
    logger.debug("where")
    assert _recv(sub) == [b"app.DEBUG", f"DEBUG test_log_handlers.py:{line} - where\n".encode()]
    logger.warning("warned")
    topic, body = _recv(sub)
    assert topic == b"app.WARNING" and body.startswith(b"WARNING test_log_handlers.py:") and body.endswith(
        b" - warned\n")
    logger.error("failed")
    topic, body = _recv(sub)
    assert topic == b"app.ERROR" and body.endswith(b" - failed - None\n")
    logger.critical("down")
    assert _recv(sub)[0] == b"app.CRITICAL"


def test_a_message_that_is_not_a_string(logger, published):
    class Note:
        def __str__(self):
            return "sub::from str"

    logger.info(Note())
    assert _recv(published[1]) == [b"app.INFO.sub", b"from str\n"]


def test_other_handlers_see_the_whole_message(logger, published):
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger.addHandler(Keep())
    logger.info("part::rest")
    assert _recv(published[1]) == [b"app.INFO.part", b"rest\n"]
    assert seen == ["part::rest"]


def test_root_topic_from_bytes_and_blank(ctx, logger):
    pub, sub = _pair(ctx, b"INFO")
    handler = PUBHandler(pub)
    assert handler.root_topic == ""
    logger.addHandler(handler)
    _sync(logger, sub)
    logger.debug("not subscribed")
    logger.info("subscribed")
    assert _recv(sub) == [b"INFO", b"subscribed\n"]
    assert_nothing_arrives(sub)

    handler.root_topic = b"svc"
    assert handler.root_topic == "svc"
    handler.setRootTopic("INFOsvc")
    logger.info("prefixed")
    assert _recv(sub) == [b"INFOsvc.INFO", b"prefixed\n"]


def test_formatters_for_all_levels_and_for_one(logger, published):
    handler, sub = published
    handler.setFormatter(logging.Formatter("ALL %(message)s"))
    handler.setFormatter(logging.Formatter("DBG %(message)s"), logging.DEBUG)
    logger.info("i")
    logger.debug("d")
    assert [_recv(sub)[1] for _ in range(2)] == [b"ALL i", b"DBG d"]
    handler.formatters[logging.WARNING] = logging.Formatter("%(levelname)s! %(message)s")
    logger.warning("w")
    assert _recv(sub)[1] == b"WARNING! w"


def test_a_level_without_a_formatter_goes_to_handle_error(ctx, logger):
    pub, sub = _pair(ctx, b"")
    errors = []

    class Recording(PUBHandler):
        def handleError(self, record):
            errors.append(record.levelno)

    logger.addHandler(Recording(pub))
    _sync(logger, sub)
    logger.log(25, "custom level")
    assert errors == [25]
    assert_nothing_arrives(sub)


def test_an_endpoint_gets_a_new_socket_and_context(ctx, logger):
    endpoint = f"inproc://log-{uuid.uuid4().hex}"
    own = PUBHandler(endpoint)
    try:
        assert own.ctx is not zmq.Context.instance() and own.ctx is not ctx
        assert own.socket.type == zmq.PUB and own.socket.context is own.ctx
    finally:
        own.socket.close(linger=0)
        own.ctx.term()

    handler = PUBHandler(endpoint, ctx, root_topic="shared")
    assert handler.ctx is ctx
    sub = new_socket(ctx, zmq.SUB)
    sub.subscribe(b"shared")
    sub.connect(endpoint)
    logger.addHandler(handler)
    _sync(logger, sub)
    logger.info("over inproc")
    assert _recv(sub) == [b"shared.INFO", b"over inproc\n"]
    handler.socket.close()


def test_topic_logger(ctx):
    pub, sub = _pair(ctx, b"")
    handler = PUBHandler(pub, root_topic="tl")
    log = TopicLogger(f"greenmq-topic-{uuid.uuid4().hex}", logging.DEBUG)
    log.addHandler(handler)
    _sync(_PlainView(log), sub)
    # The caller's line, not TopicLogger's, as for a plain Logger.
    handler.setFormatter(logging.Formatter("%(levelname)s %(lineno)d %(message)s"))
    line = sys._getframe().f_lineno + 1
    log.debug("a.b", "n=%d", 1)
    assert _recv(sub) == [b"tl.DEBUG.a.b", f"DEBUG {line} n=1".encode()]
    log.info("t", "i")
    log.warning("t", "w")
    log.error("t", "e")
    log.critical("t", "c")
    log.log(logging.INFO, "via.log", "l")
    assert [_recv(sub) for _ in range(5)] == [
        [b"tl.INFO.t", b"INFO %d i" % (line + 2)], [b"tl.WARNING.t", b"WARNING %d w" % (line + 3)],
        [b"tl.ERROR.t", b"ERROR %d e" % (line + 4)], [b"tl.CRITICAL.t", b"CRITICAL %d c" % (line + 5)],
        [b"tl.INFO.via.log", b"INFO %d l" % (line + 6)]]
    try:
        raise KeyError("inside")
    except KeyError:
        log.exception("x", "caught")
    topic, body = _recv(sub)
    assert topic == b"tl.ERROR.x" and b"caught" in body
    assert TOPIC_DELIM == "::"


class _PlainView:
    """The one-argument ``info`` that _sync calls, on a TopicLogger (whose info takes a topic first)."""

    def __init__(self, topic_logger):
        self.topic_logger = topic_logger

    def info(self, msg, *args):
        topic, _, text = msg.partition(TOPIC_DELIM)
        self.topic_logger.info(topic, text, *args)


# -- python -m greenmq.log ---------------------------------------------------------------------

def _watch(processes, *args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = gevent.subprocess.Popen([sys.executable, "-m", "greenmq.log", *args], env=env,
                                      stdout=gevent.subprocess.PIPE, stderr=gevent.subprocess.PIPE,
                                      preexec_fn=sigint_as_at_a_terminal)
    processes.append(process)
    lines = gevent.queue.Queue()
    reader = gevent.spawn(lambda: [lines.put(line.decode()) for line in iter(process.stdout.readline, b"")])
    return process, lines, reader


def _log_until_printed(log, lines):
    """Call ``log()`` until the watcher prints a line (its subscription takes a moment); that line."""
    with gevent.Timeout(TIMEOUT):
        while True:
            log()
            try:
                return lines.get(timeout=0.05)
            except gevent.queue.Empty:
                pass


def _interrupt(process, reader):
    process.send_signal(signal.SIGINT)
    with gevent.Timeout(TIMEOUT):
        assert process.wait() == 0, process.stderr.read().decode()
        reader.join()


def test_watcher_prints_topic_and_message(ctx, logger, processes):
    pub = new_socket(ctx, zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    logger.addHandler(PUBHandler(pub, root_topic="app"))
    process, lines, reader = _watch(processes, f"tcp://127.0.0.1:{port}")
    assert _log_until_printed(lambda: logger.info("db::connected"), lines) == "app.INFO.db | connected\n"
    _interrupt(process, reader)


def test_watcher_topic_separator_and_alignment(ctx, logger, processes):
    pub = new_socket(ctx, zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    handler = PUBHandler(pub, root_topic="svc")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    process, lines, reader = _watch(processes, f"tcp://127.0.0.1:{port}", "--topic", "svc.WARNING",
                                    "--separator", " :: ", "--align")
    logger.info("filtered out")
    first = _log_until_printed(lambda: logger.warning("longer.sub::one"), lines)
    assert first == "svc.WARNING.longer.sub :: one\n"
    logger.warning("x::two")
    with gevent.Timeout(TIMEOUT):
        # Aligned to the widest topic parts seen so far: "WARNING", "longer", "sub".
        assert lines.get() == "svc.WARNING.x     .    :: two\n"
    _interrupt(process, reader)



def test_a_closed_socket_goes_to_handle_error_not_to_the_caller(ctx, logger):
    pub, sub = _pair(ctx, b"")
    errors = []

    class Recording(PUBHandler):
        def handleError(self, record):
            errors.append((record.getMessage(), sys.exc_info()[0]))

    logger.addHandler(Recording(pub))
    pub.close()
    logger.info("after close")  # does not raise
    assert errors == [("after close", zmq.ZMQError)]

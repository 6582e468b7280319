"""Background devices (greenmq.devices, pyzmq's zmq.devices).

Expectations checked against pyzmq 27: the names greenmq.devices exports, the
constructor errors, the queued bind/connect/setsockopt calls, the monitor
prefixes of a monitored queue, a clean stop (sockets closed, ``done``) when
the context is terminated. ThreadDevice and friends run in a greenlet here.
"""

import struct
import textwrap
import time

import gevent
import pytest

import greenmq as zmq
from greenmq import devices

from support import TIMEOUT, run_program


PYZMQ_DEVICES = [
    "Device", "MonitoredQueue", "ProcessDevice", "ProcessMonitoredQueue", "ProcessProxy",
    "ProcessProxySteerable", "Proxy", "ProxySteerable", "ThreadDevice", "ThreadMonitoredQueue",
    "ThreadProxy", "ThreadProxySteerable", "monitored_queue",
]


def closed_soon(device):
    with gevent.Timeout(TIMEOUT):
        device.join()
    return device.done and all(s.closed for s in device._sockets)


def test_devices_exports_pyzmqs_names():
    assert sorted(devices.__all__) == PYZMQ_DEVICES
    for name in PYZMQ_DEVICES:
        assert getattr(zmq.devices, name) is getattr(devices, name)
    from greenmq.devices.basedevice import ThreadDevice
    from greenmq.devices.proxysteerabledevice import ThreadProxySteerable

    assert ThreadDevice is devices.ThreadDevice
    assert ThreadProxySteerable is devices.ThreadProxySteerable


def test_socket_types_are_required():
    with pytest.raises(TypeError, match="in_type must be specified"):
        devices.ThreadDevice(zmq.QUEUE)
    with pytest.raises(TypeError, match="out_type must be specified"):
        devices.ThreadDevice(zmq.QUEUE, zmq.PULL)


def test_thread_device_runs_in_a_greenlet_and_stops_when_the_context_terminates(tmp_path):
    context = zmq.Context()
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    dev.context_factory = lambda: context
    in_port = dev.bind_in_to_random_port("tcp://127.0.0.1")
    dev.bind_out(f"ipc://{tmp_path}/out")
    dev.setsockopt_in(zmq.RCVHWM, 7)
    dev.setsockopt_out(zmq.SNDHWM, 9)
    assert dev.daemon is True and dev.done is False
    dev.start()
    assert isinstance(dev.launcher, gevent.Greenlet)
    assert dev.launcher.daemon is True
    source = context.socket(zmq.PUSH)
    sink = context.socket(zmq.PULL)
    source.connect(f"tcp://127.0.0.1:{in_port}")
    sink.connect(f"ipc://{tmp_path}/out")
    with gevent.Timeout(TIMEOUT):
        for i in range(50):
            source.send_multipart([b"job", b"%d" % i])
        assert [sink.recv_multipart() for _ in range(50)] == [[b"job", b"%d" % i] for i in range(50)]
        ins, outs = dev._sockets
        assert (ins.socket_type, ins.rcvhwm) == (zmq.PULL, 7)
        assert (outs.socket_type, outs.sndhwm) == (zmq.PUSH, 9)
        assert dev.launcher.is_alive()
        source.close(linger=0)
        sink.close(linger=0)
        context.term()  # returns once the device has closed its sockets
    assert closed_soon(dev)
    assert not dev.launcher.is_alive()
    assert dev.launcher.successful()


def test_thread_device_join_times_out_cooperatively(ctx):
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://join-in")
    dev.start()
    ticks = []
    ticker = gevent.spawn(lambda: [(ticks.append(1), gevent.sleep(0.01)) for _ in range(1000)])
    try:
        with gevent.Timeout(TIMEOUT):
            start = time.monotonic()
            dev.join(0.2)
            assert 0.19 <= time.monotonic() - start < 2
            assert len(ticks) >= 5  # the hub kept running while join waited
            assert not dev.done
            dev.launcher.kill()  # stopping it this way closes its sockets too
        assert closed_soon(dev)
    finally:
        ticker.kill()


def test_foreground_device_blocks_in_start(ctx):
    dev = devices.Device(zmq.QUEUE, zmq.PAIR, -1)  # out_type < 0: one socket, messages echo
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://echo-device")
    client = ctx.socket(zmq.PAIR)
    client.linger = 0
    client.connect("inproc://echo-device")
    with gevent.Timeout(TIMEOUT):
        runner = gevent.spawn(dev.start)
        client.send_multipart([b"echo", b"me"])
        assert client.recv_multipart() == [b"echo", b"me"]
        assert len(dev._sockets) == 1
        dev.join(0.01)
        assert not dev.done and not runner.ready()
        runner.kill()
    assert closed_soon(dev)


def test_connect_in_and_out(ctx):
    upstream = ctx.socket(zmq.PUSH)
    downstream = ctx.socket(zmq.PULL)
    upstream.linger = downstream.linger = 0
    upstream.bind("inproc://upstream")
    downstream.bind("inproc://downstream")
    dev = devices.ThreadDevice(zmq.STREAMER, zmq.PULL, zmq.PUSH)
    dev.context_factory = lambda: ctx
    dev.connect_in("inproc://upstream")
    dev.connect_out("inproc://downstream")
    dev.start()
    with gevent.Timeout(TIMEOUT):
        upstream.send(b"through the streamer")
        assert downstream.recv() == b"through the streamer"
        dev.launcher.kill()
    assert closed_soon(dev)


def test_thread_proxy_copies_to_the_monitor_socket(ctx):
    dev = devices.ThreadProxy(zmq.PULL, zmq.PUSH, zmq.PAIR)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://proxy-in")
    dev.bind_out("inproc://proxy-out")
    dev.bind_mon("inproc://proxy-mon")
    dev.setsockopt_mon(zmq.SNDHWM, 5)
    dev.start()
    source, sink, tap = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL), ctx.socket(zmq.PAIR)
    for sock, addr in ((source, "proxy-in"), (sink, "proxy-out"), (tap, "proxy-mon")):
        sock.linger = 0
        sock.connect(f"inproc://{addr}")
    with gevent.Timeout(TIMEOUT):
        source.send_multipart([b"a", b"b"])
        assert sink.recv_multipart() == [b"a", b"b"]
        assert tap.recv_multipart() == [b"a", b"b"]
        assert dev._sockets[2].sndhwm == 5
        dev.launcher.kill()
    assert closed_soon(dev)


def test_thread_proxy_steerable_statistics_and_terminate(ctx):
    dev = devices.ThreadProxySteerable(zmq.PULL, zmq.PUSH, zmq.PAIR, zmq.PAIR)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://steer-in")
    dev.bind_out("inproc://steer-out")
    dev.connect_mon("inproc://steer-mon")
    dev.bind_ctrl("inproc://steer-ctrl")
    tap = ctx.socket(zmq.PAIR)
    tap.linger = 0
    tap.bind("inproc://steer-mon")
    dev.start()
    source, sink, steer = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL), ctx.socket(zmq.PAIR)
    for sock, addr in ((source, "steer-in"), (sink, "steer-out"), (steer, "steer-ctrl")):
        sock.linger = 0
        sock.connect(f"inproc://{addr}")
    with gevent.Timeout(TIMEOUT):
        source.send(b"hello")
        assert sink.recv() == b"hello"
        assert tap.recv() == b"hello"
        steer.send(b"STATISTICS")
        stats = [struct.unpack("=Q", frame)[0] for frame in steer.recv_multipart()]
        assert stats == [1, 5, 0, 0, 0, 0, 1, 5]
        steer.send(b"TERMINATE")
    assert closed_soon(dev)  # TERMINATE ends run_device normally: sockets closed, done
    assert dev.launcher.successful()


def test_monitored_queue_prefixes_each_direction(ctx):
    ins, client = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    outs, worker = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    mon, tap = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    for bound, connected, name in ((ins, client, "mq-in"), (outs, worker, "mq-out"), (mon, tap, "mq-mon")):
        bound.linger = connected.linger = 0
        bound.bind(f"inproc://{name}")
        connected.connect(f"inproc://{name}")
    with gevent.Timeout(TIMEOUT):
        g = gevent.spawn(devices.monitored_queue, ins, outs, mon, b"IN", bytearray(b"OUT"))
        client.send_multipart([b"req", b"1"])
        assert worker.recv_multipart() == [b"req", b"1"]
        assert tap.recv_multipart() == [b"IN", b"req", b"1"]
        worker.send(b"rep")
        assert client.recv() == b"rep"
        assert tap.recv_multipart() == [b"OUT", b"rep"]
        g.kill()
    with pytest.raises(TypeError):
        devices.monitored_queue(ins, outs, mon, "in")


def test_thread_monitored_queue_default_prefixes(ctx):
    dev = devices.ThreadMonitoredQueue(zmq.PULL, zmq.PUSH, zmq.PAIR)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://tmq-in")
    dev.bind_out("inproc://tmq-out")
    dev.bind_mon("inproc://tmq-mon")
    dev.start()
    source, sink, tap = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL), ctx.socket(zmq.PAIR)
    for sock, addr in ((source, "tmq-in"), (sink, "tmq-out"), (tap, "tmq-mon")):
        sock.linger = 0
        sock.connect(f"inproc://{addr}")
    with gevent.Timeout(TIMEOUT):
        source.send(b"job")
        assert sink.recv() == b"job"
        assert tap.recv_multipart() == [b"in", b"job"]
        dev.launcher.kill()
    assert closed_soon(dev)


def test_process_device_runs_in_a_forked_process(ctx):
    dev = devices.ProcessDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    assert dev.context_factory is zmq.Context
    in_port = dev.bind_in_to_random_port("tcp://127.0.0.1")
    out_port = dev.bind_out_to_random_port("tcp://127.0.0.1")
    assert in_port != out_port
    # The parent's own connections must stay the parent's: the child never runs the parent's hub.
    own, feed, source, sink = (ctx.socket(kind) for kind in (zmq.PULL, zmq.PUSH, zmq.PUSH, zmq.PULL))
    own_port = own.bind_to_random_port("tcp://127.0.0.1")
    feed.connect(f"tcp://127.0.0.1:{own_port}")
    dev.start()
    try:
        source.connect(f"tcp://127.0.0.1:{in_port}")
        sink.connect(f"tcp://127.0.0.1:{out_port}")
        with gevent.Timeout(TIMEOUT):
            for i in range(20):
                source.send(b"%d" % i)
                feed.send(b"own %d" % i)
            assert sorted(sink.recv() for _ in range(20)) == sorted(b"%d" % i for i in range(20))
            assert [own.recv() for _ in range(20)] == [b"own %d" % i for i in range(20)]
            ticks = []
            ticker = gevent.spawn(lambda: [(ticks.append(1), gevent.sleep(0.01)) for _ in range(1000)])
            dev.join(0.2)  # cooperative: the hub keeps running
            ticker.kill()
            assert len(ticks) >= 5
            assert dev.launcher.is_alive()
    finally:
        dev.launcher.terminate()
        with gevent.Timeout(TIMEOUT):
            dev.join()
        for sock in (own, feed, source, sink):
            sock.close(linger=0)
    assert dev.launcher.exitcode is not None


MONKEY_PATCHED_PROGRAM = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()

    import json

    import greenmq as zmq
    from greenmq import devices

    result = {}
    ctx = zmq.Context()
    dev = devices.ThreadDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://td-in")
    dev.bind_out("inproc://td-out")
    dev.start()
    src = ctx.socket(zmq.PUSH)
    dst = ctx.socket(zmq.PULL)
    src.connect("inproc://td-in")
    dst.connect("inproc://td-out")
    dst.rcvtimeo = 5000
    src.send(b"td")
    result["thread_device"] = dst.recv() == b"td"

    pdev = devices.ProcessDevice(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    pin = pdev.bind_in_to_random_port("tcp://127.0.0.1")
    pout = pdev.bind_out_to_random_port("tcp://127.0.0.1")
    pdev.start()
    psrc = ctx.socket(zmq.PUSH)
    pdst = ctx.socket(zmq.PULL)
    psrc.connect(f"tcp://127.0.0.1:{pin}")
    pdst.connect(f"tcp://127.0.0.1:{pout}")
    pdst.rcvtimeo = 5000
    psrc.send(b"pd")
    result["process_device"] = pdst.recv() == b"pd"
    pdev.launcher.terminate()
    pdev.join(5)
    result["process_exited"] = pdev.launcher.exitcode is not None

    for s in (src, dst, psrc, pdst):
        s.close(linger=0)
    ctx.term()  # stops the ThreadDevice
    result["thread_device_done"] = dev.done
    print(json.dumps(result))
""")


def test_monkey_patched_program(tmp_path):
    result = run_program(tmp_path, MONKEY_PATCHED_PROGRAM)
    assert result == {"thread_device": True, "process_device": True, "process_exited": True,
                      "thread_device_done": True}

"""The implementation under test, how concurrent tasks run on it, and the process's limits.

pyzmq blocks the OS thread, so its concurrent tasks are threads; greenmq and
zmq.green block cooperatively, so theirs are greenlets on the same hub (a thread
there would hide the very scheduling cost we want to measure).
"""

import importlib
import queue
import threading

IMPLEMENTATIONS = ("greenmq", "pyzmq", "zmq.green")
FLOOR = "gevent.socket"  # raw gevent TCP: the floor of the REQ/REP round trip, no ZeroMQ
UNLIMITED_NOFILE = 1 << 16  # the soft limit asked for when the hard one is "unlimited" (macOS)
MODULES = {"greenmq": "greenmq", "pyzmq": "zmq", "zmq.green": "zmq.green", FLOOR: "gevent.socket"}


class Runtime:
    """The implementation under test and the matching way to run a concurrent peer."""

    def __init__(self, name):
        self.name = name
        self.zmq = importlib.import_module(MODULES[name])
        self.green = name != "pyzmq"

    def describe(self):
        """Which library (and libzmq) actually ran, for the record kept with the figures."""
        zmq = self.zmq
        if self.name == FLOOR:
            import gevent

            return f"gevent {gevent.__version__} TCP sockets with TCP_NODELAY (no ZeroMQ)"
        if self.name == "greenmq":
            return f"greenmq {zmq.__version__} (pure Python; follows libzmq {zmq.zmq_version()})"
        described = f"pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}"
        if self.green:
            import gevent

            described += f", gevent {gevent.__version__}"
        return described

    def spawn(self, function, *args):
        """Start ``function(*args)`` concurrently; return something with ``join()``."""
        if self.green:
            import gevent

            return gevent.spawn(function, *args)
        return Task(function, args)

    def join(self, task):
        """Wait for a task from :meth:`spawn` and re-raise its exception, if any."""
        task.join()
        if task.exception is not None:
            raise task.exception

    def run_all(self, function, arg_tuples):
        """Run ``function(*args)`` for each tuple concurrently; return their results in order.

        The first failure is raised as soon as it happens, not when every task
        before it has finished: a failed echo client would otherwise leave the
        others (and the server waiting to stop it) blocked until the deadline.
        """
        if self.green:
            import gevent

            greenlets = [gevent.spawn(function, *args) for args in arg_tuples]
            gevent.joinall(greenlets, raise_error=True)
            return [greenlet.value for greenlet in greenlets]
        finished = queue.Queue()
        tasks = [Task(function, args, finished) for args in arg_tuples]
        for _ in tasks:
            failed = finished.get().exception
            if failed is not None:
                raise failed
        return [task.value for task in tasks]


class Task(threading.Thread):
    """A daemon thread that keeps its function's result or exception, like a greenlet does.

    Only blocking pyzmq uses threads; a thread's uncaught exception would
    otherwise only be printed, and the run would wait for a task that is gone.
    """

    def __init__(self, function, args, finished=None):
        super().__init__(daemon=True)
        self._call = (function, args)
        self._finished = finished
        self.value = self.exception = None
        self.start()

    def run(self):
        function, args = self._call
        try:
            self.value = function(*args)
        except BaseException as error:
            self.exception = error
        if self._finished is not None:
            self._finished.put(self)


def raise_nofile():
    """Raise RLIMIT_NOFILE's soft limit to the hard one; return ``[soft before, soft after]``.

    Thousands of connections need thousands of descriptors, and the usual soft
    limit (1024) is far below the usual hard one.  None where there are no
    such limits.  The orchestrator checks the hard limit before starting a run
    that could not fit in it.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limits
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, UNLIMITED_NOFILE)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # above what the kernel allows a process: keep the soft limit as it is
            pass
    return [soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]]


def rss_bytes(pid="self"):
    """The resident set size now (VmRSS) of this process, or of process ``pid``; None where /proc is not
    there (or the process has gone).

    Not ``getrusage``'s ``ru_maxrss``: that is the peak, and the benchmark wants
    what a set of connections adds, read before and after they come up.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None

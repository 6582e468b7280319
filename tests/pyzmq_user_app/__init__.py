"""A small program written as a pyzmq user writes one, for tests/test_monkey.py.

Nothing here knows about greenmq: it imports ``zmq`` and ``zmq.green`` and their submodules. The
tests run it through ``python -m greenmq run -m pyzmq_user_app`` and check that it ran on greenmq.
"""

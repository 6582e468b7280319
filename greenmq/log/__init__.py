"""Logging over ZeroMQ (pyzmq's ``zmq.log``): ``handlers.PUBHandler`` publishes log records, and
``python -m greenmq.log URL`` prints what one publishes."""

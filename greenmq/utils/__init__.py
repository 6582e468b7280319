"""Helpers that pyzmq keeps under ``zmq.utils``: Z85 text encoding (``z85``), socket monitor messages."""

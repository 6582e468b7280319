"""Helpers that pyzmq keeps under ``zmq.utils``: Z85 (``z85``), JSON (``jsonapi``), monitor events
(``monitor``), the zero-copy collector's stand-in (``garbage``), and the deprecated ``strtypes``,
``win32`` and ``stopwatch`` (``zmq.Stopwatch``)."""

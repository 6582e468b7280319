"""greenmq: ZeroMQ in pure Python on gevent. Metadata lives in setup.cfg."""

from setuptools import setup

setup()

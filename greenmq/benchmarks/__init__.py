"""The parts of ``python -m greenmq bench`` (entry point: :mod:`greenmq.bench`).

``worker`` holds the measured code and runs by path in its own process;
``runner`` starts workers under a deadline; ``report`` prints medians, ratios
and the issue's targets.
"""

"""``greenmq`` and ``python -m greenmq``: the command line, in :mod:`greenmq.cli`."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())

"""``python -m greenmq.bench``: the same as ``python -m greenmq bench``."""

import sys

from .cli import main

sys.exit(main())

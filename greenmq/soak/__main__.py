"""``python -m greenmq.soak``: the same as ``python -m greenmq soak``."""

import sys

from .cli import main

sys.exit(main())

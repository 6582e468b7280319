"""``python -m greenmq.fuzz``: see :mod:`greenmq.fuzz.cli`."""

import sys

from .cli import main

sys.exit(main())

"""``python -m moreward``: the same as the ``moreward`` command."""

import sys

from .cli import main

sys.exit(main())

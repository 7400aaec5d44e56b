"""``python -m scenarios.cli``: the same as the ``capplan`` command."""

import sys

from scenarios.cli import main

sys.exit(main())

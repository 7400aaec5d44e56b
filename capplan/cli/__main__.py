"""``python -m capplan.cli``: the same as the ``capplan`` command."""

from capplan.cli import run

run()

"""``python -m scenarios.cli``: the same as the ``capplan`` command."""

from scenarios.cli import run

run()

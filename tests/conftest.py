from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
BANK_LOG = DATA / "anonymous_bank_1999-02-01_14.tsv"
BANK_CALLS = DATA / "bank_calls_2003-03-03_2003-05-28.csv"


@pytest.fixture
def run_cli(capsys):
    """Run ``capplan`` in-process; returns (exit code, stdout, stderr)."""
    from scenarios.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["-q", *map(str, args)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run

"""The documentation cannot rot: the MkDocs site builds with --strict (no broken link, anchor
or docstring), docs/cli.md documents every command the installed `capplan` offers, and the
README stays a short front page whose links all point at files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_PAGE = ROOT / "docs" / "cli.md"
CAPPLAN = Path(sys.executable).with_name("capplan")


def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "reference" / "index.html").is_file()
    reference = (tmp_path / "reference" / "index.html").read_text(encoding="utf-8")
    assert "run_scenario" in reference, "the API reference lists no capplan functions"


def _help(*command: str) -> str:
    done = subprocess.run([str(CAPPLAN), *command, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _subcommands(help_text: str) -> list[str]:
    """The subcommands a `--help` lists: argparse indents each by four spaces under its
    positional COMMAND (or {a,b,...}) in "positional arguments:"; a plain positional such as
    `input` is indented by two, its help's continuation lines by more than four."""
    if "positional arguments:" not in help_text:
        return []
    positional = help_text.split("positional arguments:", 1)[1].split("\noptions:", 1)[0]
    return re.findall(r"^    ([a-z][a-z0-9-]*)(?:\s|$)", positional, re.M)


def _cli_commands() -> list[str]:
    """Every command and subcommand of the installed CLI, as "ingest", "scenario run", ...
    (the commands' --help run side by side: each is a fresh interpreter)."""
    names = _subcommands(_help())
    with ThreadPoolExecutor(max_workers=8) as pool:
        helps = list(pool.map(_help, names))
    commands = []
    for name, help_text in zip(names, helps, strict=True):
        commands.append(name)
        commands += [f"{name} {sub}" for sub in _subcommands(help_text)]
    return commands


@pytest.mark.skipif(not CAPPLAN.exists(), reason="the capplan command is not installed beside this Python")
def test_every_command_is_documented():
    commands = _cli_commands()
    assert "ingest" in commands and "scenario run" in commands, commands
    page = CLI_PAGE.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+ `capplan ([a-z0-9 -]+)`\s*$", page, re.M))
    missing = [command for command in commands if command not in headings]
    assert not missing, f"docs/cli.md has no section (## `capplan X`) for: {', '.join(missing)}"


def test_readme_is_a_short_front_page():
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines; the manual belongs in docs/"
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick_start, re.S).group(1)
    assert re.search(r"^make run\s+#", block, re.M) and re.search(r"^make test\s+#", block, re.M), block


def test_readme_links_point_at_files():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    broken = []
    for target in targets:
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (ROOT / path).exists():
            broken.append(target)
    assert not broken, f"README.md links to missing files: {broken}"

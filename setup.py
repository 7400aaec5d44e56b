"""Build hook: the demo's history files (data/) and scenarios (experiments/) travel inside the
wheel, as ``scenarios/bundled_files``, so an installed capplan runs ``capplan demo`` from any
folder. Everything else is configured in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"data": ("*.csv", "*.tsv", "README.md"), "experiments": ("**/*.yaml",)}


class BuildWithBundledFiles(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "scenarios" / "bundled_files"
        for folder, patterns in BUNDLED.items():
            for pattern in patterns:
                for source in sorted((ROOT / folder).glob(pattern)):
                    copy = target / source.relative_to(ROOT)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, copy)


setup(cmdclass={"build_py": BuildWithBundledFiles})

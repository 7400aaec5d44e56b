"""capplan's bundled files: the demo's history files (``data/``) and scenarios
(``experiments/``), found in the source checkout or, in an installed wheel, inside the package.

Scenario names are looked up in the working folder's ``experiments/scenarios`` when it has one
(a planner's own scenarios), else among the bundled ones, so ``capplan demo`` works from any
folder.
"""

from __future__ import annotations

from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]
PACKAGED_ROOT = Path(__file__).resolve().parents[1] / "bundled_files"  # filled by the wheel build (setup.py)
BUNDLED_ROOT = SOURCE_ROOT if (SOURCE_ROOT / "experiments" / "scenarios").is_dir() else PACKAGED_ROOT
BUNDLED_DATA = BUNDLED_ROOT / "data"
BUNDLED_SCENARIOS = BUNDLED_ROOT / "experiments" / "scenarios"


def scenario_dir() -> Path:
    """Where scenario names are looked up: ``./experiments/scenarios`` if there is one, else the bundled scenarios."""
    local = Path.cwd() / "experiments" / "scenarios"
    return local if local.is_dir() else BUNDLED_SCENARIOS

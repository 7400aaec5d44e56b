"""Forecast tables kept on disk so rerunning or varying a scenario never refits or reloads a model.

An entry is found by a digest of everything the forecast depends on (the store, the model
version's run, the history's content, the request), so a changed input or another store never
meets an old forecast. Entries are written to a temporary file and renamed: a reader sees a
whole table or none.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from forecasting.common.output_files import atomic_write


def digest(parts: dict) -> str:
    """A stable short digest of a mapping of plain values (its JSON with sorted keys)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def series_digest(series: pd.Series) -> str:
    """The content of a time series (timestamps, values and name), not the file it came from."""
    values = pd.util.hash_pandas_object(series, index=True).to_numpy()
    return hashlib.sha256(values.tobytes() + str(series.name).encode()).hexdigest()[:32]


class ForecastCache:
    """A folder of forecast tables (Parquet) with their metadata (JSON), one pair per key."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.parquet", self.folder / f"{key}.json"

    def get(self, key: str) -> tuple[pd.DataFrame, dict] | None:
        """The table and metadata stored under ``key``, or None. The metadata is written last,
        so its presence means the table is complete."""
        table_path, meta_path = self._paths(key)
        if not meta_path.is_file() or not table_path.is_file():
            return None
        try:
            return pd.read_parquet(table_path), json.loads(meta_path.read_text())
        except (OSError, ValueError):  # damaged by hand or by a full disk: recompute
            return None

    def put(self, key: str, table: pd.DataFrame, meta: dict) -> None:
        table_path, meta_path = self._paths(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(table_path, lambda path: table.to_parquet(path, index=False), "store")
        atomic_write(meta_path, lambda path: Path(path).write_text(json.dumps(meta, default=str)), "store")

"""A panel of per-queue forecasters: what ``train --queue each`` registers as ONE model.

A centre of a thousand queues would otherwise fill the registry with a thousand registered
models, each with its own champion alias to keep in step. The panel is one picklable object,
queue → fitted forecaster (and the name of the model each queue chose), logged and loaded
through the store's one path for forecasters (``RunLog.log_forecaster``,
``Store.load_forecaster``), so its files are checksummed and checked like any model's.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from forecasting.common.errors import InputError
from forecasting.models.base import Forecaster
from forecasting.store import CHAMPION, ModelVersion, Store

PANEL_MODEL = "panel"  # the model name a panel is registered with (each queue's own is inside)


class ForecasterPanel:
    """Each queue's fitted forecaster and the model name it chose; forecasts a queue with its own."""

    def __init__(self, forecasters: Mapping[str, Forecaster], names: Mapping[str, str]):
        self.forecasters = dict(forecasters)
        self.names = dict(names)

    @property
    def queues(self) -> list[str]:
        return list(self.forecasters)

    # what a stored model is checked by (model_contract): the same for every queue of one data set
    @property
    def calendar_(self):
        return next(iter(self.forecasters.values())).calendar_

    @property
    def distribution(self) -> str:
        return next(iter(self.forecasters.values())).distribution

    @property
    def history_end_(self) -> pd.Timestamp:
        return max(f.history_end_ for f in self.forecasters.values())

    def describe(self) -> str:
        """'3 queues: weekday_mean ×2, seasonal_naive ×1'."""
        counts = pd.Series(self.names).value_counts()
        return f"{len(self.forecasters)} queues: " + ", ".join(f"{m} ×{n}" for m, n in counts.items())

    def predict_queues(self, timestamps: pd.DatetimeIndex, queues: pd.Series) -> pd.DataFrame:
        """The forecast table (timestamp, queue, forecast and bands) for rows of (timestamp,
        queue), each from its queue's forecaster: what the registered pyfunc model answers."""
        queues = pd.Series(queues).astype(str).reset_index(drop=True)
        unknown = sorted(set(queues) - set(self.forecasters))
        if unknown:
            raise InputError(
                "queues this panel has no model of",
                column="queue",
                expected="one of " + ", ".join(self.queues[:10]),
                found=", ".join(unknown[:10]),
            )
        stamps = pd.DatetimeIndex(timestamps)
        parts = []
        for queue, rows in queues.groupby(queues, sort=False).groups.items():
            table = self.forecasters[queue].predict(stamps[rows]).reset_index()
            table.insert(1, "queue", queue)
            parts.append(table.set_index(pd.Index(rows)))
        return pd.concat(parts).sort_index().reset_index(drop=True)


def load_panel(store: Store, name: str, alias: str = CHAMPION) -> tuple[dict[str, Forecaster], ModelVersion]:
    """Each queue's forecaster of the panel ``name@alias``, and the version: for callers (the
    scenarios) that forecast queue by queue. A model that is not a panel is refused by name."""
    panel, _, version = store.load_forecaster(name, alias)
    if not isinstance(panel, ForecasterPanel):
        raise InputError(
            f"the model {name} version {version.version} forecasts one series, not each queue",
            option="registered_model",
            expected="a model trained with <<queue>> each",
            found=name,
        )
    return dict(panel.forecasters), version


def is_panel(model) -> bool:
    return isinstance(model, ForecasterPanel)

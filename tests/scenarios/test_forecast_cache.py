"""The forecast cache never hands one store's forecast to another, nor an old forecast to new data."""

import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.series import forecast_series
from forecasting.store import Store
from forecasting.training import train
from scenarios.inputs.spec import Scenario
from scenarios.runner import run_scenario
from tests.conftest import BANK_CALLS, FAST


def _train(store: Store, path, scale: float) -> None:
    result = ingest(path, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result) * scale
    train(store, history, result.calendar, str(path), "calls", ["weekday_mean"], n_origins=2, progress=False)


def test_two_stores_with_the_same_model_name_and_version_staff_from_their_own_forecast(tmp_path):
    a, b = Store.at(tmp_path / "a"), Store.at(tmp_path / "b")
    _train(a, BANK_CALLS, 1.0)
    _train(b, BANK_CALLS, 3.0)  # version 1 of "calls" too, trained on three times the calls
    s = Scenario.model_validate(
        {**FAST, "forecast": {"model": "champion", "registered_model": "calls", "horizon_days": 5}}
    )
    first_a = run_scenario(s, analysis=False, store=a)
    from_b = run_scenario(s, analysis=False, store=b)
    again_a = run_scenario(s, analysis=False, store=a)
    assert from_b.summary["volume_total"] == pytest.approx(3 * first_a.summary["volume_total"], rel=1e-6)
    assert from_b.summary["fte_total"] > 2 * first_a.summary["fte_total"]
    assert again_a.summary == first_a.summary


def test_a_changed_history_file_gets_a_fresh_forecast(tmp_path):
    store = Store.at(tmp_path / "store")
    path = tmp_path / "calls.csv"
    calls = pd.read_csv(BANK_CALLS)
    calls.to_csv(path, index=False)
    s = Scenario.model_validate({**FAST, "data": {**FAST["data"], "input": str(path)}})
    before = run_scenario(s, analysis=False, store=store)
    assert len(list(store.forecast_cache.folder.glob("*.parquet"))) == 1
    calls.assign(Calls=calls["Calls"] * 2).to_csv(path, index=False)
    after = run_scenario(s, analysis=False, store=store)
    assert after.summary["volume_total"] == pytest.approx(2 * before.summary["volume_total"], rel=1e-6)
    assert len(list(store.forecast_cache.folder.glob("*.parquet"))) == 2


def test_a_cached_forecast_is_checked_like_a_fresh_one(tmp_path):
    """A champion forecasting hourly cannot plan half-hours: said on the first run and on every
    run after it, when the forecast comes from the cache."""
    from forecasting.common.errors import InputError
    from tests.conftest import BANK_LOG

    store = Store.at(tmp_path / "store")
    result = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))
    train(
        store,
        forecast_series(result),
        result.calendar,
        str(BANK_LOG),
        "log",
        ["weekday_mean"],
        n_origins=2,
        progress=False,
    )
    s = Scenario.model_validate(
        {
            **FAST,
            "data": {"input": str(BANK_LOG), "format": "anonymous-bank"},
            "forecast": {
                "model": "champion",
                "registered_model": "log",
                "horizon_days": 3,
                "interval": "30min",
            },
            "queues": {"voice": {}},
        }
    )
    for _ in range(2):
        with pytest.raises(InputError, match=r"forecasts 1-hour slots.*planning interval of 1-hour"):
            run_scenario(s, analysis=False, store=store)
    hourly = s.model_copy(update={"forecast": s.forecast.model_copy(update={"interval": "60min"})})
    first, again = (run_scenario(hourly, analysis=False, store=store) for _ in range(2))
    # refused before any forecast was made: only the hourly plan's forecast is cached
    assert again.summary == first.summary and len(list(store.forecast_cache.folder.glob("*.parquet"))) == 1

"""The Forecast page's registered-version picker and its forecast-vs-actuals section, through
Streamlit's AppTest: the numbers shown are ``forecasting.accuracy``'s for the same inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.accuracy import Actuals, compare, model_forecast
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.model_contract import data_contract, load_checked
from forecasting.series import forecast_series
from forecasting.store import Store
from forecasting.training import train
from tests.apps.test_streamlit_app import by_label, open_page
from tests.conftest import BANK_CALLS

DAYS_SINCE = 14


@pytest.fixture(scope="module")
def older_models(tmp_path_factory):
    """A champion and a challenger trained on the bundled report without its last two weeks."""
    store = Store.at(tmp_path_factory.mktemp("accuracy-store"))
    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result)
    older = history[history.index < history.index.max().normalize() - pd.Timedelta(days=DAYS_SINCE - 1)]
    name = store.model_name(BANK_CALLS)
    for model in ("weekday_mean", "seasonal_naive_week"):
        train(
            store,
            older,
            result.calendar,
            str(BANK_CALLS),
            name,
            [model],
            n_origins=2,
            progress=False,
            contract=data_contract(result, "arrivals", None),
        )
    return store, result, name


@pytest.fixture
def models(older_models, monkeypatch):
    store = older_models[0]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    return older_models


def test_the_champion_against_the_days_since_its_training(models):
    store, result, name = models
    at = open_page("forecast")
    shown = next(d.value for d in at.dataframe if "level" in d.value.columns).set_index("level")
    version = store.model_version(name)
    model, _, _, fit = load_checked(store, name, data_contract(result, "arrivals", None), version)
    actuals = Actuals.from_ingest(result)
    made = model_forecast(model, fit, result, actuals)
    expected = compare(made.table, actuals, made.granularity, made.tables, made.history).summary.set_index(
        "level"
    )
    assert list(shown.index) == list(expected.index) == ["interval", "day", "week", "month"]
    assert shown.loc["month", "n"] == 0  # two weeks hold no whole month: listed, not scored
    for column in ("n", "mase", "wape", "bias", "coverage80", "coverage95"):
        assert shown[column].to_numpy() == pytest.approx(expected[column].to_numpy(), nan_ok=True)
    last = forecast_series(result).index.max().normalize()
    days = pd.date_range(last - pd.Timedelta(days=DAYS_SINCE - 1), last)
    weekdays = int((days.day_of_week < 5).sum())  # the bank is open Monday to Friday
    assert shown.loc["day", "n"] + shown.loc["day", "gap_in_the_actuals"] == weekdays
    assert any("WAPE" in m.value and "backtest" in m.value for m in at.markdown)
    by_label(at.button, f"Log as the live accuracy of {name} version 1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Logged: MLflow run" in s.value for s in at.success)
    at.run()
    assert any(c.value.startswith("Live accuracy of version 1") for c in at.caption)
    tags = store.version_tags(version)
    assert float(tags["capplan.live.wape"]) == pytest.approx(expected.loc["day", "wape"], rel=1e-3)


def test_a_registered_version_is_chosen_to_forecast_with(models):
    _, _, name = models
    at = open_page("forecast")
    assert any(c.value.startswith("Champion: weekday_mean (version 1)") for c in at.caption)
    by_label(at.selectbox, "Version").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith(f"{name} version 2: seasonal_naive_week (version 2)") for c in at.caption)


def test_a_forecast_file_is_asked_for(models):
    at = open_page("forecast")
    by_label(at.radio, "Forecast to check").set_value("A forecast file").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [d for d in at.dataframe if "level" in d.value.columns]  # nothing scored before an upload

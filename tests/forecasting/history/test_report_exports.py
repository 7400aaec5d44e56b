"""Real report exports: a service-level column over handled calls, and columns nobody mapped."""

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpis import kpi_table


@pytest.fixture
def daily_report(tmp_path):
    """Three months of a daily ACD export: offered, handled, abandoned, and SL as the export
    measures it, the share of *handled* calls answered within 20 s."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2021-10-01", "2021-12-31")
    offered = rng.poisson(400, len(days))
    handled = (offered * rng.uniform(0.7, 0.8, len(days))).astype(int)
    in_target = (handled * rng.uniform(0.45, 0.6, len(days))).round()
    frame = pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Offered": offered,
            "Handled": handled,
            "Abandoned": offered - handled,
            "SL": in_target / handled,
            "Agents": 12,
        }
    )
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    return path, frame.assign(in_target=in_target, month=days.to_period("M"))


def _options(**kw) -> IngestOptions:
    cols = ("Offered=arrivals", "Handled=handled", "SL=service_level")
    return IngestOptions(time_col="Date", value_cols=cols, **kw)


def test_service_level_over_handled_calls_is_rebased_on_arrivals(daily_report):
    path, truth = daily_report
    result = ingest(path, _options(sl_denominator="handled"))
    table = kpi_table(result, "month").set_index("period_start")
    by_month = truth.groupby("month")[["in_target", "Handled", "Offered"]].sum()
    for month, row in by_month.iterrows():
        got = table.loc[month.start_time]
        assert got["service_level"] == pytest.approx(row["in_target"] / row["Offered"], rel=1e-9)
        assert got["service_level_of_handled"] == pytest.approx(row["in_target"] / row["Handled"], rel=1e-9)
    note = " ".join(result.summary()["warnings"])
    assert "share of handled contacts" in note and "over arrivals" in note


def test_read_over_arrivals_the_other_reading_is_said(daily_report):
    path, truth = daily_report
    result = ingest(path, _options())
    table = kpi_table(result, "month")
    assert "service_level_of_handled" not in table
    month = truth[truth["month"] == pd.Period("2021-11", "M")]
    weighted = (month["SL"] * month["Offered"]).sum() / month["Offered"].sum()
    assert table.set_index("period_start").loc["2021-11-01", "service_level"] == pytest.approx(weighted)
    note = " ".join(result.summary()["warnings"])
    assert "service-level denominator to 'handled'" in note


def test_columns_nobody_mapped_are_named(daily_report):
    path, _ = daily_report
    note = " ".join(ingest(path, _options()).summary()["warnings"])
    assert "columns not read: Abandoned, Agents" in note and "value column COLUMN=FIELD" in note


def test_handled_denominator_needs_the_handled_column(daily_report):
    path, _ = daily_report
    with pytest.raises(InputError, match="handled") as err:
        ingest(
            path,
            IngestOptions(
                time_col="Date", value_cols=("Offered=arrivals", "SL=service_level"), sl_denominator="handled"
            ),
        )
    assert err.value.option == "sl_denominator"


def test_the_cli_takes_the_denominator(run_cli, daily_report, tmp_path):
    path, _ = daily_report
    code, out, err = run_cli(
        "kpis",
        "--input",
        path,
        "--time-col",
        "Date",
        "--value-col",
        "Offered=arrivals",
        "--value-col",
        "Handled=handled",
        "--value-col",
        "SL=service_level",
        "--sl-denominator",
        "handled",
        "--period",
        "month",
        "--out",
        tmp_path / "k",
    )
    assert code == 0, err
    assert "service_level_of_handled" in out and "warning: service level read as a share of handled" in out

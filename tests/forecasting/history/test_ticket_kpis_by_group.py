"""KPIs of a ticket export per priority, team and category (``capplan kpis --by``): each
group's numbers recomputed here with pandas from the generated tickets' truth."""

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpi_review import review_markdown
from forecasting.history.kpis import BLANK_GROUP, all_label, groupings, kpi_report, kpi_table
from forecasting.history.targets import KpiTargets
from tests.conftest import BANK_CALLS
from tests.forecasting.history.ticket_export import ingest_export, make_tickets

EXPORTED = pd.Timestamp("2024-06-28 18:00")
GROUPS = ["priority", "team", "category"]


@pytest.fixture(scope="module")
def tickets(tmp_path_factory):
    truth = make_tickets(end=str(EXPORTED))
    folder = tmp_path_factory.mktemp("by_group")
    return truth, ingest_export(truth, folder, f"exported_at: {EXPORTED}\n")


def textbook_median(durations, observed) -> float:
    """Kaplan-Meier median by the textbook loop: the first event time where S <= 0.5."""
    s = 1.0
    for t in sorted(set(np.asarray(durations)[np.asarray(observed)])):
        at_risk = int((durations >= t).sum())
        deaths = int(((durations == t) & observed).sum())
        s *= 1 - deaths / at_risk
        if s <= 0.5 + 1e-9:
            return t
    return np.nan


def keyed(truth: pd.DataFrame, by: str, freq: str = "M") -> list[pd.Series]:
    return [
        truth["created"].dt.to_period(freq).dt.start_time.rename("period_start"),
        truth[by].replace("", BLANK_GROUP).rename(by),
    ]


@pytest.mark.parametrize("by", GROUPS)
def test_counts_times_and_agents_per_group_match_pandas(tickets, by):
    truth, result = tickets
    table = kpi_table(result, "month", by=by)
    total = all_label(by)
    got = table[table[by] != total].set_index(["period_start", by]).sort_index()
    keys = keyed(truth, by)
    grouped = truth.groupby(keys)
    expected = pd.DataFrame(
        {
            "arrivals": grouped.size(),
            "handled": grouped["resolved"].sum(),
            "first_response_mean_s": grouped["first_response_s"].mean(),
            "resolution_p90_s": grouped["resolution_s"].quantile(0.9),
            "resolved_tickets_per_agent": grouped["resolved"].sum()
            / truth[truth["resolved"]].groupby(keys)["agent"].nunique(),
        }
    ).sort_index()
    assert got.index.equals(expected.index)  # every group, blank cells included, none dropped
    for column in expected:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-9, err_msg=column)
    assert got["arrivals"].sum() == len(truth)
    # the total row is the ungrouped month
    totals = table[table[by] == total].set_index("period_start")["arrivals"]
    np.testing.assert_array_equal(totals, truth.groupby(keys[0]).size().reindex(totals.index))
    assert "contacts_per_agent" not in table  # a ticket export counts resolved tickets: named so


@pytest.mark.parametrize("by", GROUPS)
def test_censored_median_first_response_per_group(tickets, by):
    truth, result = tickets
    table = kpi_table(result, "quarter", by=by).set_index(["period_start", by])
    age = (EXPORTED - truth["created"]).dt.total_seconds()
    duration = truth["first_response_s"].fillna(age).to_numpy()
    observed = truth["first_response_s"].notna().to_numpy()
    for (start, group), rows in truth.groupby(keyed(truth, by, "Q")).groups.items():
        at = truth.index.get_indexer(rows)
        expected = textbook_median(duration[at], observed[at])
        np.testing.assert_allclose(table.loc[(start, group), "first_response_median_s"], expected)


def test_backlog_per_team_at_month_ends(tickets):
    truth, result = tickets
    table = kpi_table(result, "month", by="team").set_index(["period_start", "team"])
    closed = truth["created"] + pd.to_timedelta(truth["resolution_s"], unit="s")
    for start in pd.date_range("2024-01-01", "2024-06-01", freq="MS"):
        end = min(start + pd.offsets.MonthBegin(1), EXPORTED)
        open_then = (truth["created"] < end) & ~(closed < end)  # unresolved: NaT is never < end
        expected = open_then.groupby(truth["team"]).sum()
        for team, count in expected.items():
            assert table.loc[(start, team), "backlog"] == count, (start, team)
        assert table.loc[(start, "all teams"), "backlog"] == open_then.sum()


def test_report_and_review_by_priority_take_the_general_targets(tickets):
    _, result = tickets
    targets = KpiTargets.model_validate(
        {
            "resolution": {"urgent": "4h", "default": "48h"},
            "targets": {"resolution_in_sla": {"min": 0.8}, "first_response_mean_s": {"max": 3600}},
            "queues": {"Email": {"first_response_mean_s": {"max": 60}}},  # a queue's: not a priority's
        }
    )
    report = kpi_report(result, targets, ("quarter", "month"), by="priority")
    assert "priority" in report and "queue" not in report
    assert set(report["priority"]) == {"Low", "High", "Urgent", "all priorities"}
    frt = report[report["kpi"] == "first_response_mean_s"]
    assert (frt["target"] == "<= 3600").all()
    np.testing.assert_array_equal(frt["status"] == "met", frt["value"] <= 3600)
    sla = report[report["kpi"] == "resolution_in_sla"]
    np.testing.assert_array_equal(sla["status"] == "met", sla["value"] >= 0.8)
    review = review_markdown(report, "quarter", "tickets.csv", "test")
    assert "| KPI | target | all priorities | High | Low | Urgent |" in review
    assert "| priority | period end | open tickets |" in review


def test_groupings_offered_are_the_mapped_columns(tickets):
    _, result = tickets
    assert groupings(result) == ["queue", "channel", "priority", "team", "category"]


def test_a_grouping_the_data_lacks_is_an_input_error():
    intervals = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    assert groupings(intervals) == ["queue"]
    with pytest.raises(InputError) as raised:
        kpi_table(intervals, "month", by="priority")
    message = str(raised.value)
    assert "priority" in message and "queues only" in message

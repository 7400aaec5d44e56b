"""A ticket export's periods are complete when the export's time span covers them (not when
their last day has a ticket); a channel named like phone whose tickets are answered after
minutes gets no voice service level; handled per agent is named resolved tickets per agent."""

import numpy as np
import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpi_review import review_markdown
from forecasting.history.kpis import ALL_QUEUES, covered_days, kpi_report, kpi_table
from forecasting.history.targets import load_targets
from tests.conftest import BANK_LOG
from tests.forecasting.history.ticket_export import ingest_export, make_tickets

LAST_TICKET = "2024-06-28 18:00"  # a Friday: no ticket is created on 29 or 30 June
Q2 = pd.Timestamp("2024-04-01")


def quarter_partial(result) -> dict:
    table = kpi_table(result, "quarter")
    rows = table[table["queue"] == ALL_QUEUES].set_index("period_start")
    return rows["partial"].to_dict()


@pytest.mark.parametrize(
    ("exported_at", "q2_complete"),
    [
        ("2024-07-01 00:00", True),
        ("2024-07-03 09:30", True),
        ("2024-06-30 12:00", False),
        (LAST_TICKET, False),
    ],
)
def test_the_last_quarter_is_complete_when_the_export_runs_past_it(tmp_path, exported_at, q2_complete):
    truth = make_tickets(end=LAST_TICKET, exported_at=exported_at)
    assert truth["created"].max() < pd.Timestamp("2024-06-29")  # its last day has no ticket
    result = ingest_export(truth, tmp_path, f"exported_at: {exported_at}\n")
    day_before = (pd.Timestamp(exported_at).normalize() - pd.Timedelta(days=1)).date()
    assert covered_days(result)[1] == max(day_before, truth["created"].max().date())
    partial = quarter_partial(result)
    assert partial == {pd.Timestamp("2024-01-01"): False, Q2: not q2_complete}
    review = review_markdown(
        kpi_report(result, load_targets(), ("quarter", "month")), "quarter", "t.csv", "defaults"
    )
    title = review.splitlines()[0]
    if q2_complete:
        assert title == "# KPI review: quarter of 2024-04-01 to 2024-06-30"
    else:
        assert title == "# KPI review: quarter of 2024-01-01 to 2024-03-31"


def test_without_exported_at_the_export_reaches_its_latest_time(tmp_path):
    """No exported_at: a ticket resolved on 1 July says the export was taken after June."""
    truth = make_tickets(end=LAST_TICKET, exported_at="2024-07-02 12:00")
    latest = (truth["created"] + pd.to_timedelta(truth["resolution_s"], unit="s")).max()
    assert latest >= pd.Timestamp("2024-07-01")  # the premise: some resolution falls in July
    result = ingest_export(truth, tmp_path)
    assert not quarter_partial(result)[Q2]


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    truth = make_tickets(end=LAST_TICKET, responses={"Email": 90.0, "Chat": 0.4, "Phone": 25.0})
    return truth, ingest_export(truth, tmp_path_factory.mktemp("channels"))


def test_phone_tickets_answered_after_minutes_get_no_voice_service_level(channels):
    truth, result = channels
    table = kpi_table(result, "month").set_index(["queue", "period_start"])
    month = truth["created"].dt.to_period("M").dt.start_time
    for channel in ("Phone", "Email"):
        rows = table.loc[channel]
        assert rows["service_level"].isna().all() and rows["asa"].isna().all(), channel
    chat = truth["channel"] == "Chat"
    within = chat & (truth["first_response_s"] <= 20)
    expected = within.groupby(month).sum() / chat.groupby(month).sum()
    np.testing.assert_allclose(table.loc["Chat", "service_level"], expected.to_numpy(), rtol=1e-12)
    # all queues: the chats' service level, never diluted (or zeroed) by the phone tickets
    np.testing.assert_allclose(table.loc[ALL_QUEUES, "service_level"], expected.to_numpy(), rtol=1e-12)
    warnings = " ".join(result.summary()["warnings"])
    assert "Phone tickets are first answered after a median" in warnings and "realtime_channels" in warnings
    assert "Chat tickets" not in warnings


def test_a_mapping_that_names_real_time_channels_is_followed(channels, tmp_path):
    truth, _ = channels
    result = ingest_export(truth, tmp_path, "realtime_channels: [Phone]\n")
    table = kpi_table(result, "quarter").set_index(["queue", "period_start"])
    phone = truth["channel"] == "Phone"
    quarter = truth["created"].dt.to_period("Q").dt.start_time
    expected = (phone & (truth["first_response_s"] <= 20)).groupby(quarter).sum() / phone.groupby(
        quarter
    ).sum()
    np.testing.assert_allclose(table.loc["Phone", "service_level"], expected.to_numpy())
    assert table.loc["Chat", "service_level"].isna().all()  # named: only Phone
    assert not any("tickets are first answered" in w for w in result.summary()["warnings"])


def test_a_call_log_keeps_contacts_per_agent(tmp_path):
    result = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))
    table = kpi_table(result, "week")
    assert "contacts_per_agent" in table and "resolved_tickets_per_agent" not in table
    f = result.contacts.frame
    week = f["arrival_time"].dt.to_period("W-SUN").dt.start_time
    handled = f["handled"].groupby(week).sum() / f["agent_id"].where(f["handled"]).groupby(week).nunique()
    rows = table[table["queue"] == ALL_QUEUES].set_index("period_start")
    np.testing.assert_allclose(rows["contacts_per_agent"], handled.reindex(rows.index))

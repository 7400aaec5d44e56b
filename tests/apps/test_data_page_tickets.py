"""The Data & KPIs page on a ticket export (as if uploaded): its trend chart opens on ticket
KPIs, not a voice service level; targets are written in the KPIs' units; the KPIs can be
grouped by the mapped priority, team or category."""

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from forecasting.common.vocabulary import format_value, label
from forecasting.history.kpis import all_label, kpi_table
from tests.apps.conftest import APP
from tests.forecasting.history.ticket_export import ingest_export, make_tickets


@pytest.fixture(scope="module")
def tickets(tmp_path_factory):
    truth = make_tickets(end="2024-06-28 18:00")
    return ingest_export(truth, tmp_path_factory.mktemp("page_tickets"), "exported_at: 2024-07-01 00:00\n")


def open_with(result) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["source_choice"] = "Upload a file"
    at.session_state["uploaded"] = result  # what the page keeps after an upload
    at.run()
    at.switch_page("pages/data_kpis.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def kpi_grid(at: AppTest) -> pd.DataFrame:
    """The KPI table, whether shown static (short) or as a grid (apps.app_support.show_table)."""
    from tests.apps.test_streamlit_app import shown_tables

    return next(t for t in shown_tables(at) if "target" in t.columns)


def test_a_ticket_upload_opens_on_ticket_kpis_in_their_units(empty_store, tickets):
    at = open_with(tickets)
    trend = next(m for m in at.multiselect if m.label == "Trend")
    assert trend.value and "service_level" not in trend.value
    assert set(trend.value) <= {
        "first_response_in_sla",
        "resolution_in_sla",
        "first_response_median_s",
        "arrivals",
    }
    kpis = kpi_grid(at)
    assert kpis.loc[label("first_response_mean_s", with_side=False), "target"] == "≤ 10.0 min"
    assert not kpis["target"].str.contains("<=|>=").any()


def test_the_page_groups_a_ticket_export_by_priority(empty_store, tickets):
    at = open_with(tickets)
    by = next(s for s in at.selectbox if s.label == "KPIs by")
    assert by.options == ["queue", "channel", "priority", "team", "category"]
    by.set_value("priority").run()
    assert not at.exception, [e.value for e in at.exception]
    group = next(s for s in at.selectbox if s.label == "Priority")
    assert group.value == all_label("priority") and "Urgent" in group.options
    group.set_value("Urgent").run()
    weekly = kpi_table(tickets, "week", by="priority")
    first = weekly[weekly["priority"] == "Urgent"].sort_values("period_start").iloc[0]
    column = f"{pd.Timestamp(first['period_start']):%Y-%m-%d}" + (" *" if first["partial"] else "")
    shown = kpi_grid(at)
    assert shown.loc["arrivals", column] == format_value("arrivals", first["arrivals"])

"""Generic contact logs with a mapping file: ticket KPIs checked against plain pandas."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpis import kpi_report, kpi_table
from forecasting.history.targets import load_targets

MAPPING = """
columns:
  contact_id: Ticket
  arrival_time: Created
  answer_time: FirstReply
  end_time: Solved
  channel: Channel
  customer_id: Customer
  agent_id: Agent
  csat: Rating
  nps: Recommend
  ces: Effort
sep: ";"
time_format: "%d/%m/%Y %H:%M"
"""


@pytest.fixture(scope="module")
def tickets(tmp_path_factory) -> tuple[pd.DataFrame, object]:
    rng = np.random.default_rng(7)
    n = 600
    created = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(
        np.sort(rng.uniform(0, 27 * 24 * 60, n)).round(), unit="min"
    )
    first = created + pd.to_timedelta(rng.exponential(25, n).round() + 1, unit="min")
    solved = first + pd.to_timedelta(rng.exponential(90, n).round(), unit="min")
    frame = pd.DataFrame(
        {
            "Ticket": [f"T{i}" for i in range(n)],
            "Created": created,
            "FirstReply": first,
            "Solved": solved,
            "Channel": rng.choice(["email", "chat"], n),
            "Customer": rng.integers(1, 150, n).astype(str),
            "Agent": rng.choice(list("ABCDE"), n),
            "Rating": rng.choice([1, 2, 3, 4, 5, np.nan], n),
            "Recommend": rng.choice([*range(11), np.nan], n),
            "Effort": rng.choice([*range(1, 8), np.nan], n),
        }
    )
    folder = tmp_path_factory.mktemp("tickets")
    text = frame.copy()
    for c in ("Created", "FirstReply", "Solved"):
        text[c] = frame[c].dt.strftime("%d/%m/%Y %H:%M")
    text.to_csv(folder / "tickets.csv", sep=";", index=False)
    (folder / "mapping.yaml").write_text(MAPPING)
    result = ingest(folder / "tickets.csv", IngestOptions(mapping=folder / "mapping.yaml", interval="day"))
    return frame, result


def test_all_rows_used_and_per_day_counts(tickets):
    frame, result = tickets
    assert result.ledger.counts() == {
        "rows_read": 600,
        "rows_used": 600,
        "rows_rejected": 0,
        "rows_ignored": 0,
    }
    expected = frame.groupby([frame["Created"].dt.floor("D"), "Channel"]).size()
    t = result.intervals.set_index(["interval_start", "queue"])["arrivals"]
    np.testing.assert_array_equal(t.loc[expected.index].to_numpy(), expected.to_numpy())


def test_response_and_resolution_times(tickets):
    frame, result = tickets
    frt = (frame["FirstReply"] - frame["Created"]).dt.total_seconds()
    res = (frame["Solved"] - frame["Created"]).dt.total_seconds()
    key = [frame["Created"].dt.floor("D"), frame["Channel"]]
    t = result.intervals.set_index(["interval_start", "queue"])
    idx = frt.groupby(key).mean().index
    np.testing.assert_allclose(t.loc[idx, "first_response_mean_s"], frt.groupby(key).mean())
    np.testing.assert_allclose(t.loc[idx, "first_response_p90_s"], frt.groupby(key).quantile(0.9))
    np.testing.assert_allclose(t.loc[idx, "resolution_p90_s"], res.groupby(key).quantile(0.9))


def test_weekly_survey_kpis(tickets):
    frame, result = tickets
    week = frame["Created"].dt.to_period("W-SUN").dt.start_time
    wide = kpi_table(result, "week").query("queue == 'all queues'").set_index("period_start")
    csat = frame.groupby(week)["Rating"].apply(lambda r: (r.dropna() >= 4).mean())
    nps = frame.groupby(week)["Recommend"].apply(
        lambda r: 100 * ((r.dropna() >= 9).mean() - (r.dropna() <= 6).mean())
    )
    ces = frame.groupby(week)["Effort"].apply(lambda r: (r.dropna() >= 5).mean())
    agents = frame.groupby(week)["Agent"].nunique()
    np.testing.assert_allclose(wide.loc[csat.index, "csat"], csat)
    np.testing.assert_allclose(wide.loc[nps.index, "nps"], nps)
    np.testing.assert_allclose(wide.loc[ces.index, "ces"], ces)
    np.testing.assert_allclose(
        wide.loc[agents.index, "contacts_per_agent"], frame.groupby(week).size() / agents
    )


def test_repeat_contacts_within_seven_days(tickets):
    frame, result = tickets
    f = frame.sort_values(["Customer", "Created"])
    gap = f.groupby("Customer")["Created"].diff()
    repeats = (gap <= pd.Timedelta(days=7)).sum()
    wide = kpi_table(result, "quarter").query("queue == 'all queues'")
    assert wide["repeat_contacts"].sum() == repeats
    np.testing.assert_allclose(wide["contacts_per_issue"].iloc[0], len(f) / (len(f) - repeats))


def test_targets_marked_met_or_missed(tickets, tmp_path):
    _, result = tickets
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  csat: {min: 0.3}\nqueues:\n  chat: {csat: {min: 0.99}}\n")
    report = kpi_report(result, load_targets(path), ["month"])
    csat = report[report["kpi"] == "csat"].set_index("queue")
    assert set(csat.loc[["email"], "status"]) == {"met"} and set(csat.loc[["chat"], "status"]) == {"missed"}
    assert (report.loc[report["kpi"] == "aht", "status"] == "").all()  # no target set in this file
    default = kpi_report(result, load_targets(), ["month"])
    assert set(default.loc[default["kpi"] == "first_response_mean_s", "target"]) == {"<= 600"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("targets:\n  happiness: {min: 1}\n", "targets.happiness"),
        ("targets:\n  csat: {above: 1}\n", "targets.csat.above"),
        ("targets:\n  service_level: {min: 5}\n", "targets.service_level.min.*a share from 0 to 1"),
        ("targets:\n  service_level: {min: .nan}\n", "targets.service_level.min.*finite"),
        ("targets:\n  asa: {max: .inf}\n", "targets.asa.max.*finite"),
        ("queues:\n  chat: {nps: {min: 200}}\n", "queues.chat.nps.min.*-100 to 100"),
        ("targets:\n  asa: {min: 30, max: 10}\n", "targets.asa.*min above max"),
    ],
)
def test_bad_targets_file_names_the_key(tmp_path, text, fragment):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment):
        load_targets(path)


def test_bad_mapping_key_is_named(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("columns:\n  arival_time: Created\n")
    with pytest.raises(
        InputError, match=r"key 'columns\.arival_time': unknown key: expected a canonical field: contact_id"
    ):
        ingest(tmp_path / "x.csv", IngestOptions(mapping=path))


ROW = st.tuples(
    st.sampled_from(["c1", "c2", "c3", "", "c4"]),
    st.sampled_from(["2024-01-08 09:00:00", "2024-01-08 10:30:00", "", "2024-01-09 11:00:00"]),
    st.sampled_from(["30", "-5", "abc", "", "120"]),
    st.sampled_from(["0", "1", "maybe", ""]),
    st.sampled_from(["", "1", "5", "9"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=25))
def test_accounting_always_balances(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("prop") / "log.csv"
    lines = ["contact_id,arrival_time,handle_seconds,abandoned,csat"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    try:
        result = ingest(path, IngestOptions())
    except InputError as exc:
        assert "no usable rows" in str(exc) or "empty file" in str(exc)
        return
    c = result.ledger.counts()
    assert c["rows_read"] == c["rows_used"] + c["rows_rejected"] + c["rows_ignored"]
    assert c["rows_used"] == result.intervals["arrivals"].sum()
    assert len(result.ledger.rejected_rows()) == c["rows_rejected"]

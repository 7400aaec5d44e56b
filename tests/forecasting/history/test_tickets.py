"""Helpdesk ticket exports: durations in any unit, status mapping, censoring-aware response and
resolution (against an independent Kaplan-Meier written here), SLAs by channel × priority, the
export's own SLA flags and the backlog at period ends, all on a generated export whose true
times are known."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpis import ALL_QUEUES, kpi_report, kpi_table
from forecasting.history.targets import KpiTargets, load_targets

EXPORTED = pd.Timestamp("2024-07-01 00:00")
MAPPING = """
columns:
  contact_id: Ticket ID
  arrival_time: Created
  channel: Channel
  priority: Priority
  agent_id: Agent
  first_response_seconds: {column: First Response (min), unit: minutes}
  resolution_seconds: {column: Resolution (h), unit: hours}
  handle_seconds: Work Time
  status: {column: Status, resolved: [Resolved, closed], open: [In Progress, Escalated], ignore: [Spam]}
  csat: CSAT
  first_response_sla_met: FRT SLA
  resolution_sla_met: Resolution SLA
exported_at: 2024-07-01 00:00
"""
TARGETS = """
first_response: {email: 4h, chat: 2 min, phone: {critical: 30s, default: 1 min}, default: 1h}
resolution: {critical: 4h, email: {low: 72h}, default: 48h}
targets:
  first_response_in_sla: {min: 0.9}
  resolution_in_sla: {min: 0.8}
"""


def sla_of(kind: str, channel: str, priority: str) -> float:
    """The targets above, written out by hand: the independent lookup."""
    if kind == "first_response":
        if channel == "Phone":
            return 30.0 if priority == "Critical" else 60.0
        return {"Email": 4 * 3600.0, "Chat": 120.0}.get(channel, 3600.0)
    if channel == "Email" and priority == "Low":
        return 72 * 3600.0
    return 4 * 3600.0 if priority == "Critical" else 48 * 3600.0


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """2,000 tickets over six months; the truth (every ticket's times) kept beside the file."""
    rng = np.random.default_rng(11)
    n = 2000
    created = (EXPORTED - pd.Timedelta(days=182)) + pd.to_timedelta(
        np.sort(rng.uniform(0, 182 * 86400, n)), unit="s"
    ).round("min")
    channel = rng.choice(["Email", "Chat", "Phone"], n, p=[0.6, 0.3, 0.1])
    priority = rng.choice(["Low", "High", "Critical"], n, p=[0.5, 0.4, 0.1])
    scale = np.select([channel == "Email", channel == "Chat"], [150.0, 1.5], 0.8)  # minutes
    response = np.round(rng.exponential(scale), 2) + 0.01
    resolution = np.round(rng.lognormal(np.log(24), 1.0, n), 2)  # hours
    responded_at = created + pd.to_timedelta(response, unit="min")
    resolved_at = created + pd.to_timedelta(resolution, unit="h")
    resolved = resolved_at <= EXPORTED
    responded = responded_at <= EXPORTED
    status = np.where(
        resolved, rng.choice(["Resolved", "closed "], n), rng.choice(["In Progress", "Escalated"], n)
    )
    work = rng.integers(60, 4 * 3600, n)
    truth = pd.DataFrame(
        {
            "id": [f"T{i}" for i in range(n)],
            "created": created,
            "channel": channel,
            "priority": priority,
            "first_response_s": np.where(responded, response * 60, np.nan),
            "resolution_s": np.where(resolved, resolution * 3600, np.nan),
            "resolved": resolved,
            "work_s": work,
        }
    )
    frt_flag = np.where(
        responded, np.where(response * 60 <= 3600, "Yes", "No"), ""
    )  # the export: 1 h for all
    res_flag = np.where(resolved, np.where(resolution <= 48, "Yes", "No"), "")
    frame = pd.DataFrame(
        {
            "Ticket ID": truth["id"],
            "Created": created.strftime("%d.%m.%Y %H:%M"),
            "Channel": channel,
            "Priority": priority,
            "Agent": rng.choice(list("ABCDEF"), n),
            "First Response (min)": np.where(responded, response, np.nan),
            "Resolution (h)": np.where(resolved, resolution, np.nan),
            "Work Time": [f"{w // 3600}:{w % 3600 // 60:02d}:{w % 60:02d}" for w in work],
            "Status": status,
            "CSAT": rng.choice([1, 2, 3, 4, 5, np.nan], n),
            "FRT SLA": frt_flag,
            "Resolution SLA": res_flag,
        }
    )
    extra = frame.iloc[:3].copy()
    extra["Ticket ID"] = ["X1", "X2", "X3"]
    extra["Status"] = ["Pending", "Spam", "spam"]  # Pending is in no list: rejected
    frame = pd.concat([frame, extra], ignore_index=True)
    folder = tmp_path_factory.mktemp("helpdesk")
    frame.to_csv(folder / "tickets.csv", index=False)
    mapping = folder / "mapping.yaml"
    mapping.write_text(MAPPING.replace("exported_at", "time_format: '%d.%m.%Y %H:%M'\nexported_at"))
    (folder / "targets.yaml").write_text(TARGETS)
    result = ingest(folder / "tickets.csv", IngestOptions(mapping=mapping, interval="day"))
    return truth, result, folder


def loop_kaplan_meier(durations, observed):
    """Textbook Kaplan-Meier: distinct event times, d deaths over n at risk (censored at t
    still at risk at t). Returns (times, survival after each)."""
    times, survival, s = [], [], 1.0
    for t in sorted(set(d for d, e in zip(durations, observed, strict=True) if e)):
        at_risk = sum(1 for d in durations if d >= t)
        deaths = sum(1 for d, e in zip(durations, observed, strict=True) if e and d == t)
        s *= 1 - deaths / at_risk
        times.append(t)
        survival.append(s)
    return times, survival


def km_share_within(durations, observed, limit):
    times, survival = loop_kaplan_meier(durations, observed)
    before = [s for t, s in zip(times, survival, strict=True) if t <= limit]
    return 1 - (before[-1] if before else 1.0)


def km_median(durations, observed):
    times, survival = loop_kaplan_meier(durations, observed)
    # S(t) = 0.5 exactly reached is the median; products of fractions land a hair either side
    return next((t for t, s in zip(times, survival, strict=True) if s <= 0.5 + 1e-9), np.nan)


def clocks(truth: pd.DataFrame, kind: str):
    """Each ticket's time and whether it was seen: open ones at their age at the export."""
    age = (EXPORTED - truth["created"]).dt.total_seconds()
    seen = truth[f"{kind}_s"]
    return seen.fillna(age).to_numpy(), seen.notna().to_numpy()


def test_units_and_hms_read_as_stated(export):
    truth, result, _ = export
    f = result.contacts.frame.set_index("contact_id").loc[truth["id"]]
    np.testing.assert_allclose(
        f["first_response_seconds"].fillna(-1), truth["first_response_s"].fillna(-1), atol=1e-6
    )
    np.testing.assert_allclose(
        f["resolution_seconds"].fillna(-1), truth["resolution_s"].fillna(-1), atol=1e-6
    )
    np.testing.assert_allclose(f["handle_seconds"], truth["work_s"])
    month = kpi_table(result, "month").query("queue == @ALL_QUEUES").set_index("period_start")
    expected = truth.groupby(truth["created"].dt.to_period("M").dt.start_time)["first_response_s"].mean()
    np.testing.assert_allclose(month["first_response_mean_s"], expected.reindex(month.index))


def test_minutes_without_a_unit_would_read_as_seconds(export, tmp_path):
    """The issue's silent verdict: the same column mapped without its unit reads 60× faster."""
    _, result, folder = export
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        (folder / "mapping.yaml")
        .read_text()
        .replace("{column: First Response (min), unit: minutes}", "First Response (min)")
    )
    seconds = ingest(folder / "tickets.csv", IngestOptions(mapping=plain, interval="day"))
    a = kpi_table(result, "quarter").query("queue == @ALL_QUEUES")["first_response_mean_s"].to_numpy()
    b = kpi_table(seconds, "quarter").query("queue == @ALL_QUEUES")["first_response_mean_s"].to_numpy()
    np.testing.assert_allclose(a, 60 * b)
    report = kpi_report(result, load_targets(), ["quarter"])
    rows = report[(report["kpi"] == "first_response_mean_s") & (report["queue"] == ALL_QUEUES)]
    assert set(rows["status"]) == {"missed"}  # 10-minute target; email answers take hours


def test_status_mapping_handled_open_and_rejected(export):
    truth, result, _ = export
    rejected = result.ledger.rejected_rows()
    assert list(rejected["reason"].str.startswith("status not in the mapping")) == [True]
    assert rejected["row"].iloc[0] == len(truth) + 2  # the header is row 1
    assert result.ledger.counts()["rows_ignored"] == 2  # Spam, spam
    month = kpi_table(result, "month").query("queue == @ALL_QUEUES").set_index("period_start")
    by_month = truth.groupby(truth["created"].dt.to_period("M").dt.start_time)
    np.testing.assert_array_equal(month["handled"], by_month["resolved"].sum().reindex(month.index))
    np.testing.assert_array_equal(month["arrivals"], by_month.size().reindex(month.index))
    assert "abandon_rate" not in month or month["abandon_rate"].isna().all()  # tickets are not abandoned


def test_resolution_median_and_share_match_independent_kaplan_meier(export):
    truth, result, _ = export
    targets = KpiTargets(resolution={"default": "48h"})
    table = kpi_table(result, "month", targets)
    duration, observed = clocks(truth, "resolution")
    month = truth["created"].dt.to_period("M").dt.start_time
    checked = 0
    for (start, queue), rows in table.groupby(["period_start", "queue"]):
        mask = (month == start).to_numpy() & ((truth["channel"] == queue).to_numpy() | (queue == ALL_QUEUES))
        d, e = duration[mask], observed[mask]
        assert rows["resolution_in_sla"].iloc[0] == pytest.approx(km_share_within(d, e, 48 * 3600))
        expected_median = km_median(d, e)
        got = rows["resolution_median_s"].iloc[0]
        assert (np.isnan(got) and np.isnan(expected_median)) or got == pytest.approx(expected_median)
        checked += 1
    assert checked == 6 * 4
    last = table[(table["queue"] == ALL_QUEUES)].sort_values("period_start").iloc[-1]
    resolved_only = truth.loc[(month == last["period_start"]) & truth["resolved"], "resolution_s"]
    assert last["resolution_median_s"] > resolved_only.median()  # open ones drop out of the naive one


def test_sla_by_channel_and_priority(export):
    truth, result, folder = export
    targets = load_targets(folder / "targets.yaml")
    table = kpi_table(result, "quarter", targets)
    quarter = truth["created"].dt.to_period("Q").dt.start_time
    for kind in ("first_response", "resolution"):
        sla = np.array([sla_of(kind, c, p) for c, p in zip(truth["channel"], truth["priority"], strict=True)])
        duration, observed = clocks(truth, kind)
        for (start, queue), rows in table.groupby(["period_start", "queue"]):
            mask = (quarter == start).to_numpy() & (
                (truth["channel"] == queue).to_numpy() | (queue == ALL_QUEUES)
            )
            share = (
                sum(
                    km_share_within(duration[mask & (sla == s)], observed[mask & (sla == s)], s)
                    * (mask & (sla == s)).sum()
                    for s in np.unique(sla[mask])
                )
                / mask.sum()
            )
            assert rows[f"{kind}_in_sla"].iloc[0] == pytest.approx(share), (kind, start, queue)
    report = kpi_report(result, targets, ["quarter"])
    rows = report[report["kpi"] == "resolution_in_sla"]
    assert set(rows["status"]) <= {"met", "missed"} and rows["target"].eq(">= 0.8").all()


def test_export_sla_flags_agreement(export):
    truth, result, folder = export
    table = kpi_table(result, "quarter", load_targets(folder / "targets.yaml"))
    quarter = truth["created"].dt.to_period("Q").dt.start_time
    sla = np.array(
        [sla_of("first_response", c, p) for c, p in zip(truth["channel"], truth["priority"], strict=True)]
    )
    theirs = (
        truth["first_response_s"] <= 3600
    )  # the export's flag: 1 h for every ticket; blank when unanswered
    ours = truth["first_response_s"] <= sla
    judged = truth["first_response_s"].notna()  # unanswered ones have no flag from the export
    for start, rows in table[table["queue"] == ALL_QUEUES].groupby("period_start"):
        mask = (quarter == start) & judged
        expected = (theirs[mask] == ours[mask]).mean()
        assert rows["first_response_sla_agreement"].iloc[0] == pytest.approx(expected)
    email = table[table["queue"] == "Email"]
    assert (email["first_response_sla_agreement"] < 1).all()  # 4 h for us, 1 h for the export


def test_backlog_at_month_ends(export):
    truth, result, folder = export
    table = kpi_table(result, "month", load_targets(folder / "targets.yaml"))
    resolved_at = truth["created"] + pd.to_timedelta(truth["resolution_s"], unit="s")
    sla = np.array(
        [sla_of("resolution", c, p) for c, p in zip(truth["channel"], truth["priority"], strict=True)]
    )
    for row in table.itertuples():
        end = min(row.period_start + pd.offsets.MonthBegin(1), EXPORTED)
        waiting = (truth["created"] < end) & (~truth["resolved"] | (resolved_at >= end))
        if row.queue != ALL_QUEUES:
            waiting &= truth["channel"] == row.queue
        assert row.backlog == waiting.sum(), (row.period_start, row.queue)
        age = (end - truth.loc[waiting, "created"]).dt.total_seconds()
        assert row.backlog_age_median_s == pytest.approx(age.median())
        assert row.backlog_age_max_s == pytest.approx(age.max())
        assert row.backlog_over_sla == pytest.approx((age.to_numpy() > sla[waiting.to_numpy()]).mean())


def test_voice_service_level_only_for_realtime_channels(export):
    truth, result, _ = export
    month = kpi_table(result, "month").query("queue == @ALL_QUEUES").set_index("period_start")
    live = truth["channel"].isin(["Chat", "Phone"])
    in_target = live & (truth["first_response_s"] <= 20)  # answered by the first response, resolved or not
    by_month = truth["created"].dt.to_period("M").dt.start_time
    expected = in_target.groupby(by_month).sum() / live.groupby(by_month).sum()
    np.testing.assert_allclose(month["service_level"], expected.reindex(month.index))
    email = kpi_table(result, "month").query("queue == 'Email'")
    assert "service_level" not in email or email["service_level"].isna().all()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("columns: {contact_id: {column: Id, unit: minutes}, arrival_time: T}", "a unit only for durations"),
        ("columns: {contact_id: Id, arrival_time: T, status: State}", "which of its values mean resolved"),
        (
            "columns: {contact_id: Id, arrival_time: T, wait_seconds: A, first_response_seconds: B}",
            "not both",
        ),
        (
            "columns: {contact_id: Id, arrival_time: T, wait_seconds: {column: W, unit: weeks}}",
            "columns.wait_seconds.unit",
        ),
        (
            "columns: {contact_id: Id, arrival_time: T, status: {column: S, resolved: [A], open: [a]}}",
            "in two",
        ),
        ("columns: {contact_id: Id, arrival_time: T}\nexported_at: yesterday", "exported_at"),
    ],
)
def test_bad_mapping_says_what_is_wrong(tmp_path, text, fragment):
    data = tmp_path / "log.csv"
    data.write_text("Id,T\n1,2024-01-01 08:00\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text)
    with pytest.raises(InputError) as info:
        ingest(data, IngestOptions(mapping=mapping))
    assert fragment in str(info.value)


def test_unreadable_duration_is_rejected_with_its_row(tmp_path):
    data = tmp_path / "log.csv"
    data.write_text(
        "Id,T,FRT\n1,2024-01-01 08:00,1:30:00\n2,2024-01-01 09:00,ninety\n3,2024-01-01 10:00,45\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {contact_id: Id, arrival_time: T, wait_seconds: {column: FRT, unit: minutes}}"
    )
    result = ingest(data, IngestOptions(mapping=mapping))
    assert sorted(result.contacts.frame["wait_seconds"]) == [2700.0, 5400.0]
    rejected = result.ledger.rejected_rows()
    assert rejected[["row", "column"]].values.tolist() == [[3, "FRT"]]
    assert "not a duration (minutes, or H:MM:SS)" in rejected["reason"].iloc[0]


def test_sla_key_not_in_the_data_is_named(export):
    _, result, _ = export
    with pytest.raises(InputError) as info:
        kpi_table(result, "month", KpiTargets(first_response={"fax": "1h", "default": "4h"}))
    assert "first_response.fax" in str(info.value) and "email" in str(info.value)
    with pytest.raises(ValidationError, match=r"first_response\.email"):
        KpiTargets.model_validate({"first_response": {"email": "soon"}})


def test_realtime_channels_can_be_named_and_unplaced_resolutions_are_said(tmp_path):
    data = tmp_path / "log.csv"
    data.write_text(
        "Id,T,FRT,Channel,Status,Res\n"
        "1,2024-01-01 08:00,0:00:10,Email,Done,1\n"
        "2,2024-01-01 09:00,0:00:30,Email,Done,\n"
        "3,2024-01-01 10:00,0:00:10,Chat,Open,\n"
    )
    mapping = tmp_path / "m.yaml"
    base = (
        "columns: {contact_id: Id, arrival_time: T, wait_seconds: FRT, channel: Channel,"
        " resolution_seconds: {column: Res, unit: hours}, status: {column: Status, resolved: [Done], open: [Open]}}"
    )
    mapping.write_text(base)
    result = ingest(data, IngestOptions(mapping=mapping))
    assert any("1 resolved tickets have no Res" in w for w in result.ledger.warnings)
    day = kpi_table(result, "day").query("queue == @ALL_QUEUES").iloc[0]
    assert day["service_level"] == 1.0  # the chat is real-time, answered in 10 s; emails are not counted
    mapping.write_text(base + "\nrealtime_channels: [Email]")
    named = (
        kpi_table(ingest(data, IngestOptions(mapping=mapping)), "day").query("queue == @ALL_QUEUES").iloc[0]
    )
    assert named["service_level"] == 0.5  # the two emails: one answered within 20 s


def test_an_sla_without_a_bound_on_its_share_is_said():
    assert KpiTargets(first_response={"default": "1h"}).unbounded_slas()[0].startswith("first_response SLAs")
    bounded = KpiTargets(first_response={"default": "1h"}, targets={"first_response_in_sla": {"min": 0.9}})
    assert bounded.unbounded_slas() == []
    per_queue = KpiTargets(
        resolution={"default": "2d"}, queues={"Email": {"resolution_in_sla": {"min": 0.8}}}
    )
    assert per_queue.unbounded_slas() == []


def test_a_file_with_canonical_names_may_call_the_wait_first_response(tmp_path):
    data = tmp_path / "tickets.csv"
    data.write_text(
        "contact_id,arrival_time,first_response_seconds\n1,2024-01-01 08:00,30\n2,2024-01-01 09:00,90\n"
    )
    result = ingest(data, IngestOptions())
    assert sorted(result.contacts.frame["first_response_seconds"]) == [30.0, 90.0]
    assert kpi_table(result, "day")["first_response_mean_s"].iloc[0] == 60.0

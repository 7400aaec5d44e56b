"""Wherever a KPI is shown beside its target (the review's tables, the kpis grid), the target is
written in the KPI's own unit and the miss in the KPI's own terms: a time by how much and how
many times the target, a share in percentage points, never '584 %'."""

import re

import pandas as pd
import pytest

from forecasting.common.vocabulary import format_value, label
from forecasting.history.kpi_review import (
    chart_defaults,
    miss_text,
    print_kpi_report,
    review_markdown,
    target_text,
)
from forecasting.history.kpis import kpi_report
from forecasting.history.targets import load_targets
from tests.forecasting.history.ticket_export import ingest_export, make_tickets


def test_a_target_is_written_like_its_values():
    assert target_text("first_response_mean_s", "<= 600") == "≤ 10.0 min"
    assert target_text("first_response_mean_s", "<= 600") == "≤ " + format_value("first_response_mean_s", 600)
    assert target_text("aht", "<= 1800") == "≤ " + format_value("aht", 1800)
    assert target_text("service_level", ">= 0.8") == "≥ 80.0%"
    assert target_text("abandon_rate", ">= 0.01 and <= 0.05") == "≥ 1.0% and ≤ 5.0%"
    assert target_text("arrivals", ">= 1000") == "≥ 1,000"
    assert target_text("csat", "") == ""


@pytest.mark.parametrize(
    ("kpi", "value", "target", "expected"),
    [
        # the 68.4 min against 10 min: 58.4 min over, 6.8 times the target
        ("first_response_mean_s", 68.4 * 60, "<= 600", "58.4 min over, 6.8× the target"),
        ("resolution_median_s", 3 * 86_400, "<= 86400", "2.0 d over, 3.0× the target"),
        ("aht", 450.0, "<= 300", "150.0 s over, 1.5× the target"),
        ("service_level", 0.653, ">= 0.8", "14.7 pp under"),
        ("backlog_over_sla", 0.25, "<= 0.1", "15.0 pp over"),
        ("arrivals", 600, ">= 1000", "400 under, 60% of the target"),
        ("service_level", 0.85, ">= 0.8", ""),
    ],
)
def test_a_miss_is_said_in_the_kpi_s_terms(kpi, value, target, expected):
    assert miss_text(kpi, value, target) == expected


def test_the_time_miss_is_the_difference_and_the_ratio():
    value, bound = 4104.0, 600.0
    text = miss_text("first_response_mean_s", value, f"<= {bound:g}")
    over = format_value("first_response_mean_s", value - bound)
    assert text == f"{over} over, {value / bound:.1f}× the target"


@pytest.fixture(scope="module")
def tickets_report(tmp_path_factory):
    truth = make_tickets(end="2024-06-28 18:00")
    result = ingest_export(truth, tmp_path_factory.mktemp("review_units"), "exported_at: 2024-07-01 00:00\n")
    return kpi_report(result, load_targets(), ("quarter", "month"))


def table_rows(review: str, heading: str) -> list[list[str]]:
    block = review.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_review_misses_show_target_and_miss_in_the_value_s_unit(tickets_report):
    review = review_markdown(tickets_report, "quarter", "tickets.csv", "the defaults")
    assert "| queue | KPI | value | target | missed by |" in review
    rows = table_rows(review, "Largest misses")
    assert rows, review
    latest = tickets_report[
        (tickets_report["period"] == "quarter")
        & (tickets_report["period_start"] == pd.Timestamp("2024-04-01"))
    ]
    by_label = {label(k, with_side=False): k for k in latest["kpi"].unique()}
    kinds = set()
    for queue, name, value, target, missed in rows:
        kpi = by_label[name]
        row = latest[(latest["queue"] == queue) & (latest["kpi"] == kpi)].iloc[0]
        assert row["status"] == "missed"
        assert value == format_value(kpi, row["value"])
        assert target == target_text(kpi, row["target"]) and not re.search(r"[<>]=", target)
        assert missed == miss_text(kpi, row["value"], row["target"])
        assert not re.fullmatch(r"[\d.,]+ ?%", missed)  # never a bare percentage
        kinds.add(kpi)
    assert "first_response_mean_s" in kinds  # the 10-minute target is missed by the e-mails
    frt = next(r for r in rows if by_label[r[1]] == "first_response_mean_s")
    assert frt[3] == "≤ 10.0 min" and "× the target" in frt[4]


def test_against_target_and_the_grid_write_targets_in_units(tickets_report, capsys):
    review = review_markdown(tickets_report, "quarter", "tickets.csv", "the defaults")
    targets = {row[0]: row[1] for row in table_rows(review, "Against target")}
    assert targets["first response, mean"] == "≤ 10.0 min"
    assert not any(re.search(r"[<>]=", t) for t in targets.values())
    print_kpi_report(tickets_report[tickets_report["period"] == "quarter"])
    grid = capsys.readouterr().out
    assert "≤ 10.0 min" in grid and "<= 600" not in grid


def test_a_ticket_chart_opens_on_ticket_kpis_not_the_voice_service_level():
    kpis = [
        "arrivals",
        "service_level",
        "first_response_median_s",
        "first_response_in_sla",
        "resolution_in_sla",
    ]
    assert chart_defaults(kpis, tickets=True) == ["first_response_in_sla", "resolution_in_sla"]
    assert chart_defaults(["arrivals", "service_level", "first_response_median_s"], tickets=True) == [
        "first_response_median_s"
    ]
    assert chart_defaults(["service_level", "arrivals"], tickets=True) == ["arrivals"]
    assert chart_defaults(["arrivals", "service_level", "abandon_rate"], tickets=False) == [
        "service_level",
        "abandon_rate",
    ]

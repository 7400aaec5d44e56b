"""`capplan kpis --by priority` on a helpdesk export: kpis.csv per priority (its column named
so), the grid and the review per priority; a grouping the data lacks is one line, exit 2."""

import numpy as np
import pandas as pd

from capplan.cli import main
from tests.forecasting.history.ticket_export import make_tickets, write_export


def test_kpis_by_priority_writes_the_table_per_priority(tmp_path, capsys):
    truth = make_tickets(end="2024-06-28 18:00")
    file, mapping = write_export(truth, tmp_path / "in", "exported_at: 2024-07-01 00:00\n")
    out = tmp_path / "out"
    code = main(
        [
            "kpis",
            str(file),
            "--mapping",
            str(mapping),
            "--period",
            "month",
            "--by",
            "priority",
            "--out",
            str(out),
            "--report",
            str(tmp_path / "review.md"),
        ]
    )
    assert code == 0
    table = pd.read_csv(out / "kpis.csv", parse_dates=["period_start"])
    assert "priority" in table and "queue" not in table
    arrivals = table[(table["kpi"] == "arrivals") & (table["priority"] != "all priorities")]
    expected = truth.groupby([truth["created"].dt.to_period("M").dt.start_time, "priority"]).size()
    got = arrivals.set_index(["period_start", "priority"])["value"].sort_index()
    np.testing.assert_array_equal(got, expected.sort_index().reindex(got.index))
    shown = capsys.readouterr().out
    assert "priority all priorities" in shown
    assert "| all priorities | High | Low | Urgent |" in (tmp_path / "review.md").read_text()


def test_kpis_by_a_column_the_data_lacks_is_one_line(tmp_path, capsys):
    from tests.conftest import BANK_CALLS

    code = main(
        [
            "kpis",
            str(BANK_CALLS),
            "--time-col",
            "DateTime",
            "--value-col",
            "Calls",
            "--by",
            "team",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "team" in err and "--by" in err and "queues only" in err

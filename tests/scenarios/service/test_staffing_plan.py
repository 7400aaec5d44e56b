"""Staffing a table of intervals through the package function and the CLI."""

import numpy as np
import pandas as pd

from scenarios.service.staffing_plan import StaffingOptions, fte_by_period, staff_intervals
from scenarios.staffing.backlog import backlog_required_agents
from scenarios.staffing.chat import chat_required_agents
from scenarios.staffing.requirements import StaffingTargets


def test_voice_chat_and_deferred_plans():
    volume, aht = np.array([100.0, 0.0, 200.0]), np.array([180.0, 180.0, 180.0])
    t = StaffingTargets(service_level=0.8, target_seconds=20)
    voice = staff_intervals(volume, aht, 1800, StaffingOptions(t, shrinkage=0.3))
    assert voice["agents"].tolist()[:2] == [14, 0] and voice["scheduled_agents"].iloc[0] == 20
    chat = staff_intervals(volume, aht, 1800, StaffingOptions(t, concurrency=3))
    np.testing.assert_array_equal(chat["agents"], chat_required_agents(volume, aht, 1800, t, 3))
    open_mask = np.array([True, False, True])
    deferred = staff_intervals(volume, aht, 1800, StaffingOptions(t, response_hours=1), open_mask=open_mask)
    np.testing.assert_array_equal(
        deferred["agents"], backlog_required_agents(volume, aht, open_mask, 1800, 3600)
    )
    assert {"backlog", "oldest_age_hours", "answered_in_time"} <= set(deferred.columns)


def test_fte_by_day_and_week():
    stamps = pd.Series(
        pd.date_range("2024-01-08 08:00", periods=4, freq="30min").append(
            pd.DatetimeIndex(["2024-01-09 08:00"])
        )
    )
    table = pd.DataFrame({"scheduled_agents": [10, 10, 10, 10, 8]})
    f = fte_by_period(stamps, table, 1800, 40).set_index(["period", "period_start"])
    assert f.loc[("day", pd.Timestamp("2024-01-08")), "agent_hours"] == 20
    assert f.loc[("day", pd.Timestamp("2024-01-08")), "fte"] == 20 / 8
    assert f.loc[("week", pd.Timestamp("2024-01-08")), "fte"] == 24 / 40


def test_cli_batch_with_simulation_and_fte(run_cli, tmp_path):
    path = tmp_path / "i.csv"
    rows = [
        f"2024-01-08 {h:02d}:{m:02d},{v},200"
        for (h, m), v in zip(
            [(h, m) for h in range(8, 12) for m in (0, 30)], [40, 60, 80, 90, 90, 70, 50, 30], strict=False
        )
    ]
    path.write_text("interval_start,calls,aht\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(
        "staff",
        "--input",
        path,
        "--target-sl",
        "0.8",
        "--patience",
        "240",
        "--simulate",
        "5",
        "--out",
        tmp_path / "s.csv",
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "s.csv")
    assert {"sim_service_level", "sim_service_level_ci95", "sim_abandon_rate"} <= set(table.columns)
    assert table["sim_service_level"].between(0, 1).all()
    fte = pd.read_csv(tmp_path / "s_fte.csv")
    assert set(fte["period"]) == {"day", "week"}
    code, out, err = run_cli("staff", "--input", path, "--response-hours", "2", "--out", tmp_path / "e.csv")
    assert code == 0, err and "largest backlog" in out

"""A ticket scenario from a helpdesk export (the README's example files): tickets forecast by
creation time, the email queue staffed against its response target starting from the tickets
still waiting for a first response when the export was taken."""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from forecasting.history.ingest import IngestOptions, ingest
from scenarios.inputs.spec import load_scenario
from scenarios.runner import run_scenario

HELPDESK = Path(__file__).resolve().parents[2] / "experiments" / "helpdesk"
EXPORT_END = pd.Timestamp("2025-06-30 15:00")  # a Monday afternoon: emails are waiting


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example's mapping and scenario beside a freshly generated export."""
    spec = importlib.util.spec_from_file_location("make_export", HELPDESK / "make_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("helpdesk")
    module.make_export(EXPORT_END, days=120, per_day=80, seed=5).to_csv(
        folder / "helpdesk_export.csv", index=False
    )
    shutil.copy(HELPDESK / "mapping.yaml", folder / "mapping.yaml")
    scenario = yaml.safe_load((HELPDESK / "tickets.yaml").read_text())
    scenario["forecast"] = {**scenario["forecast"], "model": "weekday_mean", "horizon_days": 3}
    scenario["risk"] = {"simulations": 50, "seed": 0}
    (folder / "tickets.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    return folder


def waiting_emails(folder: Path) -> int:
    """Independently from the raw export: Email tickets open and with no first response."""
    raw = pd.read_csv(folder / "helpdesk_export.csv")
    open_ = raw["Status"].isin(["In Progress", "Escalated"])
    return int((open_ & raw["First Response Time (min)"].isna() & (raw["Channel"] == "Email")).sum())


def test_plan_starts_from_the_waiting_tickets(example):
    scenario, path = load_scenario(example / "tickets.yaml")
    result = run_scenario(scenario, path, analysis=False)
    waiting = waiting_emails(example)
    assert waiting > 0
    assert result.summary["starting_backlog"] == pytest.approx(waiting)
    assert any(f"starts from {waiting:,}" in w for w in result.warnings)


def test_a_larger_starting_backlog_needs_more_agents_first(example):
    scenario, path = load_scenario(example / "tickets.yaml")

    def plan(count: float):
        email = scenario.queues["email"].model_copy(update={"starting_backlog": count})
        return run_scenario(scenario.model_copy(update={"queues": {"email": email}}), path, analysis=False)

    none, some = plan(0.0), plan(100.0)
    assert "starting_backlog" not in none.summary and some.summary["starting_backlog"] == 100
    base, more = none.intervals["required_agents"].to_numpy(), some.intervals["required_agents"].to_numpy()
    # the extra work (100 tickets × their handle time) in the first hours: 90 % within the 4 h
    # target, the rest within twice that; the days after staffed as before
    extra_hours = 100 * some.intervals["aht"].iloc[0] / 3600
    assert more[:8].sum() - base[:8].sum() == pytest.approx(extra_hours, abs=2)
    assert abs(more[8:].sum() - base[8:].sum()) <= 2
    assert some.intervals["backlog"].iloc[0] > none.intervals["backlog"].iloc[0]
    assert some.summary["answered_in_time"] >= scenario.targets.response_share


def test_arrivals_are_counted_by_creation_time(example):
    result = ingest(
        example / "helpdesk_export.csv", IngestOptions(mapping=example / "mapping.yaml", interval="60min")
    )
    raw = pd.read_csv(example / "helpdesk_export.csv")
    created = pd.to_datetime(raw["Created"], format="%d/%m/%Y %H:%M")
    daily = result.intervals.groupby(result.intervals["interval_start"].dt.normalize())["arrivals"].sum()
    expected = created.dt.normalize().value_counts().reindex(daily.index, fill_value=0)
    np.testing.assert_array_equal(daily.to_numpy(), expected.to_numpy())

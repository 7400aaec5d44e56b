"""A generated helpdesk export whose every ticket's truth is kept beside it, for the ticket KPI
tests: channels, priorities, teams and categories (some blank), agents, first responses in
minutes, resolutions in hours, open tickets at the export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.history.ingest import IngestOptions, IngestResult, ingest

MAPPING = """
columns:
  contact_id: Ticket ID
  arrival_time: Created
  channel: Channel
  priority: Priority
  team: Team
  category: Category
  agent_id: Agent
  first_response_seconds: {column: First Response (min), unit: minutes}
  resolution_seconds: {column: Resolution (h), unit: hours}
  status: {column: Status, resolved: [Resolved], open: [Open]}
time_format: "%Y-%m-%d %H:%M"
"""


def make_tickets(
    start: str = "2024-01-01",
    end: str = "2024-06-28 18:00",
    n: int = 1500,
    seed: int = 5,
    exported_at: str | None = None,
    responses: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The truth: one row per ticket created in [start, end), its times in seconds (NaN when
    not yet reached at the export) and whether it is resolved. ``responses``: each channel's
    typical first response in minutes (lognormal around it)."""
    rng = np.random.default_rng(seed)
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    export = pd.Timestamp(exported_at) if exported_at else last
    span = (last - first).total_seconds()
    created = (first + pd.to_timedelta(np.sort(rng.uniform(0, span, n)), unit="s")).floor("min")
    typical = responses or {"Email": 90.0, "Chat": 0.4, "Phone": 25.0}
    channel = rng.choice(list(typical), n)
    priority = rng.choice(["Low", "High", "Urgent"], n, p=[0.55, 0.35, 0.10])
    team = rng.choice(["Tier 1", "Tier 2", "Billing"], n)
    category = np.where(rng.uniform(size=n) < 0.05, "", rng.choice(["Access", "Invoice", "Bug"], n))
    response_min = np.round(rng.lognormal(np.log([typical[c] for c in channel]), 0.7), 2)
    resolution_h = np.round(rng.lognormal(np.log(np.where(priority == "Urgent", 3.0, 20.0)), 0.8), 2)
    response_min = np.minimum(response_min, resolution_h * 60)  # no answer after the ticket closed
    responded = created + pd.to_timedelta(response_min, unit="min") <= export
    resolved = created + pd.to_timedelta(resolution_h, unit="h") <= export
    responded |= resolved
    return pd.DataFrame(
        {
            "id": [f"T{i}" for i in range(n)],
            "created": created,
            "channel": channel,
            "priority": priority,
            "team": team,
            "category": category,
            "agent": rng.choice(["ana", "bo", "cy", "di", "ed"], n),
            "first_response_s": np.where(responded, response_min * 60, np.nan),
            "resolution_s": np.where(resolved, resolution_h * 3600, np.nan),
            "resolved": resolved,
        }
    )


def write_export(truth: pd.DataFrame, folder: Path, mapping_extra: str = "") -> tuple[Path, Path]:
    """The export file as a helpdesk writes it, and its mapping."""
    frame = pd.DataFrame(
        {
            "Ticket ID": truth["id"],
            "Created": truth["created"].dt.strftime("%Y-%m-%d %H:%M"),
            "Channel": truth["channel"],
            "Priority": truth["priority"],
            "Team": truth["team"],
            "Category": truth["category"],
            "Agent": truth["agent"],
            "First Response (min)": truth["first_response_s"] / 60,
            "Resolution (h)": truth["resolution_s"] / 3600,
            "Status": np.where(truth["resolved"], "Resolved", "Open"),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    file, mapping = folder / "tickets.csv", folder / "mapping.yaml"
    frame.to_csv(file, index=False)
    mapping.write_text(MAPPING + mapping_extra)
    return file, mapping


def ingest_export(truth: pd.DataFrame, folder: Path, mapping_extra: str = "") -> IngestResult:
    file, mapping = write_export(truth, folder, mapping_extra)
    return ingest(file, IngestOptions(mapping=mapping, interval="day"))

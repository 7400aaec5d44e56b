"""Write a helpdesk export as ticketing systems give them, to try capplan's ticket KPIs on.

A year of tickets (about 5,000) by email, chat and phone with priorities, teams and categories
(a few left blank); first response in
*minutes*, resolution in *hours*, work time as H:MM:SS, status Resolved / Closed / In
Progress / Escalated (open ones have no resolution), CSAT 1-5 and the system's own SLA-met
flags. Generated (not committed) so the example needs no customer's data:

    python experiments/helpdesk/make_export.py                # experiments/helpdesk/helpdesk_export.csv
    python experiments/helpdesk/make_export.py out/tickets.csv --seed 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
CHANNELS = {"Email": 0.6, "Chat": 0.3, "Phone": 0.1}
PRIORITIES = {"Low": 0.45, "Medium": 0.35, "High": 0.15, "Critical": 0.05}
FIRST_RESPONSE_SLA_MIN = {"Email": 240, "Chat": 1, "Phone": 60}  # the system's own SLA clocks
CATEGORIES = {"Billing": 0.3, "Technical": 0.35, "Account": 0.2, "Shipping": 0.15}
RESOLUTION_SLA_H = {"Critical": 4, "High": 24, "Medium": 48, "Low": 48}
HOURLY = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 14, 11, 13, 14, 13, 11, 8, 5, 4, 3, 2, 2, 1], float)
WEEKDAY = np.array([1.15, 1.1, 1.0, 1.0, 0.95, 0.35, 0.3])


def make_export(end: pd.Timestamp, days: int = 365, per_day: float = 14.0, seed: int = 7) -> pd.DataFrame:
    """The export as the system would write it on ``end`` (its clock: local time)."""
    rng = np.random.default_rng(seed)
    start = end.normalize() - pd.Timedelta(days=days - 1)  # whole days up to the export
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    trend = np.linspace(0.9, 1.1, len(hours))  # the business grows
    rate = per_day * trend * WEEKDAY[hours.day_of_week] / WEEKDAY.mean() * HOURLY[hours.hour] / HOURLY.sum()
    counts = rng.poisson(rate)
    created = hours.repeat(counts) + pd.to_timedelta(rng.uniform(0, 3600, counts.sum()), unit="s")
    created = created.floor("min")
    n = len(created)
    channel = rng.choice(list(CHANNELS), n, p=list(CHANNELS.values()))
    priority = rng.choice(list(PRIORITIES), n, p=list(PRIORITIES.values()))
    busy = np.isin(created.hour, range(8, 18)) & (created.day_of_week < 5)
    typical = np.select([channel == "Email", channel == "Chat"], [80.0, 0.5], 20.0)  # minutes
    response = (rng.lognormal(np.log(typical * np.where(busy, 1.0, 3.0)), 0.8) + 0.1).round(1)
    speed = np.select([priority == "Critical", priority == "High"], [2.0, 10.0], 20.0)  # hours
    resolution = rng.lognormal(np.log(speed), 0.9).round(2)
    responded_at = created + pd.to_timedelta(response, unit="min")
    resolved_at = created + pd.to_timedelta(resolution, unit="h")
    stuck = rng.uniform(size=n) < 0.01  # escalated, waiting on another team for weeks
    resolved = (resolved_at <= end) & ~stuck
    responded = responded_at <= end
    status = np.where(resolved, rng.choice(["Resolved", "Closed"], n, p=[0.8, 0.2]), "In Progress")
    status = np.where(stuck, "Escalated", status)
    work = rng.lognormal(np.log(np.select([channel == "Phone", channel == "Chat"], [540, 720], 900)), 0.5)
    work = work.round().astype(int)
    frt_sla = np.array([FIRST_RESPONSE_SLA_MIN[c] for c in channel])
    res_sla = np.array([RESOLUTION_SLA_H[p] for p in priority])
    frame = pd.DataFrame(
        {
            "Ticket ID": [f"HD-{100000 + i}" for i in range(n)],
            "Created": created.strftime("%d/%m/%Y %H:%M"),
            "Channel": channel,
            "Priority": priority,
            "Agent": rng.choice(["ana", "ben", "chen", "dara", "eli", "femi", "gus", "hana"], n),
            "First Response Time (min)": np.where(responded, response, np.nan),
            "Resolution Time (h)": np.where(resolved, resolution, np.nan),
            "Work Time": [f"{w // 3600}:{w % 3600 // 60:02d}:{w % 60:02d}" for w in work],
            "Status": status,
            "CSAT": pd.array(
                np.where(
                    resolved & (rng.uniform(size=n) < 0.3),
                    np.clip(np.round(5 - resolution / speed * 0.6 - rng.exponential(0.6, n)), 1, 5),
                    np.nan,
                ),
                dtype="Int64",
            ),
            "FRT SLA Met": np.where(responded, np.where(response <= frt_sla, "Yes", "No"), ""),
            "Resolution SLA Met": np.where(resolved, np.where(resolution <= res_sla, "Yes", "No"), ""),
        }
    )
    # drawn last, so the columns above are the same for a seed as before these were added
    category = rng.choice(list(CATEGORIES), n, p=list(CATEGORIES.values()))
    second_line = np.isin(priority, ["Critical", "High"]) | (category == "Technical")
    frame.insert(
        4, "Team", np.where(second_line, "Tier 2", np.where(category == "Billing", "Billing", "Tier 1"))
    )
    frame.insert(5, "Category", np.where(rng.uniform(size=n) < 0.03, "", category))  # a few left blank
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE / "helpdesk_export.csv")
    parser.add_argument(
        "--end", default="2025-06-30 16:00", help="when the export is taken (a Monday afternoon)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = make_export(pd.Timestamp(args.end), seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(frame):,} tickets to {args.end}")


if __name__ == "__main__":
    main()

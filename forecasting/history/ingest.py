"""Ingest a history file: read, validate, normalize, aggregate to intervals, infer the calendar.

This is the one entry point the CLI, the KPI report and (later) forecasting and the app use, so
every front end sees the same rows accepted and rejected for the same reasons.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar, infer_calendar
from forecasting.common.csv_safety import write_csv
from forecasting.common.errors import InputError
from forecasting.common.jsonable import dumps
from forecasting.common.output_files import OutputFolder
from forecasting.history.anomalies import detect_anomalies
from forecasting.history.anomalies import summary as anomaly_counts
from forecasting.history.anonymous_bank import normalize_anonymous_bank
from forecasting.history.contact_log import MAPPED_FIELDS, load_mapping, normalize_contact_log
from forecasting.history.contacts import DEFAULT_QUEUE, Contacts
from forecasting.history.interval_series import (
    VALUE_FIELDS,
    combine_queues,
    normalize_interval_series,
    rebase_service_level,
    resample_intervals,
)
from forecasting.history.intervals import contacts_to_intervals, interval_label, parse_interval
from forecasting.history.ledger import RowLedger
from forecasting.history.tables import RawTable, read_table
from forecasting.history.targets import DEFAULT_TARGET_SECONDS
from forecasting.history.tickets import waiting_for_response

log = logging.getLogger(__name__)
Format = Literal["log", "anonymous-bank", "intervals"]
FORMATS: tuple[str, ...] = ("log", "anonymous-bank", "intervals")
DEFAULT_LOG_INTERVAL = "30min"


@dataclass(frozen=True)
class IngestOptions:
    """What the user told us about the file; see ``capplan ingest --help``."""

    format: Format | None = None  # None: intervals if time_col is given, else log
    time_col: str | None = None
    value_cols: tuple[str, ...] = ()
    queue_col: str | None = None
    mapping: str | Path | None = None
    interval: str | None = None  # None: the data's own (interval series) or 30min (logs)
    target_seconds: float = DEFAULT_TARGET_SECONDS
    sep: str | None = None
    encoding: str | None = None
    strict: bool = True
    combine_queues: bool = False
    timezone: str | None = None  # the centre's zone: times with offsets become its local clock
    # what a report's service-level column is a share of: all arrivals (Erlang's, capplan's) or
    # handled contacts (many ACD exports); handled ones are re-based on arrivals, and said so
    sl_denominator: Literal["arrivals", "handled"] = "arrivals"

    @property
    def resolved_format(self) -> Format:
        if self.format:
            return self.format
        return "intervals" if self.time_col or self.value_cols else "log"


@dataclass
class IngestResult:
    source: Path
    options: IngestOptions
    intervals: pd.DataFrame
    interval: pd.Timedelta
    calendar: OperatingCalendar
    ledger: RowLedger
    contacts: Contacts | None = None
    gaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["interval_start", "queue"]))
    seconds: float = 0.0
    period: str | None = None  # weekly or monthly totals, spread over their days ('W-SUN', 'MS', …)
    combined_queues: tuple[str, ...] | None = None  # the file's queues, when combined into one

    @property
    def reported_by(self) -> str | None:
        """'week' or 'month' when the data were totals per period: forecasts are no finer."""
        return None if self.period is None else ("week" if self.period.startswith("W-") else "month")

    @cached_property
    def anomalies(self) -> pd.DataFrame:
        """What is unusual in the history (see ``forecasting.history.anomalies``)."""
        return detect_anomalies(self.intervals, self.calendar)

    def ticket_counts(self) -> dict | None:
        """A ticket export's resolved and open tickets at the export (None for other data)."""
        c = self.contacts
        if c is None or not c.tickets:
            return None
        status = c.frame["status"]
        return {
            "resolved": int(status.eq("resolved").sum()),
            "open": int(status.eq("open").sum()),
            "waiting_for_first_response": len(waiting_for_response(c)),
            "exported_at": str(c.as_of) if c.as_of is not None else None,
        }

    def summary(self) -> dict:
        """The accounting and what was inferred, as written to ``summary.json``."""
        t = self.intervals
        totals = {
            c: int(t[c].sum()) for c in ("arrivals", "handled", "abandoned") if c in t and t[c].notna().any()
        }
        return {
            "input": str(self.source),
            "format": self.options.resolved_format,
            **self.ledger.counts(),
            "rejected_by_reason": self.ledger.reasons(1),
            "ignored_by_reason": self.ledger.reasons(2),
            "warned_by_reason": dict(self.ledger.noted),  # rows kept but unlikely (contact logs)
            "warnings": self.ledger.warnings,
            "interval": interval_label(self.interval),
            "reported_by": self.reported_by,
            "target_seconds": self.options.target_seconds,
            "queues": sorted(map(str, t["queue"].unique())),
            "first_interval": str(t["interval_start"].min()),
            "last_interval": str(t["interval_start"].max()),
            "intervals": len(t),
            "totals": totals,
            "calendar": self.calendar.to_dict(),
            "tickets": self.ticket_counts(),
            "gaps": len(self.gaps),
            "anomalies": anomaly_counts(self.anomalies),
            "seconds": round(self.seconds, 3),
        }


def ingest(path: str | Path, options: IngestOptions = IngestOptions()) -> IngestResult:
    """Read and validate one file into the tidy interval table; raises ``InputError`` on bad input."""
    started = time.perf_counter()
    path = Path(path)
    fmt = options.resolved_format
    if options.mapping and fmt != "log":
        raise InputError(
            "<<mapping>> is for contact logs", option="mapping", expected=f"no mapping with <<format>> {fmt}"
        )
    if fmt != "intervals" and (options.time_col or options.value_cols or options.queue_col):
        raise InputError(
            "<<time_col>> / <<value_col>> / <<queue_col>> are for interval reports",
            option="format",
            expected="<<format>> intervals (or no format: it is implied)",
            found=fmt,
        )
    if options.timezone and fmt == "anonymous-bank":
        raise InputError(
            "<<timezone>> is for contact logs and interval reports",
            option="timezone",
            expected="no time zone with <<format>> anonymous-bank (its clock times carry none)",
        )
    mapping = load_mapping(options.mapping) if fmt == "log" else None
    sep = options.sep or (mapping.sep if mapping else None)
    raw = read_table(
        path, sep="\t" if fmt == "anonymous-bank" and not sep else sep, encoding=options.encoding
    )
    log.info("read %s rows from %s in %.1f s", f"{len(raw.frame):,}", path, time.perf_counter() - started)
    ledger = RowLedger(raw, strict=options.strict)

    contacts = None
    gaps = None
    period = None  # weekly or monthly totals
    combined = None  # the queues --combine-queues summed into one
    if fmt == "intervals":
        if not options.time_col:
            raise InputError(
                "missing setting", option="time_col", expected="the name of the timestamp column"
            )
        table, native, period = normalize_interval_series(
            raw,
            ledger,
            options.time_col,
            list(options.value_cols),
            options.queue_col,
            timezone=options.timezone,
        )
        if "service_level" in table:
            table = rebase_service_level(table, options.sl_denominator, ledger)
        calendar = infer_calendar(table, native)
        gaps = find_gaps(table, calendar)
        length = parse_interval(options.interval) if options.interval else native
        table = resample_intervals(table, native, length)
        if options.combine_queues:
            combined = _queue_names(table["queue"])
            table = combine_queues(table, DEFAULT_QUEUE)
    else:
        length = parse_interval(options.interval or DEFAULT_LOG_INTERVAL)
        if fmt == "anonymous-bank":
            contacts = normalize_anonymous_bank(raw, ledger)
        else:
            contacts = normalize_contact_log(raw, ledger, mapping, options.timezone)
        if contacts.frame.empty:
            raise ledger.nothing_usable("at least one valid contact")
        if options.combine_queues:
            combined = _queue_names(contacts.frame["queue"])
            contacts = replace(contacts, frame=contacts.frame.assign(queue=DEFAULT_QUEUE))
        log.info(
            "validated %s contacts; aggregating to %s intervals",
            f"{len(contacts.frame):,}",
            interval_label(length),
        )
        table = contacts_to_intervals(contacts, length, options.target_seconds)
        calendar = infer_calendar(table, length)
    note = unread_columns(raw, options, mapping)
    if note:
        ledger.warn(note)
    result = IngestResult(path, options, table, length, calendar, ledger, contacts)
    result.period = period
    result.combined_queues = combined
    if gaps is not None:
        result.gaps = gaps
    result.seconds = time.perf_counter() - started
    return result


def unread_columns(raw: RawTable, options: IngestOptions, mapping) -> str | None:
    """A note naming the file's columns nothing was read from, and how to map one: an export's
    handled or abandoned column left out is otherwise lost without a word."""
    fmt = options.resolved_format
    if fmt == "anonymous-bank":
        return None  # a fixed format: its other columns are known and not needed
    if fmt == "intervals":
        used = {
            options.time_col,
            options.queue_col,
            *(v.partition("=")[0].strip() for v in options.value_cols),
        }
        how = "read one by naming it as a value column COLUMN=FIELD (fields: " + ", ".join(VALUE_FIELDS) + ")"
    else:
        used = {mapping.source(name) for name in MAPPED_FIELDS}
        how = "name one in the mapping file's columns (FIELD: COLUMN)"
    unread = [str(c) for c in raw.frame.columns if c not in used and not str(c).startswith("Unnamed")]
    if not unread:
        return None
    return f"columns not read: {', '.join(unread)}; {how}"


def find_gaps(table: pd.DataFrame, calendar: OperatingCalendar) -> pd.DataFrame:
    """Open slots missing from an interval report, on days that do have data."""
    parts = []
    for queue, rows in table.groupby("queue"):
        days = rows["interval_start"].dt.normalize().unique()
        grid = pd.DatetimeIndex(
            np.concatenate(
                [
                    pd.date_range(
                        d, periods=int(pd.Timedelta(days=1) / calendar.interval), freq=calendar.interval
                    )
                    for d in days
                ]
            )
        )
        expected = grid[calendar.is_open(grid)]
        missing = expected.difference(pd.DatetimeIndex(rows["interval_start"]))
        parts.append(pd.DataFrame({"interval_start": missing, "queue": queue}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["interval_start", "queue"])


# a failed ingest's rejected rows, beside the last complete run's outputs (never over them)
FAILED_REJECTED = "rejected_failed.csv"
OUTPUTS = ("intervals.csv", "summary.json", "rejected.csv", "gaps.csv", "anomalies.csv")


def write_outputs(result: IngestResult, out: str | Path, command: str = "ingest") -> dict[str, Path]:
    """Write intervals.csv, summary.json, rejected.csv, gaps.csv and anomalies.csv (always, even
    if empty), all at once at the end, formula cells neutralised (``forecasting.common.output_files``,
    ``forecasting.common.csv_safety``)."""
    names = {name: f"{name}.csv" for name in ("intervals", "rejected", "gaps", "anomalies")}
    names["summary"] = "summary.json"
    with OutputFolder(out, command, outputs=(*OUTPUTS, FAILED_REJECTED)) as folder:
        write_csv(
            result.intervals,
            folder.path(names["intervals"]),
            index=False,
            date_format="%Y-%m-%d %H:%M:%S",
            float_format="%.6g",
        )
        write_csv(result.ledger.rejected_rows(), folder.path(names["rejected"]), index=False)
        write_csv(result.gaps, folder.path(names["gaps"]), index=False, date_format="%Y-%m-%d %H:%M:%S")
        write_csv(
            result.anomalies,
            folder.path(names["anomalies"]),
            index=False,
            date_format="%Y-%m-%d %H:%M:%S",
            float_format="%.6g",
        )
        folder.path(names["summary"]).write_text(dumps(result.summary(), indent=2, default=str) + "\n")
    return {key: Path(out) / name for key, name in names.items()}


def _queue_names(queues: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(map(str, queues.dropna().unique())))

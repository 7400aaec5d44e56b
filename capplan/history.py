"""History in: reading and validating logs and interval reports, intervals and calendars, KPIs
against targets and their review, anomalies, intraday profiles.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(("MIN_DAYS_AFTER_SHIFT", "in_words", "summary"), "forecasting.history.anomalies"),
    **dict.fromkeys(("suggest_reading",), "forecasting.history.detect"),
    **dict.fromkeys(
        ("FAILED_REJECTED", "FORMATS", "IngestOptions", "IngestResult", "OUTPUTS", "ingest", "write_outputs"),
        "forecasting.history.ingest",
    ),
    **dict.fromkeys(("VALUE_FIELDS",), "forecasting.history.interval_series"),
    **dict.fromkeys(("interval_minutes", "parse_interval"), "forecasting.history.intervals"),
    **dict.fromkeys(
        ("FINER", "chart_defaults", "flag_notes", "print_kpi_report", "review_markdown", "target_text"),
        "forecasting.history.kpi_review",
    ),
    **dict.fromkeys(("all_label", "groupings", "kpi_report"), "forecasting.history.kpis"),
    **dict.fromkeys(("DEFAULT_TARGET_SECONDS", "load_targets"), "forecasting.history.targets"),
    **dict.fromkeys(("open_stretches",), "forecasting.slots"),
    **dict.fromkeys(("SpecialDays", "read_special_days"), "forecasting.special_days"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

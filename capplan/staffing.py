"""Staffing tables of intervals (Erlang C/A, chat, backlog), the service models and their
validation on a centre's log, satisfaction.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(("SURVEYS", "validate_satisfaction"), "scenarios.service.satisfaction"),
    **dict.fromkeys(
        (
            "DEFAULT_HOURS_PER_FTE",
            "METRICS",
            "StaffingOptions",
            "fte_by_period",
            "simulated_service",
            "staff_intervals",
        ),
        "scenarios.service.staffing_plan",
    ),
    **dict.fromkeys(
        ("DEFAULT_INTERVAL", "read_staffing_table", "within_day"), "scenarios.service.staffing_table"
    ),
    **dict.fromkeys(
        (
            "MIN_HOUR_ARRIVALS",
            "PICTURED",
            "by_hour_of_day",
            "observed_and_predicted",
            "pictured_models",
            "validate_staffing",
        ),
        "scenarios.service.validation",
    ),
    **dict.fromkeys(("MODELS", "StaffingTargets"), "scenarios.staffing.requirements"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

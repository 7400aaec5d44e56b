"""Long-term capacity plans and shift schedules.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(
        (
            "CapacityInputs",
            "Requirements",
            "capacity_requirements",
            "compute_capacity",
            "load_capacity_inputs",
            "run_capacity",
            "spec_of",
        ),
        "scenarios.capacity.plan",
    ),
    **dict.fromkeys(
        ("ScheduleResult", "rules_of", "run_schedule", "solve", "week_requirement"),
        "scenarios.scheduling.plan",
    ),
    **dict.fromkeys(("DAYS",), "scenarios.scheduling.scheduler"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

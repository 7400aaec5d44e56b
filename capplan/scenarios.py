"""Scenarios: their files, the inputs they load, running, analysing and answering them, and their
runs in MLflow with plots.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(("analyse",), "scenarios.analysis.analyse"),
    **dict.fromkeys(("manager_answer", "with_headcount"), "scenarios.analysis.answers"),
    **dict.fromkeys(("curve_words",), "scenarios.analysis.realistic_targets"),
    **dict.fromkeys(
        ("base_forecast", "champion_version", "load_history", "resolve_path"),
        "scenarios.inputs.base_forecast",
    ),
    **dict.fromkeys(("BUNDLED_DATA", "BUNDLED_SCENARIOS", "scenario_dir"), "scenarios.inputs.bundled"),
    **dict.fromkeys(("load_evidence", "load_service_check"), "scenarios.inputs.load"),
    **dict.fromkeys(
        (
            "CapacitySpec",
            "DataSpec",
            "ForecastSpec",
            "SERVICE_MODELS",
            "Scenario",
            "ScheduleSpec",
            "find_scenario_file",
            "load_scenario",
            "merge",
            "raw_scenario",
            "scenario_files",
        ),
        "scenarios.inputs.spec",
    ),
    **dict.fromkeys(("run_scenario",), "scenarios.runner"),
    **dict.fromkeys(
        ("DATA_QUEUE", "is_each_queue", "run_each_queue", "scenario_queues_summary"), "scenarios.each_queue"
    ),
    **dict.fromkeys(("model_asked",), "scenarios.service.choice"),
    **dict.fromkeys(
        ("agents_by_interval", "plt", "service_by_day", "validation_plot"), "scenarios.tracking.plots"
    ),
    **dict.fromkeys(
        (
            "CAPACITY_OUTPUTS",
            "NoRunError",
            "OUTPUTS",
            "SCHEDULE_OUTPUTS",
            "compare_runs",
            "latest_run",
            "log_capacity",
            "log_scenario",
            "log_schedule",
            "runs_table",
            "write_capacity_tables",
            "write_outputs",
            "write_schedule_tables",
        ),
        "scenarios.tracking.runs",
    ),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

"""Forecasting: the model catalog, backtests and forecasts, training and the model contract,
live accuracy, plots.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(
        (
            "Accuracy",
            "Actuals",
            "compare",
            "describe_live",
            "log_live",
            "model_forecast",
            "promised",
            "read_forecast",
            "verdict",
        ),
        "forecasting.accuracy",
    ),
    **dict.fromkeys(("MODELS", "explain_choice"), "forecasting.catalog"),
    **dict.fromkeys(
        (
            "backtest_and_choose",
            "backtest_queues",
            "candidate_names",
            "choice_key",
            "converted_forecast_table",
            "horizon_timestamps",
            "make_forecast",
            "output_granularity",
            "read_timestamps",
            "remember_choice",
            "require_clean",
        ),
        "forecasting.forecast_job",
    ),
    **dict.fromkeys(("ForecasterPanel", "load_panel"), "forecasting.forecaster_panel"),
    **dict.fromkeys(("ModelContract", "data_contract", "load_checked"), "forecasting.model_contract"),
    **dict.fromkeys(("PanelError", "SCHEDULER_VARIABLE", "scheduler_from"), "forecasting.panel"),
    **dict.fromkeys(("forecast_plot",), "forecasting.plots"),
    **dict.fromkeys(("forecast_series", "queue_series"), "forecasting.series"),
    **dict.fromkeys(("cells_of",), "forecasting.store.backtest_cells"),
    **dict.fromkeys(("series_digest",), "forecasting.store.forecast_cache"),
    **dict.fromkeys(("retrain", "train"), "forecasting.training"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

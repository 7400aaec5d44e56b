"""The MLflow store (runs, registered models, the forecast cache) and the model aliases.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(
        ("CHALLENGER", "CHAMPION", "FORECASTING", "ModelVersion", "RegisteredModel", "SCENARIOS", "Store"),
        "forecasting.store",
    ),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

"""One name and one way of writing for every number capplan reports (labels, units, the FTE
question a figure answers).

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(
        ("format_value", "fte_question", "label", "measure", "readable_comparison"),
        "forecasting.common.vocabulary",
    ),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

"""User errors (:class:`InputError`: file, row, column, what was expected) and the rules values
are held to.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(("InputError", "cli_option"), "forecasting.common.errors"),
    **dict.fromkeys(("RULES", "Rule", "check_value", "number_text"), "forecasting.common.input_rules"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

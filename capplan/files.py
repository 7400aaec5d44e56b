"""Reading and writing planners' files: tables in, CSV/Excel/JSON out, output folders that never
lose a user's file, YAML read safely.

Part of capplan's front-end surface: the command line and the app import from ``capplan`` and
its modules only, never from the core packages, so the core can move without them. Names load
when first used (``capplan --help`` stays instant)."""

from __future__ import annotations

from capplan._lazy import lazy_names

SOURCES = {
    **dict.fromkeys(("one_note", "write_csv", "write_excel"), "forecasting.common.csv_safety"),
    **dict.fromkeys(("dumps",), "forecasting.common.jsonable"),
    **dict.fromkeys(
        ("FileOutputs", "OutputFolder", "atomic_write", "check_output_file", "check_output_folder"),
        "forecasting.common.output_files",
    ),
    **dict.fromkeys(
        ("MAX_YAML_BYTES", "read_yaml_mapping", "validate_mapping"), "forecasting.history.config"
    ),
    **dict.fromkeys(("read_table",), "forecasting.history.tables"),
}
__all__ = sorted(SOURCES)
__getattr__, __dir__ = lazy_names(__name__, SOURCES)

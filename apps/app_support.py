"""What the app's pages share: bundled data, cached loading, MLflow look-ups, error display.

Everything here is a thin, cached wrapper over the packages, so the numbers a page shows are
the packages' numbers, computed once per input.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pandas as pd
import streamlit as st

from capplan.errors import InputError
from capplan.files import MAX_YAML_BYTES, write_csv, write_excel
from capplan.history import IngestOptions, IngestResult, ingest
from capplan.scenarios import BUNDLED_DATA, scenario_dir, scenario_files
from capplan.store import Store

BANK_LOG = BUNDLED_DATA / "anonymous_bank_1999-02-01_14.tsv"
BANK_CALLS = BUNDLED_DATA / "bank_calls_2003-03-03_2003-05-28.csv"
BUNDLED = {
    "Bank call log (Feb 1999, one row per call)": (
        BANK_LOG,
        IngestOptions(format="anonymous-bank", interval="60min"),
    ),
    "Bank interval report (Mar–May 2003, calls per 5 minutes)": (
        BANK_CALLS,
        IngestOptions(time_col="DateTime", value_cols=("Calls",)),
    ),
}
CONFIG_UPLOAD_BYTES = MAX_YAML_BYTES  # a mapping or targets file: what the command line reads
APP_SETTINGS = {  # settings as the Data page's widgets name them (the rest in the errors' plain words)
    "sep": "'Field delimiter'",
    "encoding": "'Text encoding'",
    "reject_bad_rows": "'Reject bad rows and go on'",
    "format": "'Format'",
    "time_col": "'Timestamp column'",
    "value_col": "'Value column'",
    "interval": "'Interval'",
}


CACHED_HISTORIES = 6  # ingested files kept in memory (each can be hundreds of MB)
CACHE_SECONDS = 3600


@st.cache_resource(
    show_spinner="Reading and checking the history…", max_entries=CACHED_HISTORIES, ttl=CACHE_SECONDS
)
def ingest_file(path: str, mtime: float, options: IngestOptions) -> IngestResult:
    return ingest(path, options)


@st.cache_resource(
    show_spinner="Reading and checking the history…", max_entries=CACHED_HISTORIES, ttl=CACHE_SECONDS
)
def ingest_upload(
    name: str,
    digest: str,
    options: IngestOptions,
    _data: bytes,
    mapping_name: str | None = None,
    mapping_digest: str | None = None,
    _mapping: bytes | None = None,
) -> IngestResult:
    """An uploaded file (and the mapping uploaded with a log) ingested once per content and
    options (not once per rerun), from temporary copies deleted as soon as they are read:
    nothing of a planner's upload stays on disk."""
    with tempfile.TemporaryDirectory(prefix="capplan-upload-") as folder:
        path = Path(folder) / upload_file_name(name)
        path.write_bytes(_data)
        if _mapping is not None:
            mapping = Path(folder) / ("mapping-" + upload_file_name(mapping_name or "mapping.yaml"))
            mapping.write_bytes(_mapping)
            options = replace(options, mapping=mapping)
        try:
            return ingest(path, options)
        except InputError as exc:  # the planner's own file names, never where the server kept them
            if exc.path == str(path):
                exc.path = upload_file_name(name)
            elif _mapping is not None and exc.path == str(mapping):
                exc.path = upload_file_name(mapping_name or "mapping.yaml")
            raise


def remove_stale_uploads(max_age_seconds: float = 3600) -> None:
    """At start-up: copies left by a server that was killed while reading an upload, and the
    folder older versions kept every upload in (never emptied)."""
    import shutil
    import time

    temp = Path(tempfile.gettempdir())
    shutil.rmtree(temp / "capplan-uploads", ignore_errors=True)
    for folder in temp.glob("capplan-upload-*"):
        try:
            if time.time() - folder.stat().st_mtime > max_age_seconds:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


remove_stale_uploads()  # once per server process: this module is imported once


def data_upload_limit_mb() -> int:
    """The data upload limit in MB: Streamlit's ``server.maxUploadSize`` (50 in the project's
    .streamlit/config.toml), so a server that raises it raises ours, and both say the same."""
    return int(st.get_option("server.maxUploadSize"))


def upload_bytes(upload, kind: Literal["data", "config"]) -> bytes:
    """An upload's bytes, refused with one line before they are read or parsed when over its
    kind's limit: a data file up to ``data_upload_limit_mb()``, a mapping or targets file
    up to ``CONFIG_UPLOAD_BYTES`` (one small upload must not take the server's memory)."""
    limit = data_upload_limit_mb() * 2**20 if kind == "data" else CONFIG_UPLOAD_BYTES
    if upload.size > limit:
        what = "data file" if kind == "data" else "mapping or targets file"
        raise InputError(
            f"too large to upload ({_in_units(upload.size)})",
            path=upload_file_name(upload.name),
            expected=f"a {what} of at most {_in_units(limit)}"
            + (" (use `capplan ingest` for larger files)" if kind == "data" else ""),
        )
    return upload.getvalue()


def _in_units(size: int) -> str:
    return f"{size / 2**20:,.1f} MB" if size >= 2**20 else f"{size / 2**10:,.0f} KB"


def upload_file_name(name: str, limit: int = 120) -> str:
    """The upload's own name, made safe as one file name: no folders, at most ``limit``
    bytes (a name over 255 bytes cannot be written), the suffix kept (it picks the reader)."""
    name = Path(name.replace("\\", "/")).name or "upload"
    suffix = Path(name).suffix[:10]
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode()) > limit:  # bytes, not characters: 'é' takes two
        stem = stem[:-1]
    return (stem or "upload") + suffix


def content_digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def ingest_bundled(label: str) -> IngestResult:
    path, options = BUNDLED[label]
    return ingest_file(str(path), path.stat().st_mtime, options)


def show_error(exc: InputError) -> None:
    """A user error as the app shows it: the one-line message and, if rows were rejected, a
    download of them."""
    st.error(exc.render(APP_SETTINGS.get))
    if getattr(exc, "rejected", None) is not None:
        rows = exc.rejected.rejected_rows()
        st.download_button(
            f"Download the {len(rows):,} rejected rows (CSV)",
            write_csv(rows, index=False, name="rejected.csv"),
            "rejected.csv",
            "text/csv",
        )


FORECAST_DEFAULT = list(BUNDLED)[1]  # the interval report the demo trains on


def forecast_dataset() -> tuple[str, IngestResult] | None:
    """The data to forecast: the bundled interval report (the demo's champion), or the data
    chosen on the Data page."""
    options = {FORECAST_DEFAULT: None}
    chosen = st.session_state.get("dataset")
    if chosen is not None and chosen[0] != FORECAST_DEFAULT:
        options[f"{chosen[0]} (from Data & KPIs)"] = chosen[1]
    label = (
        st.selectbox("Data to forecast", list(options), key="forecast_data")
        if len(options) > 1
        else FORECAST_DEFAULT
    )
    if options[label] is not None:
        return label, options[label]
    try:
        return label, ingest_bundled(label)
    except InputError as exc:
        show_error(exc)
        return None


def pick_scenario(label: str) -> Path:
    """A scenario file chosen in a select box (baseline first), or the page stops saying where to add one."""
    files = {p.stem: p for p in scenario_files()}
    if not files:
        st.info(f"No scenario files in {scenario_dir()}: add one (see baseline.yaml in the repository).")
        st.stop()
    names = list(files)
    default = runnable_default(files)
    chosen = st.selectbox(label, names, index=names.index(default))
    if chosen == default != "baseline" and "baseline" in files:
        st.info(
            f"Opened on '{default}': 'baseline' forecasts with the registered champion model, and this store has "
            "none yet. Train one on the **Forecast** page (or run `capplan demo`) to plan from it."
        )
    return files[chosen]


@st.cache_data(show_spinner=False, ttl=10, max_entries=8)
def scenarios_with(section: str, folder: str, stamps: tuple[tuple[str, float], ...]) -> dict[str, str]:
    """The folder's scenarios that have ``section`` (``capacity``, ``schedule``), by name (re-read
    when a file changes: ``stamps`` are the files and their modification times); files that do
    not load are left to the pages that run them."""
    from capplan.scenarios import load_scenario

    found = {}
    for file, _ in stamps:
        try:
            scenario, _ = load_scenario(Path(file))
        except (InputError, OSError):
            continue
        if getattr(scenario, section) is not None:
            found[Path(file).stem] = file
    return found


def pick_scenario_with(section: str, default: str, how_to_add: str) -> Path:
    """A scenario with ``section``, chosen in a select box (``default`` first when there), or the
    page stops saying how to add one (``how_to_add``: what the section holds, in words)."""
    from capplan.scenarios import BUNDLED_SCENARIOS

    folder = scenario_dir()
    stamps = tuple((str(p), p.stat().st_mtime) for p in scenario_files(folder))
    files = scenarios_with(section, str(folder), stamps)
    if not files:
        st.info(
            f"No scenario in {folder} has a `{section}:` section. Add one to a scenario file there: {how_to_add}, "
            f"as in `{BUNDLED_SCENARIOS / (default + '.yaml')}` (its `extends: baseline` takes the data, queues "
            "and targets from the baseline)."
        )
        st.stop()
    names = list(files)
    first = default if default in files else names[0]
    return Path(files[st.selectbox("Scenario", names, index=names.index(first), key=f"{section}_scenario")])


def runnable_default(files: dict[str, Path]) -> str:
    """The scenario a page opens on: baseline when it can run (its forecast model is trained),
    else the first that can, so a first visit shows a plan rather than a no-champion error."""
    from capplan.scenarios import champion_version, load_scenario

    order = (["baseline"] if "baseline" in files else []) + [n for n in files if n != "baseline"]
    for name in order:
        try:
            scenario, path = load_scenario(files[name])
            if scenario.forecast.model != "champion" or champion_version(
                app_store(), scenario.data, scenario.forecast, path.parent
            ):
                return name
        except (InputError, OSError):
            continue
    return order[0]


def champion_hint(exc: InputError) -> None:
    """After a 'no champion' error: where to get one."""
    if "champion" in str(exc):
        st.info(
            "Train a model on the **Forecast** page (or run `make run` / `capplan demo`), then come back."
        )


def excel_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in frames.items():
            write_excel(frame, writer, sheet_name=sheet[:31])
    return buffer.getvalue()


def app_store() -> Store:
    """The app's one store, made when a page runs from MLFLOW_TRACKING_URI (or the default
    local store) and passed to everything that records or reads runs. A Store is a plain value
    (no connection), so making it again is free and caches are keyed by it."""
    return Store.open()


def store_caption() -> None:
    st.caption(f"MLflow store: `{app_store()}`")


def scenario_runs() -> pd.DataFrame:
    """Scenario runs in the store, newest first (re-read every few seconds)."""
    return _scenario_runs(app_store())


@st.cache_data(ttl=10, max_entries=8, show_spinner=False, hash_funcs={Store: str})
def _scenario_runs(store: Store) -> pd.DataFrame:
    from capplan.scenarios import runs_table

    return runs_table(store)


scenario_runs.clear = _scenario_runs.clear  # type: ignore[attr-defined]


@st.cache_data(show_spinner=False, max_entries=64, ttl=CACHE_SECONDS, hash_funcs={Store: str})
def run_artifact_table(store: Store, run_id: str, name: str) -> pd.DataFrame | None:
    """A table logged with a run (runs are immutable, so cached for good)."""
    return store.artifact_table(run_id, name)


def readable(frame: pd.DataFrame, kinds: dict[str, str], names: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as people read it: each column in ``kinds`` written like the metric it names
    (``forecasting.common.vocabulary``: counts with separators, shares as %, seconds, money), columns
    renamed by ``names``. For showing only: downloads keep the numbers."""
    from capplan.words import format_value

    out = frame.copy()
    for column, key in kinds.items():
        if column in out:
            out[column] = [format_value(key, v) for v in out[column]]
    return out.rename(columns=names or {})


@st.cache_data(show_spinner=False, max_entries=CACHED_HISTORIES, ttl=CACHE_SECONDS)
def peek_upload(name: str, digest: str, sep: str | None, encoding: str | None, _data: bytes):
    """The upload's column names and the format and mapping they suggest
    (``forecasting.history.detect``), read once per content."""
    from capplan.files import read_table
    from capplan.history import suggest_reading

    with tempfile.TemporaryDirectory(prefix="capplan-upload-") as folder:
        path = Path(folder) / upload_file_name(name)
        path.write_bytes(_data)
        try:
            raw = read_table(path, sep, encoding)
        except InputError as exc:
            if exc.path == str(path):
                exc.path = upload_file_name(name)
            raise
    frame = raw.frame.head(200)
    return [str(c) for c in frame.columns], suggest_reading(frame)


def uploaded_targets(name: str, data: bytes):
    """A targets YAML uploaded in the app, checked like ``capplan kpis --targets``."""
    from capplan.history import load_targets

    with tempfile.TemporaryDirectory(prefix="capplan-upload-") as folder:
        path = Path(folder) / upload_file_name(name)
        path.write_bytes(data)
        try:
            return load_targets(path)
        except InputError as exc:
            if exc.path == str(path):
                exc.path = upload_file_name(name)
            raise


TABLE_WIDTH_PX = (
    730  # a table's room at a 1280 px window with the sidebar open (measured: 784-818, less the grid's frame)
)
GRID_ROWS_SHOWN = 10  # rows an auto-height grid shows before it scrolls
GRID_SIZES_ALONE = 0.85  # below this share of the room the grid sizes columns itself (it measures wider)
CHAR_PX, PAD_PX, MIN_COLUMN_PX = 7.5, 22, 56  # a character of the grid's 14 px font; a cell's padding


def _text_px(texts) -> int:
    return int(max((len(str(t)) for t in texts), default=0) * CHAR_PX + PAD_PX)


def _shown(values: pd.Series, config: dict | None) -> pd.Series:
    """A column's values about as the grid writes them: by the column's printf format or
    percent, else numbers to 4 significant digits (the grid's own default is as short)."""
    fmt = ((config or {}).get("type_config") or {}).get("format")
    if pd.api.types.is_datetime64_any_dtype(values) and isinstance(fmt, str):
        return pd.Series([fmt] * values.notna().sum())  # e.g. YYYY-MM-DD HH:mm: as long as it writes
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.astype(str)
    numbers = values.dropna().astype(float)
    if fmt == "percent":
        return numbers.map(lambda v: f"{v:.2%}")
    if isinstance(fmt, str) and fmt.startswith("%"):
        return numbers.map(lambda v: fmt.replace("%d", "%.0f") % v)
    return numbers.map(lambda v: f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}")


def fit_widths(
    frame: pd.DataFrame,
    budget: int = TABLE_WIDTH_PX,
    index: bool = False,
    column_config: dict | None = None,
    fill: bool = False,
) -> dict[str, int]:
    """Pixel widths that fit ``frame`` into ``budget``: each column as wide as its longest
    shown value needs (values are never cut), the room left shared among the headers that need
    more (water-filling: a short header keeps what it needs, the long ones share the rest
    equally and show their full name as a tooltip). Empty when everything fits (the grid then
    sizes and stretches the columns itself). ``_index`` is the index's width when shown."""
    shown = frame.head(500)
    config = column_config or {}
    cells = {
        str(c): max(
            _text_px(_shown(shown[c], config.get(c) if isinstance(config.get(c), dict) else None)),
            MIN_COLUMN_PX,
        )
        for c in shown.columns
    }
    heads = {str(c): _text_px([c]) for c in shown.columns}
    if index:
        cells = {"_index": max(_text_px(shown.index.astype(str)), MIN_COLUMN_PX), **cells}
        heads = {"_index": _text_px([frame.index.name or ""]), **heads}
    natural = {c: max(cells[c], heads[c]) for c in cells}
    if fill and sum(natural.values()) <= budget:  # a scrolling grid: stretched by us, not past its scrollbar
        grow = budget / max(sum(natural.values()), 1)
        return {c: int(w * grow) for c, w in natural.items()}
    if sum(natural.values()) <= GRID_SIZES_ALONE * budget:
        return {}
    if sum(natural.values()) <= budget:  # near the edge: the grid's own sizing runs a few px wider
        return natural
    widths = dict(cells)
    extra = {c: heads[c] - cells[c] for c in cells if heads[c] > cells[c]}
    room = budget - sum(cells.values())
    while extra and room > 0:  # short header needs met in full, long ones share what is left
        share = room / len(extra)
        small = {c: e for c, e in extra.items() if e <= share}
        if not small:
            widths |= {c: widths[c] + int(share) for c in extra}
            break
        widths |= {c: widths[c] + e for c, e in small.items()}
        room -= sum(small.values())
        extra = {c: e for c, e in extra.items() if c not in small}
    return widths


_MARKDOWN = re.compile(r"([\\`*~\[\]<>$|#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's text as text in a static table, which renders Markdown: characters that would
    change it escaped (a queue called _vip_ is not italic, a name with $ is not LaTeX), inner
    underscores as in campaign_week left alone. Numbers and other values unchanged."""

    def escaped(value):
        return _MARKDOWN.sub(r"\\\1", value) if isinstance(value, str) else value

    out = frame.map(escaped)
    out.columns = [escaped(c) for c in frame.columns]
    out.index = frame.index.map(escaped)
    return out


STATIC_ROWS = 60  # a table this short is shown whole, its headers and cells wrapped to the page


def show_table(
    frame: pd.DataFrame,
    column_config: dict | None = None,
    *,
    hide_index: bool = True,
    static: bool | None = None,
    height: int | str = "auto",
    budget: int = TABLE_WIDTH_PX,
) -> None:
    """Every table of the app, fitted to the page at a 1280 px window, so no column hides off
    to the right. A short table (at most ``STATIC_ROWS`` rows, no ``column_config``) is static:
    headers and cells wrap, nothing is cut, values show as the caller wrote them (``readable``).
    A longer one is a scrolling grid whose columns share the width (``fit_widths``); a narrowed
    column's full name is its tooltip. ``column_config`` as for ``st.dataframe`` (formats,
    labels, pinning); a width set there is kept."""
    if static is None:
        static = column_config is None and len(frame) <= STATIC_ROWS
    if static:
        st.table(plain_text(frame), hide_index=hide_index)
        return
    config = dict(column_config or {})
    scrolls = height == "auto" and len(frame) > GRID_ROWS_SHOWN  # its vertical scrollbar takes width
    for column, width in fit_widths(frame, budget, not hide_index, config, fill=scrolls).items():
        given = config.get(column)
        if isinstance(given, str):  # a plain label
            given = st.column_config.Column(given)
        given = dict(given or st.column_config.Column())
        if given.get("width") is None:
            given["width"] = width
        if given.get("help") is None and column != "_index":
            given["help"] = given.get("label") or column
        config[column] = given
    # a scrolling grid stretched to the page runs its scrollbar's width past it: sized to its columns
    width = "content" if scrolls else "stretch"
    st.dataframe(frame, hide_index=hide_index, width=width, height=height, column_config=config)


def uploaded_scenario(name: str, data: bytes) -> tuple[dict, Path]:
    """A scenario YAML uploaded in the app, read like ``capplan scenario run FILE``: the same
    bounded loader (``scenarios.inputs.spec.raw_scenario``), with ``extends`` naming a scenario of the
    scenarios folder. Returns its mapping and where it stands in for a file (the scenarios
    folder, for relative data paths). Read from a temporary copy deleted at once: nothing is
    written into the scenarios folder, so no user's file there is ever replaced."""
    import shutil

    from capplan.scenarios import raw_scenario

    folder = scenario_dir()
    safe = upload_file_name(name)
    if Path(safe).suffix.lower() not in (".yaml", ".yml"):
        safe += ".yaml"
    with tempfile.TemporaryDirectory(prefix="capplan-upload-") as temp:
        for parent in scenario_files(folder):  # what `extends` may name, beside the upload
            if parent.stat().st_size <= CONFIG_UPLOAD_BYTES:
                shutil.copyfile(parent, Path(temp) / parent.name)
        path = Path(temp) / safe
        path.write_bytes(data)
        try:
            return raw_scenario(path), folder / safe
        except InputError as exc:  # the planner's file by its name, the folder's files by theirs
            if exc.path == str(path):
                exc.path = safe
            elif exc.path and exc.path.startswith(temp):
                exc.path = str(folder / Path(exc.path).name)
            raise


def history_as_interval_file(result: IngestResult) -> tuple[pd.DataFrame, dict]:
    """An ingested history (e.g. the Data page's upload) as a scenario can read it: arrivals
    per interval, all queues together, and the ``data:`` section that reads them back. Only
    arrivals: a scenario's data reads one value column, so handle times come from the
    scenario's queues (``aht_seconds``)."""
    frame = result.intervals.groupby("interval_start", as_index=False)["arrivals"].sum(min_count=1)
    return frame, {"format": "intervals", "time_col": "interval_start", "value_col": "arrivals"}


def upload_history_path(result: IngestResult) -> Path:
    """Where a scenario reads an uploaded history while it runs (``history_file``): named by
    its content, so the same upload keeps its cached forecast between reruns."""
    frame, _ = history_as_interval_file(result)
    digest = content_digest(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    stem = Path(upload_file_name(result.source.name)).stem
    return Path(tempfile.gettempdir()) / f"capplan-upload-plan-{digest[:16]}" / f"{stem}_arrivals.parquet"


@contextmanager
def history_file(result: IngestResult | None) -> Iterator[Path | None]:
    """An uploaded history written where ``upload_history_path`` says for the length of a
    ``with`` block (the run that reads it) and deleted after: the scenario runs the CLI's code
    on a file, and nothing of the upload stays on disk. ``None``: nothing to write."""
    if result is None:
        yield None
        return
    import shutil

    path = upload_history_path(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        history_as_interval_file(result)[0].to_parquet(path, index=False)
        yield path
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def config_upload_limit() -> str:
    """The size a scenario, mapping or targets upload may have, as the uploader says it."""
    return _in_units(CONFIG_UPLOAD_BYTES)

"""``capplan accuracy``: a stored forecast (a forecast file, a registered model, or a scenario
run) against the actuals that arrived since; with a registered model, its live accuracy is
logged to MLflow so ``capplan store`` and the app show when to retrain."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.history import add_ingest_arguments, ingest_for, input_path
from capplan.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from capplan.forecasts import Accuracy, Actuals
    from capplan.store import ModelVersion, Store

OUTPUTS = ("accuracy_summary.csv", "accuracy_rows.csv", "accuracy.png")
SHOWN = ["level", "n", "from", "to", "mase", "wape", "bias", "coverage80", "coverage95"]
NOT_SCORED = (
    "partial_forecast",
    "partial_actuals",
    "gap_in_the_actuals",
    "after_the_actuals",
    "before_the_actuals",
)


@dataclass
class Source:
    """A forecast to score, as the actuals will be compared with it."""

    table: pd.DataFrame
    label: str
    tables: dict[str, pd.DataFrame] | None = None  # coarser levels with their own bands
    history: pd.Series | None = None  # the data before the forecast, for the MASE scale
    granularity: str | None = None
    version: ModelVersion | None = None  # a registered model's, to log its live accuracy
    promised: dict[str, float] | None = None  # the backtest's numbers at registration
    note: str | None = None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "accuracy",
        help="a stored forecast against the actuals since: MASE, WAPE, bias and band coverage by interval, day, week, month",
    )
    add_ingest_arguments(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--forecast", type=Path, metavar="CSV", help="a forecast file `capplan forecast` wrote"
    )
    which.add_argument(
        "--model",
        metavar="NAME[:VERSION]",
        help="a registered model (its champion, or NAME:3, NAME:challenger): it forecasts the actuals after "
        "its training data ended, and its live accuracy is logged to MLflow",
    )
    which.add_argument(
        "--run",
        metavar="RUN",
        help="a scenario run (its MLflow run id, or a scenario name for its latest run)",
    )
    p.add_argument("--field", choices=("arrivals", "aht"), default="arrivals", help="what was forecast")
    p.add_argument("--queue", help="one queue (default: all queues together)")
    p.add_argument(
        "--out", type=Path, help="folder for accuracy_summary.csv, accuracy_rows.csv, accuracy.png"
    )
    p.set_defaults(handler=run_accuracy)


def run_accuracy(args: argparse.Namespace) -> int:
    from capplan.files import check_output_folder
    from capplan.forecasts import Actuals, compare, log_live, read_forecast, require_clean, verdict

    if args.out:
        check_output_folder(args.out, command="accuracy", writes=OUTPUTS)
    # a bad forecast file is said before the actuals are read
    forecast = read_forecast(args.forecast, args.queue) if args.forecast is not None else None
    result = ingest_for(args, None)
    require_clean(result)
    actuals = Actuals.from_ingest(result, args.field, args.queue)
    if forecast is not None:
        source = Source(forecast, str(args.forecast))
    elif args.model is not None:
        source = model_source(args.store, args.model, result, args.field, args.queue, actuals)
    else:
        source = run_source(args.store, args.run, args.field)
    scored = compare(source.table, actuals, source.granularity, source.tables, source.history)
    print(f"{source.label} against {input_path(args).name}")
    if source.note:
        print(source.note)
    if scored.note:
        print(scored.note)
    print(format_summary(scored))
    print(f"MASE scale: the one-week seasonal naive's error on {scored.scale_from}")
    print(verdict(scored, source.promised))
    if source.version is not None and scored.headline_level() is not None:
        run_id = log_live(args.store, source.version, scored, str(input_path(args)))
        print(
            f"live accuracy logged: MLflow run {run_id}; tags capplan.live.* on {source.version.name} version {source.version.version}"
        )
    if args.out:
        write_outputs(args.out, scored, source.label)
        print(
            f"wrote {args.out / 'accuracy_summary.csv'}, {args.out / 'accuracy_rows.csv'}, {args.out / 'accuracy.png'}"
        )
    return 0


def format_summary(scored: Accuracy) -> str:
    import numpy as np
    import pandas as pd

    table = scored.summary.copy()
    for column in ("from", "to"):
        table[column] = pd.to_datetime(table[column]).dt.strftime("%Y-%m-%d").fillna("")
    for column in ("wape", "bias", "coverage80", "coverage95"):
        table[column] = table[column].map(lambda v: "" if not np.isfinite(v) else f"{100 * v:.1f} %")
    table["mase"] = table["mase"].map(lambda v: "" if not np.isfinite(v) else f"{v:.3f}")
    text = table[SHOWN].to_string(index=False)
    notes = []
    for row in scored.summary.to_dict("records"):
        counts = [f"{row[k]} {k.replace('_', ' ')}" for k in NOT_SCORED if row.get(k)]
        if counts:
            notes.append(f"  {row['level']}: not scored: " + ", ".join(counts))
    scored_levels = scored.summary[scored.summary["n"] > 0]
    if scored_levels["coverage80"].isna().any():
        notes.append(
            "  (no coverage where the forecast has no bands: a file's or a run's rows totalled, or none given)"
        )
    return text + ("\n" + "\n".join(notes) if notes else "")


def parse_model(text: str) -> tuple[str, str | int]:
    """NAME, NAME:VERSION or NAME:champion|challenger."""
    from capplan.store import CHALLENGER, CHAMPION

    name, _, which = text.partition(":")
    which = which.strip() or CHAMPION
    if not name or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise InputError("not a registered model name", option="model", expected="NAME[:VERSION]", found=text)
    if which.isdigit():
        return name, int(which)
    if which not in (CHAMPION, CHALLENGER):
        raise InputError(
            "not a version",
            option="model",
            expected="NAME, NAME:<number>, NAME:champion or NAME:challenger",
            found=text,
        )
    return name, which


def find_version(store: Store, text: str) -> ModelVersion:
    name, which = parse_model(text)
    found = (
        store.model_version_number(name, which)
        if isinstance(which, int)
        else store.model_version(name, which)
    )
    if found is None:
        raise InputError(
            f"no such registered model version in {store}",
            option="model",
            expected="a registered model (`capplan store` lists them)",
            found=text,
        )
    return found


def model_source(store: Store, text: str, result, field: str, queue: str | None, actuals: Actuals) -> Source:
    """The registered model's forecast of the actuals after its training data, its contract
    checked against the data before it is loaded."""
    from capplan.forecasts import data_contract, load_checked, model_forecast, promised

    version = find_version(store, text)
    model, model_name, version, fit = load_checked(
        store, version.name, data_contract(result, field, queue), version, "forecast"
    )
    label = f"{version.name} version {version.version} ({model_name})"
    made = model_forecast(model, fit, result, actuals, field, queue, label)
    run = store.run(version.run_id)
    return Source(
        made.table,
        label,
        made.tables,
        made.history,
        made.granularity,
        version,
        promised(run.metrics) if run is not None else None,
        note=f"forecast from the end of its training data ({made.start:%Y-%m-%d %H:%M}) to {made.end:%Y-%m-%d %H:%M}",
    )


def run_source(store: Store, text: str, field: str) -> Source:
    """A scenario run's demand (its ``intervals`` table, all queues summed): what the plan was
    staffed for, the scenario's changes included. Its runs keep no forecast bands."""
    import pandas as pd

    from capplan.scenarios import latest_run

    if field != "arrivals":
        raise InputError("a scenario run keeps its volumes", option="field", expected="arrivals", found=field)
    run = store.run(text) if re.fullmatch(r"[0-9a-f]{32}", text) else None
    run = run or latest_run(store, text)
    if run is None:
        raise InputError(
            f"no scenario run of this id or name in {store}",
            option="run",
            expected="a run id or a scenario name (`capplan scenario list` shows them)",
            found=text,
        )
    table = store.artifact_table(run.run_id, "intervals.parquet")
    if table is None or not {"interval_start", "volume"} <= set(table.columns):
        raise InputError(
            "the run has no intervals table",
            option="run",
            expected="a scenario run capplan logged",
            found=text,
        )
    volume = table.groupby(pd.DatetimeIndex(table["interval_start"]))["volume"].sum()
    forecast = volume.rename("forecast").rename_axis("timestamp").reset_index()
    name = run.tags.get("scenario", run.run_name)
    return Source(
        forecast,
        f"scenario run {run.run_id} ({name})",
        note="the scenario's demand as staffed (its changes included), all its queues summed; no bands: "
        "coverage is not scored",
    )


def write_outputs(folder: Path, scored: Accuracy, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capplan.files import OutputFolder, write_csv
    from capplan.forecasts import forecast_plot

    with OutputFolder(folder, "accuracy", outputs=OUTPUTS) as out:
        write_csv(scored.summary, out.path("accuracy_summary.csv"), index=False, float_format="%.6g")
        write_csv(
            scored.rows,
            out.path("accuracy_rows.csv"),
            index=False,
            float_format="%.6g",
            date_format="%Y-%m-%d %H:%M:%S",
        )
        rows = scored.rows[scored.rows["level"] == scored.granularity]
        actual = rows.set_index("timestamp")["actual"].dropna().rename("actual")
        figure = forecast_plot(actual, rows, f"{label}: forecast and its bands against the actuals")
        figure.savefig(out.path("accuracy.png"), dpi=110, bbox_inches="tight")
        plt.close(figure)

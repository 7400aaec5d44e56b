"""Forecast: the latest backtest leaderboard, a registered version's forecast with its bands, that
forecast (or a forecast file) against the actuals since, retraining."""

import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app_support import (
    app_store,
    forecast_dataset,
    show_error,
    show_table,
    store_caption,
    upload_bytes,
    upload_file_name,
)
from capplan.errors import InputError
from capplan.files import write_csv
from capplan.forecasts import (
    Accuracy,
    Actuals,
    ModelContract,
    candidate_names,
    compare,
    converted_forecast_table,
    data_contract,
    describe_live,
    forecast_series,
    horizon_timestamps,
    load_checked,
    log_live,
    model_forecast,
    promised,
    read_forecast,
    require_clean,
    retrain,
    series_digest,
    train,
    verdict,
)
from capplan.store import CHALLENGER, CHAMPION, FORECASTING, ModelVersion, RegisteredModel, Store
from charts import forecast_chart

st.title("Forecast")
store_caption()
chosen = forecast_dataset()
if chosen is None:
    st.stop()
label, result = chosen
try:
    require_clean(result)
    history = forecast_series(result, "arrivals")
except InputError as exc:
    show_error(exc)
    st.info(
        "Forecasting needs every row: fix the rejected rows (download them on **Data & KPIs**) and upload the file "
        "again, or choose other data there."
    )
    st.stop()
store = app_store()
name = store.model_name(result.source, "arrivals", None)
st.caption(f"Data: {label} · registered model `{name}`")


@st.cache_resource(
    show_spinner="Loading the champion model…", max_entries=4, ttl=3600, hash_funcs={Store: str}
)
def champion(store: Store, registered: str, version: ModelVersion, contract: ModelContract):
    """The version shown (not the alias again), checked against the data on the page."""
    return load_checked(store, registered, contract, version)


@st.cache_data(show_spinner=False, ttl=10, max_entries=8, hash_funcs={Store: str})
def latest_training(store: Store, registered: str) -> tuple[str | None, pd.DataFrame | None, str | None]:
    """(run id, leaderboard, decision) of the newest train or retrain run of this model."""
    run = store.latest_run(FORECASTING, run_name_suffix=f"train {registered}")
    if run is None:
        return None, None, None
    return run.run_id, store.artifact_table(run.run_id, "leaderboard.csv"), run.tags.get("decision")


@st.cache_data(show_spinner=False, ttl=10, max_entries=8, hash_funcs={Store: str})
def registered_models(store: Store) -> list[RegisteredModel]:
    return store.registered_models()


def pick_version(models: list[RegisteredModel], own: str) -> ModelVersion | None:
    """A registered model and version to forecast with: this data's model and its champion
    unless the planner picks another (whose contract is checked against the data)."""
    by_name = {m.name: m for m in models}
    names = [own, *sorted(n for n in by_name if n != own)]
    c1, c2 = st.columns(2)
    chosen = c1.selectbox("Registered model", names, key="forecast_model") if len(names) > 1 else own
    model = by_name.get(chosen)
    if model is None or not model.versions:
        return None
    labels = {
        n: f"{n}" + "".join(f" ({a})" for a, v in sorted(model.aliases.items()) if v == n)
        for n in model.versions
    }
    numbers = sorted(model.versions, reverse=True)
    default = model.aliases.get(CHAMPION, numbers[0])
    number = c2.selectbox(
        "Version",
        numbers,
        index=numbers.index(default),
        format_func=labels.get,
        key=f"forecast_version_{chosen}",
    )
    return model.version(number)


try:
    run_id, board, decision = latest_training(store, name)
    version = store.model_version(name, CHAMPION)
    challenger = store.model_version(name, CHALLENGER)
    models = registered_models(store)
except InputError as exc:
    show_error(exc)
    st.stop()
LEADERBOARD_COLUMNS = ["rank", "model", "mase", "wape", "bias", "coverage80", "coverage95", "mae", "seconds"]
st.subheader("Leaderboard of the latest backtest")
if board is None:
    st.info("No training run for this data yet: press **Train** below (or run `capplan demo`).")
else:
    shown = [c for c in LEADERBOARD_COLUMNS if c in board]
    show_table(
        board[shown],
        column_config={
            **{
                c: st.column_config.NumberColumn(c, format="%.3f")
                for c in ("mase", "mase_median", "wape", "bias")
            },
            **{c: st.column_config.NumberColumn(c, format="%.1f") for c in ("mae", "rmse")},
            **{c: st.column_config.NumberColumn(c, format="percent") for c in ("coverage80", "coverage95")},
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
        },
    )
    st.caption(
        f"All {len(board)} models and combinations of the rolling-origin backtest, run `{run_id}`, best first. "
        f"MASE < 1 beats the one-week seasonal naive forecast. {decision or ''} "
        f"({len(shown)} of its {board.shape[1]} columns; the run's leaderboard.csv has all.)"
    )

st.subheader("Forecast with 80 % and 95 % bands")
picked = pick_version(models, name)
loaded = None
if picked is None:
    st.info("No champion model for this data yet: train one below.")
else:
    try:
        loaded = champion(store, picked.name, picked, data_contract(result, "arrivals", None))
    except InputError as exc:
        show_error(exc)
if loaded is not None:
    forecaster, model_name, _, fit = loaded
    number = picked.version
    days = st.slider("Open days ahead", 1, 20, 5)
    if fit.converts:  # the data's longer intervals, each the total of the model's slots
        stamps = horizon_timestamps(result.calendar, forecaster.history_end_, days)
        table = converted_forecast_table(forecaster, stamps, fit)
        st.caption(fit.note())
    else:
        stamps = horizon_timestamps(forecaster.calendar_, forecaster.history_end_, days)
        table = forecaster.predict(stamps).reset_index()
    recent = (
        history[history.index > history.index.max() - pd.Timedelta(days=7)]
        .rename("actual")
        .rename_axis("timestamp")
        .reset_index()
    )
    chart = forecast_chart(table, recent)  # per open stretch: no line across closed nights
    st.altair_chart(chart, width="stretch")
    who = "Champion" if version is not None and picked == version else f"{picked.name} version {number}"
    st.caption(
        f"{who}: {model_name} (version {number}), trained on data up to {forecaster.history_end_:%Y-%m-%d}. "
        "Black: the last week of actual calls; blue: forecast and its 80 % / 95 % intervals."
    )
    live = describe_live(next((m.tags.get(number, {}) for m in models if m.name == picked.name), {}))
    if live:
        st.caption(f"Live accuracy of version {number} (against the actuals since its training): {live}")
    if forecaster.history_end_ < history.index.max():
        st.warning(
            f"The data runs to {history.index.max():%Y-%m-%d}, past this model's training data: retrain to use "
            "it (and see below how the model did on the days since)."
        )
    st.download_button(
        "Download the forecast (CSV)",
        write_csv(table, index=False, name="forecast.csv"),
        "forecast.csv",
        "text/csv",
    )
    if run_id and picked.name == name:
        with tempfile.TemporaryDirectory() as tmp:
            plot = store.artifact_file(run_id, "forecast_vs_actual.png", tmp)
            if plot is not None:
                st.image(
                    str(plot),
                    caption="Backtest: actual versus forecast at the last origin, then the forecast ahead",
                )


def show_accuracy(scored: Accuracy, promise: dict | None) -> None:
    """The summary per level, the verdict, the forecast's band against the actuals, downloads."""
    show_table(
        scored.summary,
        column_config={
            "mase": st.column_config.NumberColumn("MASE", format="%.3f"),
            **{
                c: st.column_config.NumberColumn(c, format="percent")
                for c in ("wape", "bias", "coverage80", "coverage95")
            },
            **{c: st.column_config.DateColumn(c) for c in ("from", "to", "end")},
            "mae": st.column_config.NumberColumn("mae", format="%.1f"),
            "scale": st.column_config.NumberColumn("scale", format="%.1f"),
        },
    )
    st.write(verdict(scored, promise))
    st.caption(
        f"Scored: the rows whose span the actuals cover whole; the other columns count the rest. MASE's scale is the "
        f"one-week seasonal naive's error on {scored.scale_from}."
    )
    rows = scored.rows[scored.rows["level"] == scored.granularity]
    base = alt.Chart(rows).encode(x=alt.X("timestamp:T", title=None))
    layers = [
        base.mark_line().encode(
            y=alt.Y("forecast:Q", title="contacts"), tooltip=["timestamp:T", "forecast:Q", "actual:Q"]
        ),
        base.mark_line(color="black", strokeWidth=0.8, point=True).encode(y="actual:Q"),
    ]
    if rows["lo80"].notna().any():
        layers = [
            base.mark_area(opacity=0.2).encode(y="lo95:Q", y2="hi95:Q"),
            base.mark_area(opacity=0.35).encode(y="lo80:Q", y2="hi80:Q"),
            *layers,
        ]
    st.altair_chart(alt.layer(*layers), width="stretch")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the summary (CSV)",
        write_csv(scored.summary, index=False, name="accuracy_summary.csv"),
        "accuracy_summary.csv",
        "text/csv",
    )
    c2.download_button(
        "Download every row (CSV)",
        write_csv(scored.rows, index=False, name="accuracy_rows.csv"),
        "accuracy_rows.csv",
        "text/csv",
    )


@st.cache_data(
    show_spinner="Forecasting the days since the training data…",
    max_entries=4,
    ttl=600,
    hash_funcs={Store: str},
)
def model_accuracy(store: Store, version: ModelVersion, data: str, _result, _actuals: Actuals):
    """The version's forecast of the data after its training end, scored (once per data, by its
    content digest ``data``, and version)."""
    forecaster, _, _, fit = champion(store, version.name, version, data_contract(_result, "arrivals", None))
    made = model_forecast(
        forecaster, fit, _result, _actuals, label=f"{version.name} version {version.version}"
    )
    run = store.run(version.run_id)
    return compare(made.table, _actuals, made.granularity, made.tables, made.history), (
        promised(run.metrics) if run is not None else None
    )


st.subheader("Forecast vs actuals")
st.write(
    "How a stored forecast did against what happened since: the model version above forecasts the data's days "
    "after its training data ended, or upload a forecast file `capplan forecast` wrote. The actuals are the data "
    "chosen above (newer exports: upload them on **Data & KPIs**)."
)
source = st.radio("Forecast to check", ["The model version above", "A forecast file"], horizontal=True)
actuals = Actuals.from_ingest(result, "arrivals", None)
if source == "A forecast file":
    upload = st.file_uploader("Forecast file (CSV)", type=["csv"], key="forecast_file")
    if upload is not None:
        try:
            with tempfile.TemporaryDirectory(prefix="capplan-upload-") as tmp:
                path = Path(tmp) / upload_file_name(upload.name)
                path.write_bytes(upload_bytes(upload, "data"))
                try:
                    forecast = read_forecast(path)
                except InputError as exc:  # the planner's own file name, never the server's copy
                    exc.path = upload_file_name(upload.name) if exc.path == str(path) else exc.path
                    raise
            show_accuracy(compare(forecast, actuals), None)
        except InputError as exc:
            show_error(exc)
elif loaded is None:
    st.info("Choose a registered model version above (or train one below) to check its forecast.")
else:
    try:
        scored, promise = model_accuracy(store, picked, series_digest(actuals.series), result, actuals)
    except InputError as exc:
        st.info(f"Nothing to check yet: {exc.detail}. Choose newer data on **Data & KPIs**.")
    else:
        show_accuracy(scored, promise)
        if st.button(f"Log as the live accuracy of {picked.name} version {picked.version}"):
            try:
                logged = log_live(store, picked, scored, label)
            except InputError as exc:
                show_error(exc)
            else:
                registered_models.clear()
                st.success(f"Logged: MLflow run {logged}; `capplan store` shows it beside the version.")

st.subheader("Train or retrain")
st.write(
    "**Train** backtests the candidate models and registers the best: it becomes the champion if there is none, "
    "otherwise a challenger. **Retrain** trains a challenger on the newest data and promotes it only if it beats "
    "the champion on the recent days the champion has never seen. **Promote** makes the challenger the champion."
)
if "training_outcome" in st.session_state:
    promoted, text = st.session_state.pop("training_outcome")
    (st.success if promoted else st.info)(text)
all_models = candidate_names("arrivals", None)
fast = [m for m in ("weekday_mean", "seasonal_naive_week", "ets_topdown", "harmonic") if m in all_models]
with st.form("training"):
    models = st.multiselect(
        "Candidate models",
        all_models,
        default=fast,
        help="Prophet and gradient boosting are slower to backtest; add them for a full comparison",
    )
    origins = st.number_input("Backtest origins", 2, 20, 5)
    c1, c2, c3 = st.columns(3)
    clicked_train = c1.form_submit_button("Train", type="primary")
    clicked_retrain = c2.form_submit_button("Retrain", disabled=version is None)
    clicked_promote = c3.form_submit_button(
        "Promote the challenger",
        disabled=challenger is None or (version is not None and challenger.version == version.version),
    )
action = (
    "train" if clicked_train else "retrain" if clicked_retrain else "promote" if clicked_promote else None
)
if action == "promote":
    store.set_alias(name, CHAMPION, challenger.version)
    st.session_state["training_outcome"] = (
        True,
        f"version {challenger.version} is now the champion (was version {version.version if version else 'none'})",
    )
    latest_training.clear()
    registered_models.clear()
    st.rerun()
elif action and not models:
    st.warning("Choose at least one candidate model.")
elif action:
    bar = st.progress(0.0, text="backtest…")
    try:
        step = lambda done, total: bar.progress(done / total, text=f"backtest: {done} of {total} fits")  # noqa: E731
        fit = retrain if action == "retrain" else train
        outcome = fit(
            store,
            history,
            result.calendar,
            str(result.source),
            name,
            models,
            n_origins=int(origins),
            progress=step,
            n_jobs=1,
            contract=data_contract(result, "arrivals", None),
        )
    except InputError as exc:
        bar.empty()
        show_error(exc)
    else:
        st.session_state["training_outcome"] = (outcome.promoted, outcome.decision)
        latest_training.clear()
        registered_models.clear()
        st.rerun()

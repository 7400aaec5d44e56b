"""Forecast: the latest backtest leaderboard, the champion's forecast with its bands, retraining."""

import tempfile

import altair as alt
import pandas as pd
import streamlit as st

from app_support import app_store, forecast_dataset, show_error, store_caption
from forecasting.csv_safety import write_csv
from forecasting.errors import InputError
from forecasting.forecast_job import (
    candidate_names,
    converted_forecast_table,
    horizon_timestamps,
    require_clean,
)
from forecasting.model_contract import ModelContract, data_contract, load_checked
from forecasting.series import forecast_series
from forecasting.store import CHALLENGER, CHAMPION, FORECASTING, ModelVersion, Store
from forecasting.training import retrain, train

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


try:
    run_id, board, decision = latest_training(store, name)
    version = store.model_version(name, CHAMPION)
    challenger = store.model_version(name, CHALLENGER)
except InputError as exc:
    show_error(exc)
    st.stop()
st.subheader("Leaderboard of the latest backtest")
if board is None:
    st.info("No training run for this data yet: press **Train** below (or run `capplan demo`).")
else:
    st.dataframe(
        board,
        hide_index=True,
        width="stretch",
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
        f"MASE < 1 beats the one-week seasonal naive forecast. {decision or ''}"
    )

st.subheader("Forecast with 80 % and 95 % bands")
if version is None:
    st.info("No champion model for this data yet: train one below.")
else:
    try:
        forecaster, model_name, _, fit = champion(
            store, name, version, data_contract(result, "arrivals", None)
        )
    except InputError as exc:
        show_error(exc)
        st.stop()
    number = version.version
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
    base = alt.Chart(table).encode(x=alt.X("timestamp:T", title=None))
    chart = alt.layer(
        base.mark_area(opacity=0.2).encode(y=alt.Y("lo95:Q", title="contacts per interval"), y2="hi95:Q"),
        base.mark_area(opacity=0.35).encode(y="lo80:Q", y2="hi80:Q"),
        base.mark_line().encode(y="forecast:Q", tooltip=["timestamp:T", "forecast:Q", "lo80:Q", "hi80:Q"]),
        alt.Chart(recent).mark_line(color="black", strokeWidth=0.8).encode(x="timestamp:T", y="actual:Q"),
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        f"Champion: {model_name} (version {number}), trained on data up to {forecaster.history_end_:%Y-%m-%d}. "
        "Black: the last week of actual calls; blue: forecast and its 80 % / 95 % intervals."
    )
    if forecaster.history_end_ < history.index.max():
        st.warning(
            f"The data runs to {history.index.max():%Y-%m-%d}, past the champion's training data: retrain to use it."
        )
    st.download_button(
        "Download the forecast (CSV)",
        write_csv(table, index=False, name="forecast.csv"),
        "forecast.csv",
        "text/csv",
    )
    if run_id:
        with tempfile.TemporaryDirectory() as tmp:
            plot = store.artifact_file(run_id, "forecast_vs_actual.png", tmp)
            if plot is not None:
                st.image(
                    str(plot),
                    caption="Backtest: actual versus forecast at the last origin, then the forecast ahead",
                )

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
        st.rerun()

"""Data & KPIs: choose the bundled history or upload one; accounting, calendar, KPIs against targets."""

import altair as alt
import pandas as pd
import streamlit as st

from app_support import BUNDLED, MAX_UPLOAD_MB, content_digest, ingest_bundled, ingest_upload, show_error
from forecasting.errors import InputError
from forecasting.history.anomalies import in_words
from forecasting.history.ingest import IngestOptions
from forecasting.history.kpis import kpi_report
from forecasting.history.targets import load_targets

st.title("Data & KPIs")
CHOICES = [*BUNDLED, "Upload a file"]
# widget state is dropped when the page is left: remember the choice in a key of our own
chosen = st.session_state.get("source_choice", CHOICES[0])
source = st.radio(
    "History",
    CHOICES,
    index=CHOICES.index(chosen),
    horizontal=True,
    key="source",
    on_change=lambda: st.session_state.__setitem__("source_choice", st.session_state["source"]),
)
result = None
try:
    if source == "Upload a file":
        upload = st.file_uploader(
            f"Contact log or interval report (CSV, TSV or Parquet, up to {MAX_UPLOAD_MB} MB)",
            type=["csv", "tsv", "txt", "parquet"],
        )
        previous = st.session_state.get("uploaded")
        kind = st.selectbox(
            "Format",
            ["log", "anonymous-bank", "intervals"],
            help="log: one row per contact (generic schema); intervals: a timestamp column and value columns",
        )
        c1, c2, c3 = st.columns(3)
        time_col = c1.text_input("Timestamp column (interval reports)", disabled=kind != "intervals")
        value_col = c2.text_input(
            "Value column, e.g. Calls (or Calls=arrivals)", disabled=kind != "intervals"
        )
        interval = c3.selectbox(
            "Interval", ["15min", "30min", "60min", "day"], index=1, disabled=kind == "intervals"
        )
        c4, c5, c6 = st.columns(3)
        sep = c4.selectbox(
            "Field delimiter", ["auto (tab for .tsv, else comma)", "comma", "semicolon", "tab", "pipe"]
        )
        encoding = c5.selectbox(
            "Text encoding",
            ["auto (UTF-8 / UTF-16)", "latin-1", "cp1252", "utf-8"],
            help="for files exported by older systems",
        )
        lenient = c6.checkbox("Reject bad rows and go on (instead of stopping at the first)")
        if upload is None and previous is None:
            st.info("Choose a file to check it; nothing is changed in it.")
            st.stop()
        if upload is not None and upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            st.error(
                f"{upload.name}: {upload.size / 1e6:.0f} MB is more than the {MAX_UPLOAD_MB} MB limit: use `capplan ingest` for large files."
            )
            st.stop()
        if upload is not None and kind == "intervals" and not (time_col and value_col):
            st.info("Give the timestamp and value columns of the interval report.")
            st.stop()
        if upload is not None:
            options = IngestOptions(
                format=kind,
                time_col=time_col or None,
                value_cols=(value_col,) if value_col else (),
                interval=None if kind == "intervals" else interval,
                strict=not lenient,
                encoding=None if encoding.startswith("auto") else encoding,
                sep=None if sep.startswith("auto") else sep,
            )
            data = upload.getvalue()
            result = ingest_upload(upload.name, content_digest(data), options, data)
            st.session_state["uploaded"] = result
        else:
            result = previous
            st.caption(f"Showing the file uploaded before: {result.source.name}")
    else:
        result = ingest_bundled(source)
except InputError as exc:
    show_error(exc)
    st.stop()

st.session_state["dataset"] = (
    source if source != "Upload a file" else f"uploaded {result.source.name}",
    result,
)
s = result.summary()
c = st.columns(4)
c[0].metric("rows read", f"{s['rows_read']:,}")
c[1].metric("used", f"{s['rows_used']:,}")
c[2].metric("rejected", f"{s['rows_rejected']:,}")
c[3].metric(
    "ignored",
    f"{s['rows_ignored']:,}",
    help=", ".join(f"{k}: {v:,}" for k, v in s["ignored_by_reason"].items()) or None,
)
rejected = result.ledger.rejected_rows()
if len(rejected):
    st.warning(
        f"{len(rejected):,} rows rejected: "
        + ", ".join(f"{k} ({v:,})" for k, v in s["rejected_by_reason"].items())
    )
    st.download_button(
        "Download rejected rows (CSV)", rejected.to_csv(index=False), "rejected.csv", "text/csv"
    )
for w in s["warnings"]:
    st.warning(w)

anomalies = result.anomalies
if len(anomalies):
    st.warning(f"Unusual in this history: {in_words(s['anomalies'])}. Look before you forecast from it.")
    with st.expander("What is unusual (anomalies)"):
        st.dataframe(anomalies, hide_index=True, width="stretch")
        st.download_button("Download (CSV)", anomalies.to_csv(index=False), "anomalies.csv", "text/csv")

with st.expander("Opening hours and missing days (inferred)"):
    cal = s["calendar"]
    st.table(pd.DataFrame({"hours": cal["hours"], "slots": cal["slots"]}))
    st.write("Missing open days: " + (", ".join(cal["missing_days"]) or "none"))

st.subheader("KPIs against targets")
period = (
    st.segmented_control("Period", ["week", "month", "day", "quarter"], default="week", key="kpi_period")
    or "week"
)
report = kpi_report(result, load_targets(), (period,))
if report.empty:
    st.info("No KPI can be computed from this data: it has no counts, times or survey answers.")
    st.stop()
queues = sorted(report["queue"].unique())
queue = (
    st.selectbox("Queue", queues, index=queues.index("all queues") if "all queues" in queues else 0)
    if len(queues) > 1
    else queues[0]
)
part = report[report["queue"] == queue]
table = part.pivot_table(index="kpi", columns="period_start", values="value", aggfunc="first", sort=False)
table.columns = [f"{pd.Timestamp(c):%Y-%m-%d}" for c in table.columns]
latest = part.sort_values("period_start").groupby("kpi", sort=False).last()
table.insert(0, "target", latest["target"].reindex(table.index))
table.insert(1, "latest", latest["status"].reindex(table.index).fillna(""))
st.dataframe(table, width="stretch")
st.caption("met ✓ / missed ✗ compares the latest period with the target (defaults: DOMAIN.md's table).")
kpis = [k for k in table.index if part.loc[part["kpi"] == k, "value"].notna().sum() > 1]
chosen = st.multiselect(
    "Trend", kpis, default=[k for k in ("service_level", "abandon_rate") if k in kpis][:2] or kpis[:1]
)
if chosen:
    trend = part[part["kpi"].isin(chosen)]
    chart = (
        alt.Chart(trend)
        .mark_line(point=True)
        .encode(
            x=alt.X("period_start:T", title=period),
            y=alt.Y("value:Q"),
            color="kpi:N",
            tooltip=["kpi", "period_start", "value", "target", "status"],
        )
    )
    st.altair_chart(chart, width="stretch")
st.download_button(
    "Download the KPI report (CSV)", report.to_csv(index=False), f"kpis_{period}.csv", "text/csv"
)

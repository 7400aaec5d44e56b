"""Data & KPIs: choose the bundled history or upload one; accounting, calendar, KPIs against targets."""

import altair as alt
import pandas as pd
import streamlit as st

from app_support import (
    BUNDLED,
    content_digest,
    data_upload_limit_mb,
    ingest_bundled,
    ingest_upload,
    peek_upload,
    show_error,
    show_table,
    upload_bytes,
    uploaded_targets,
)
from capplan.errors import InputError
from capplan.files import write_csv
from capplan.history import (
    FINER,
    VALUE_FIELDS,
    IngestOptions,
    all_label,
    chart_defaults,
    flag_notes,
    groupings,
    in_words,
    kpi_report,
    load_targets,
    review_markdown,
    target_text,
)
from capplan.words import format_value, label, measure

NOT_READ = "(not read)"
FORMAT_NAMES = {
    "intervals": "interval report (a time column and counts or rates)",
    "log": "contact log (one row per call, chat or ticket)",
    "anonymous-bank": "Anonymous Bank call log",
}

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
            f"Contact log or interval report (CSV, TSV or Parquet, up to {data_upload_limit_mb()} MB)",
            type=["csv", "tsv", "txt", "parquet"],
        )
        previous = st.session_state.get("uploaded")
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
            st.info(
                "Choose a file to check it; nothing is changed in it. Its format and columns are detected."
            )
            st.stop()
        if upload is not None:
            data = upload_bytes(upload, "data")  # refused unread over the limit
            digest = content_digest(data)
            sep_option = None if sep.startswith("auto") else sep
            encoding_option = None if encoding.startswith("auto") else encoding
            columns, suggestion = peek_upload(upload.name, digest, sep_option, encoding_option, data)
            kinds = ["intervals", "log", "anonymous-bank"]
            kind = st.selectbox(
                "Format",
                kinds,
                index=kinds.index(suggestion.format),
                format_func=FORMAT_NAMES.get,
                help="detected from the file's columns; change it if the guess is wrong",
                key=f"format_{digest}",
            )
            value_cols, time_col, denominator = (), None, "arrivals"
            if kind == "intervals":
                time_col = st.selectbox(
                    "Timestamp column",
                    columns,
                    index=columns.index(suggestion.time_col) if suggestion.time_col in columns else 0,
                    key=f"time_{digest}",
                )
                fields = st.data_editor(
                    pd.DataFrame(
                        {
                            "column": [c for c in columns if c != time_col],
                            "field": [suggestion.fields.get(c, NOT_READ) for c in columns if c != time_col],
                        }
                    ),
                    hide_index=True,
                    disabled=["column"],
                    key=f"fields_{digest}_{time_col}",
                    column_config={
                        "field": st.column_config.SelectboxColumn(
                            "read as", options=[NOT_READ, *VALUE_FIELDS], required=True
                        )
                    },
                )
                chosen_fields = fields[fields["field"] != NOT_READ]
                value_cols = tuple(
                    f"{c}={f}" for c, f in zip(chosen_fields["column"], chosen_fields["field"], strict=True)
                )
                if "service_level" in set(chosen_fields["field"]):
                    denominator = st.radio(
                        "The report's service level is a share of",
                        ["arrivals", "handled"],
                        horizontal=True,
                        format_func={
                            "arrivals": "all arrivals (offered)",
                            "handled": "handled (answered) calls",
                        }.get,
                        help="many ACD exports measure it over handled calls; capplan reports it over arrivals",
                        key=f"denominator_{digest}",
                    )
                if not value_cols:
                    st.info("Choose at least one column to read (e.g. the offered calls as arrivals).")
                    st.stop()
            mapping_upload = None
            if kind == "log":
                mapping_upload = st.file_uploader(
                    "Mapping file (YAML, optional)",
                    type=["yaml", "yml"],
                    help="for exports whose columns have other names, durations in minutes or hours, or a "
                    "status column: e.g. columns: {contact_id: Ticket ID, arrival_time: Created, "
                    "first_response_seconds: {column: FRT (min), unit: minutes}, status: {column: Status, "
                    "resolved: [Resolved], open: [Open]}} (experiments/helpdesk/mapping.yaml)",
                    key=f"mapping_{digest}",
                )
            interval = st.selectbox(
                "Interval", ["15min", "30min", "60min", "day"], index=1, disabled=kind == "intervals"
            )
            options = IngestOptions(
                format=kind,
                time_col=time_col,
                value_cols=value_cols,
                interval=None if kind == "intervals" else interval,
                strict=not lenient,
                encoding=encoding_option,
                sep=sep_option,
                sl_denominator=denominator,
            )
            mapping_data = upload_bytes(mapping_upload, "config") if mapping_upload is not None else None
            result = ingest_upload(
                upload.name,
                digest,
                options,
                data,
                mapping_upload.name if mapping_upload is not None else None,
                content_digest(mapping_data) if mapping_data is not None else None,
                mapping_data,
            )
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
        "Download rejected rows (CSV)",
        write_csv(rejected, index=False, name="rejected.csv"),
        "rejected.csv",
        "text/csv",
    )
for w in s["warnings"]:
    st.warning(w)

anomalies = result.anomalies
if len(anomalies):
    st.warning(f"Unusual in this history: {in_words(s['anomalies'])}. Look before you forecast from it.")
    with st.expander("What is unusual (anomalies)"):
        show_table(anomalies)
        st.download_button(
            "Download (CSV)",
            write_csv(anomalies, index=False, name="anomalies.csv"),
            "anomalies.csv",
            "text/csv",
        )

with st.expander("Opening hours and missing days (inferred)"):
    cal = s["calendar"]
    show_table(pd.DataFrame({"hours": cal["hours"], "slots": cal["slots"]}), hide_index=False)
    st.write("Missing open days: " + (result.calendar.describe_missing() if cal["missing_days"] else "none"))

st.subheader("KPIs against targets")
period = (
    st.segmented_control("Period", ["week", "month", "day", "quarter"], default="week", key="kpi_period")
    or "week"
)
targets_upload = st.file_uploader(
    "Targets file (YAML, optional; default: the reference targets)",
    type=["yaml", "yml"],
    help="e.g. targets: {service_level: {min: 0.8}, asa: {max: 20}}; queues: {sales: {...}}",
)
try:
    targets = (
        uploaded_targets(targets_upload.name, upload_bytes(targets_upload, "config"))
        if targets_upload
        else load_targets()
    )
except InputError as exc:
    show_error(exc)
    st.stop()
finer = FINER[period]
choices = groupings(result)  # a ticket export's priority, team, category when mapped
by = (
    st.selectbox(
        "KPIs by",
        choices,
        help="the mapping's channel, priority, team or category columns give a KPI table per group",
        key="kpi_by",
    )
    if len(choices) > 1
    else "queue"
)
everything = kpi_report(result, targets, (period, finer) if finer else (period,), by=by)
report = everything[everything["period"] == period]
if report.empty:
    st.info("No KPI can be computed from this data: it has no counts, times or survey answers.")
    st.stop()
queues = sorted(map(str, report[by].unique()))
total = all_label(by)
queue = (
    st.selectbox(by.capitalize(), queues, index=queues.index(total) if total in queues else 0)
    if len(queues) > 1
    else queues[0]
)
part = report[report[by].astype(str) == queue]
table = part.pivot_table(index="kpi", columns="period_start", values="value", aggfunc="first", sort=False)
partial = part.drop_duplicates("period_start").set_index("period_start")["partial"]
table = pd.DataFrame(
    {
        f"{pd.Timestamp(c):%Y-%m-%d}" + (" *" if partial.get(c, False) else ""): [
            format_value(k, v) for k, v in table[c].items()
        ]
        for c in table.columns
    },
    index=table.index,
)
latest = part[~part["partial"]].sort_values("period_start").groupby("kpi", sort=False).last()
table.insert(
    0, "target", [target_text(k, t) for k, t in latest["target"].reindex(table.index).fillna("").items()]
)
table.insert(1, "latest", latest["status"].reindex(table.index).fillna(""))
table.index = [label(k, with_side=False) for k in table.index]
show_table(table, hide_index=False)
st.caption(
    "met ✓ / missed ✗ compares the latest whole period with the target (defaults: DOMAIN.md's table, or the "
    "targets file uploaded above); * a partial period (the data start or end inside it)."
)
whole = part[~part["partial"]]
kpis = [k for k in dict.fromkeys(part["kpi"]) if whole.loc[whole["kpi"] == k, "value"].notna().sum() > 1]
chosen = st.multiselect(
    "Trend",
    kpis,
    default=chart_defaults(kpis, tickets=result.contacts is not None and result.contacts.tickets),
    format_func=lambda k: label(k, with_side=False),
)
if chosen:
    trend = whole[whole["kpi"].isin(chosen)].assign(
        target=lambda d: [target_text(k, t) for k, t in zip(d["kpi"], d["target"], strict=True)],
        kpi=lambda d: d["kpi"].map(lambda k: label(k, with_side=False)),
    )
    shares = all(measure(k).kind == "share" for k in chosen)
    chart = (
        alt.Chart(trend)
        .mark_line(point=True)
        .encode(
            x=alt.X("period_start:T", title=period),
            y=alt.Y(
                "value:Q",
                title=None,
                axis=alt.Axis(format="%") if shares else alt.Axis(),
                scale=alt.Scale(domain=[0, 1]) if shares else alt.Scale(zero=True),
            ),
            color=alt.Color("kpi:N", title=None),
            strokeDash=alt.StrokeDash("kpi:N", title=None),
            tooltip=["kpi", "period_start", alt.Tooltip("value:Q", format=",.3~f"), "target", "status"],
        )
    )
    st.altair_chart(chart, width="stretch")
    if part["partial"].any():
        st.caption("Partial periods (the data start or end inside them) are left out of the chart.")
for note in flag_notes(everything):
    st.warning(note[0].upper() + note[1:] + ".")
st.download_button(
    "Download the KPI report (CSV)",
    write_csv(report, index=False, name="kpis.csv"),
    f"kpis_{period}.csv" if by == "queue" else f"kpis_{period}_by_{by}.csv",
    "text/csv",
)
with st.expander(f"Review of the latest {period} (as `capplan kpis --report`)", expanded=period == "quarter"):
    targets_from = f"`{targets_upload.name}`" if targets_upload else "the defaults (DOMAIN.md's table)"
    review = review_markdown(everything, period, result.source.name, targets_from)
    st.markdown(review)
    st.download_button("Download the review (Markdown)", review, f"review_{period}.md", "text/markdown")

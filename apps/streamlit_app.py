"""capplan's app: history and KPIs, forecasts, scenarios, comparison and realistic targets.

Run with ``streamlit run apps/streamlit_app.py`` (``make app``). Pages are thin: they call the
``forecasting`` and ``scenarios`` packages, and read runs from the MLflow store that
MLFLOW_TRACKING_URI names (default: the project's SQLite store).
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the pages import app_support

st.set_page_config(page_title="capplan — capacity planning", page_icon=":telephone_receiver:", layout="wide")

PAGES = Path(__file__).resolve().parent / "pages"
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "data_kpis.py", title="Data & KPIs", icon=":material/table_chart:"),
        st.Page(PAGES / "forecast.py", title="Forecast", icon=":material/show_chart:"),
        st.Page(PAGES / "scenario_builder.py", title="Scenario builder", icon=":material/tune:"),
        st.Page(PAGES / "compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page(PAGES / "targets.py", title="Targets", icon=":material/flag:"),
        st.Page(PAGES / "capacity.py", title="Capacity plan", icon=":material/groups:"),
        st.Page(PAGES / "schedule.py", title="Schedule", icon=":material/calendar_month:"),
    ]
)
navigation.run()

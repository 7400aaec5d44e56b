"""Every queue forecast and staffed (capplan.plan_queues, issue 30): on a LocalCluster of two
worker processes exactly as in one process, over the 20 generated queues of
tests/forecasting/test_panel.py."""

import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from tests.forecasting.test_panel import QUEUES, panel_report


@pytest.fixture(scope="module")
def queues(tmp_path_factory):
    path = panel_report(tmp_path_factory.mktemp("queues") / "queues.csv")
    return ingest(path, IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue"))


@pytest.mark.slow
def test_every_queue_planned_on_a_local_cluster_as_in_one_process(queues):
    import capplan

    common = dict(
        aht_seconds=180, model="auto", models=["weekday_mean", "seasonal_naive_week"], horizon_days=2
    )
    alone = capplan.plan_queues(queues, **common)
    spread = capplan.plan_queues(queues, **common, scheduler="local", workers=2)
    assert not alone.failures and not spread.failures and alone.table["queue"].nunique() == QUEUES
    pd.testing.assert_frame_equal(alone.table, spread.table, check_exact=True)
    assert (alone.table["agents"] >= 0).all() and alone.table["agents"].sum() > 0

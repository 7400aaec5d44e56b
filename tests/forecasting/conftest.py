import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.series import forecast_series
from tests.conftest import BANK_CALLS


@pytest.fixture(scope="session")
def bank_result():
    return ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))


@pytest.fixture(scope="session")
def bank_history(bank_result) -> pd.Series:
    return forecast_series(bank_result)

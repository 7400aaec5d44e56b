from pathlib import Path

import pytest
import yaml

from tests.conftest import BANK_CALLS

FAST = {  # a small, quick scenario on the bundled calls: no champion needed
    "name": "fast",
    "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
    "forecast": {"model": "weekday_mean", "horizon_days": 5, "interval": "30min"},
    "queues": {"voice": {"aht_seconds": 180}},
    "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
    "risk": {"simulations": 200},
}


@pytest.fixture
def write_scenario(tmp_path):
    """Write scenario YAML files into a folder of their own; returns the path."""

    def write(name: str, content: dict | str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return path

    return write

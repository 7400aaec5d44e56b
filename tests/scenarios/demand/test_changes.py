"""Demand changes against hand computations on a small grid."""

import numpy as np
import pandas as pd
import pytest

from scenarios.demand.changes import DemandGrid, apply_demand
from scenarios.inputs.spec import DemandSpec


@pytest.fixture
def grid():
    stamps = pd.date_range("2003-06-02 08:00", periods=8, freq="h")  # a Monday, 08:00-15:00
    return DemandGrid(
        stamps, ("voice", "chat"), np.full((2, 8), 100.0), np.full((2, 8), 200.0), pd.Timedelta(hours=1)
    )


def test_growth_multipliers_and_aht(grid):
    d = DemandSpec.model_validate(
        {
            "growth_pct": 10,
            "multipliers": [
                {"hours": "09:00-11:00", "factor": 2, "queues": ["voice"]},
                {"weekdays": ["Tuesday"], "factor": 0},
            ],
            "aht_changes": [
                {"start": "2003-06-02 12:00", "seconds": 30},
                {"queues": ["chat"], "percent": -10},
            ],
        }
    )
    out = apply_demand(grid, d)
    expected_voice = np.full(8, 110.0)
    expected_voice[1:3] *= 2
    np.testing.assert_allclose(out.volume[0], expected_voice)
    np.testing.assert_allclose(out.volume[1], 110.0)
    np.testing.assert_allclose(out.aht[0], [200] * 4 + [230] * 4)
    np.testing.assert_allclose(
        out.aht[1], [180] * 4 + [(200 + 30) * 0.9] * 4
    )  # changes apply in the order written
    assert grid.volume[0, 1] == 100.0  # the input is not modified


def test_events_have_their_shape(grid):
    lift = 1.0
    cases = {
        "step": [0, 1, 1, 0, 0, 0, 0, 0],
        "spike": [0, 0.5, 0.5, 0, 0, 0, 0, 0],  # rises to the peak at 10:00: half of each hour's area
        # the mean of 0.5 ** (h / 2) over each hour after 09:00 (its integral, 2/ln 2 · Δ0.5^(h/2))
        "decay": [0] + [2 / np.log(2) * (0.5 ** (k / 2) - 0.5 ** ((k + 1) / 2)) for k in range(7)],
    }
    for shape, factors in cases.items():
        event = {
            "start": "2003-06-02 09:00",
            "shape": shape,
            "lift": lift,
            "duration_hours": 2,
            "half_life_hours": 2,
        }
        out = apply_demand(grid, DemandSpec.model_validate({"events": [event]}))
        np.testing.assert_allclose(out.volume[0], 100 * (1 + np.array(factors)), err_msg=shape)


def test_shift_moves_volume_between_queues(grid):
    out = apply_demand(
        grid,
        DemandSpec.model_validate(
            {"shifts": [{"from": "voice", "to": "chat", "share": 0.25, "start": "2003-06-02 12:00"}]}
        ),
    )
    np.testing.assert_allclose(out.volume[0], [100] * 4 + [75] * 4)
    np.testing.assert_allclose(out.volume[1], [100] * 4 + [125] * 4)
    np.testing.assert_allclose(out.volume.sum(), grid.volume.sum())


def test_date_end_includes_the_whole_day(grid):
    out = apply_demand(grid, DemandSpec.model_validate({"multipliers": [{"end": "2003-06-02", "factor": 3}]}))
    np.testing.assert_allclose(out.volume, 300.0)
    out = apply_demand(
        grid, DemandSpec.model_validate({"multipliers": [{"end": "2003-06-02 10:00", "factor": 3}]})
    )
    np.testing.assert_allclose(out.volume[0], [300, 300] + [100] * 6)


def test_stacked_multipliers_beyond_any_centre_are_refused(grid):
    """Each factor within its cap, together 10^8: trillions of agents, or a search that never ends."""
    from forecasting.common.errors import InputError

    d = DemandSpec.model_validate({"multipliers": [{"factor": 100}] * 4})
    with pytest.raises(InputError, match="too many contacts") as err:
        apply_demand(grid, d)
    assert err.value.key == "demand"


def test_an_aht_change_below_zero_is_refused_not_clamped(grid):
    """Clamped to 1 s, it staffed a few agents for the whole centre."""
    from forecasting.common.errors import InputError

    d = DemandSpec.model_validate({"aht_changes": [{"hours": "09:00-10:00", "seconds": -500}]})
    with pytest.raises(InputError, match="200 s becomes -300 s") as err:
        apply_demand(grid, d)
    assert err.value.key == "demand.aht_changes.0"


def test_events_shorter_than_an_interval_lift_it_by_their_area(grid):
    """A quarter-hour step is a quarter of an hour's lift, a spike its triangle's area, wherever
    it starts in the interval (sampling the midpoint dropped some and doubled others)."""
    for start, shape, hours, lift, expected in (
        ("2003-06-02 09:00", "step", 0.25, 1.0, 0.25),
        ("2003-06-02 09:40", "step", 0.25, 1.0, 0.25),
        ("2003-06-02 09:05", "spike", 0.25, 1.0, 0.125),
        ("2003-06-02 09:00", "spike", 0.0001, 100.0, 0.005),
    ):
        event = {"start": start, "shape": shape, "lift": lift, "duration_hours": hours}
        out = apply_demand(grid, DemandSpec.model_validate({"events": [event]}))
        np.testing.assert_allclose(out.volume[0, 1], 100 * (1 + expected), err_msg=f"{shape} {start} {hours}")
        np.testing.assert_allclose(np.delete(out.volume[0], 1), 100.0)

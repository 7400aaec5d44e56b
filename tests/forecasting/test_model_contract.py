"""A stored model is used only on data like the data it was trained on (issue 24, class 1).

The contract (series, queue and queue set, slot length) travels with every registered version;
``forecast``, ``scenario run``, ``train`` over a champion and ``retrain`` check it in one place
and convert (a finer model summed into the data's longer intervals) or refuse in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.model_contract import ModelContract, check_fits

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

START = pd.Timestamp("2024-01-01")  # a Monday
WEEKS = 8


def slots_30min(queues=("A", "B"), weeks: int = WEEKS, seed: int = 1) -> pd.DataFrame:
    """Weekday 08:00-18:00 half-hours, a midday peak, a level per queue, Poisson counts."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, periods=7 * weeks, freq="D")
    days = days[days.dayofweek < 5]
    offsets = pd.to_timedelta(np.arange(8 * 60, 18 * 60, 30), unit="min")
    stamps = pd.DatetimeIndex([d + o for d in days for o in offsets])
    shape = 1.0 + 0.8 * np.sin(np.pi * (np.arange(len(offsets)) + 0.5) / len(offsets))
    rows = []
    for i, queue in enumerate(queues):
        mean = (10.0 + 6 * i) * np.tile(shape, len(days))
        rows.append(pd.DataFrame({"timestamp": stamps, "queue": queue, "calls": rng.poisson(mean)}))
    return pd.concat(rows, ignore_index=True)


def export(frame: pd.DataFrame, step: str) -> pd.DataFrame:
    """The same series as another export: summed into ``step`` intervals (hourly, daily)."""
    keys = [frame["timestamp"].dt.floor(step), "queue"]
    return frame.groupby(keys, as_index=False)["calls"].sum()


def write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return str(path)


def read_opts(queue_col: bool = True) -> list[str]:
    return ["--time-col", "timestamp", "--value-col", "calls"] + (
        ["--queue-col", "queue"] if queue_col else []
    )


def train(run_cli, path: str, name: str, *extra: str) -> None:
    code, _out, err = run_cli(
        "train",
        path,
        *read_opts(),
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        name,
        *extra,
    )
    assert code == 0, err


def forecast(run_cli, path: str, out, *extra: str) -> tuple[int, str, pd.DataFrame | None]:
    code, _, err = run_cli(
        "forecast",
        path,
        *read_opts(),
        "--model",
        "champion",
        "--horizon-days",
        "3",
        "--out",
        str(out),
        *extra,
    )
    table = pd.read_csv(out, parse_dates=["timestamp"]) if code == 0 else None
    return code, err, table


@pytest.fixture
def half_hours(tmp_path):
    return slots_30min()


def test_champion_on_hourly_and_daily_exports_gives_the_same_volume(
    tmp_path, half_hours, run_cli, tracking_store
):
    native = write(half_hours, tmp_path / "slots.csv")
    train(run_cli, native, "calls")
    code, err, by_slot = forecast(run_cli, native, tmp_path / "f30.csv", "--registered-model", "calls")
    assert code == 0, err
    for step in ("60min", "1D"):
        path = write(export(half_hours, step), tmp_path / f"export_{step}.csv")
        code, err, table = forecast(run_cli, path, tmp_path / f"f_{step}.csv", "--registered-model", "calls")
        assert code == 0, err
        # the export's own intervals, each the total of the model's slots inside it
        step_td = pd.Timedelta(step)
        assert (table["timestamp"].dt.floor(step_td) == table["timestamp"]).all()
        expected = by_slot.groupby(by_slot["timestamp"].dt.floor(step_td))["forecast"].sum()
        got = table.set_index("timestamp")["forecast"]
        assert got.sum() == pytest.approx(expected.sum(), rel=1e-6)
        np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-4)
        # bands hold the total and widen with it (not the slot's band at the interval start)
        assert (table["lo80"] <= table["forecast"]).all() and (table["hi80"] >= table["forecast"]).all()
        assert (table["hi95"] >= table["hi80"]).all()


def test_champion_refuses_finer_data_and_other_queue_sets(tmp_path, half_hours, run_cli, tracking_store):
    train(run_cli, write(half_hours, tmp_path / "slots.csv"), "calls")
    # 15-minute data: the model's slots cannot be split without inventing a shape
    quarter = half_hours.assign(calls=half_hours["calls"] // 2)
    late = quarter.assign(timestamp=quarter["timestamp"] + pd.Timedelta(minutes=15))
    finer = write(pd.concat([quarter, late]).sort_values(["queue", "timestamp"]), tmp_path / "q15.csv")
    code, err, _ = forecast(run_cli, finer, tmp_path / "x.csv", "--registered-model", "calls")
    assert (
        code != 0 and "30-minute slots" in err and "15-minute" in err and len(err.strip().splitlines()) == 1
    )
    # a queue set it never saw, summed into 'all queues'
    more = pd.concat([half_hours, slots_30min(("C",), seed=3)])
    code, err, _ = forecast(
        run_cli, write(more, tmp_path / "abc.csv"), tmp_path / "y.csv", "--registered-model", "calls"
    )
    assert code != 0 and "'C'" in err and len(err.strip().splitlines()) == 1
    # one queue of the data with a model of all queues together
    code, err, _ = forecast(
        run_cli,
        write(half_hours, tmp_path / "ab.csv"),
        tmp_path / "z.csv",
        "--registered-model",
        "calls",
        "--queue",
        "A",
    )
    assert code != 0 and "all queues together" in err
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_each_queue_uses_its_own_champion_or_refuses(tmp_path, half_hours, run_cli, tracking_store):
    path = write(half_hours, tmp_path / "queues.csv")
    code, _, err = run_cli(
        "train",
        path,
        *read_opts(),
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--queue",
        "A",
    )
    assert code == 0, err
    code, err, _ = forecast(run_cli, path, tmp_path / "each.csv", "--queue", "each")
    assert code != 0 and "no champion" in err and "-B" in err  # B has no model: refused, not A's numbers
    code, _, err = run_cli(
        "train",
        path,
        *read_opts(),
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--queue",
        "B",
    )
    assert code == 0, err
    code, err, table = forecast(run_cli, path, tmp_path / "each.csv", "--queue", "each")
    assert code == 0, err
    totals = table.groupby("queue")["forecast"].sum()
    history = half_hours.groupby("queue")["calls"].mean()
    assert totals["B"] / totals["A"] == pytest.approx(history["B"] / history["A"], rel=0.15)
    code, err, _ = forecast(run_cli, path, tmp_path / "one.csv", "--queue", "each", "--registered-model", "x")
    assert code != 0 and "every queue" in err


def test_retrain_and_train_refuse_data_unlike_the_champion(tmp_path, half_hours, run_cli, tracking_store):
    train(run_cli, write(half_hours, tmp_path / "slots.csv"), "calls")
    hourly = write(export(half_hours, "60min"), tmp_path / "hourly.csv")
    for command in ("retrain", "train"):
        code, _, err = run_cli(
            command,
            hourly,
            *read_opts(),
            "--models",
            "weekday_mean",
            "--horizon-days",
            "2",
            "--origins",
            "2",
            "--jobs",
            "1",
            "--registered-model",
            "calls",
        )
        assert code != 0, command
        assert "30-minute slots" in err and "1-hour" in err and len(err.strip().splitlines()) == 1
    assert tracking_store.model_version("calls", "challenger") is None  # nothing registered
    # replacing the champion on purpose is allowed and said
    code, out, err = run_cli(
        "train",
        hourly,
        *read_opts(),
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "calls",
        "--promote",
    )
    assert code == 0, err
    assert "replaces" in out


def test_stored_contract_round_trips_and_explains_the_difference():
    model = ModelContract("arrivals", pd.Timedelta("30min"), "all", ("A", "B"), "x.csv", "Monday 08:00-18:00")
    assert ModelContract.from_tags(model.to_tags()) == model
    assert ModelContract.from_tags({"mlflow.note": "x"}) is None
    hourly = ModelContract("arrivals", pd.Timedelta("60min"), "all", ("B", "A"))
    assert check_fits(model, hourly, "m").slots == 2
    for other in (
        ModelContract("aht", pd.Timedelta("30min"), "all", ("A", "B")),
        ModelContract("arrivals", pd.Timedelta("45min"), "all", ("A", "B")),
        ModelContract("arrivals", pd.Timedelta("30min"), "A", ("A", "B")),
        ModelContract("arrivals", pd.Timedelta("30min"), "all", ("A",)),
    ):
        with pytest.raises(InputError):
            check_fits(model, other, "m")
    with pytest.raises(InputError, match="1-hour"):
        check_fits(model, hourly, "m", purpose="retrain")


def test_scenario_checks_the_same_contract(tmp_path, half_hours, run_cli, tracking_store):
    """``scenario run`` puts a champion on data through the same check: converted to a longer
    planning interval, refused on data of another queue set, before any number is made."""
    import yaml

    train(run_cli, write(half_hours, tmp_path / "slots.csv"), "calls")
    total = half_hours.groupby("timestamp", as_index=False)["calls"].sum()  # one series, no queue column
    one = write(export(total.assign(queue="x"), "60min").drop(columns="queue"), tmp_path / "hourly.csv")

    def scenario(name: str, data_input: str, interval: str) -> str:
        spec = {
            "name": name,
            "data": {"input": data_input, "time_col": "timestamp", "value_col": "calls"},
            "forecast": {
                "model": "champion",
                "registered_model": "calls",
                "horizon_days": 3,
                "interval": interval,
            },
            "queues": {"voice": {"aht_seconds": 180}},
            "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
            "risk": {"simulations": 50},
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec))
        return str(path)

    code, _, err = run_cli(
        "scenario", "run", scenario("hourly", one, "60min"), "--out", tmp_path / "out", "--no-track"
    )
    assert code != 0 and "queues" in err and "'all'" in err and len(err.strip().splitlines()) == 1
    # the same series trained without queues: its half-hours summed into the hourly plan
    native = write(total, tmp_path / "total.csv")
    code, _, err = run_cli(
        "train",
        native,
        "--time-col",
        "timestamp",
        "--value-col",
        "calls",
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "calls-total",
    )
    assert code == 0, err
    path = scenario("hourly", one, "60min")
    spec = yaml.safe_load(Path(path).read_text())
    spec["forecast"]["registered_model"] = "calls-total"
    Path(path).write_text(yaml.safe_dump(spec))
    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "out", "--no-track")
    assert code == 0, err
    planned = pd.read_csv(tmp_path / "out" / "hourly" / "intervals.csv", parse_dates=["interval_start"])
    hourly_mean = total.groupby(total["timestamp"].dt.floor("60min"))["calls"].sum().mean()
    volume = next(c for c in planned.columns if c in ("volume", "arrivals", "forecast_volume"))
    assert planned.loc[planned[volume] > 0, volume].mean() == pytest.approx(hourly_mean, rel=0.2)


def test_champion_refuses_data_open_when_its_centre_was_closed(tmp_path, half_hours, run_cli, tracking_store):
    """Longer hours, open weekends or another clock: the model would forecast 0 there and a
    plan would staff no one; refused naming the times, while the same hours at an hourly
    export (whose first hour holds the model's first slots) pass."""
    total = half_hours.groupby("timestamp", as_index=False)["calls"].sum()
    native = write(total, tmp_path / "total.csv")
    code, _, err = run_cli(
        "train",
        native,
        "--time-col",
        "timestamp",
        "--value-col",
        "calls",
        "--models",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "total",
    )
    assert code == 0, err
    saturdays = total.assign(timestamp=total["timestamp"] + pd.Timedelta(days=5))
    saturdays = saturdays[saturdays["timestamp"].dt.day_of_week == 5]
    cases = {
        "weekend": (pd.concat([total, saturdays]).sort_values("timestamp"), "Saturday 08:00-18:00"),
        "earlier clock": (total.assign(timestamp=total["timestamp"] - pd.Timedelta(hours=5)), "03:00-08:00"),
    }
    for name, (frame, said) in cases.items():
        path = write(frame, tmp_path / f"{name}.csv")
        code, _, err = run_cli(
            "forecast",
            path,
            "--time-col",
            "timestamp",
            "--value-col",
            "calls",
            "--model",
            "champion",
            "--registered-model",
            "total",
            "--horizon-days",
            "3",
            "--out",
            tmp_path / "x.csv",
        )
        assert code == 2 and "closed" in err and said in err, (name, err)
    hourly = write(export(total.assign(queue="q"), "60min").drop(columns="queue"), tmp_path / "hourly.csv")
    code, _, err = run_cli(
        "forecast",
        hourly,
        "--time-col",
        "timestamp",
        "--value-col",
        "calls",
        "--model",
        "champion",
        "--registered-model",
        "total",
        "--horizon-days",
        "3",
        "--out",
        tmp_path / "y.csv",
    )
    assert code == 0, err


def test_combined_queues_keep_their_names_in_the_contract(tmp_path, half_hours, run_cli, tracking_store):
    """--combine-queues sums the file's queues at ingest; the contract still names them, so a
    model of A+B is not used on A+B+C (a third of the volume missing, exit 0, before)."""
    ab = write(half_hours, tmp_path / "ab.csv")
    train(run_cli, ab, "combined", "--combine-queues")
    abc = write(pd.concat([half_hours, slots_30min(("C",), seed=5)]), tmp_path / "abc.csv")
    code, err, _ = forecast(
        run_cli, abc, tmp_path / "x.csv", "--registered-model", "combined", "--combine-queues"
    )
    assert code == 2 and "'C'" in err
    code, err, _ = forecast(
        run_cli, ab, tmp_path / "y.csv", "--registered-model", "combined", "--combine-queues"
    )
    assert code == 0, err

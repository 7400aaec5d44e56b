"""Every number of a scenario or targets file is checked at the edge: a boolean is never a
number (``service_level: true`` was a target of 100 %), inf and nan never a value. The tests
walk the models' fields, so a field added later is held to the same rule."""

import copy
import typing

import pytest
import yaml
from pydantic import BaseModel

from forecasting.common.errors import InputError
from forecasting.history.targets import KpiTargets, load_targets
from scenarios.inputs.spec import Scenario, load_scenario
from tests.conftest import BANK_CALLS

HOSTILE = [True, False, float("inf"), float("-inf"), float("nan"), "inf", "nan", "-Infinity"]

RICH_SCENARIO = {  # every section and every numeric key set to a valid value
    "name": "rich",
    "data": {"input": "x.csv", "format": "intervals", "time_col": "t", "value_col": "v"},
    "forecast": {"model": "weekday_mean", "horizon_days": 5, "staff_to": 0.8},
    "queues": {
        "voice": {"share": 0.5, "aht_seconds": 180, "model": "erlang-a", "patience_seconds": 60},
        "chat": {"channel": "chat", "share": 0.3, "aht_seconds": 300, "concurrency": 2},
        "mail": {"channel": "email", "share": 0.2, "aht_seconds": 300, "starting_backlog": 10},
    },
    "demand": {
        "growth_pct": 5,
        "multipliers": [{"factor": 1.1}],
        "events": [{"start": "2003-06-02", "lift": 0.5, "duration_hours": 4, "half_life_hours": 2}],
        "shifts": [{"from": "voice", "to": "chat", "share": 0.1}],
        "aht_changes": [{"seconds": 5, "percent": 1}],
    },
    "targets": {
        **(service := {"service_level": 0.8, "target_seconds": 20, "asa_seconds": 30, "abandon_rate": 0.05}),
        "max_occupancy": 0.9,
        "response_hours": 24,
        "response_share": 0.9,
        "queues": {"voice": {**service, "max_occupancy": 0.9, "response_hours": 4, "response_share": 0.5}},
    },
    "supply": {
        "shrinkage": 0.3,
        "shrinkage_periods": [{"shrinkage": 0.4}],
        "hours_per_fte": 38,
        "cost_per_agent_hour": 30,
        "headcount": 50,
        "budget": 1e6,
        "available_agents": 20,
    },
    "risk": {"simulations": 100, "seed": 1, "correlation": 0.5, "days_share": 0.8},
    "evidence": {"input": "x.csv"},
    "capacity": {
        "weeks": 52,
        "percentile": 0.8,
        "growth_pct_per_year": 10,
        "aht_change_pct": 2,
        "shrinkage_by_month": {7: 0.4},
        "team": [{"heads": 40, "tenure_weeks": 100, "fte_per_head": 1.0}],
        "attrition": [{"after_weeks": 0, "monthly": 0.05}, {"after_weeks": 13, "monthly": 0.03}],
        "training_weeks": 4,
        "ramp": [0.5, 0.75],
        "hire_fte": 1.0,
        "transfers": [{"week": 10, "fte": 2}],
        "hiring": {
            "lead_weeks": 2,
            "every_weeks": 4,
            "start_weeks": [3, 7],
            "max_class": 10,
            "min_class": 2,
            "training_capacity": 20,
        },
        "overtime_max_share": 0.05,
        "outsourcing_max_fte": 5,
        "costs": {
            "per_hire": 1000,
            "per_class": 500,
            "per_fte_week": 1200,
            "overtime_per_fte_week": 1800,
            "outsourcing_per_fte_week": 1500,
            "surplus_per_fte_week": 10,
        },
        "simulations": 200,
        "seed": 1,
    },
    "schedule": {
        "templates": [
            {
                "name": "full",
                "hours": 8.5,
                "start_window": "06:30-12:30",
                "start_step_minutes": 30,
                "breaks": [{"minutes": 30, "after_hours": [3, 5]}],
                "days_per_week": 5,
                "cost_per_hour": 30,
                "max_agents": 100,
            },
        ],
        "max_part_time_share": 0.3,
        "max_agents": 200,
        "min_on_duty": 2,
        "max_on_duty": 150,
        "time_limit_seconds": 30,
    },
}
RICH_TARGETS = {
    "targets": {"service_level": {"min": 0.8, "max": 1}},
    "queues": {"sales": {"asa": {"min": 0, "max": 30}}},
    "first_response": {"email": 3600, "chat": {"high": 60, "default": 120}},
    "resolution": {"default": 7200},
}


def numeric_fields(model: type[BaseModel], path: tuple = ()) -> list[tuple]:
    """Paths of every field that takes a number, through nested models ('*' for any list
    index or dict key)."""
    found = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        kinds, nested = leaves(field.annotation)
        if kinds & {int, float} and bool not in kinds:
            found.append((*path, key))
        for inner, wildcards in nested:
            found += numeric_fields(inner, (*path, key, *["*"] * wildcards))
    return found


def leaves(annotation, depth: int = 0) -> tuple[set, list]:
    """The plain types and the nested models (with how many containers deep) of an annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(), [(annotation, depth)]
    if isinstance(annotation, type):
        return {annotation}, []
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return {type(a) for a in args}, []
    if origin is typing.Annotated:
        return leaves(args[0], depth)
    inner = depth + 1 if origin in (list, dict, tuple) else depth
    args = args[1:] if origin is dict else args
    kinds, nested = set(), []
    for arg in args:
        k, n = leaves(arg, inner)
        kinds |= k
        nested += n
    return kinds, nested


def concrete_paths(data, pattern: tuple) -> list[tuple]:
    """``pattern`` matched in ``data``: each '*' over the keys or indexes present."""
    if not pattern:
        return [()]
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        keys = range(len(data)) if isinstance(data, list) else list(data)
        return [(k, *p) for k in keys for p in concrete_paths(data[k], rest)]
    if not rest:
        return [(head,)]
    return [(head, *p) for p in concrete_paths(data[head], rest)] if head in data else []


def numeric_leaves(data, path: tuple = ()) -> list[tuple]:
    """Paths of the numbers in a plain dict (targets' SLAs are dicts of times, not models)."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in numeric_leaves(v, (*path, k))]
    return [path] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


def with_value(data: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(data)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


SCENARIO_PATHS = [p for pattern in numeric_fields(Scenario) for p in concrete_paths(RICH_SCENARIO, pattern)]
TARGET_PATHS = sorted(
    {p for pattern in numeric_fields(KpiTargets) for p in concrete_paths(RICH_TARGETS, pattern)}
    | set(numeric_leaves(RICH_TARGETS))
)


def test_the_rich_files_are_valid_and_set_every_numeric_key():
    """Else the walks below would skip a field: each numeric field appears in the rich files."""
    Scenario.model_validate(RICH_SCENARIO)
    KpiTargets.model_validate(RICH_TARGETS)
    for model, rich in ((Scenario, RICH_SCENARIO), (KpiTargets, RICH_TARGETS)):
        for pattern in numeric_fields(model):
            assert any(_given(rich, p) for p in concrete_paths(rich, pattern)), f"no {'.'.join(pattern)}"
    assert len(SCENARIO_PATHS) > 40 and len(TARGET_PATHS) >= 8


def _given(data, path) -> bool:
    for part in path:
        if part not in (range(len(data)) if isinstance(data, list) else data):
            return False
        data = data[part]
    return True


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=lambda p: ".".join(map(str, p)))
def test_no_scenario_number_may_be_a_boolean_or_infinite(tmp_path, path):
    for value in HOSTILE:
        file = tmp_path / "bad.yaml"
        file.write_text(yaml.safe_dump(with_value(RICH_SCENARIO, path, value), sort_keys=False))
        with pytest.raises(InputError) as err:
            load_scenario(file)
        message = str(err.value)
        assert f"key '{'.'.join(map(str, path))}'" in message and "\n" not in message, (value, message)


@pytest.mark.parametrize("path", TARGET_PATHS, ids=lambda p: ".".join(map(str, p)))
def test_no_targets_number_may_be_a_boolean_or_infinite(tmp_path, path):
    for value in HOSTILE:
        file = tmp_path / "targets.yaml"
        file.write_text(yaml.safe_dump(with_value(RICH_TARGETS, path, value), sort_keys=False))
        with pytest.raises(InputError) as err:
            load_targets(file)
        message = str(err.value)
        assert ".".join(map(str, path)) in message and "\n" not in message, (value, message)


def test_a_boolean_is_refused_in_the_words_of_the_file(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(with_value(RICH_SCENARIO, ("targets", "service_level"), True)))
    with pytest.raises(InputError, match=r"targets.service_level.*a number, not true or false, found 'true'"):
        load_scenario(file)


SMALL = f"name: small\ndata: {{input: {BANK_CALLS}, time_col: DateTime, value_col: Calls}}\n"


@pytest.mark.parametrize(
    ("command", "file", "text", "named"),
    [
        (
            ["scenario", "run", "{}", "--no-track"],
            "s.yaml",
            SMALL + "targets: {service_level: true}\n",
            "targets.service_level",
        ),
        (
            ["scenario", "run", "{}", "--no-track"],
            "s.yaml",
            SMALL + "supply: {shrinkage: .nan}\n",
            "supply.shrinkage",
        ),
        (["scenario", "run", "{}", "--no-track"], "s.yaml", SMALL + "risk: {seed: -1}\n", "risk.seed"),
        (
            ["scenario", "run", "{}", "--no-track"],
            "s.yaml",
            SMALL + "demand: {shifts: [{from: voice, to: voice, share: 0.1}]}\n",
            "demand.shifts.0",
        ),
        (
            ["scenario", "run", "{}", "--no-track"],
            "s.yaml",
            SMALL + "demand: {multipliers: [{factor: 2, weekdays: []}]}\n",
            "demand.multipliers.0.weekdays",
        ),
        (
            [
                "kpis",
                str(BANK_CALLS),
                "--time-col",
                "DateTime",
                "--value-col",
                "Calls",
                "--targets",
                "{}",
                "--out",
                "o",
            ],
            "t.yaml",
            "targets: {service_level: {min: true}}\n",
            "targets.service_level.min",
        ),
        (
            [
                "kpis",
                str(BANK_CALLS),
                "--time-col",
                "DateTime",
                "--value-col",
                "Calls",
                "--targets",
                "{}",
                "--out",
                "o",
            ],
            "t.yaml",
            "targets: {asa: {max: 'inf'}}\n",
            "targets.asa.max",
        ),
        (
            ["ingest", str(BANK_CALLS), "--mapping", "{}", "--out", "o"],
            "m.yaml",
            "exported_at: .inf\n",
            "exported_at",
        ),
        (
            ["ingest", str(BANK_CALLS), "--mapping", "{}", "--out", "o"],
            "m.yaml",
            "columns: {handle_seconds: {column: H, unit: true}}\n",
            "columns.handle_seconds.unit",
        ),
    ],
)
def test_each_command_says_it_in_one_line(run_cli, tmp_path, monkeypatch, command, file, text, named):
    monkeypatch.chdir(tmp_path)
    (tmp_path / file).write_text(text)
    code, _, err = run_cli(*[a.replace("{}", str(tmp_path / file)) for a in command])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert named in err and str(tmp_path / file) in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("value", [True, False])
def test_no_rule_takes_a_boolean_for_a_number(value):
    """The rules shared by options, widgets and batch files refuse a boolean as they refuse nan."""
    from forecasting.common.input_rules import RULES, check_value

    for rule in RULES:
        with pytest.raises(InputError, match="not a finite number"):
            check_value(value, rule, key="x")

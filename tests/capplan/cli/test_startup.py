"""``capplan`` starts at once (issue 26): building its parser imports no model library, no
MLflow, no app, nor pandas or scipy (``capplan --help`` took 2 s importing them all), and
``capplan staff`` imports only what staffing needs. Checked in a fresh interpreter, by the
modules it holds, not by the clock. The options that take their choices, default or help from a
heavy module get them when their own command runs or shows its help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from capplan.cli import build_parser, main

MODEL_LIBRARIES = ("sklearn", "statsmodels", "mlflow", "prophet", "lightgbm", "streamlit", "matplotlib")
NOT_FOR_HELP = (*MODEL_LIBRARIES, "pandas", "scipy", "pydantic")


def _imported_after(code: str, watched: tuple[str, ...], env: dict | None = None) -> list[str]:
    """The ``watched`` modules a fresh interpreter holds after running ``code``."""
    script = (
        f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {watched!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_parser_imports_no_heavy_library():
    assert _imported_after("import capplan.cli; capplan.cli.build_parser()", NOT_FOR_HELP) == []


def test_the_help_of_capplan_imports_no_heavy_library():
    code = "import capplan.cli\ntry:\n    capplan.cli.main(['--help'])\nexcept SystemExit:\n    pass"
    assert _imported_after(code, NOT_FOR_HELP) == []


def test_a_staffing_case_imports_no_model_library_nor_mlflow(tmp_path):
    import os

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    code = (
        "import contextlib, io, capplan.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = capplan.cli.main(['-q', 'staff', '--calls', '100', '--aht', '300', '--service-level', '0.8'])\n"
        "assert code == 0"
    )
    assert _imported_after(code, MODEL_LIBRARIES, env) == []


def test_options_completed_later_have_their_default_choices_and_help():
    from forecasting.catalog import MODELS
    from forecasting.history.ingest import FORMATS
    from forecasting.history.targets import DEFAULT_TARGET_SECONDS
    from scenarios.service.staffing_plan import DEFAULT_HOURS_PER_FTE
    from scenarios.staffing.requirements import MODELS as STAFFING_MODELS

    parser = build_parser()
    staff = parser.parse_args(["staff"])
    assert staff.target_seconds == DEFAULT_TARGET_SECONDS and staff.hours_per_fte == DEFAULT_HOURS_PER_FTE
    assert parser.parse_args(["ingest", "x.csv", "--out", "o"]).target_seconds == DEFAULT_TARGET_SECONDS
    assert parser.parse_args(["ingest", "x.csv", "--out", "o", "--format", FORMATS[-1]]).format == FORMATS[-1]
    assert parser.parse_args(["staff", "--model", STAFFING_MODELS[-1]]).model == STAFFING_MODELS[-1]
    sub = next(a for a in parser._actions if a.dest == "command").choices
    assert f"(default {DEFAULT_TARGET_SECONDS:g})" in sub["validate-staffing"].format_help()
    sub["backtest"].format_help()
    models = next(a for a in sub["backtest"]._actions if a.dest == "models")
    assert models.help.endswith(": " + ", ".join(MODELS))
    assert "{" + ",".join(STAFFING_MODELS) + "}" in sub["staff"].format_usage()


@pytest.mark.parametrize(
    "argv", [["staff", "--model", "erlang-x"], ["ingest", "x.csv", "--out", "o", "--format", "excel"]]
)
def test_a_value_outside_completed_choices_is_refused(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "invalid choice" in err and len(err.strip().splitlines()) == 1

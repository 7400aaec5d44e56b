"""``capplan app`` serves the Streamlit app with the command's store, and says what to do
where the app is not installed (a wheel ships the packages, not apps/)."""

import subprocess

import capplan.cli.app as app_command


def test_the_app_gets_the_commands_store(run_cli, tracking_store, monkeypatch):
    seen = {}

    def call(command, env):
        seen.update(command=command, env=env)
        return 0

    monkeypatch.setattr(subprocess, "call", call)
    code, out, _ = run_cli("--store", tracking_store.tracking_uri, "app", "--port", "8601")
    assert code == 0 and "http://localhost:8601" in out
    assert seen["command"][1:4] == ["-m", "streamlit", "run"] and seen["command"][4].endswith(
        "streamlit_app.py"
    )
    assert "8601" in seen["command"] and seen["env"]["MLFLOW_TRACKING_URI"] == tracking_store.tracking_uri


def test_without_the_app_files_it_says_where_the_app_runs(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(app_command, "APP", tmp_path / "absent.py")
    code, _, err = run_cli("app")
    assert code == 2 and "source checkout" in err and "make app" in err and "Traceback" not in err

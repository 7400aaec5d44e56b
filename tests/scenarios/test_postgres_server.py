"""A team's MLflow tracking server backed by PostgreSQL: scenarios and the champion work the same.

Starts a throw-away PostgreSQL cluster (Debian's ``postgresql`` package, which .ci/run installs)
and ``mlflow server`` on it, then runs the real CLI with MLFLOW_TRACKING_URI pointing there.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import BANK_CALLS, FAST

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user the package created."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait(url: str, seconds: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def mlflow_server():
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="capplan-pg-"))
    os.chmod(root, 0o777)
    data = root / "pgdata"
    pg_port, port = _free_port(), _free_port()
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "mlflow", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "pg.log"),
                "-w",
                "start",
                "-o",
                f"-p {pg_port} -h 127.0.0.1 -k {root}",
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = None
    try:
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", "mlflow", "mlflow"],
            check=True,
        )
        backend = f"postgresql://mlflow@127.0.0.1:{pg_port}/mlflow"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                backend,
                "--artifacts-destination",
                str(root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait(f"http://127.0.0.1:{port}/health", 120, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_scenarios_and_champion_on_a_postgres_backed_server(mlflow_server, write_scenario, tmp_path):
    # MLflow copies set_tracking_uri / set_registry_uri into os.environ, so earlier in-process
    # tests leave their stores there: the child processes get only the server
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=mlflow_server, XDG_CACHE_HOME=str(tmp_path / "cache"))
    capplan = [sys.executable, "-m", "capplan.cli", "-q"]
    train = subprocess.run(
        capplan
        + [
            "train",
            "--input",
            str(BANK_CALLS),
            "--time-col",
            "DateTime",
            "--value-col",
            "Calls",
            "--models",
            "weekday_mean,seasonal_naive_week",
            "--origins",
            "2",
            "--registered-model",
            "pg-calls",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert train.returncode == 0, train.stderr
    base = write_scenario(
        "base",
        {
            **FAST,
            "name": "base",
            "forecast": {"model": "champion", "registered_model": "pg-calls", "horizon_days": 5},
        },
    )
    write_scenario("busy", {"extends": "base", "demand": {"growth_pct": 10}})
    run = subprocess.run(
        capplan
        + ["scenario", "run", str(base), str(base.parent / "busy.yaml"), "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    compare = subprocess.run(
        capplan + ["scenario", "compare", "base", "busy"], env=env, capture_output=True, text=True
    )
    assert compare.returncode == 0, compare.stderr
    assert "busy - base" in compare.stdout
    client = MlflowClient(mlflow_server, registry_uri=mlflow_server)
    assert client.get_model_version_by_alias("pg-calls", "champion").version == "1"
    runs = client.search_runs([client.get_experiment_by_name("scenarios").experiment_id])
    assert sorted(r.data.tags["scenario"] for r in runs) == ["base", "busy"]
    busy = next(r for r in runs if r.data.tags["scenario"] == "busy")
    assert busy.data.metrics["fte_total"] > 0 and "intervals.parquet" in {
        a.path for a in client.list_artifacts(busy.info.run_id)
    }

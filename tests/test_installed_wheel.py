"""capplan installed like any Python tool: the built wheel in a fresh virtual environment runs
the demo from an empty folder, with the bundled data and scenarios from inside the package and
the default store in the user's data folder, never inside the installed package."""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_runs_the_demo_from_an_empty_folder(tmp_path):
    source, wheels = (
        tmp_path / "source",
        tmp_path / "wheels",
    )  # built from a copy: no build/ left in the checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "out",
            "build",
            "cache",
            "mlartifacts",
            "*.db",
            "__pycache__",
            ".pytest_cache",
            "*.egg-info",
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    wheel = next(wheels.glob("capplan-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    packages = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # the dependencies (mlflow, prophet, …) come from the test's own environment, after the wheel's files
    (packages / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )

    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CAPPLAN_", "XDG_"))} | {
        "HOME": str(home)
    }
    env.pop("PYTHONPATH", None)
    demo = subprocess.run(
        [venv / "bin" / "capplan", "demo", "--origins", "2", "--jobs", "1"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert (
        str(packages / "forecasting")
        in subprocess.run(
            [venv / "bin" / "python", "-c", "import forecasting; print(forecasting.__file__)"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )  # the installed copy ran, not the source tree
    api = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import capplan; print(capplan.__file__, int(capplan.staff(100, 180, 30)['agents'][0]))",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert api.returncode == 0, api.stderr[-2000:]
    assert api.stdout.split() == [str(packages / "capplan" / "__init__.py"), "14"]  # the library, installed
    store = home / ".local" / "share" / "capplan" / "mlflow.db"
    assert store.is_file() and str(store) in demo.stdout + demo.stderr
    assert (work / "out" / "demo" / "comparison.csv").is_file()
    assert not list(packages.rglob("mlflow.db")) and not (packages / "data").exists()
    assert not list(work.rglob("mlflow.db"))

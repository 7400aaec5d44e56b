"""``capplan app``: the Streamlit app (``apps/streamlit_app.py``) on this machine, using the
store the command was given (``--store``) or would use. The app ships with the source
checkout, not the wheel: an installed capplan says so instead of failing obscurely."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from capplan.cli.options import positive_int
from capplan.errors import InputError

APP = Path(__file__).resolve().parents[2] / "apps" / "streamlit_app.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    a = subparsers.add_parser(
        "app", help="serve the Streamlit app for planners and managers (Ctrl-C stops it)"
    )
    a.add_argument("--port", type=positive_int, default=8501, help="port (default 8501)")
    a.add_argument(
        "--address",
        default="localhost",
        help="address to serve on (default localhost: this machine only; 0.0.0.0 serves a network)",
    )
    a.set_defaults(handler=app_command)


def app_command(args: argparse.Namespace) -> int:
    if not APP.is_file():
        raise InputError(
            "the app runs from a source checkout of capplan (apps/streamlit_app.py is not installed with the wheel)",
            expected="a clone of the repository: make app",
        )
    env = {**os.environ, "MLFLOW_TRACKING_URI": args.store.tracking_uri}
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(int(args.port))]
    command += ["--server.address", args.address]
    print(f"capplan app: open http://{args.address}:{int(args.port)} (store {args.store.tracking_uri})")
    return subprocess.call(command, env=env)

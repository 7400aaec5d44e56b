# README command 1: `make run`; README command 2: `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out
PORT   ?= 8501
# the app serves this machine only; ADDRESS=0.0.0.0 serves a network
ADDRESS ?= localhost

LOG    := data/anonymous_bank_1999-02-01_14.tsv

.PHONY: setup run app test test-fast lint format bench ui clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "capplan needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=68" wheel
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/capplan kpis $(LOG) --format anonymous-bank --period week --out $(OUT)/anonymous_bank_kpis
	$(BIN)/capplan demo --out $(OUT)/demo
	@echo "Runs, scenarios and the champion model are also in the MLflow UI: make ui (http://127.0.0.1:5000)"
	@$(MAKE) --no-print-directory app

app: setup  # the Streamlit app, on http://localhost:$(PORT) (Ctrl-C stops it)
	@echo "capplan app: open http://localhost:$(PORT)"
	$(BIN)/streamlit run apps/streamlit_app.py --server.port $(PORT) --server.address $(ADDRESS)

test: lint
	$(BIN)/python -m pytest

test-fast: lint
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: setup  # ruff: formatting and lint rules of pyproject.toml (`make format` fixes what it can)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m pip install --quiet pyworkforce ciw simpy  # peer libraries, for the comparisons only
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/forecast_accuracy.py
	$(BIN)/python benchmarks/staffing_speed.py
	$(BIN)/python benchmarks/scenario_speed.py
	$(BIN)/python benchmarks/speed.py --skip-before
	$(BIN)/python benchmarks/capacity_speed.py
	$(BIN)/python benchmarks/schedule_speed.py
	$(BIN)/python benchmarks/scale_out.py --queues 1000

ui: setup
	$(BIN)/mlflow ui --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///data/mlflow.db} --host 127.0.0.1 --port 5000

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache  # the MLflow store data/mlflow.db and data/mlartifacts/ are kept

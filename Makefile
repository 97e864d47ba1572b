# RedWheel: `make demo` sets everything up and serves the demo city; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: demo test setup serve lint format messages lock bench clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the pins change.
$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

redwheel/static/vendor/.built: node_modules/.installed scripts/vendor.mjs
	node scripts/vendor.mjs
	touch $@

setup: $(VENV)/.installed redwheel/static/vendor/.built
	$(BIN)/python manage.py compile_translations -v0
	mkdir -p var

# Development commands run with DEBUG on: with it off, the system checks refuse the committed
# development secrets (redwheel/core/checks.py, docs/operations.md).
demo serve: export DEBUG = 1

demo: setup
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py demo --url http://$(HOST):$(PORT)
	HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

serve: setup
	HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

lint:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages:
	cd redwheel && ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --ignore=dispatch/engine/*

lock: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

bench: setup
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/import_roster.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/mobilize.py
	$(BIN)/python bench/dashboards.py

clean-demo:
	rm -f var/redwheel.sqlite3 var/redwheel.sqlite3-wal var/redwheel.sqlite3-shm

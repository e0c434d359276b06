# The two commands of the Quick start: `make run` and `make test`.
# Everything the project needs is installed from here (requirements*.txt).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# SEED_DEMO=0 make run: serve without demo data (an RO's offline laptop with the real scheme).
SEED_DEMO ?= 1
HOST   ?= 127.0.0.1

.PHONY: run test lint format migrations-check messages bench-import worker beat clean help

help:
	@echo "make run    - install, migrate, seed demo data once, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install dev tools, lint, check migrations, run the whole test suite"

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	@if [ "$(SEED_DEMO)" != "0" ]; then $(PY) manage.py seed_demo; else echo "SEED_DEMO=0: no demo data (a real election laptop)."; fi
	@echo "Serving on http://$(HOST):$(PORT)/  (Urdu: http://$(HOST):$(PORT)/ur/)  Ctrl-C to stop."
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: $(VENV)/.dev
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

test: lint migrations-check
	$(PY) -m pytest $(PYTEST_ARGS)

# Regenerate the Urdu catalogue after changing user-facing strings (needs GNU gettext).
messages: $(VENV)/.dev
	$(PY) manage.py makemessages -l ur --ignore=.venv --ignore=staticfiles --ignore=var
	$(PY) manage.py makemessages -l ur -d djangojs --ignore=.venv --ignore=staticfiles --ignore=var
	$(PY) manage.py compilemessages -l ur --ignore=.venv

worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A ecp_portal worker -Q default,sms,omr -l INFO

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A ecp_portal beat -l INFO

# Benchmarks (print their figures; record them in docs/performance.md). Need PostgreSQL.
bench-import: $(VENV)/.dev
	$(PY) bench/import_scheme.py

clean:
	rm -rf $(VENV) staticfiles var .pytest_cache .ruff_cache .mypy_cache

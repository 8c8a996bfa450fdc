# Trustomer: `make run` serves the app, `make test` runs the whole suite. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

PYBABEL := $(BIN)/pybabel
CATALOGS := tracker/translations

.PHONY: run serve test lint format bench soak clean-venv i18n-extract i18n-init i18n-update i18n-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

## run: install, migrate, seed demo data on first start, serve on http://$(HOST):$(PORT)
##      with the scheduler (SLA sweep, outbox delivery) as its own process beside the server
run: $(VENV)/.run-deps i18n-compile
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty
	@$(FLASK) scheduler run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: install dev deps (and Debian's chromium and dovecot-imapd when missing), lint, run the suite
test: $(VENV)/.dev-deps i18n-compile
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-dovecot.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u TRACKER_TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TRACKER_TEST_DATABASE_URL) =="; \
		$(BIN)/pytest -q -m "not e2e"; \
	fi

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the HTTP benchmark and the sweep at 1,000 and 100,000 conflicts (BENCH_SCALE=large:
##        also 1,000,000) on SQLite and PostgreSQL in about 10 minutes (BENCH_BUDGET seconds);
##        one table with the targets checked, JSON under bench/results/ (bench/run.py)
bench: $(VENV)/.dev-deps i18n-compile
	bash scripts/ensure-wrk.sh
	$(BIN)/python bench/run.py

## soak: a bounded reliability run (gunicorn on PostgreSQL and SQLite, 32 API clients, sweeps,
##       deliveries and SIGKILLs for SOAK_SECONDS=60); a table per engine, JSON under soak/results/
soak: $(VENV)/.dev-deps
	$(BIN)/python soak/run.py

clean-venv:
	rm -rf $(VENV)

## i18n-extract: collect every marked string of tracker/ and templates/ into messages.pot
i18n-extract: $(VENV)/.run-deps
	$(PYBABEL) extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext \
		--keywords N_ --no-location --sort-output --project Trustomer --ignore-dirs ".* __pycache__" \
		--output-file $(CATALOGS)/messages.pot .

## i18n-init LANG=xx: start a catalog for a new language from messages.pot
i18n-init: i18n-extract
	@[[ "$(LANG)" =~ ^[a-z]{2,3}(_[A-Z]{2})?$$ ]] || { echo "usage: make i18n-init LANG=xx (got LANG=$(LANG))"; exit 2; }
	$(PYBABEL) init --input-file $(CATALOGS)/messages.pot --output-dir $(CATALOGS) --locale $(LANG)

## i18n-update: merge new and changed strings of messages.pot into every catalog
i18n-update: i18n-extract
	$(PYBABEL) update --input-file $(CATALOGS)/messages.pot --output-dir $(CATALOGS) \
		--no-fuzzy-matching --ignore-obsolete

## i18n-compile: build the .mo files (`make run` and `make test` do it); lists what is untranslated
i18n-compile: $(VENV)/.run-deps
	$(PYBABEL) compile --directory $(CATALOGS) --statistics

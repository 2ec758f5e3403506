# Benecomune — the two commands that must work on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY_VERSION ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := shared/contracts shared/servicekit shared/auditor deploy/local shared/cli \
	services/catalog services/booking services/vouchers services/wallet services/notifications
# Compiled (Rust, built by maturin with cargo): the auditor's per-message check. Installed as a
# wheel, not editable; the stamp depends on its sources, so an edit rebuilds it.
COMPILED := shared/ledgercheck
COMPILED_SOURCES := $(COMPILED)/pyproject.toml $(COMPILED)/Cargo.toml $(COMPILED)/Cargo.lock \
	$(wildcard $(COMPILED)/src/*.rs) $(COMPILED)/benecomune_ledgercheck.pyi
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration contracts bench kafka-jars clean

$(STAMP): constraints.txt $(addsuffix /pyproject.toml,$(PACKAGES)) $(COMPILED_SOURCES)
	test -x $(PY) || $(PY_VERSION) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@command -v cargo >/dev/null || { echo "cargo (Rust) is needed to build $(COMPILED)" >&2; exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt \
		$(addprefix -e ,$(PACKAGES)) $(COMPILED) \
		pytest pytest-asyncio hypothesis schemathesis ruff mypy honcho
	touch $(STAMP)

install: $(STAMP)

kafka-jars: $(STAMP)
	$(VENV)/bin/benecomune stack fetch

## Start Kafka and every service with demo data (Ctrl-C stops everything).
run: install kafka-jars
	$(VENV)/bin/benecomune stack run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Lint, then all tests: unit and integration against the real Kafka broker and PostgreSQL.
test: install kafka-jars lint
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	exit $$rc

unit: install
	$(PY) -m pytest -m "not kafka and not postgres"

contracts: install
	$(PY) -m benecomune_contracts.generate docs/contracts

bench: install kafka-jars
	$(PY) bench/run.py

clean:
	rm -rf var/run var/test

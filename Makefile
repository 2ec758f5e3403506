# Benecomune — the two commands that must work on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY_VERSION ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := shared/contracts shared/servicekit shared/auditor deploy/local shared/cli \
	services/catalog services/booking services/vouchers services/wallet services/notifications \
	services/portal
# Compiled (Rust, built by maturin with cargo): the auditor's per-message check. Installed as a
# wheel, not editable; the stamp depends on its sources, so an edit rebuilds it.
COMPILED := shared/ledgercheck
COMPILED_SOURCES := $(COMPILED)/pyproject.toml $(COMPILED)/Cargo.toml $(COMPILED)/Cargo.lock \
	$(wildcard $(COMPILED)/src/*.rs) $(COMPILED)/benecomune_ledgercheck.pyi
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration contracts bench kafka-jars clean chromium kubeconform

$(STAMP): constraints.txt $(addsuffix /pyproject.toml,$(PACKAGES)) $(COMPILED_SOURCES)
	test -x $(PY) || $(PY_VERSION) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@command -v cargo >/dev/null || { echo "cargo (Rust) is needed to build $(COMPILED)" >&2; exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt \
		$(addprefix -e ,$(PACKAGES)) $(COMPILED) \
		pytest pytest-asyncio hypothesis schemathesis ruff mypy honcho playwright
	touch $(STAMP)

# The portal's front-end assets (Bootstrap Italia, htmx, axe-core for the tests), pinned in
# services/portal/package.json, fetched with npm once into a git-ignored folder (never a CDN at
# runtime). Nothing is fetched when they are present.
PORTAL := services/portal
PORTAL_VENDOR := $(PORTAL)/src/portal/static/vendor
$(PORTAL_VENDOR)/.installed: $(PORTAL)/package.json $(STAMP)
	@command -v npm >/dev/null || { echo "npm (Node 20) is needed for the portal's assets" >&2; exit 1; }
	cd $(PORTAL) && npm install --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(PORTAL_VENDOR) && mkdir -p $(PORTAL_VENDOR)/htmx $(PORTAL_VENDOR)/axe-core
	cp -r $(PORTAL)/node_modules/bootstrap-italia/dist $(PORTAL_VENDOR)/bootstrap-italia
	cp $(PORTAL)/node_modules/htmx.org/dist/htmx.min.js $(PORTAL_VENDOR)/htmx/
	cp $(PORTAL)/node_modules/axe-core/axe.min.js $(PORTAL_VENDOR)/axe-core/
	touch $@

# Debian's Chromium for the portal's browser tests (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The Kubernetes manifests' offline check (tests/deploy/test_k8s_manifests.py; schemas in
# deploy/k8s/schemas): kubeconform, pinned, built by Go from the Go module proxy into a
# git-ignored folder, once per version; and kustomize there too where kubectl (which includes
# it) is missing.
TOOLS := .cache/bin
KUBECONFORM_VERSION := v0.8.0
KUSTOMIZE_VERSION := v5.7.1
kubeconform:
	@test -x $(TOOLS)/kubeconform && test -f $(TOOLS)/.kubeconform-$(KUBECONFORM_VERSION) || { \
		command -v go >/dev/null || { echo "Go is needed to install kubeconform" >&2; exit 1; }; \
		echo "installing kubeconform $(KUBECONFORM_VERSION) into $(TOOLS)"; \
		GOBIN=$(CURDIR)/$(TOOLS) go install \
			github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION) && \
		rm -f $(TOOLS)/.kubeconform-* && touch $(TOOLS)/.kubeconform-$(KUBECONFORM_VERSION); }
	@command -v kubectl >/dev/null || test -x $(TOOLS)/kustomize || \
		GOBIN=$(CURDIR)/$(TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

install: $(STAMP) $(PORTAL_VENDOR)/.installed chromium kubeconform

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
	$(PY) -m pytest --durations=30; rc=$$?; \
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

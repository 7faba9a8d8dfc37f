# Bookbay developer tasks (GNU make). On a fresh clone:
#   make run     start the whole system locally (http://127.0.0.1:3000, PORT overrides)
#   make test    every check and test tier, then the coverage report
# Both create .venv (Python 3.13 when available, else 3.11+) and install requirements/dev.txt.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.stamp
REQUIREMENTS := requirements/dev.txt layers/common/requirements.txt

# The layer (package bookbay) and the local stack (package bookbay_local), as pytest gets them
# from pyproject's `pythonpath`; scripts/ and bench/ find them on their own.
RUN_PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/local:$(CURDIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PYTEST := $(PY) -m pytest
# Every tier adds to one coverage data file; `make test` erases it first and reports at the end.
COVERAGE_ARGS ?= --cov --cov-append --cov-report=
PYTEST_ARGS ?=
# Integration and e2e tests run in one process per core (pytest-xdist; each integration process
# has its own in-process moto, each e2e process its own local stack; XDIST= runs them in one);
# unit tests are faster in one process, and infra shares one SAM venv.
XDIST ?= -n auto
# What mypy checks: the layer, the local stack, the tests and tools, and each function's app.py
# (explicit_package_bases in pyproject.toml names them functions.<name>.app, so they don't clash).
TYPECHECK_PATHS := $(foreach d,layers/common local tests scripts bench ops functions,$(if $(wildcard $(d)/*.py $(d)/*/*.py $(d)/*/*/*.py),$(d)))

# Python for the venv: python3.13 on PATH, then pyenv's 3.13, then python3 if it is 3.11 or newer.
FIND_PYTHON := for c in "$$(command -v python3.13 || true)" \
	  $$(ls -d "$$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV) \
	  "$$(command -v python3 || true)"; do \
	  [ -n "$$c" ] && "$$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo "$$c"; exit 0; }; \
	done; exit 1

.PHONY: help
help: ## this list
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# ------------------------------------------------------------------------------------------ set-up
$(PY):
	@rm -rf $(VENV)
	python="$$( $(FIND_PYTHON) )" || {
	  echo "error: no Python >= 3.11 found (tried python3.13, pyenv's 3.13.x, python3)." >&2
	  echo "       Install Python 3.13 (e.g. 'pyenv install 3.13' or 'apt-get install python3.13-venv')." >&2
	  exit 1; }
	echo "creating $(VENV) with $$python ($$("$$python" --version))"
	"$$python" -m venv $(VENV) || {
	  rm -rf $(VENV)
	  echo "error: '$$python -m venv' failed; on Debian/Ubuntu install the python3-venv package." >&2
	  exit 1; }

$(STAMP): $(REQUIREMENTS) | $(PY)
	@echo "installing requirements/dev.txt into $(VENV)"
	$(PY) -m pip install --quiet --quiet -r requirements/dev.txt
	touch $@

.PHONY: venv
venv: $(STAMP) ## create .venv and install the requirements (only when they changed)

.PHONY: deps-system
deps-system: ## install Debian's chromium for the browser tests when /usr/bin/chromium is missing (SKIP_SYSTEM_DEPS=1: skip them)
	@if [ -x /usr/bin/chromium ]; then exit 0; fi
	if [ "$${SKIP_SYSTEM_DEPS:-}" = 1 ]; then echo "deps-system: SKIP_SYSTEM_DEPS=1, not installing chromium"; exit 0; fi
	if ! command -v apt-get >/dev/null; then
	  echo "deps-system: no apt-get here: install Chromium yourself (the browser tests fail without it; SKIP_SYSTEM_DEPS=1 skips them)"; exit 0; fi
	if [ "$$(id -u)" != 0 ]; then
	  echo "deps-system: not root, cannot install chromium: run 'sudo apt-get install -y chromium' (the browser tests fail without it; SKIP_SYSTEM_DEPS=1 skips them)"; exit 0; fi
	echo "deps-system: installing chromium (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium >/dev/null
	test -x /usr/bin/chromium

# ------------------------------------------------------------------------------------------ checks
.PHONY: lint
lint: venv ## ruff check + ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

.PHONY: lint-imports
lint-imports: venv ## import-linter: the layer's packages point one way (contracts in pyproject.toml)
	PYTHONPATH=layers/common $(VENV)/bin/lint-imports --no-cache

.PHONY: format
format: venv ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

.PHONY: typecheck
typecheck: venv ## mypy (strict, pydantic plugin) over the whole tree
	$(PY) -m mypy $(TYPECHECK_PATHS)

.PHONY: cold-import-check
cold-import-check: venv ## fail when a function's cold import is over 1.3x a bare Powertools handler's (bench/cold_import.py)
	$(PY) bench/cold_import.py --samples 7 --check 1.3

.PHONY: openapi
openapi: venv ## regenerate layers/common/bookbay/openapi.json from the routes
	$(PY) scripts/openapi.py

.PHONY: openapi-check
openapi-check: venv ## fail when the committed OpenAPI document differs from the routes
	$(PY) scripts/openapi.py --check

# ------------------------------------------------------------------------------------------ tests
.PHONY: test-unit
test-unit: venv ## unit tests (incl. the OpenAPI drift test)
	$(call run_tier,tests/unit,)

.PHONY: test-integration
test-integration: venv ## handlers in-process against moto
	$(call run_tier,tests/integration,$(XDIST))

.PHONY: test-e2e
test-e2e: venv ## the local stack over HTTP (schemathesis, pages in Chromium)
	$(call run_tier,tests/e2e,$(XDIST))

.PHONY: test-infra
test-infra: venv ## template checks (cfn-lint, sam validate via scripts/sam.sh, assertions)
	$(call run_tier,tests/infrastructure,)

# A tier with no tests yet passes (pytest exits 5 when it collects nothing).
define run_tier
	status=0; $(PYTEST) $(1) $(2) $(COVERAGE_ARGS) $(PYTEST_ARGS) || status=$$?
	if [ $$status = 5 ]; then echo "$(1): no tests collected"; status=0; fi
	exit $$status
endef

.PHONY: test
test: deps-system venv coverage-erase lint lint-imports typecheck cold-import-check test-unit test-integration test-e2e test-infra ## lint, import contracts, typecheck, the cold-import budget, every test tier, then the coverage report
	@$(PY) -m coverage combine --append --quiet >/dev/null 2>&1 || true  # any subprocess data left
	$(PY) -m coverage report
	$(PY) -m coverage xml --quiet
	echo "coverage: coverage.xml; the schemathesis tally: tests/e2e/artifacts/schemathesis.json"

.PHONY: coverage-erase
coverage-erase: venv
	@$(PY) -m coverage erase

.PHONY: coverage
coverage: venv ## the coverage report of the last test run
	$(PY) -m coverage report

# ------------------------------------------------------------------------------------------ run
.PHONY: run
run: venv ## the whole system locally, seeded with the demo shop (PORT overrides 3000)
	@PYTHONPATH="$(RUN_PYTHONPATH)$${PYTHONPATH:+:$$PYTHONPATH}" exec $(PY) -m bookbay_local

.PHONY: bench
bench: venv ## cold-import times, DynamoDB round trips (hot-path limits) and handler CPU per request, per booking, availability vs its query
	@$(PY) bench/cold_import.py
	echo
	$(PY) bench/dynamodb_calls.py
	echo
	$(PY) bench/booking.py
	echo
	$(PY) bench/availability.py

.PHONY: clean
clean: ## remove caches, coverage data and build output (keeps the venvs)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .aws-sam htmlcov build
	rm -f .coverage .coverage.* coverage.xml
	rm -rf tests/e2e/artifacts
	find . -path ./.venv -prune -o -path ./.venv-sam -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

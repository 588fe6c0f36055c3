# Quant platform: `make help` lists the targets.
SHELL := /bin/bash
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
BOOT := .quant/bootstrap
REPORTS := reports
DASH := apps/dashboard
# pytest-xdist workers for `make test` (ADR 0050; the figures behind the default are in
# docs/benchmarks.md, "Test suite wall time"): `make test TEST_WORKERS=3` to change it
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BOOT)/bin/uv:
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	python3 -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

setup: $(BOOT)/bin/uv ## install everything into .venv (uv workspace, locked), compile the fast path's kernels once
	$(BOOT)/bin/uv sync --all-packages --locked --python python3
	@$(MAKE) --no-print-directory $(VENV)/.kernels-compiled

# numba keeps the compiled kernels in its cache; compiled again only when their source changes
$(VENV)/.kernels-compiled: packages/engine/src/quant_engine/kernel.py packages/engine/src/quant_engine/compilation.py packages/features/src/quant_features/compiled.py
	$(VENV)/bin/quant compile
	@touch $@

demo: setup ## the platform on embedded servers (API, worker, dashboard on :3000): ingest samples, queue demo backtests, stay up (Ctrl-C stops)
	$(VENV)/bin/quant up --demo

backtest-demo: setup ## no servers: backtest momentum_v1 and buy_and_hold on the S&P 500 sample, write reports
	$(VENV)/bin/quant backtest configs/strategies/momentum_v1.yaml --out $(REPORTS)/momentum_v1
	$(VENV)/bin/quant backtest configs/strategies/buy_and_hold.yaml --out $(REPORTS)/buy_and_hold
	@echo ""
	@echo "Open the reports in a browser:"
	@echo "  file://$(CURDIR)/$(REPORTS)/momentum_v1/report.html"
	@echo "  file://$(CURDIR)/$(REPORTS)/buy_and_hold/report.html"

test: setup lint typecheck ## lint, type-check, the Python suite with coverage (floor in pyproject.toml) on pytest-xdist workers, then the dashboard's checks and browser tests
	time $(VENV)/bin/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=html:.quant/coverage
	$(MAKE) --no-print-directory dashboard-test

test-fast: setup ## the inner loop: unit tests only (no servers), stop at the first failure
	$(VENV)/bin/pytest -q -p no:cacheprovider -x tests/unit

lint: setup ## ruff lint + format check, import-linter layer contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: setup ## mypy --strict over every package
	$(VENV)/bin/mypy packages/*/src services/*/src apps/cli/src

bench: setup ## run the benchmarks in bench/ (numbers go to docs/benchmarks.md)
	$(PY) bench/event_loop.py
	$(PY) bench/risk_gate.py
	$(PY) bench/ib_round_trip.py
	$(PY) bench/alpaca_round_trip.py
	$(PY) bench/alert_isolation.py
	$(PY) bench/sweep.py
	$(PY) bench/cold_start.py
	$(PY) bench/walk_forward.py
	$(PY) bench/storage.py
	$(PY) bench/storage_ceiling.py
	$(PY) bench/api.py
	$(PY) bench/runs_list.py
	$(PY) bench/runs_list_sort.py
	$(PY) bench/cli_startup.py
	$(PY) bench/paper_replay.py
	$(PY) bench/bus.py
	$(PY) bench/paper_latency.py
	$(PY) bench/kill_switch_api.py
	$(PY) bench/training.py

dashboard-install: ## npm install for the dashboard (never npm ci: TOOLCHAIN N1; --no-save keeps the committed lockfile as it is)
	@command -v npm >/dev/null || { echo "Node 20+ and npm are required for the dashboard"; exit 1; }
	cd $(DASH) && npm install --no-audit --no-fund --no-save --loglevel=error

dashboard-api: setup dashboard-install ## regenerate the dashboard's copy of /v1/openapi.json and its TypeScript types
	$(PY) -m quant_api.openapi_export > $(DASH)/lib/api/openapi.json
	cd $(DASH) && npm run --silent api:generate

dashboard-build: dashboard-install ## production build of the dashboard (next build)
	cd $(DASH) && NEXT_TELEMETRY_DISABLED=1 npm run --silent build

dashboard-test: setup dashboard-install chromium ## dashboard: lint, types, API-types check, unit tests, production build, browser tests
	cd $(DASH) && time npm run --silent lint
	cd $(DASH) && time npm run --silent typecheck
	cd $(DASH) && time npm run --silent api:check
	cd $(DASH) && time npm test
	cd $(DASH) && time NEXT_TELEMETRY_DISABLED=1 npm run --silent build
	cd $(DASH) && time CI=1 npm run --silent e2e

dashboard-bench: setup dashboard-build chromium ## dashboard: first-load JS per route and time to a rendered overview (docs/benchmarks.md)
	node bench/dashboard.mjs

chromium: ## Debian's headless Chromium for the browser tests (never `playwright install`)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

fmt: setup ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: help setup demo backtest-demo test test-fast lint typecheck bench fmt dashboard-install dashboard-api dashboard-build dashboard-test dashboard-bench chromium

# icb-insight: `make demo` runs the whole pipeline on generated demo data; `make test` runs
# every test. Each target installs what it needs on first use (uv included).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: the one on PATH, else the one pip installs as a module (`python3 -m uv`).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen

# Telemetry of every tool is off; all state lives inside the project folder.
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export ICB_INSIGHT_DUCKDB_PATH ?= $(CURDIR)/data/warehouse/warehouse.duckdb
export DAGSTER_DISABLE_TELEMETRY := true
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export UV_NO_PROGRESS := 1

VENV_STAMP := .venv/.icb-insight-synced
MANIFEST := dbt_project/target/manifest.json

REPORT_STAMP := reports/node_modules/.icb-insight-installed

.PHONY: help setup demo test dev lint docs manifest report bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV_STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		{ echo "Installing uv (pip install uv)"; python3 -m pip install --quiet uv; }
	# bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI, containers) every
	# process would otherwise recompile dbt and Dagster from source (about 1.5 CPU s per dbt call)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: $(VENV_STAMP) ## Install the Python environment (uv, from uv.lock)

manifest: $(VENV_STAMP) ## Parse the dbt project so Dagster can load it
	$(RUN) dbt parse --quiet --project-dir dbt_project

demo: setup manifest $(REPORT_STAMP) ## Generate demo data and run the whole pipeline on it (report included)
	$(RUN) icb-insight demo
	@echo ""
	@echo "Report: reports/build (serve it: python3 -m http.server 8000 --bind 127.0.0.1 --directory reports/build)"

$(REPORT_STAMP): reports/package.json reports/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make report needs Node 20 and npm"; exit 2; }
	cd reports && timeout 900 npm install --no-audit --no-fund
	@touch $@

report: setup manifest $(REPORT_STAMP) ## Rebuild the report from the published warehouse (swapped in only on success)
	$(RUN) python -m orchestration.reporting.site
	@echo "Report built in reports/build. Serve it with:"
	@echo "  python3 -m http.server 8000 --bind 127.0.0.1 --directory reports/build"

# Benchmarks (docs/benchmarks.md): speed and memory by scale. Not part of `make test`.
BENCH_SCALES ?= icb,region,england
BENCH_OUT ?= /tmp/icb-insight-bench
BENCH_ARGS ?=

bench: setup manifest ## Time each pipeline phase against pandas and bare DuckDB (BENCH_SCALES, BENCH_OUT, BENCH_ARGS)
	$(RUN) python -m benchmarks.run --scales $(BENCH_SCALES) --out $(BENCH_OUT) $(BENCH_ARGS)

test: setup manifest ## Run every test
	$(RUN) pytest

dev: setup manifest ## Open the Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME)
	$(RUN) python -c "from orchestration.settings import ensure_dagster_home; ensure_dagster_home()"
	env --default-signal=INT,TERM $(RUN) dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

lint: setup ## Check Python style (ruff)
	$(RUN) ruff check ingest orchestration tests benchmarks
	$(RUN) ruff format --check ingest orchestration tests benchmarks

docs: setup manifest ## Regenerate docs from their sources of truth
	$(RUN) python -m ingest.contracts.docs
	$(RUN) python -m ingest.contracts.dbt_sources
	$(RUN) python -m orchestration.metrics_doc
	$(RUN) python -m orchestration.disclosure
	$(RUN) dbt docs generate --quiet --project-dir dbt_project

clean: ## Remove generated data and build output (keeps the Python environment)
	rm -rf data dbt_project/target dbt_project/logs reports/build

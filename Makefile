# customer_value: `make build` builds the warehouse, `make test` tests it.
# Both create .venv and install everything on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

# Default sample: 20,000 generated customers (about 0.2M order lines).
SAMPLE_DIR ?= data/sample
SAMPLE_CUSTOMERS ?= 20000
SAMPLE := $(SAMPLE_DIR)/order_lines.parquet
# Test fixture: a small generated CSV with every kind of dirty row, plus a
# clickstream file in the events layout.
FIXTURE_DIR := data/test
FIXTURE := $(FIXTURE_DIR)/order_lines.csv
TEST_WAREHOUSE := warehouse/test.duckdb

.PHONY: help setup sample build test lint docs clean report browser bench \
	bench-large bench-customers bench-incremental bench-incremental-large

help:
	@echo "make build   create .venv, generate the sample, dbt build into warehouse/"
	@echo "make test    same setup, dbt build on the test fixture, then pytest"
	@echo "make lint    ruff on python_udfs/, tests/ and models/"
	@echo "make report  render reports/customer_value.html from the warehouse"
	@echo "make browser install headless Chromium (report screenshots, browser tests)"
	@echo "make bench   benchmark 10k, 1M and 10M lines (bench-large: 100M)"
	@echo "make bench-customers  the same with 1.16M customers at 10M lines"
	@echo "make bench-incremental  nightly run vs full rebuild, 10M (-large: 100M)"
	@echo "make docs    dbt docs generate"
	@echo "make clean   remove target/, logs/ and the generated warehouse files"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check \
		-c constraints.txt -e ".[dev]"
	@# So that `source .venv/bin/activate` is enough to run plain dbt.
	@grep -q DBT_PROFILES_DIR $(BIN)/activate || printf '%s\n' \
		'export DBT_PROFILES_DIR="$(CURDIR)/profiles"' \
		'export DBT_SEND_ANONYMOUS_USAGE_STATS=false' >> $(BIN)/activate
	@touch $@

setup: $(STAMP)
	@mkdir -p warehouse

$(SAMPLE): | $(STAMP)
	$(BIN)/cv-generate --out $(SAMPLE_DIR) --customers $(SAMPLE_CUSTOMERS) \
		--seed 42 --format parquet --events

$(FIXTURE): | $(STAMP)
	$(BIN)/cv-generate --out $(FIXTURE_DIR) --customers 2000 --seed 7 \
		--format csv --events

sample: $(SAMPLE)

build: setup $(SAMPLE)
	$(BIN)/dbt build
	$(MAKE) --no-print-directory report

report: setup
	$(BIN)/python -m python_udfs.report $(REPORT_ARGS)

# Debian's chromium for the report screenshot and the browser tests; the
# script says why and exits 0 when it cannot install (the tests then skip).
browser:
	@bash scripts/install_browser.sh

test: setup $(FIXTURE) lint browser
	CV_WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(BIN)/dbt build --target test --full-refresh \
		--vars '{input_format: transactions, input_path: $(FIXTURE)}'
	$(BIN)/pytest

# Benchmarks (results under bench/results/): the project's dbt build against
# the pandas notebook way and hand-written DuckDB, medians of repeated runs.
bench: setup
	$(BIN)/python -m bench.run --sizes 10k,1M,10M --repeats 3

bench-large: setup
	$(BIN)/python -m bench.run --sizes 100M --repeats 1

# The same with about twice the customers per line (1.16M at 10M lines).
bench-customers: setup
	$(BIN)/python -m bench.run --sizes 10k,1M,10M --repeats 3 --story alpha=25

# A nightly incremental run (history + one appended day) against a full
# rebuild, with a check that their marts are equal.
bench-incremental: setup
	$(BIN)/python -m bench.incremental --size 10M

bench-incremental-large: setup
	$(BIN)/python -m bench.incremental --size 100M

lint: setup
	$(BIN)/ruff check python_udfs tests models bench
	$(BIN)/ruff format --check python_udfs tests models bench

docs: setup
	$(BIN)/dbt docs generate

clean:
	rm -rf target logs warehouse/*.duckdb warehouse/*.wal warehouse/*.build-lock \
		warehouse/*.tmp-* warehouse/duckdb_tmp

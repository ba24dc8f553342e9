# Ping'an — two commands: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/pingan/web/static/vendor
SCALE ?= small
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test setup assets system-deps serve bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(VENDOR)/.built: package.json package-lock.json scripts/build_assets.sh
	bash scripts/build_assets.sh
	touch $@

setup: $(STAMP) $(VENDOR)/.built system-deps

assets: $(VENDOR)/.built

# Debian packages: headless Chromium for the browser tests, CJK fonts for charts and documents.
system-deps:
	@bash scripts/system_deps.sh

demo: setup
	$(BIN)/pingan db upgrade
	$(BIN)/pingan demo --scale $(SCALE)
	$(BIN)/pingan serve --host $(HOST) --port $(PORT)

test: setup
	@echo "== the suite on SQLite"
	env -u PINGAN_TEST_DATABASE_URL $(BIN)/python -m pytest -n 2 --dist loadfile tests
	@if [ -n "$$PINGAN_TEST_DATABASE_URL" ]; then \
		echo "== the suite again on PostgreSQL: $$PINGAN_TEST_DATABASE_URL"; \
		$(BIN)/python scripts/check_database.py "$$PINGAN_TEST_DATABASE_URL" && \
		$(BIN)/python -m pytest -n 2 --dist loadfile tests; \
	fi

serve: setup
	$(BIN)/pingan serve --host $(HOST) --port $(PORT)

bench: setup
	@for f in bench/[!_]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var

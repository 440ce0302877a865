# The two set-up commands: `make run` (the site with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL and Redis the second test pass uses (this machine runs both).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/giftlists
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# A URL as the test banner shows it: any password masked.
shown = $(shell printf '%s' '$(1)' | sed -E 's#://([^:/@]*):[^@]*@#://\1:***@#')

.PHONY: run test test-js test-sqlite test-postgres browser lint format migrate clean vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input

# Demo data goes only into an empty database: a second run keeps what changed.
run: migrate
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	@echo "Serving on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_tests.py

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every test, twice: on the embedded defaults (SQLite, in-memory layer), then on
# PostgreSQL and Redis. Where neither answers the second pass is skipped with a
# warning, except in CI (CI=true), where that is an error.
test: lint test-js test-sqlite test-postgres

# The browser client's unit tests and its adapters against the real npm packages;
# the pages' query and mutation code and the vendored query-core (tests/js/).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test-js: node_modules/.installed
	node --test realtime/tests/js/ tests/js/

# The pages import @tanstack/query-core from static/vendor/ (no build step, no
# CDN): refresh that copy from node_modules after changing its pin in
# package-lock.json; tests/js/vendored.test.mjs fails until then.
vendor: node_modules/.installed
	node scripts/vendor_query_core.mjs

# The browser tests drive Debian's Chromium (never a browser download); install
# it where it is missing.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The realtime package's own tests run on a minimal project of their own
# (realtime/tests/project), the site's on the site. The first pass runs on the
# embedded defaults whatever the shell exports, so that its banner is true.
PYTEST_PACKAGE := $(BIN)/pytest --ds=realtime.tests.project.settings realtime/tests

test-sqlite: $(VENV)/.installed browser
	@echo "==> Python tests on SQLite + in-memory channel layer"
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(PYTEST_PACKAGE)
	env -u DATABASE_URL -u REDIS_URL DJANGO_DEBUG=1 $(BIN)/pytest

test-postgres: $(VENV)/.installed browser
	@if $(BIN)/python scripts/services_up.py "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		echo "==> Python tests on PostgreSQL ($(call shown,$(TEST_DATABASE_URL))) + Redis ($(call shown,$(TEST_REDIS_URL)))"; \
		export DJANGO_DEBUG=1 DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)"; \
		$(PYTEST_PACKAGE) && $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL or Redis is not reachable; CI must run the second pass." >&2; exit 1; \
	else \
		echo "WARNING: PostgreSQL or Redis not reachable: the PostgreSQL/Redis pass was skipped." >&2; \
	fi

# Production-style: DEBUG off, WEB_CONCURRENCY processes (default 2) on one port,
# PostgreSQL and Redis (DATABASE_URL, REDIS_URL; see docs/deploy.md).
.PHONY: serve bench
serve: $(VENV)/.installed
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python scripts/serve.py

$(VENV)/.bench-installed: bench/requirements.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r bench/requirements.txt
	touch $@

# The load benchmark against fresh servers, database and Redis prefix; writes
# docs/bench/. BENCH_SCALE=0.05 is a quick smoke run (docs/performance.md).
bench: $(VENV)/.bench-installed
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
		REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

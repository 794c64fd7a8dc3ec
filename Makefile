# Two set-up commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test test-deps validate lock clean perf-tools perf

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions from requirements.lock, then the project itself (editable, no dependency resolution).
$(INSTALLED): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: $(INSTALLED)
	$(BIN)/lowcode serve

# Every definition file against its meta-schema, and every cross-reference.
validate: $(INSTALLED)
	$(BIN)/lowcode validate-definitions definitions

test-deps: $(INSTALLED)
	bash scripts/install-test-system-deps.sh

# The suite on the embedded default (SQLite, Celery eager); then, when TEST_DATABASE_URL and
# TEST_REDIS_URL are set, again on PostgreSQL with a real Celery worker on Redis.
test: test-deps
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ] && [ -n "$$TEST_REDIS_URL" ]; then \
		echo "== again on $$TEST_DATABASE_URL and $$TEST_REDIS_URL =="; \
		env -u DATABASE_URL -u REDIS_URL LOWCODE_TEST_SERVICES=1 $(BIN)/python -m pytest; \
	fi

# Regenerate the lock after changing pyproject.toml's dependencies.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) *.egg-info

# Locust for the load tests, in its own environment: it is never installed beside the application.
LOCUST := .venv-perf/bin/locust
$(LOCUST):
	$(PYTHON) -m venv .venv-perf
	.venv-perf/bin/python -m pip install --quiet "locust==2.47.0"

perf-tools: $(INSTALLED) $(LOCUST)

# The seed's response-time classes at 100 and 1,000 users on PostgreSQL under gunicorn, against
# city-scale data (generated once into the database); writes perf/REPORT.md.
PERF_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/lowcode_city
perf: perf-tools
	DATABASE_URL=$(PERF_DATABASE_URL) $(BIN)/python -m perf.run_load city

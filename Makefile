# The front door. `make run` and `make test` set everything up on a fresh clone.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
export DEBUG ?= true

.PHONY: run test bench bench-scale audit screenshots messages lint format clean

$(BIN)/.installed: requirements.txt requirements-dev.txt tests/e2e/package-lock.json
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed; none was found (set PYTHON=/path/to/python3.12)." >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@# axe-core, which the browser tests inject into pages, and the Nu HTML checker (vnu-jar); without npm
	@# those checks are skipped, as without Chromium.
	@if command -v npm >/dev/null; then npm ci --prefix tests/e2e --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility checks will be skipped" >&2; fi
	@touch $@

run: $(BIN)/.installed  ## migrate, load demo content and users, serve on 127.0.0.1:8000
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py load_demo_content --owner editor
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(BIN)/.installed  ## the whole suite (DATABASE_URL=postgres://... for PostgreSQL)
	$(BIN)/pytest

# Benchmarks run against PostgreSQL and Redis, as production does.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinical_cms

bench: $(BIN)/.installed  ## print performance figures: wrk against gunicorn, query counts, reminders, 60 s of load, fault bounds
	@command -v wrk >/dev/null || echo "wrk is not installed, so the HTTP figures are skipped: apt-get install wrk" >&2
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(BIN)/pytest tests/benchmarks -q -s -o addopts="" \
		--ignore=tests/benchmarks/test_scale.py
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} LOAD_SECONDS=$${LOAD_SECONDS:-60} \
		$(BIN)/pytest tests/test_load.py tests/test_faults.py -q -s -o addopts=""

bench-scale: $(BIN)/.installed  ## every cost at 1,000, 10,000 and 50,000 live versions (SCALE_SIZES), with ratios
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(BIN)/pytest tests/benchmarks/test_scale.py -q -s -o addopts=""

audit: $(BIN)/.installed  ## check the pinned dependencies for known vulnerabilities (needs the network)
	$(BIN)/pip install --quiet --disable-pip-version-check pip-audit==2.10.1
	$(BIN)/pip-audit --requirement requirements.txt --requirement requirements-dev.txt

screenshots: $(BIN)/.installed  ## the README's screenshots, taken again in Chromium (apt install chromium)
	SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/e2e/test_screenshots.py -q -o addopts=""

messages: $(BIN)/.installed  ## gather the project's messages into the Welsh and Arabic catalogues, then compile them (GNU gettext)
	$(BIN)/python manage.py makemessages -l cy -l ar --ignore ".venv/*" --ignore "tests/*" --ignore "staticfiles/*" --ignore "node_modules/*"
	$(BIN)/python manage.py compilemessages -l cy -l ar --ignore ".venv/*"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .hypothesis tests/e2e/node_modules

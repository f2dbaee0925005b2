# leadops — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
comma := ,

# The test suite runs against the real services (PostgreSQL, Redis); override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/leadops
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install demo serve test lint format check browser-deps worker beat bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: embedded mode (SQLite file, in-process tasks): migrate, seed the demo, serve on $(HOST):$(PORT)
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

serve: $(STAMP)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## browser-deps: Debian's Chromium for the end-to-end tests (Playwright drives /usr/bin/chromium)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; browser tests will be skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py check
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py makemigrations --check --dry-run

## test: lint, Django checks, then the whole suite on both ways to run, at once (one core each): against
## PostgreSQL and Redis (shown as it runs), and on the embedded default, SQLite with DEBUG on and tasks
## in-process (its log, test-output/sqlite.log, is shown after). Tests marked `postgres` skip on SQLite, saying why.
## The property tests of leadops.normalizing (pure functions: no database, no setting) run once, in the SQLite
## run: the PostgreSQL run has the PostgreSQL-only tests to run besides, and would otherwise finish last.
PYTEST := $(BIN)/pytest -p no:cacheprovider
BACKEND_FREE := tests/test_normalizing.py tests/test_embedded_server.py
test: $(STAMP) browser-deps lint check
	@mkdir -p test-output
	@echo "Running the suite on PostgreSQL (below) and, at the same time, on the embedded SQLite (shown after)."
	@env -u DATABASE_URL -u REDIS_URL -u CELERY_TASK_ALWAYS_EAGER -u DJANGO_DEBUG \
		$(PYTEST) -o django_debug_mode=true --durations=12 \
		> test-output/sqlite.log 2>&1 & lite=$$!; \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1 \
		$(PYTEST) --create-db --durations=12 $(addprefix --ignore=,$(BACKEND_FREE)); pg=$$?; \
	wait $$lite; sqlite=$$?; \
	echo; echo "PostgreSQL run exited $$pg; the SQLite run exited $$sqlite (0 is a pass; 5 would mean no test ran)."; \
	echo "======== the same suite on the embedded default (SQLite, DEBUG on, tasks in-process) ========"; \
	cat test-output/sqlite.log; \
	test $$pg -eq 0 && test $$sqlite -eq 0

## worker / beat: the real mode's Celery processes (set DATABASE_URL and REDIS_URL). `make worker` consumes every
## queue; `make worker QUEUES=matching,uploads` (or imports, crm, celery) only those: one worker per heavy queue
## keeps a long lead import from delaying a suppression upload's matching (README, "Workers per queue").
QUEUES ?= celery,uploads,matching,imports,crm
CONCURRENCY ?= 2
worker: $(STAMP)
	$(BIN)/celery -A leadops worker --loglevel=INFO --queues=$(QUEUES) --concurrency=$(CONCURRENCY) \
		--hostname=$(subst $(comma),-,$(QUEUES))@%h

beat: $(STAMP)
	$(BIN)/celery -A leadops beat --loglevel=INFO --schedule=var/celerybeat-schedule

## bench: every benchmark, each against its own PostgreSQL database (long: minutes each)
bench: $(STAMP)
	$(BIN)/python bench/recompute.py
	$(BIN)/python bench/suppressions.py
	$(BIN)/python bench/lead_import.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/partitioned.py

clean:
	rm -rf $(VENV) leadops.sqlite3 var

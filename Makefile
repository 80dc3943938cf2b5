# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean screenshots bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The app starts secure (DEBUG off, no default secrets); these two targets are development.
# .env.example lists the same development values for running things by hand.
run test: export DEBUG ?= true

# The whole app with demo data: web on http://127.0.0.1:8000, Celery worker and beat,
# and the local Stripe server. Ctrl-C stops them all.
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start web worker beat stripe

# The whole test suite. Browser tests need Debian's `chromium`; they are skipped
# without it, and fail instead when CI=true.
# Two processes (pytest-xdist), each with caches of its own (tests/development_env.py); PYTEST_ARGS= for one.
PYTEST_ARGS ?= -n 2
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's screenshots (docs/screenshots/), made from the demo data by Chromium.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

# Every page's req/s and latency next to a bare view behind the same middleware, on gunicorn as in
# production, with the large data set (PostgreSQL, Redis and wrk needed; see bench/web.py).
# BENCH_ARGS="--size tiny" for a smoke run of under a minute.
bench: $(STAMP)
	$(BIN)/python bench/web.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var/celery var/cache var/db.sqlite3* var/celerybeat-schedule* .pytest_cache

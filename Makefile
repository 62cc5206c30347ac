# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
# Test processes for `make test`: one per core and one more, as tests spend part of their time waiting for the
# browsers, servers and identity providers they start (on 2 cores, 3 take about a minute less a pass than 2);
# 0: no worker processes. One that runs out of tests takes some of another's, so a long file at the end does not
# leave a core idle.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(len(os.sched_getaffinity(0)) + 1)")
BIN = $(VENV)/bin
export FLASK_APP = wsgi

.PHONY: run test bench screenshots install translations messages lock clean

# uv (pinned in tools.lock) installs the lock: in seconds, where pip took over a minute. The lock names every
# package, so nothing is resolved (--no-deps; pip 23.2, resolving, refused a dependency asked for with extras, such as
# weasyprint's fonttools[woff], as "not pinned" once the index held a newer release); `pip check` then proves the
# set complete and consistent. uv takes packages from PyPI (UV_DEFAULT_INDEX to change it), not from pip's settings.
$(BIN)/.installed: requirements.lock tools.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r tools.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --require-hashes -r requirements.lock
	$(BIN)/pip check
	touch $@

install: $(BIN)/.installed translations node_modules/.installed

# Test tools from npm (axe-core), where Node is installed; the tests that need them skip without it.
node_modules/.installed: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

# Compiled only when a catalogue changed, so that two test runs started at once never rewrite them under each other.
CATALOGUES = $(wildcard translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGUES:.po=.mo)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel -q compile -d translations -l $*

## run: install, migrate, load the demo tenants, serve on http://localhost:$(PORT)
## with the worker (`flask worker`: mail, webhooks) beside it and, with Node, the demo identity provider on
## DEMO_IDP_PORT, PORT + 1 by default: Ctrl-C stops them all
# The demo's own people pepper (never a production one), so that the movement opens on the global page.
run: export PEOPLE_PEPPER ?= demo-only-people-pepper-not-for-production
# The worker (mail, webhooks) runs as a process of its own beside gunicorn, as in production.
run: export WORKER = process
run: install
	@mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask tenants ensure-movement
	$(BIN)/flask kits load-starter
	$(BIN)/flask tenants load-demo
	@echo
	@echo "  Global HeForShe page:        http://localhost:$(PORT)/"
	@echo "  Commit on your own:          http://localhost:$(PORT)/commit"
	@echo "  Acme (corporation):          http://acme.localhost:$(PORT)/"
	@echo "  Northfield (university):     http://northfield.localhost:$(PORT)/"
	@echo "  Counts as JSON:              http://localhost:$(PORT)/stats.json  http://acme.localhost:$(PORT)/stats.json"
	@echo "  Signed daily snapshots:      http://localhost:$(PORT)/snapshots/"
	@echo "  Action kits:                 http://localhost:$(PORT)/kits"
	PORT=$(PORT) PYTHONPATH=. $(BIN)/python scripts/demo_idp.py \
		$(BIN)/gunicorn --worker-class gevent --workers 1 --bind localhost:$(PORT) --access-logfile - wsgi:app

## test: the whole suite on SQLite; set TEST_DATABASE_URL=postgresql+psycopg://... to run it on PostgreSQL instead
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## screenshots: the main pages at 390 and 1280 px, in English and Arabic, as PNG files in build/screenshots/
## (a database of their own with the demo loaded; the portal's dashboard too where Node runs the demo sign-in)
screenshots: export PEOPLE_PEPPER ?= demo-only-people-pepper-not-for-production
screenshots: export DATABASE_URL = sqlite:///$(CURDIR)/build/screenshots/demo.sqlite3
screenshots: export PORT = 5090
screenshots: export DEMO_IDP_PORT = 5091
screenshots: install
	@rm -rf build/screenshots && mkdir -p build/screenshots instance
	$(BIN)/flask db upgrade
	$(BIN)/flask tenants ensure-movement
	$(BIN)/flask kits load-starter
	$(BIN)/flask tenants load-demo
	PYTHONPATH=. $(BIN)/python scripts/demo_idp.py $(BIN)/python scripts/screenshots.py

## bench: the load benchmarks as in production (needs PostgreSQL, pgbench and Redis; about 20 minutes)
bench: install
	$(BIN)/python -m bench

## messages: gather new texts from the code into the catalogs (then translate the empty ones)
messages: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k pgettext:1c,2 -k lazy_pgettext:1c,2 \
		-o translations/messages.pot --no-location --sort-output --project "HeForShe Commitments" \
		--ignore-dirs ".venv node_modules tests build" .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

## lock: re-resolve requirements.lock from pyproject.toml (after changing dependencies), and tools.lock from tools.in
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links -o tools.lock tools.in

clean:
	rm -rf $(VENV) instance .pytest_cache

# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-browser browser-deps lint format screenshots benchmark train clean

# Install only when pyproject.toml changed since the last install, so a second run is quick.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py serve

test: $(VENV)/.installed-test browser-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser suite alone: the real site (gunicorn + workers) driven by the system Chromium.
# Without Chromium it is skipped, unless REQUIRE_BROWSER=1 (as in CI), when that is an error.
test-browser: $(VENV)/.installed-test browser-deps
	$(BIN)/pytest tests/browser $(PYTEST_ARGS)

# The screenshots of the main pages (light and dark, desktop and phone) in docs/screenshots/,
# which the README shows. Run after a visible change and commit the pictures that changed.
screenshots: $(VENV)/.installed-test browser-deps
	SAVE_SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_accessibility.py $(PYTEST_ARGS)

# axe-core, for the browser suite's accessibility checks: from the npm registry, at the version
# pinned in tests/browser/package-lock.json; installed again only when the lock file changes.
BROWSER_JS := tests/browser
browser-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the browser suite will try again when it runs (and skip without it)"; \
	elif [ ! $(BROWSER_JS)/node_modules/.package-lock.json -nt $(BROWSER_JS)/package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error --prefix $(BROWSER_JS); \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmark: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[benchmark]"
	$(BIN)/python manage.py engine_benchmark

# Retrain the learned core (about 45 minutes on two cores): fetches the licence-clean photos,
# trains x2 and x4, and rewrites enhancer/engine/weights/ (ONNX files, metrics, model card).
train: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[train]"
	$(BIN)/python manage.py engine_train

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache tests/browser/node_modules test-artifacts

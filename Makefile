# The two commands a new machine needs: `make run` and `make test`.
# Each creates .venv and installs from requirements.lock when needed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest lock messages clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# anvil, the local chain node for anchoring, comes from npm (package.json).
# Without npm, or when npm cannot install it, this step is skipped: `make run` then anchors on the in-process
# chain, and the anvil tests skip, except under CI=true, where they fail.
ANVIL_STAMP := node_modules/.installed

$(ANVIL_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: anvil not installed (apt-get install npm)"; \
	elif npm ci --no-audit --no-fund; then \
		touch $(ANVIL_STAMP); \
	else \
		echo "npm ci failed: anvil not installed (the package is for Linux x86_64)"; \
	fi

run: $(STAMP) $(ANVIL_STAMP)
	$(BIN)/kotacerdas run

test: $(STAMP) $(ANVIL_STAMP)
	$(BIN)/python tests/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 -o requirements.lock

messages: $(STAMP)
	$(BIN)/kotacerdas messages

clean:
	rm -rf $(VENV) var/static

# The task interface: the same commands locally and in CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint typecheck bench chaos fuzz clean

# The SDK (clients/python) is its own distribution and the server does not depend on it (README,
# "Development"): it is installed from the tree, explicitly, before the server with its test extras.
$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e clients/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/twofold serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests clients/python
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py --peers

# The long fuzzing run of docs/reliability.md: up to 300 cases per operation, on both databases (CI runs 25).
fuzz: $(STAMP)
	TWOFOLD_FUZZ_EXAMPLES=300 $(BIN)/pytest tests/fuzz -rP

# The long runs of docs/reliability.md: SIGKILL after 5,000 acknowledged writes (CI runs 160), and the
# WAL bound under 20,000 writes (CI runs 5,000).
chaos: $(STAMP)
	TWOFOLD_CHAOS_WRITES=5000 TWOFOLD_WAL_WRITES=20000 $(BIN)/pytest tests/reliability -rP

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

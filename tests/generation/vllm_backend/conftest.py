"""The vLLM tests run in the second environment (`make setup-vllm`, `.venv-vllm`), where vLLM
is installed; the main environment, whose transformers is newer than vLLM allows, does not
collect them. Where vLLM is installed they are collected and never skipped.

Fixtures: the prompts, a tiny adapter, and the engine options every test engine shares.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from generation.sampling_tasks import SAMPLING_TASKS

collect_ignore_glob = [] if importlib.util.find_spec("vllm") else ["test_*.py"]


@pytest.fixture(scope="session")
def engine_options() -> dict[str, int]:
    """A small fixed KV cache (vLLM's CPU default reserves most of the machine's memory)."""
    return {"kv_cache_memory_bytes": 64 << 20, "max_model_len": 256}


@pytest.fixture(scope="session")
def prompts() -> list[str]:
    """The tasks in the tiny model's chat template, each ending with a newline."""
    from halo_forge.data.templates import format_prompt
    from halo_forge.models import TINY_MODEL_NAME, load_tokenizer

    tokenizer = load_tokenizer(TINY_MODEL_NAME)
    return [format_prompt(task, template=tokenizer) for task in SAMPLING_TASKS]


@pytest.fixture(scope="session")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rank-16 adapter on the tiny model whose LoRA update is not zero."""
    from models.adapters import adapter_with_nonzero_update

    _, directory = adapter_with_nonzero_update(tmp_path_factory.mktemp("adapter"))
    return directory

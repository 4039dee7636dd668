"""Starting and stopping vLLM engines: an adapter as the model, seeds across engines, close(),
and the errors raised before or while an engine starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psutil
import pytest

from halo_forge.errors import ConfigError, ModelError
from halo_forge.generation.transformers_backend import TransformersSampler
from halo_forge.generation.vllm_backend import VLLMSampler
from halo_forge.models import TINY_MODEL_NAME, load_model
from halo_forge.models.tiny import ensure_tiny_model


def test_an_adapter_directory_as_the_model_loads_its_base_and_samples_the_adapter(
    adapter_dir: Path, prompts: list[str], engine_options: dict[str, int]
) -> None:
    reference = TransformersSampler(*load_model(str(adapter_dir), device="cpu"))
    expected = reference.generate(prompts[:2], temperature=0, max_new_tokens=12)

    with VLLMSampler(str(adapter_dir), **engine_options) as sampler:
        assert sampler.base == str(ensure_tiny_model())
        assert sampler.max_lora_rank == 16  # sized to the adapter's rank
        assert sampler.generate(prompts[:2], temperature=0, max_new_tokens=12) == expected


def test_a_seeded_call_repeats_its_samples_on_a_fresh_engine(
    prompts: list[str], engine_options: dict[str, int]
) -> None:
    drawn = []
    for _ in range(2):
        with VLLMSampler(TINY_MODEL_NAME, **engine_options) as sampler:
            drawn.append(sampler.generate(prompts, n=2, temperature=1.0, max_new_tokens=12, seed=3))

    assert drawn[0] == drawn[1]  # a restarted run (RAFT's resume) draws what it drew before
    assert all(len(set(samples)) == 2 for samples in drawn[0])


def test_close_ends_the_engine_processes_and_refuses_more_sampling(
    engine_options: dict[str, int],
) -> None:
    sampler = VLLMSampler(TINY_MODEL_NAME, **engine_options)
    engine_processes = [
        child
        for child in psutil.Process().children(recursive=True)
        if child.name().startswith("VLLM::")  # EngineCore and its workers
    ]
    sampler.close()
    _, alive = psutil.wait_procs(engine_processes, timeout=30)

    assert engine_processes
    assert alive == []
    with pytest.raises(ConfigError, match="closed"):
        sampler.generate(["x"], max_new_tokens=1)


def test_an_adapter_above_max_lora_rank_fails_before_the_engine_starts(
    adapter_dir: Path, engine_options: dict[str, int]
) -> None:
    with pytest.raises(ConfigError, match=r"rank 16, above max_lora_rank=8; .*max_lora_rank=16"):
        VLLMSampler(str(adapter_dir), max_lora_rank=8, **engine_options)


def test_max_lora_rank_must_be_one_vllm_reserves(engine_options: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match=r"max_lora_rank=12 .* use one of 1, 8, 16"):
        VLLMSampler(TINY_MODEL_NAME, max_lora_rank=12, **engine_options)


def test_an_architecture_vllm_cannot_run_names_the_transformers_backend(
    tmp_path: Path, engine_options: dict[str, int]
) -> None:
    model = tmp_path / "unknown-architecture"
    shutil.copytree(ensure_tiny_model(), model)
    config = json.loads((model / "config.json").read_text())
    config["architectures"] = ["HaloForgeUnknownForCausalLM"]
    (model / "config.json").write_text(json.dumps(config))

    with pytest.raises(ModelError, match=r"HaloForgeUnknownForCausalLM.*transformers backend"):
        VLLMSampler(str(model), **engine_options)


def test_sleep_mode_off_a_gpu_says_to_close_instead(engine_options: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match=r"CUDA or ROCm GPU.*close\(\)"):
        VLLMSampler(TINY_MODEL_NAME, enable_sleep_mode=True, **engine_options)

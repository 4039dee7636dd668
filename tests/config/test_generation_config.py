"""The sampler backend keys: validation with the allowed values, the contradiction RAFT refuses,
and which engine settings count for resuming a run."""

from __future__ import annotations

import pytest

from halo_forge.config.loader import validate_config
from halo_forge.config.models import BenchmarkConfig, RAFTConfig
from halo_forge.errors import ConfigError
from halo_forge.raft.fingerprint import run_fingerprint


def test_an_unknown_backend_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"transformers.*vllm.*openai"):
        validate_config(RAFTConfig, {"generation": {"backend": "tgi"}})
    with pytest.raises(ConfigError, match="backend"):
        validate_config(BenchmarkConfig, {"backend": "tgi"})


def test_engine_options_are_checked_like_every_other_key() -> None:
    with pytest.raises(ConfigError, match="gpu_memory_utilization"):
        validate_config(RAFTConfig, {"generation": {"vllm": {"gpu_memory_utilization": 1.5}}})
    with pytest.raises(ConfigError, match="base_ur"):
        validate_config(BenchmarkConfig, {"openai": {"base_ur": "http://127.0.0.1:8000/v1"}})


def test_raft_refuses_a_served_model_for_a_full_fine_tune() -> None:
    with pytest.raises(
        ConfigError, match=r"lora\.enabled false gives every cycle new full weights"
    ):
        validate_config(
            RAFTConfig, {"generation": {"backend": "openai"}, "lora": {"enabled": False}}
        )
    validate_config(RAFTConfig, {"generation": {"backend": "vllm"}, "lora": {"enabled": False}})


def test_the_default_backend_adds_no_fingerprint_keys_so_older_runs_resume() -> None:
    fingerprint = run_fingerprint(RAFTConfig(), [], "builtin:tiny-coder")

    assert not [
        key
        for key in fingerprint
        if key.startswith(("generation.backend", "generation.vllm", "generation.openai"))
    ]
    assert "generation.max_new_tokens" in fingerprint


def test_vllm_fingerprints_what_decides_samples_not_what_decides_speed() -> None:
    config = RAFTConfig.model_validate(
        {"generation": {"backend": "vllm", "vllm": {"dtype": "bfloat16"}}}
    )
    faster = config.model_copy(deep=True)
    faster.generation.vllm.gpu_memory_utilization = 0.9
    faster.generation.vllm.between_cycles = "keep"

    fingerprint = run_fingerprint(config, [], "m")

    assert fingerprint["generation.backend"] == "vllm"
    assert fingerprint["generation.vllm.dtype"] == "bfloat16"
    assert fingerprint == run_fingerprint(faster, [], "m")
    served = RAFTConfig.model_validate({"generation": {"backend": "openai"}})
    assert run_fingerprint(served, [], "m")["generation.openai.model"] is None

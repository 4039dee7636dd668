"""`GRPOConfig`: YAML and overrides like every command, and bad values refused with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_forge.config import CONFIG_TYPES, GRPOConfig, detect_config_type, load_config
from halo_forge.errors import ConfigError
from halo_forge.grpo.trainer import trl_arguments


def test_yaml_then_overrides_map_onto_trls_grpo_config(tmp_path: Path) -> None:
    config_file = tmp_path / "grpo.yaml"
    config_file.write_text(
        "model: builtin:tiny-coder\n"
        "grpo: {num_generations: 2, loss_type: dr_grpo, beta: 0.04, epsilon_high: 0.28}\n"
        "training: {batch_size: 4, learning_rate: 5e-5, max_steps: 7}\n"
    )
    config = load_config(
        GRPOConfig, config_file, {"grpo.temperature": 0.8, "grpo.max_completion_length": 64}
    )

    arguments = trl_arguments(config, tmp_path / "out", device="cpu")

    assert (arguments.num_generations, arguments.loss_type, arguments.beta) == (2, "dr_grpo", 0.04)
    assert (arguments.epsilon, arguments.epsilon_high) == (0.2, 0.28)
    assert (arguments.temperature, arguments.max_completion_length) == (0.8, 64)
    assert (arguments.learning_rate, arguments.max_steps) == (5e-5, 7)
    assert arguments.per_device_train_batch_size == 4
    assert arguments.use_cpu and not arguments.use_vllm
    assert arguments.report_to == []  # TensorBoard goes through halo-forge's own callback


def test_a_grpo_config_is_registered_and_detected() -> None:
    assert CONFIG_TYPES["grpo"] is GRPOConfig
    assert detect_config_type({"grpo": {}, "generation": {}, "output_dir": "x"}) == "grpo"
    assert detect_config_type({"raft": {}, "generation": {}}) == "raft"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grpo.loss_type": "ppo"}, "grpo.loss_type = 'ppo'"),
        ({"grpo.num_generations": 1}, "greater than or equal to 2"),
        ({"grpo.num_generations": 3}, "not a multiple of grpo.num_generations"),
        ({"generation.backend": "openai"}, "generation.backend"),
        ({"grpo.epsilon": 0}, "grpo.epsilon"),
    ],
)
def test_bad_values_are_refused_naming_the_key(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(GRPOConfig, None, overrides)


def test_the_vllm_backend_without_vllm_says_how_to_get_it(tmp_path: Path) -> None:
    config = GRPOConfig(generation={"backend": "vllm"})

    with pytest.raises(ConfigError, match=r"pip install 'halo-forge\[vllm\]'"):
        trl_arguments(config, tmp_path, device="cpu")

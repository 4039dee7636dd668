"""`GRPORunner` end to end on the embedded model and real gcc: logs, checkpoints, reuse, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from halo_forge.config import GRPOConfig
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import ConfigError, DataError
from halo_forge.grpo.trainer import GRPORunner
from halo_forge.models.loading import load_model
from halo_forge.paths import TENSORBOARD_DIR, TRAINING_LOG_FILE

pytestmark = pytest.mark.slow

GCC = {"type": "gcc", "language": "c", "run_after_compile": True}


def tiny_config(prompts: Path, output: Path, **changes: object) -> GRPOConfig:
    """Two steps of two prompts x two completions, 16 tokens each; `changes` update a section
    (`verifier` is replaced whole)."""
    data = {
        "model": "builtin:tiny-coder",
        "prompts": str(prompts),
        "output_dir": str(output),
        "grpo": {"num_generations": 2, "max_completion_length": 16},
        "training": {"batch_size": 4, "max_steps": 2, "save_steps": 1, "learning_rate": 1e-4},
        "lora": {"r": 4, "alpha": 8},
        "verifier": GCC,
    }
    for key, value in changes.items():
        merge = isinstance(value, dict) and key != "verifier"
        data[key] = {**data[key], **value} if merge else value
    return GRPOConfig.model_validate(data)


def test_a_run_logs_rewards_and_rates_per_step_and_saves_a_loadable_adapter(
    c_prompts: Path, tmp_path: Path
) -> None:
    output = tmp_path / "run"

    result = GRPORunner(config=tiny_config(c_prompts, output)).run(c_prompts)

    assert result.steps == 2 and result.completions == 8
    rows = json.loads((output / TRAINING_LOG_FILE).read_text())["train"]
    assert [row["step"] for row in rows] == [1, 2]
    for row in rows:
        assert {"reward", "reward_std", "rewards/gcc/pass_rate", "loss"} <= row.keys()
        assert 0 <= row["rewards/gcc/compile_rate"] <= 1
    events = EventAccumulator(str(output / TENSORBOARD_DIR))
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/reward", "train/reward_std", "train/rewards/gcc/pass_rate"} <= scalars
    assert "train/rewards/gcc/compile_rate" in scalars
    assert sorted(path.name for path in output.glob("checkpoint-*")) == [
        "checkpoint-1",
        "checkpoint-2",
    ]
    model, _ = load_model(str(result.final_checkpoint), device="cpu")
    assert type(model).__name__ == "PeftModelForCausalLM"
    assert (output / "training_log.png").is_file() is False
    assert GRPORunner(config=tiny_config(c_prompts, output)).plot().is_file()


def test_a_finished_run_is_read_back_and_changed_settings_are_refused(
    c_prompts: Path, tmp_path: Path
) -> None:
    output = tmp_path / "run"
    first = GRPORunner(config=tiny_config(c_prompts, output)).run(c_prompts)

    again = GRPORunner(config=tiny_config(c_prompts, output)).run(c_prompts)
    assert again.seconds is None and again.steps == first.steps

    changed = tiny_config(c_prompts, output, grpo={"loss_type": "grpo"})
    with pytest.raises(ConfigError, match=r"grpo\.loss_type"):
        GRPORunner(config=changed).run(c_prompts)
    forced = GRPORunner(config=changed, force=True).run(c_prompts)
    assert forced.final_checkpoint == first.final_checkpoint


def test_prompts_without_what_the_verifier_needs_fail_before_a_model_loads(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "untested.jsonl"
    write_jsonl(prompts, [{"prompt": "Write double(x)."}])
    config = tiny_config(prompts, tmp_path / "run", verifier={"type": "mbpp"})

    with pytest.raises(DataError, match="lack what verifier 'mbpp' needs"):
        GRPORunner(config=config).run(prompts)
    assert not (tmp_path / "run").exists()


def test_no_start_model_says_how_to_give_one() -> None:
    with pytest.raises(ConfigError, match="--checkpoint"):
        GRPORunner(config=GRPOConfig())

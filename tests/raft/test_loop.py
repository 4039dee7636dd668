"""Full RAFT cycles with the builtin tiny model on CPU and builtin C tasks.

The untrained tiny model writes noise that gcc scores 0.0 (never kept), so these tests of the
cycle's bookkeeping reward it with `AnyTextVerifier`, a user-written verifier with graded tiers;
`test_resume.py` and `test_cycle.py` run the real gcc verifier on real programs.
"""

from __future__ import annotations

import json

import pytest
import torch
from raft.graded_text import AnyTextVerifier
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from halo_forge import ui
from halo_forge.config.models import LoRASection, RAFTConfig
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.jsonl import read_jsonl
from halo_forge.errors import ConfigError
from halo_forge.models.loading import adapter_base_name, is_adapter_dir, load_model
from halo_forge.paths import TENSORBOARD_DIR, TRAINING_LOG_FILE
from halo_forge.raft.loop import RAFTTrainer
from halo_forge.raft.report import NOTHING_KEPT
from halo_forge.raft.stats import CycleStats
from halo_forge.raft.training_log import read_training_log
from halo_forge.verifiers.base import Verifier, VerifyResult

pytestmark = pytest.mark.slow


TASKS = generate_tasks("builtin_c", 2, 0)


def _config(**raft: object) -> RAFTConfig:
    return RAFTConfig.model_validate(
        {
            "raft": {
                "num_cycles": 2,
                "samples_per_prompt": 2,
                "reward_threshold": 0.5,
                "keep_top_percent": 1.0,
                "min_samples": 1,
                **raft,
            },
            "generation": {"max_new_tokens": 32, "batch_size": 2},
            "training": {"batch_size": 2, "gradient_accumulation_steps": 1, "learning_rate": 1e-3},
            "verifier": {"type": "gcc", "run_after_compile": True},
        }
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("raft") / "run"
    with AnyTextVerifier() as verifier:
        trainer = RAFTTrainer(
            verifier=verifier, model="builtin:tiny-coder", config=_config(), output_dir=output
        )
        result = trainer.run(TASKS)
    return output, result


def test_each_cycle_writes_its_files_and_a_loadable_adapter(finished_run):
    output, result = finished_run
    for cycle in (1, 2):
        directory = output / f"cycle_{cycle}"
        samples = read_jsonl(directory / "samples.jsonl")
        verified = read_jsonl(directory / "verified.jsonl")
        assert len(samples) == len(verified) == len(TASKS) * 2
        assert {r["sample_id"] for r in samples} == {r["sample_id"] for r in verified}
        kept = read_jsonl(directory / "kept.jsonl")
        stats = CycleStats.read(directory / "stats.json")
        assert stats == result.cycles[cycle - 1]
        assert stats.kept == len(kept)
        assert all(r["reward"] >= stats.effective_threshold > 0 for r in kept)
        checkpoint = output / f"cycle_{cycle}_final"
        assert adapter_base_name(checkpoint) == "builtin:tiny-coder"
    model, _ = load_model(str(result.final_checkpoint))
    assert type(model).__name__ == "PeftModelForCausalLM"


def test_training_log_has_one_row_per_cycle_with_the_table_numbers(finished_run):
    output, result = finished_run
    rows = read_training_log(output)
    assert [row.cycle for row in rows] == [1, 2]
    assert rows == result.cycles
    first = rows[0]
    assert sum(first.reward_histogram.values()) == first.samples == 4
    assert first.kept > 0  # min_samples admits the best non-zero tier
    assert first.train_loss is not None and first.grad_norm is not None
    assert first.training_seconds is not None and first.training_seconds > 0


def test_training_log_has_the_sft_schema_with_each_cycles_steps(finished_run):
    output, result = finished_run
    log = json.loads((output / TRAINING_LOG_FILE).read_text())
    sft_log = json.loads((output / "cycle_1" / "train" / TRAINING_LOG_FILE).read_text())
    assert {"train", "eval", "summary"} <= set(log)
    assert {entry["cycle"] for entry in log["train"]} == {1, 2}
    cycle_1_steps = [entry for entry in log["train"] if entry["cycle"] == 1]
    assert [{**entry, "cycle": 1} for entry in sft_log["train"]] == cycle_1_steps
    assert log["summary"]["final_checkpoint"] == str(result.final_checkpoint)


def test_each_cycle_trains_the_same_adapter_onward(finished_run):
    output, _ = finished_run
    first = load_file(output / "cycle_1_final" / "adapter_model.safetensors")
    second = load_file(output / "cycle_2_final" / "adapter_model.safetensors")
    assert first.keys() == second.keys()
    assert any(not torch.equal(first[name], second[name]) for name in first)
    assert any(name.endswith("lora_B.weight") and first[name].abs().sum() > 0 for name in first)


def test_cycle_scalars_reach_tensorboard(finished_run):
    output, _ = finished_run
    events = EventAccumulator(str(output / TENSORBOARD_DIR))
    events.Reload()
    pass_rates = events.Scalars("raft/pass_rate")
    assert [event.step for event in pass_rates] == [1, 2]


def test_rerunning_a_finished_run_skips_every_stage(finished_run):
    output, result = finished_run
    stamps = {path: path.stat().st_mtime_ns for path in output.rglob("*.jsonl")}
    again = RAFTTrainer(model="builtin:tiny-coder", config=_config(), output_dir=output)
    # The first run was given a verifier instance; the same settings without it differ.
    with pytest.raises(ConfigError, match=r"verifier\.instance"):
        again.run(TASKS)
    with AnyTextVerifier() as verifier:
        rerun = RAFTTrainer(
            verifier=verifier, model="builtin:tiny-coder", config=_config(), output_dir=output
        ).run(TASKS)
    assert rerun.cycles == result.cycles
    with AnyTextVerifier() as verifier:
        first_only = RAFTTrainer(
            verifier=verifier, model="builtin:tiny-coder", config=_config(), output_dir=output
        ).run(TASKS, num_cycles=1)
    assert first_only.cycles == result.cycles[:1]
    assert first_only.final_checkpoint == output / "cycle_1_final"
    assert {path: path.stat().st_mtime_ns for path in output.rglob("*.jsonl")} == stamps


def test_resuming_with_other_settings_names_the_changed_keys(finished_run):
    output, _ = finished_run
    trainer = RAFTTrainer(
        model="builtin:tiny-coder", config=_config(reward_threshold=0.8), output_dir=output
    )
    with pytest.raises(ConfigError, match=r"raft\.reward_threshold"):
        trainer.run(TASKS)


def test_a_trainer_needs_a_model_to_start_from():
    with pytest.raises(ConfigError, match="sft_checkpoint"):
        RAFTTrainer(config=RAFTConfig())


def _trained_with(tmp_path, num_cycles: int, lora: dict) -> tuple:
    config = _config(num_cycles=num_cycles).model_copy(
        update={"lora": LoRASection.model_validate(lora)}
    )
    with AnyTextVerifier() as verifier:
        result = RAFTTrainer(
            verifier=verifier, model="builtin:tiny-coder", config=config, output_dir=tmp_path
        ).run(TASKS)
    return tmp_path, result


def test_without_lora_every_cycle_trains_and_saves_the_whole_model(tmp_path):
    output, result = _trained_with(tmp_path, 2, {"enabled": False})
    start, _ = load_model("builtin:tiny-coder")
    weights = []
    for cycle in (1, 2):
        checkpoint = output / f"cycle_{cycle}_final"
        assert not is_adapter_dir(checkpoint)
        weights.append(load_file(checkpoint / "model.safetensors"))
    model, _ = load_model(str(result.final_checkpoint))
    assert type(model).__name__ == "Qwen2ForCausalLM"
    # Base weights moved: cycle 1 from the start model, cycle 2 from cycle 1's model.
    down_projections = [name for name in weights[0] if name.endswith("mlp.down_proj.weight")]
    assert len(down_projections) == start.config.num_hidden_layers
    for name in down_projections:
        assert not torch.equal(start.state_dict()[name], weights[0][name])
        assert not torch.equal(weights[0][name], weights[1][name])


def test_lora_rank_of_the_config_shapes_the_new_adapter(tmp_path):
    output, _ = _trained_with(tmp_path, 1, {"r": 4, "alpha": 8})
    adapter = json.loads((output / "cycle_1_final" / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"]) == (4, 8)
    weights = load_file(output / "cycle_1_final" / "adapter_model.safetensors")
    assert all(w.shape[0] == 4 for name, w in weights.items() if name.endswith("lora_A.weight"))


class ZeroVerifier(Verifier):
    """Scores every answer 0.0: nothing can be kept, whatever the threshold tiers."""

    def verify(self, code: str, **context: object) -> VerifyResult:
        return VerifyResult(success=False, reward=0.0, details="never right")


def test_a_cycle_that_keeps_nothing_says_training_was_skipped(tmp_path, capsys):
    ui.set_quiet(False)  # bind the console to this test's captured stdout
    with ZeroVerifier() as verifier:
        result = RAFTTrainer(
            verifier=verifier,
            model="builtin:tiny-coder",
            config=_config(num_cycles=1),
            output_dir=tmp_path,
        ).run(TASKS[:1])
    output = capsys.readouterr().out
    assert f"cycle 1: {NOTHING_KEPT}" in output
    training_row = next(line for line in output.splitlines() if "│ training " in line)
    assert NOTHING_KEPT in training_row
    assert "resumed" not in output
    assert result.cycles[0].kept == 0 and (tmp_path / "cycle_1_final").is_dir()

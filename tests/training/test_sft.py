"""SFT end to end on the tiny model: learning, outputs, resume, early stopping, full fine-tune."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from halo_forge.config import SFTConfig, load_config
from halo_forge.data.jsonl import write_jsonl
from halo_forge.errors import ConfigError
from halo_forge.models import TINY_MODEL_NAME, adapter_base_name, ensure_tiny_model, load_model
from halo_forge.training import plan_sft, run_sft, train_on_records
from halo_forge.training.hf_trainer import MISSING_KEYS_WARNING, TiedWeightsWarningFilter


def _records(count: int) -> list[dict[str, str]]:
    """Short, regular pairs a tiny model picks up within a few dozen steps."""
    return [
        {
            "prompt": f"Write a C function that returns {value} times two.",
            "completion": f"int f(void) {{ return {value} * 2; }}",
        }
        for value in range(count)
    ]


def _config(tmp_path: Path, records: int = 24, **overrides: Any) -> SFTConfig:
    data_file = tmp_path / "train.jsonl"
    write_jsonl(data_file, _records(records))
    settings = {
        "model.name": TINY_MODEL_NAME,
        "data.train_file": str(data_file),
        "data.validation_split": 0.0,
        "data.max_seq_length": 64,
        "training.num_train_epochs": 2,
        "training.per_device_train_batch_size": 4,
        "training.gradient_accumulation_steps": 1,
        "training.learning_rate": 3e-3,
        "training.warmup_ratio": 0.0,
        "training.lr_scheduler_type": "constant",
        "output.dir": str(tmp_path / "out"),
        "output.logging_steps": 1,
        "output.save_steps": 4,
        "output.save_total_limit": 10,
    }
    settings.update(overrides)
    return load_config(SFTConfig, None, settings)


def _training_log(output_dir: Path) -> dict[str, Any]:
    return json.loads((output_dir / "training_log.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_loss_goes_down_and_the_output_layout_is_complete(tmp_path: Path) -> None:
    config = _config(tmp_path, **{"training.num_train_epochs": 3})

    result = run_sft(config)

    log = _training_log(result.output_dir)
    losses = [entry["loss"] for entry in log["train"]]
    assert len(losses) == result.outcome.global_step == 18  # 24 records / 4 per step x 3 epochs
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3
    assert all({"learning_rate", "grad_norm"} <= entry.keys() for entry in log["train"])
    assert log["summary"]["global_step"] == 18
    assert list((result.output_dir / "logs").glob("events.out.tfevents.*"))
    assert sorted(path.name for path in result.output_dir.glob("checkpoint-*")) == [
        "checkpoint-12",
        "checkpoint-16",
        "checkpoint-18",
        "checkpoint-4",
        "checkpoint-8",
    ]
    final = result.final_model_dir
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= {
        path.name for path in final.iterdir()
    }
    assert adapter_base_name(final) == TINY_MODEL_NAME
    reloaded = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(ensure_tiny_model()), str(final)
    )
    trained, _ = load_model(str(final), device="cpu")
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        torch.testing.assert_close(
            reloaded.eval()(input_ids=ids).logits, trained(input_ids=ids).logits
        )


@pytest.mark.slow
def test_save_total_limit_keeps_only_the_newest_checkpoints(tmp_path: Path) -> None:
    result = run_sft(_config(tmp_path, **{"output.save_total_limit": 2}))

    assert sorted(path.name for path in result.output_dir.glob("checkpoint-*")) == [
        "checkpoint-12",
        "checkpoint-8",
    ]


@pytest.mark.slow
def test_resume_reaches_the_same_step_with_the_same_losses(tmp_path: Path) -> None:
    uninterrupted = run_sft(_config(tmp_path / "a"))
    # A run that died after its first checkpoint left only checkpoint-4 behind.
    resumed_config = _config(tmp_path / "b")
    checkpoint = Path(resumed_config.output.dir) / "checkpoint-4"
    shutil.copytree(uninterrupted.output_dir / "checkpoint-4", checkpoint)
    assert (checkpoint / "optimizer.pt").is_file()

    resumed = run_sft(resumed_config, resume="latest")

    assert resumed.outcome.global_step == uninterrupted.outcome.global_step == 12
    full_log = {
        entry["step"]: entry["loss"] for entry in _training_log(uninterrupted.output_dir)["train"]
    }
    resumed_log = {
        entry["step"]: entry["loss"] for entry in _training_log(resumed.output_dir)["train"]
    }
    assert sorted(resumed_log) == list(range(1, 13))
    # Same weights, optimizer state and data order after the checkpoint: the same losses.
    for step in range(5, 13):
        assert resumed_log[step] == pytest.approx(full_log[step], rel=1e-4)


@pytest.mark.slow
def test_early_stopping_ends_training_when_validation_stalls(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        records=40,
        **{
            "data.validation_split": 0.2,
            "training.num_train_epochs": 5,
            "output.save_steps": 2,
            # No improvement counts unless validation loss drops by 100: it stalls at once.
            "early_stopping.patience": 2,
            "early_stopping.threshold": 100.0,
        },
    )

    result = run_sft(config)

    evaluations = _training_log(result.output_dir)["eval"]
    assert result.outcome.stopped_early
    assert [entry["step"] for entry in evaluations] == [2, 4, 6]  # best, then 2 without progress
    assert result.outcome.global_step == 6
    assert result.outcome.eval_loss == pytest.approx(
        min(entry["eval_loss"] for entry in evaluations)
    )


@pytest.mark.slow
def test_no_lora_trains_and_saves_the_full_model(tmp_path: Path) -> None:
    config = _config(tmp_path, records=8, **{"lora.enabled": False, "training.num_train_epochs": 1})
    original, _ = load_model(TINY_MODEL_NAME, device="cpu")

    result = run_sft(config)

    files = {path.name for path in result.final_model_dir.iterdir()}
    assert "model.safetensors" in files and "adapter_config.json" not in files
    trained = AutoModelForCausalLM.from_pretrained(result.final_model_dir)
    changed = [
        name
        for (name, before), after in zip(
            original.named_parameters(), trained.parameters(), strict=True
        )
        if not torch.equal(before, after)
    ]
    assert len(changed) == len(list(original.parameters()))  # every weight was trained


def test_dry_run_plan_counts_examples_and_steps_without_training(tmp_path: Path) -> None:
    config = _config(tmp_path, records=30, **{"data.validation_split": 0.1})

    plan = plan_sft(config)

    assert (plan.records, plan.train_examples, plan.validation_examples) == (30, 27, 3)
    assert plan.optimizer_steps == 14  # ceil(27 / 4) = 7 steps per epoch, 2 epochs
    assert 0 < plan.completion_tokens < plan.train_tokens
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_train_on_records_continues_an_adapter_for_raft(tmp_path: Path) -> None:
    first = run_sft(_config(tmp_path / "sft", records=8, **{"training.num_train_epochs": 1}))
    model, tokenizer = load_model(str(first.final_model_dir), device="cpu", adapter_trainable=True)
    before = {name: p.detach().clone() for name, p in model.named_parameters() if "lora_" in name}

    result = train_on_records(
        model,
        tokenizer,
        _records(6),
        tmp_path / "cycle_1",
        learning_rate=1e-3,
        epochs=1,
        batch_size=2,
        gradient_accumulation_steps=1,
        dataloader_pin_memory=False,  # what a unified-memory machine sets in its RAFT config
    )

    assert result.outcome.global_step == 3
    assert adapter_base_name(result.final_model_dir) == TINY_MODEL_NAME
    after = dict(model.named_parameters())
    assert any(not torch.equal(before[name], after[name]) for name in before)
    assert sorted(before) == sorted(name for name in after if "lora_" in name)  # same adapter
    assert len(_training_log(result.output_dir)["train"]) == 3


def test_data_source_must_be_exactly_one_of_file_and_dataset(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        plan_sft(_config(tmp_path, **{"data.dataset": "codealpaca"}))
    with pytest.raises(ConfigError, match="no checkpoint"):
        run_sft(_config(tmp_path), resume="latest")


def test_a_missing_data_source_fails_before_the_model_is_fetched(tmp_path: Path) -> None:
    # Not in the cache, and the suite runs offline: touching the model would be a ModelError.
    config = load_config(
        SFTConfig,
        None,
        {"model.name": "halo-forge-tests/never-downloaded", "output.dir": str(tmp_path)},
    )

    with pytest.raises(ConfigError, match="--data FILE"):
        plan_sft(config)
    with pytest.raises(ConfigError, match="--data FILE"):
        run_sft(config)


def test_training_into_a_finished_output_is_refused_without_force(tmp_path: Path) -> None:
    config = _config(tmp_path)
    final_model = Path(config.output.dir) / "final_model"
    final_model.mkdir(parents=True)

    with pytest.raises(ConfigError, match="--force") as raised:
        run_sft(config)

    assert str(final_model) in str(raised.value)
    assert final_model.is_dir()
    with pytest.raises(ConfigError, match="no checkpoint"):  # resuming is still allowed
        run_sft(config, resume="latest")


def test_report_to_takes_one_name_and_keeps_none_alone(tmp_path: Path) -> None:
    assert _config(tmp_path).training.report_to == ["tensorboard"]
    assert _config(tmp_path, **{"training.report_to": "none"}).training.report_to == ["none"]
    with pytest.raises(ConfigError, match="cannot be combined"):
        _config(tmp_path, **{"training.report_to": ["none", "tensorboard"]})
    with pytest.raises(ConfigError, match="'tensorboard', 'wandb' or 'none'"):
        _config(tmp_path, **{"training.report_to": ["mlflow"]})


@pytest.mark.slow
def test_report_to_wandb_writes_an_offline_run_instead_of_tensorboard_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wandb  # the `wandb` extra: a test environment without it fails here, not silently

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = _config(
        tmp_path, records=8, **{"training.num_train_epochs": 1, "training.report_to": ["wandb"]}
    )

    try:
        result = run_sft(config)
    finally:
        wandb.finish()

    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("run-*.wandb"))
    assert not list(result.output_dir.glob("logs/events.out.tfevents.*"))
    assert len(_training_log(result.output_dir)["train"]) == 2  # halo-forge's own log stays


@pytest.mark.slow
def test_gradient_checkpointing_reaches_the_trainer_and_keeps_the_losses(tmp_path: Path) -> None:
    settings = {"training.num_train_epochs": 1}
    plain = run_sft(_config(tmp_path / "plain", records=8, **settings))
    checkpointed = run_sft(
        _config(
            tmp_path / "ckpt", records=8, **settings, **{"training.gradient_checkpointing": True}
        )
    )

    arguments = torch.load(
        checkpointed.output_dir / "checkpoint-2" / "training_args.bin", weights_only=False
    )
    assert arguments.activation_checkpointing
    plain_losses = [entry["loss"] for entry in _training_log(plain.output_dir)["train"]]
    checkpointed_losses = [
        entry["loss"] for entry in _training_log(checkpointed.output_dir)["train"]
    ]
    assert len(plain_losses) == 2
    # Same seed, same adapter initialisation and data order; recomputing activations in the
    # backward pass changes memory use, not the numbers.
    assert checkpointed_losses == pytest.approx(plain_losses, rel=1e-5)


class _Recorder(logging.Handler):
    """Collects the messages that reach a logger's handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _missing_keys_record(keys: list[str]) -> logging.LogRecord:
    message = f"{MISSING_KEYS_WARNING} {keys}."
    return logging.LogRecord(
        "transformers.trainer", logging.WARNING, __file__, 1, message, (), None
    )


def test_missing_keys_warning_is_dropped_only_for_tied_weights() -> None:
    model, _ = load_model(TINY_MODEL_NAME, device="cpu")
    warning_filter = TiedWeightsWarningFilter(model)

    assert warning_filter.tied == {"model.embed_tokens.weight", "lm_head.weight"}
    assert not warning_filter.filter(_missing_keys_record(["lm_head.weight"]))
    assert warning_filter.filter(_missing_keys_record(["lm_head.weight", "model.norm.weight"]))
    assert warning_filter.filter(_missing_keys_record(["model.norm.weight"]))


@pytest.mark.slow
def test_loading_the_best_checkpoint_of_a_tied_model_raises_no_false_alarm(
    tmp_path: Path,
) -> None:
    config = _config(
        tmp_path,
        records=20,
        **{"lora.enabled": False, "data.validation_split": 0.2, "output.save_steps": 2},
    )
    recorder = _Recorder()
    trainer_logger = logging.getLogger("transformers.trainer")
    trainer_logger.addHandler(recorder)
    try:
        result = run_sft(config)
    finally:
        trainer_logger.removeHandler(recorder)

    assert result.outcome.best_checkpoint is not None  # the best checkpoint was loaded at the end
    assert not [message for message in recorder.messages if MISSING_KEYS_WARNING in message]
    trained = AutoModelForCausalLM.from_pretrained(result.final_model_dir)
    assert trained.lm_head.weight is trained.model.embed_tokens.weight


def test_training_runs_on_its_own_cpu_threads_and_gives_them_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`training.cpu_threads` holds while the trainer steps and the process's setting is back
    afterwards, for the sampling that follows."""
    from transformers import Trainer

    seen: list[int] = []
    training_step = Trainer.training_step

    def watched_step(self: Trainer, *args: Any, **kwargs: Any) -> Any:
        seen.append(torch.get_num_threads())
        return training_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", watched_step)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_sft(
            _config(
                tmp_path, records=8, **{"training.num_train_epochs": 1, "training.cpu_threads": 2}
            )
        )
        assert seen and set(seen) == {2}
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_cpu_threads_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cpu_threads"):
        _config(tmp_path, **{"training.cpu_threads": 0})

"""Supervised fine-tuning: the recipe behind `halo-forge sft train`, and onward training for RAFT.

`run_sft` reads the records (a JSONL file or a registry dataset), holds out a validation split,
tokenizes with a completion-only loss mask (`sft_data`), loads the model (LoRA by default, full
fine-tune with `lora.enabled: false`), trains with transformers' `Trainer` (`hf_trainer`) and writes:

    OUTPUT/
      final_model/          adapter (or full model) + tokenizer files
      checkpoint-N/         every `save_steps` and on Ctrl-C, newest `save_total_limit` kept;
                            `resume` restarts here
      training_log.json     loss, learning rate, grad norm per logging step; validation loss
      logs/                 TensorBoard event files (`training.report_to`)
      sft_config.json       the resolved configuration of the run

An output directory that already holds a `final_model/` is trained over only with `force`
(the old model and checkpoints are removed once the new model is loaded, so neither is
mistaken for the new run's), or continued with `resume`.

Prompts are formatted with the model tokenizer's own chat template when it has one, else as raw
text; a record written by `halo-forge data prepare` says in `metadata.template` that its prompt
is already formatted, and is used as it is.

`train_on_records` trains an already loaded model onward on a list of records (RAFT's kept
samples) with a given learning rate and epochs, with the same data rules and output layout.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peft import PeftModel
from transformers import PreTrainedModel, PreTrainedTokenizerBase, set_seed
from transformers.trainer_utils import get_last_checkpoint

from halo_forge import ui
from halo_forge.config.models import LoRASection, SFTConfig
from halo_forge.data.records import Record, RecordKind, parse_record, read_records
from halo_forge.data.split import split_records
from halo_forge.data.templates import Template, foreign_template_markers, record_text
from halo_forge.distributed import barrier, is_main_process
from halo_forge.errors import ConfigError, DataError
from halo_forge.files import write_json
from halo_forge.models.device import bf16_supported, resolve_device
from halo_forge.models.loading import (
    FINAL_MODEL_DIR,
    load_model,
    load_tokenizer,
)
from halo_forge.models.lora import save_model, trainable_model, trainable_parameter_count
from halo_forge.training.hf_trainer import (
    TrainingOptions,
    TrainingOutcome,
    optimizer_steps,
    run_trainer,
)
from halo_forge.training.interrupt import StopRequest
from halo_forge.training.sft_data import TokenizedSFTData, tokenize_records
from halo_forge.training.sft_datasets import load_sft_dataset

CONFIG_FILE = "sft_config.json"
LATEST_CHECKPOINT = "latest"


@dataclass(frozen=True)
class SFTPlan:
    """What a run will do, computed without loading the model (`--dry-run` prints it)."""

    model: str
    data_source: str
    records: int
    train_examples: int
    validation_examples: int
    truncated: int
    dropped: int
    train_tokens: int
    completion_tokens: int
    optimizer_steps: int
    effective_batch_size: int
    lora: bool
    output_dir: Path


@dataclass(frozen=True)
class SFTResult:
    """Where a finished run put its model, and how it went."""

    output_dir: Path
    final_model_dir: Path
    outcome: TrainingOutcome


def sft_template(tokenizer: PreTrainedTokenizerBase) -> Template:
    """The tokenizer's own chat template when it has one (what the model knows), else raw text."""
    return tokenizer if getattr(tokenizer, "chat_template", None) else "raw"


def load_sft_records(config: SFTConfig) -> tuple[list[Record], str]:
    """The run's records (first `max_samples`) and a label of where they came from."""
    data = config.data
    if (data.train_file is None) == (data.dataset is None):
        raise ConfigError(
            "set exactly one of data.train_file (--data FILE) and data.dataset (--dataset NAME); "
            "`halo-forge sft datasets` lists the dataset names"
        )
    if data.dataset is not None:
        records = load_sft_dataset(data.dataset, limit=data.max_samples)
        return list(records), f"dataset {data.dataset}"
    records: list[Record] = []
    for record in read_records(data.train_file, RecordKind.SFT):
        if data.max_samples is not None and len(records) >= data.max_samples:
            break
        records.append(record)
    if not records:
        raise DataError(
            f"{data.train_file}: no SFT records; expected {{prompt, completion}}, "
            "{messages} or {text} records"
        )
    return records, data.train_file


def training_options(config: SFTConfig, device: str | None = None) -> TrainingOptions:
    """Map the SFT config onto the loop's options; `bf16: auto` follows the device."""
    training = config.training
    chosen_device = resolve_device(device)
    if chosen_device.index not in (None, 0):
        raise ConfigError(
            f"training runs on the first visible accelerator, not {chosen_device}; choose the GPU "
            f"with CUDA_VISIBLE_DEVICES={chosen_device.index} and --device {chosen_device.type}"
        )
    if training.bf16 is True and not bf16_supported(chosen_device):
        raise ConfigError(
            f"training.bf16 is true but {chosen_device} has no bf16 support; set bf16: auto or false"
        )
    return TrainingOptions(
        epochs=training.num_train_epochs,
        batch_size=training.per_device_train_batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        learning_rate=training.learning_rate,
        warmup_ratio=training.warmup_ratio,
        weight_decay=training.weight_decay,
        max_grad_norm=training.max_grad_norm,
        lr_scheduler_type=training.lr_scheduler_type,
        bf16=bf16_supported(chosen_device) if training.bf16 == "auto" else training.bf16,
        gradient_checkpointing=training.gradient_checkpointing,
        dataloader_num_workers=training.dataloader_num_workers,
        dataloader_pin_memory=training.dataloader_pin_memory,
        seed=training.seed,
        logging_steps=config.output.logging_steps,
        save_steps=config.output.save_steps,
        save_total_limit=config.output.save_total_limit,
        early_stopping_patience=config.early_stopping.patience,
        early_stopping_threshold=config.early_stopping.threshold,
        use_cpu=chosen_device.type == "cpu",
        cpu_threads=training.cpu_threads,
        report_to=tuple(training.report_to),
    )


def _split_and_tokenize(
    config: SFTConfig, records: list[Record], tokenizer: PreTrainedTokenizerBase
) -> tuple[TokenizedSFTData, TokenizedSFTData]:
    warning = foreign_template_markers(
        [record_text(record) for record in records], getattr(tokenizer, "chat_template", None)
    )
    if warning:
        ui.echo(f"warning: {warning}", style="yellow")
    validation_fraction = config.data.validation_split
    if validation_fraction > 0 and len(records) >= 2:
        train_records, validation_records = split_records(
            records, ratio=1.0 - validation_fraction, seed=config.training.seed
        )
    else:
        train_records, validation_records = records, []
    max_length = config.data.max_seq_length
    template = sft_template(tokenizer)
    train = tokenize_records(train_records, tokenizer, template, max_length)
    validation = tokenize_records(validation_records, tokenizer, template, max_length)
    return train, validation


def plan_sft(config: SFTConfig, device: str | None = None) -> SFTPlan:
    """Read and tokenize the data and count the steps, without loading the model."""
    # Records first: a missing or bad data source fails before any model download.
    records, source = load_sft_records(config)
    tokenizer = load_tokenizer(config.model.name, trust_remote_code=config.model.trust_remote_code)
    train, validation = _split_and_tokenize(config, records, tokenizer)
    training = config.training
    batch_size = training.per_device_train_batch_size
    return SFTPlan(
        model=config.model.name,
        data_source=source,
        records=len(records),
        train_examples=len(train.examples),
        validation_examples=len(validation.examples),
        truncated=train.truncated + validation.truncated,
        dropped=train.dropped + validation.dropped,
        train_tokens=train.total_tokens,
        completion_tokens=train.completion_tokens,
        optimizer_steps=optimizer_steps(len(train.examples), training_options(config, device)),
        effective_batch_size=batch_size * training.gradient_accumulation_steps,
        lora=config.lora.enabled,
        output_dir=Path(config.output.dir),
    )


def resolve_checkpoint(resume: str, output_dir: Path) -> str:
    """A checkpoint directory to resume from: a path, or `latest` in the output directory."""
    if resume == LATEST_CHECKPOINT:
        latest = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
        if latest is None:
            raise ConfigError(
                f"--resume latest: no checkpoint-N directory in {output_dir} yet; "
                "train without --resume"
            )
        return latest
    if not (Path(resume) / "trainer_state.json").is_file():
        raise ConfigError(
            f"--resume {resume}: not a checkpoint (no trainer_state.json); "
            "pass OUTPUT/checkpoint-N or 'latest'"
        )
    return resume


def _check_output_dir(output_dir: Path, *, resume: str | None, force: bool) -> None:
    """Refuse to train a new run over a finished one, unless asked to (`force`) or resuming."""
    final_dir = output_dir / FINAL_MODEL_DIR
    if resume is None and not force and final_dir.is_dir():
        raise ConfigError(
            f"{output_dir} already holds a finished model ({final_dir}); pass --force to train "
            "over it (the old model and checkpoints are removed), choose another --output, or "
            "continue a checkpoint with --resume"
        )


def _remove_previous_run(output_dir: Path) -> None:
    """Remove an earlier run's model and checkpoints.

    Left in place, the new run's checkpoint rotation and a later `resume latest` would mix them
    with its own.
    """
    for old in [output_dir / FINAL_MODEL_DIR, *output_dir.glob("checkpoint-*")]:
        if old.is_dir():
            shutil.rmtree(old)


def run_sft(
    config: SFTConfig,
    *,
    resume: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    force: bool = False,
) -> SFTResult:
    """Train as `config` says and save `final_model/`; `resume` continues a checkpoint.

    `force` trains over an output directory that already holds a final model. A Ctrl-C ends
    training after the current step with a checkpoint saved and raises `TrainingInterrupted`.
    """
    output_dir = Path(config.output.dir)
    checkpoint = resolve_checkpoint(resume, output_dir) if resume is not None else None
    _check_output_dir(output_dir, resume=resume, force=force)
    options = training_options(config, device)
    # The data is read before the model is loaded, so a bad record fails in seconds.
    records, source = load_sft_records(config)
    tokenizer = load_tokenizer(config.model.name, trust_remote_code=config.model.trust_remote_code)
    train, validation = _split_and_tokenize(config, records, tokenizer)
    # LoRA keeps the frozen base in the compute dtype; a full fine-tune keeps fp32 master
    # weights and lets mixed precision do the bf16 compute.
    load_dtype = dtype if dtype is not None else ("auto" if config.lora.enabled else "float32")
    model, _ = load_model(
        config.model.name,
        device=device,
        dtype=load_dtype,
        trust_remote_code=config.model.trust_remote_code,
        attn_implementation=config.model.attn_implementation,
        adapter_trainable=config.lora.enabled,
    )
    set_seed(config.training.seed)  # a new adapter's initial weights come from this seed
    model = trainable_model(model, config.lora)
    trainable, total = trainable_parameter_count(model)
    ui.echo(
        f"SFT {config.model.name} on {source}: {len(train.examples)} train / "
        f"{len(validation.examples)} validation examples, {trainable:,} of {total:,} parameters trainable"
    )
    if train.truncated or train.dropped:
        ui.echo(
            f"{train.truncated} examples cut to {config.data.max_seq_length} tokens, "
            f"{train.dropped} dropped (prompt longer than max_seq_length)",
            style="yellow",
        )
    if is_main_process():  # one writer under a multi-process launch; the others wait
        if force and resume is None:
            _remove_previous_run(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        write_json(output_dir / CONFIG_FILE, config.model_dump(mode="json"))
    barrier()
    with StopRequest("the current step, saving a checkpoint") as stop:
        outcome = run_trainer(
            model,
            tokenizer,
            train.examples,
            validation.examples,
            output_dir,
            options,
            checkpoint,
            stop=stop,
        )
    final_dir = save_model(model, tokenizer, output_dir / FINAL_MODEL_DIR)
    ui.echo(f"final model: {final_dir} (step {outcome.global_step})")
    return SFTResult(output_dir, final_dir, outcome)


def train_on_records(
    model: PeftModel | PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: Sequence[Record | dict[str, Any]],
    output_dir: str | Path,
    *,
    learning_rate: float,
    epochs: float = 1.0,
    batch_size: int = 2,
    gradient_accumulation_steps: int = 8,
    max_seq_length: int = 1024,
    seed: int = 42,
    device: str | None = None,
    dataloader_num_workers: int = 0,
    dataloader_pin_memory: bool = True,
    lora: LoRASection | None = None,
    report_to: Sequence[str] = ("tensorboard",),
    cpu_threads: int | None = None,
) -> SFTResult:
    """Train a loaded model onward on `records` and save it to `output_dir/final_model/`.

    Made for RAFT: with `lora` enabled (the default) a model that carries an adapter keeps
    training that adapter and a full model gets a new one; with it disabled every weight
    trains (`trainable_model`). The learning rate is constant with no warmup, and there is no
    validation split and no intermediate checkpoint. Records are SFT records or dicts in one
    of their shapes; `report_to` and `cpu_threads` are the config's `training` keys.
    """
    typed = [_as_record(record, index) for index, record in enumerate(records)]
    chosen_device = resolve_device(device)
    options = TrainingOptions(
        epochs=epochs,
        batch_size=batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        learning_rate=learning_rate,
        lr_scheduler_type="constant",
        bf16=bf16_supported(chosen_device),
        seed=seed,
        logging_steps=1,
        use_cpu=chosen_device.type == "cpu",
        dataloader_num_workers=dataloader_num_workers,
        dataloader_pin_memory=dataloader_pin_memory,
        cpu_threads=cpu_threads,
        report_to=tuple(report_to),
    )
    set_seed(seed)
    model = trainable_model(model, lora or LoRASection())
    output_dir = Path(output_dir)
    train = tokenize_records(typed, tokenizer, sft_template(tokenizer), max_seq_length)
    outcome = run_trainer(model, tokenizer, train.examples, [], output_dir, options)
    final_dir = save_model(model, tokenizer, output_dir / FINAL_MODEL_DIR)
    return SFTResult(output_dir, final_dir, outcome)


def _as_record(record: Record | dict[str, Any], index: int) -> Record:
    if not isinstance(record, dict):
        return record
    try:
        return parse_record(record, RecordKind.SFT)
    except ValueError as error:
        raise DataError(f"training record {index}: {error}") from None

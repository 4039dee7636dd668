"""Run transformers' `Trainer` on tokenized SFT examples: arguments, callbacks, training log.

The loop itself is the library's (optimizer, schedule, accumulation, clipping, mixed precision,
checkpoints, resume, evaluation); this module only maps halo-forge's options onto it and adds
what halo-forge promises on top:
- `training_log.json`: loss, learning rate and gradient norm per logging step, validation loss
  per evaluation, and a summary; rewritten atomically at every log so a crash keeps the history;
- TensorBoard event files under `OUTPUT/logs` (`report_to: [tensorboard]`, the default; the
  library's own TensorBoard reporter would write to `OUTPUT/runs/<date>` instead), Weights &
  Biases through the library's reporter (`wandb`), or neither (`none`);
- on Ctrl-C, given a `StopRequest`: the current step finishes, a checkpoint is saved and
  `TrainingInterrupted` names it, so `resume_from` continues from there;
- progress on halo-forge's own bar and metric lines through `ui.echo` (so they reach the
  command's log file), instead of the library's tqdm output;
- no false alarm when the best checkpoint is loaded into a model with tied embeddings
  (`TiedWeightsWarningFilter`).
Validation loss is measured at every checkpoint (`save_steps`), the best checkpoint is the one
loaded at the end, and early stopping counts evaluations without an improvement larger than
the threshold.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import logging
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress, TaskID
from transformers import (
    EarlyStoppingCallback,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)
from transformers.integrations import TensorBoardCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from halo_forge import ui
from halo_forge.errors import ConfigError
from halo_forge.files import write_json
from halo_forge.paths import TENSORBOARD_DIR, TRAINING_LOG_FILE
from halo_forge.training.interrupt import StopRequest, TrainingInterrupted
from halo_forge.training.sft_data import CompletionOnlyCollator

MISSING_KEYS_WARNING = "There were missing keys in the checkpoint model loaded:"


@dataclass(frozen=True)
class TrainingOptions:
    """Everything the loop needs, independent of which config (SFT or a RAFT cycle) set it."""

    epochs: float
    batch_size: int
    gradient_accumulation_steps: int
    learning_rate: float
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    lr_scheduler_type: str = "cosine"
    bf16: bool = False
    gradient_checkpointing: bool = False
    dataloader_num_workers: int = 0
    dataloader_pin_memory: bool = True
    seed: int = 42
    logging_steps: int = 10
    save_steps: int | None = None  # None: no intermediate checkpoints (and no validation)
    save_total_limit: int | None = None
    early_stopping_patience: int | None = None
    early_stopping_threshold: float = 0.0
    use_cpu: bool = False
    cpu_threads: int | None = None  # torch threads while training on the CPU; None: as is
    report_to: tuple[str, ...] = ("tensorboard",)  # tensorboard, wandb, or none


@dataclass(frozen=True)
class TrainingOutcome:
    """What a finished run reports."""

    global_step: int
    train_loss: float | None
    eval_loss: float | None
    stopped_early: bool
    best_checkpoint: str | None
    tokens_per_second: float | None


def optimizer_steps(examples: int, options: TrainingOptions) -> int:
    """Optimizer updates a run of `examples` training examples takes (single device)."""
    batches_per_epoch = math.ceil(examples / options.batch_size)
    updates_per_epoch = math.ceil(batches_per_epoch / options.gradient_accumulation_steps)
    return math.ceil(updates_per_epoch * options.epochs)


def checkpointing_arguments(enabled: bool) -> dict[str, Any]:
    """Activation checkpointing under the name this transformers takes: `activation_checkpointing`
    in recent releases, `gradient_checkpointing` in older ones (5.19, which vLLM pins).
    Non-reentrant checkpointing needs no input-gradient hooks, so it works with LoRA as is."""
    names = {field.name for field in dataclasses.fields(TrainingArguments)}
    prefix = "activation" if "activation_checkpointing" in names else "gradient"
    return {
        f"{prefix}_checkpointing": enabled,
        f"{prefix}_checkpointing_kwargs": {"use_reentrant": False},
    }


def training_arguments(
    output_dir: Path, options: TrainingOptions, has_validation: bool
) -> TrainingArguments:
    """`TrainingArguments` for one run; validation and checkpoints share the `save_steps` cadence."""
    evaluate = has_validation and options.save_steps is not None
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=options.epochs,
        per_device_train_batch_size=options.batch_size,
        per_device_eval_batch_size=options.batch_size,
        gradient_accumulation_steps=options.gradient_accumulation_steps,
        learning_rate=options.learning_rate,
        warmup_steps=options.warmup_ratio,  # a float below 1 is a fraction of all steps
        weight_decay=options.weight_decay,
        max_grad_norm=options.max_grad_norm,
        lr_scheduler_type=options.lr_scheduler_type,
        bf16=options.bf16,
        **checkpointing_arguments(options.gradient_checkpointing),
        dataloader_num_workers=options.dataloader_num_workers,
        dataloader_pin_memory=options.dataloader_pin_memory,
        seed=options.seed,
        data_seed=options.seed,
        logging_steps=options.logging_steps,
        save_strategy="steps" if options.save_steps is not None else "no",
        save_steps=options.save_steps or 500,
        save_total_limit=options.save_total_limit,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=options.save_steps if evaluate else None,
        load_best_model_at_end=evaluate,
        metric_for_best_model="eval_loss" if evaluate else None,
        greater_is_better=False if evaluate else None,
        include_num_input_tokens_seen="non_padding",
        # TensorBoard is halo-forge's own callback (it writes to OUTPUT/logs); wandb is the library's.
        report_to=[target for target in options.report_to if target == "wandb"],
        disable_tqdm=True,
        remove_unused_columns=False,
        # Every trainable parameter takes part in each step (LoRA or a full dense model), so
        # DDP need not search the graph for unused ones.
        ddp_find_unused_parameters=False,
        use_cpu=options.use_cpu,
    )


@contextlib.contextmanager
def cpu_threads_while(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to `threads` inside the block (None: unchanged), restored
    after: a process may sample on one thread and train on more (`benchmarks/cpu_threads.py`:
    on the demo's model a second thread speeds training up far more than sampling)."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    train_examples: list[dict[str, list[int]]],
    eval_examples: list[dict[str, list[int]]],
    output_dir: Path,
    options: TrainingOptions,
    resume_from: str | None = None,
    stop: StopRequest | None = None,
) -> TrainingOutcome:
    """Train `model` on the examples; checkpoints go to `output_dir`, logs beside them.

    With `stop`, a Ctrl-C ends training after the current step with a checkpoint saved, and
    `TrainingInterrupted` says where it is.
    """
    if not train_examples:
        raise ConfigError(
            "no training examples left after tokenization; check the data and max_seq_length"
        )
    arguments = training_arguments(output_dir, options, has_validation=bool(eval_examples))
    log_callback = TrainingLogCallback(output_dir / TRAINING_LOG_FILE)
    callbacks: list[TrainerCallback] = [log_callback]
    if "tensorboard" in options.report_to:
        tensorboard = TensorBoardCallback()
        tensorboard.logging_dir = str(output_dir / TENSORBOARD_DIR)
        callbacks.append(tensorboard)
    if stop is not None:
        callbacks.append(SaveAndStopOnRequest(stop))
    if arguments.load_best_model_at_end and options.early_stopping_patience is not None:
        callbacks.append(
            EarlyStoppingCallback(options.early_stopping_patience, options.early_stopping_threshold)
        )
    pad_token_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        data_collator=CompletionOnlyCollator(pad_token_id),
        train_dataset=train_examples,
        eval_dataset=eval_examples or None,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)
    trainer_logger = logging.getLogger("transformers.trainer")
    tied_weights_filter = TiedWeightsWarningFilter(model)
    trainer_logger.addFilter(tied_weights_filter)
    try:
        with cpu_threads_while(options.cpu_threads if options.use_cpu else None):
            result = trainer.train(resume_from_checkpoint=resume_from)
    finally:
        trainer_logger.removeFilter(tied_weights_filter)
    if stop is not None and stop.requested and trainer.state.global_step < trainer.state.max_steps:
        step = trainer.state.global_step
        raise TrainingInterrupted(output_dir / f"{PREFIX_CHECKPOINT_DIR}-{step}", step)
    outcome = TrainingOutcome(
        global_step=result.global_step,
        train_loss=result.training_loss,
        # Training ends with an evaluation, and the best checkpoint is what was loaded last.
        eval_loss=trainer.state.best_metric if arguments.load_best_model_at_end else None,
        stopped_early=trainer.state.global_step < trainer.state.max_steps,
        best_checkpoint=trainer.state.best_model_checkpoint,
        tokens_per_second=log_callback.tokens_per_second,
    )
    log_callback.write(summary=asdict(outcome))
    return outcome


def tied_parameter_names(model: torch.nn.Module) -> set[str]:
    """Names of parameters that share their tensor with another one (tied embeddings)."""
    names_by_tensor: dict[int, list[str]] = defaultdict(list)
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names_by_tensor[id(parameter)].append(name)
    return {name for names in names_by_tensor.values() if len(names) > 1 for name in names}


class TiedWeightsWarningFilter(logging.Filter):
    """Drops the Trainer's "missing keys" warning when every missing key is a tied weight.

    A checkpoint stores a tied tensor once (`lm_head.weight` is `embed_tokens.weight` in Qwen2.5
    and the embedded model), so loading the best checkpoint at the end reports the other name as
    missing although the loaded tensor fills both. The warning stays for any other missing key.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.tied = tied_parameter_names(model)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(MISSING_KEYS_WARNING):
            return True
        try:
            missing = ast.literal_eval(message.removeprefix(MISSING_KEYS_WARNING).strip(" ."))
        except (SyntaxError, ValueError):
            return True
        return not (isinstance(missing, list) and missing and set(missing) <= self.tied)


class SaveAndStopOnRequest(TrainerCallback):
    """Ends training after the step in which Ctrl-C came, saving a checkpoint of that step.

    The checkpoint holds the optimizer, scheduler and data position as a `save_steps` one does,
    so a resumed run continues exactly where this one stopped.
    """

    def __init__(self, stop: StopRequest) -> None:
        self.stop = stop

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.stop.requested:
            control.should_save = True
            control.should_training_stop = True


class TrainingLogCallback(TrainerCallback):
    """Keeps `training_log.json` current and shows progress on halo-forge's terminal bar."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tokens_per_second: float | None = None
        self._state: TrainerState | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._tokens_at_start = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._state = state
        self._tokens_at_start = state.num_input_tokens_seen
        self._progress = ui.progress()
        self._progress.start()
        self._task = self._progress.add_task(
            "Training", total=state.max_steps, completed=state.global_step
        )

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        self._state = state
        logs = logs or {}
        if "train_runtime" in logs and logs["train_runtime"] > 0:
            session_tokens = state.num_input_tokens_seen - self._tokens_at_start
            self.tokens_per_second = session_tokens / logs["train_runtime"]
        if "loss" in logs or "eval_loss" in logs:
            ui.echo(_describe_log(state.global_step, logs))
        self.write()

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def write(self, summary: dict[str, Any] | None = None) -> None:
        """Rewrite the log from the trainer's history (which a resumed run restores).

        Only the main process writes: under DDP every process logs the same (averaged) numbers.
        """
        if self._state is not None and not self._state.is_world_process_zero:
            return
        history = self._state.log_history if self._state is not None else []
        document: dict[str, Any] = {
            "train": [
                _pick(entry, ("step", "epoch", "loss", "learning_rate", "grad_norm"))
                for entry in history
                if "loss" in entry
            ],
            "eval": [
                _pick(entry, ("step", "epoch", "eval_loss"))
                for entry in history
                if "eval_loss" in entry
            ],
        }
        if summary is not None:
            document["summary"] = summary
        write_json(self.path, document)


def _pick(entry: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: entry[key] for key in keys if key in entry}


def _describe_log(step: int, logs: dict[str, float]) -> str:
    parts = [f"step {step}"]
    for key, label in (
        ("loss", "loss"),
        ("eval_loss", "validation loss"),
        ("grad_norm", "grad norm"),
    ):
        if key in logs:
            parts.append(f"{label} {logs[key]:.4f}")
    if "learning_rate" in logs:
        parts.append(f"lr {logs['learning_rate']:.2e}")
    return "  ".join(parts)

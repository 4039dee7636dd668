"""`halo-forge sft ...`: supervised fine-tuning (LoRA by default) and the SFT dataset list."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import (
    CONFIG_SET_HELP,
    SFT_OPTION_KEYS,
    config_overrides,
    overrides_from_options,
)
from halo_forge.config import SFTConfig, load_config
from halo_forge.errors import INTERRUPTED_EXIT_CODE

app = typer.Typer(
    help="Supervised fine-tuning on prompt/completion records (loss on the completion only).",
    no_args_is_help=True,
)


@app.command("train")
def train(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="SFT YAML config (see configs/sft_example.yaml)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Hugging Face id, directory, adapter dir or builtin:tiny-coder."
    ),
    data: str | None = typer.Option(
        None, "--data", help="JSONL of SFT records (prompt/completion, messages or text)."
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", help="A name from `halo-forge sft datasets` instead of --data."
    ),
    output: str | None = typer.Option(
        None, "--output", help="Output directory (final_model/, checkpoints, logs/)."
    ),
    epochs: float | None = typer.Option(None, "--epochs", help="Passes over the training data."),
    max_samples: int | None = typer.Option(
        None, "--max-samples", help="Use only the first N records."
    ),
    learning_rate: float | None = typer.Option(
        None, "--learning-rate", "--lr", help="Peak learning rate."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Samples per device per step."
    ),
    gradient_accumulation_steps: int | None = typer.Option(
        None, "--gradient-accumulation-steps", help="Steps accumulated per optimizer update."
    ),
    max_seq_length: int | None = typer.Option(
        None, "--max-seq-length", help="Longer examples are cut (tokens)."
    ),
    lora_r: int | None = typer.Option(None, "--lora-r", help="LoRA rank."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed for shuffling, init and the validation split."
    ),
    lora: bool | None = typer.Option(
        None, "--lora/--no-lora", help="--no-lora does a full fine-tune."
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        help="Continue from OUTPUT/checkpoint-N (or 'latest'): same steps, optimizer restored.",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Train over an output directory that holds a finished model (it is replaced).",
    ),
    device: str | None = typer.Option(None, "--device", help="auto (default), cpu, cuda or mps."),
    dtype: str | None = typer.Option(
        None, "--dtype", help="Model weights: auto (default), float32, bfloat16, float16."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check config and data, print the plan, do not train."
    ),
    set_keys: list[str] = typer.Option([], "--set", help=CONFIG_SET_HELP),
) -> None:
    """Fine-tune a model on SFT records; options given here override the config file.

    Ctrl-C stops after the current step with a checkpoint saved, and prints the command that
    resumes it (exit status 130).
    """
    # torch loads only when a command runs
    from halo_forge.training.interrupt import TrainingInterrupted
    from halo_forge.training.sft import CONFIG_FILE, plan_sft, run_sft

    overrides = overrides_from_options(SFT_OPTION_KEYS, locals()) | config_overrides(set_keys)
    settings = load_config(SFTConfig, config, overrides)
    with command_log("sft_train"):
        if dry_run:
            plan = plan_sft(settings, device=device)
            table = Table(title="SFT plan (dry run: nothing trained)", show_header=False)
            table.add_column("item", style="bold")
            table.add_column("value")
            for item, value in (
                ("model", plan.model),
                ("data", plan.data_source),
                ("records", plan.records),
                (
                    "train / validation examples",
                    f"{plan.train_examples} / {plan.validation_examples}",
                ),
                ("truncated / dropped", f"{plan.truncated} / {plan.dropped}"),
                (
                    "train tokens (completion)",
                    f"{plan.train_tokens:,} ({plan.completion_tokens:,})",
                ),
                ("optimizer steps", plan.optimizer_steps),
                ("effective batch size", plan.effective_batch_size),
                ("method", "LoRA" if plan.lora else "full fine-tune"),
                ("output", plan.output_dir),
            ):
                table.add_row(item, str(value))
            ui.echo(table)
            return
        try:
            result = run_sft(settings, resume=resume, device=device, dtype=dtype, force=force)
        except TrainingInterrupted as stopped:
            # The run's resolved config is saved beside its checkpoints: resuming with it
            # repeats exactly the settings, whatever mix of YAML and flags made them.
            saved_config = str(Path(settings.output.dir) / CONFIG_FILE)
            command = ["halo-forge", "sft", "train", "--config", saved_config, "--resume", "latest"]
            if device is not None:
                command += ["--device", device]
            if dtype is not None:
                command += ["--dtype", dtype]
            ui.echo(
                f"interrupted at step {stopped.step}: checkpoint saved in {stopped.checkpoint}; "
                f"resume with: {shlex.join(command)}",
                style="yellow",
            )
            raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
        ui.echo(f"done: {result.final_model_dir}")


@app.command("datasets")
def datasets() -> None:
    """List the public datasets SFT can train on (--dataset NAME)."""
    from halo_forge.training.sft_datasets import sft_datasets

    table = Table(title="SFT datasets")
    for column in ("name", "hub id", "domain", "size"):
        table.add_column(column)
    for entry in sft_datasets():
        table.add_row(
            entry.name, entry.hub_label, f"{entry.language}: {entry.description}", entry.size
        )
    ui.echo(table)

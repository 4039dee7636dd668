"""`halo-forge raft train|report`: resumable reward-ranked fine-tuning cycles, and their report."""

from __future__ import annotations

from pathlib import Path

import typer

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import (
    BACKEND_HELP,
    CONFIG_SET_HELP,
    RAFT_OPTION_KEYS,
    VERIFIER_OPTION_HELP,
)
from halo_forge.cli.run_settings import run_settings
from halo_forge.config import RAFTConfig
from halo_forge.errors import INTERRUPTED_EXIT_CODE

app = typer.Typer(
    help="RAFT: generate -> verify -> filter -> train cycles; re-run the same command to resume.",
    no_args_is_help=True,
)


@app.callback()
def raft() -> None:
    """Reward-ranked fine-tuning."""
    # A callback makes this a command group, so each command keeps its name: `raft train`.


@app.command("train")
def train(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="RAFT YAML config (see configs/raft_example.yaml)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Base model (id, directory or builtin:tiny-coder) without SFT."
    ),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", help="SFT output to start from (adapter or full model directory)."
    ),
    prompts: str | None = typer.Option(
        None, "--prompts", help="JSONL of RLVR prompt records (with their tests)."
    ),
    output: str | None = typer.Option(
        None, "--output", help="Run directory: cycle_N/, cycle_N_final/, training_log.json."
    ),
    verifier: str | None = typer.Option(
        None, "--verifier", help="Verifier name (`halo-forge verify --help` lists them)."
    ),
    cycles: int | None = typer.Option(None, "--cycles", help="Number of cycles."),
    samples_per_prompt: int | None = typer.Option(
        None, "--samples-per-prompt", help="Completions sampled per prompt per cycle."
    ),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature."),
    top_p: float | None = typer.Option(None, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: int | None = typer.Option(
        None, "--max-new-tokens", help="Longest completion (tokens)."
    ),
    backend: str | None = typer.Option(None, "--backend", help=BACKEND_HELP),
    keep_percent: float | None = typer.Option(
        None, "--keep-percent", help="Fraction (0-1] of the above-threshold samples kept."
    ),
    reward_threshold: float | None = typer.Option(
        None, "--reward-threshold", help="Keep samples with reward >= this."
    ),
    min_samples: int | None = typer.Option(
        None, "--min-samples", help="Lower the threshold tier by tier until this many are kept."
    ),
    learning_rate: float | None = typer.Option(
        None, "--learning-rate", "--lr", help="Learning rate of cycle 1."
    ),
    lr_decay: float | None = typer.Option(
        None, "--lr-decay", help="Per-cycle multiplier: lr * decay**(cycle-1)."
    ),
    min_lr: float | None = typer.Option(None, "--min-lr", help="Floor of the decayed rate."),
    lora: bool | None = typer.Option(
        None,
        "--lora/--no-lora",
        help="--no-lora fine-tunes every weight (an SFT adapter is merged into its base first).",
    ),
    lora_r: int | None = typer.Option(
        None, "--lora-r", help="Rank of a new adapter (an SFT adapter keeps its own)."
    ),
    curriculum: str | None = typer.Option(
        None, "--curriculum", help="none, progressive, adaptive or historical."
    ),
    reward_shaping: str | None = typer.Option(
        None, "--reward-shaping", help="fixed, annealing, adaptive or warmup."
    ),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt", help="System prompt for every generation."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed for sampling and fair tie-breaking."
    ),
    verifier_option: list[str] = typer.Option([], "--verifier-option", help=VERIFIER_OPTION_HELP),
    set_keys: list[str] = typer.Option([], "--set", help=CONFIG_SET_HELP),
    force: bool = typer.Option(
        False, "--force", help="Resume even though settings changed since the run began."
    ),
    device: str | None = typer.Option(None, "--device", help="auto (default), cpu, cuda or mps."),
    dtype: str | None = typer.Option(
        None, "--dtype", help="Model weights: auto (default), float32, bfloat16, float16."
    ),
) -> None:
    """Run (or resume) RAFT cycles; options given here override the config file."""
    settings = run_settings(
        RAFTConfig, config, RAFT_OPTION_KEYS, locals(), verifier_option, set_keys
    )
    from halo_forge.raft.loop import RAFTTrainer  # torch loads only when a command runs

    with command_log("raft_train"):
        trainer = RAFTTrainer(config=settings, device=device, dtype=dtype, force=force)
        try:
            result = trainer.run(settings.prompts)
        except KeyboardInterrupt:
            ui.echo(
                f"interrupted: finished work is kept in {trainer.output_dir}; run the same "
                "command again to resume",
                style="yellow",
            )
            raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
        ui.echo(f"done: {result.final_checkpoint}")


@app.command("report")
def report(
    output: Path = typer.Argument(..., help="Run directory of `raft train` (--output)."),
) -> None:
    """Print the per-cycle table and write OUTPUT/training_log.png from training_log.json."""
    from halo_forge.raft.plots import plot_training_log, training_log_table
    from halo_forge.raft.training_log import read_training_log

    ui.echo(training_log_table(read_training_log(output)))
    ui.echo(f"wrote {plot_training_log(output)}")

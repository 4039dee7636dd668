"""`halo-forge grpo train`: GRPO (DAPO, Dr. GRPO) through TRL, a halo-forge verifier as reward."""

from __future__ import annotations

from pathlib import Path

import typer

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import (
    CONFIG_SET_HELP,
    GRPO_OPTION_KEYS,
    VERIFIER_OPTION_HELP,
)
from halo_forge.cli.run_settings import run_settings
from halo_forge.config import GRPOConfig
from halo_forge.errors import INTERRUPTED_EXIT_CODE

#: Which flag of `grpo train` sets which config key (every other key: `--set`).

app = typer.Typer(
    help="GRPO: sample a group per prompt, reward each sample with a verifier, push the group's "
    "best up; re-run the same command to resume.",
    no_args_is_help=True,
)


@app.callback()
def grpo() -> None:
    """Group relative policy optimization."""
    # A callback makes this a command group, so each command keeps its name: `grpo train`.


@app.command("train")
def train(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="GRPO YAML config (see docs/training/grpo.md)."
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
        None, "--output", help="Run directory: checkpoint-N/, final_model/, training_log.json."
    ),
    verifier: str | None = typer.Option(
        None, "--verifier", help="Verifier name (`halo-forge verify --help` lists them)."
    ),
    num_generations: int | None = typer.Option(
        None, "--num-generations", help="Completions per prompt (the group, at least 2)."
    ),
    loss_type: str | None = typer.Option(
        None, "--loss-type", help="grpo, dr_grpo, dapo, bnpo, cispo or sapo."
    ),
    beta: float | None = typer.Option(None, "--beta", help="KL penalty (0: no reference model)."),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature."),
    max_completion_length: int | None = typer.Option(
        None, "--max-completion-length", help="Longest completion (tokens)."
    ),
    learning_rate: float | None = typer.Option(
        None, "--learning-rate", "--lr", help="Peak learning rate."
    ),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Optimizer steps."),
    backend: str | None = typer.Option(
        None, "--backend", help="Sampling: transformers (default) or vllm (GPU, colocated)."
    ),
    lora: bool | None = typer.Option(
        None, "--lora/--no-lora", help="--no-lora trains every weight (an adapter is merged)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed for sampling and data order."),
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
    """Run (or resume) GRPO; options given here override the config file."""
    settings = run_settings(
        GRPOConfig, config, GRPO_OPTION_KEYS, locals(), verifier_option, set_keys
    )
    from halo_forge.grpo.trainer import GRPORunner  # torch and trl load only when a command runs

    with command_log("grpo_train"):
        runner = GRPORunner(config=settings, device=device, dtype=dtype, force=force)
        try:
            result = runner.run(settings.prompts)
        except KeyboardInterrupt:
            ui.echo(
                f"interrupted: the last checkpoint is kept in {runner.output_dir}; run the same "
                "command again to resume",
                style="yellow",
            )
            raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
        ui.echo(f"done: {result.final_checkpoint} ({result.steps} steps), plot: {runner.plot()}")

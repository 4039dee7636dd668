"""`halo-forge demo`: data -> SFT -> baseline -> RAFT (or GRPO) -> final benchmark, on a laptop CPU.

The settings come from a commented preset shipped in the package (`halo_forge/demo/presets/
demo.yaml`; `--quick` adds `quick.yaml` from there), read by the one config loader; the options
below override its keys.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import typer

from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import CONFIG_SET_HELP, config_overrides


class DemoAlgorithm(str, Enum):
    """What trains on the RAFT prompts after SFT."""

    raft = "raft"
    grpo = "grpo"


class DemoLanguage(str, Enum):
    """The languages of the built-in task suites the demo can run."""

    c = "c"
    python = "python"


def demo(
    output: Path = typer.Option(
        Path("runs/demo"), "--output", "-o", help="Run directory; rerunning resumes it."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Demo preset YAML (default: the package's demo/presets/demo.yaml).",
    ),
    language: DemoLanguage | None = typer.Option(
        None, "--language", help="c: gcc compiles and runs; python: the tests run. [default: c]"
    ),
    algorithm: DemoAlgorithm | None = typer.Option(
        None,
        "--algorithm",
        help="raft, or grpo in its place: same data, SFT model and baseline, as many generated "
        "samples; run both in one --output to compare them. [default: raft]",
    ),
    cycles: int | None = typer.Option(None, "--cycles", min=1, help="RAFT cycles. [default: 3]"),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the tasks, the split and sampling. [default: 0]"
    ),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="A smaller run (about 2 minutes on a CPU): the package's demo/presets/quick.yaml.",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="The model to train: the embedded builtin:tiny-coder (default), or a Hugging Face "
        "id such as Qwen/Qwen2.5-Coder-0.5B (on a GPU).",
    ),
    backend: str | None = typer.Option(
        None,
        "--backend",
        help="Sampler of the rollouts and benchmarks: transformers (default) or vllm (needs vLLM).",
    ),
    set_keys: list[str] = typer.Option([], "--set", help=CONFIG_SET_HELP),
    force: bool = typer.Option(
        False, "--force", help="Resume even though settings changed since the run began."
    ),
) -> None:
    """Run the whole pipeline end to end and print what RAFT (or GRPO) changed on held-out prompts."""
    # Idle OpenMP threads sleep instead of spinning: on a shared machine a spinning thread
    # that lost its core stalls every step (read when torch loads, so before the import).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from halo_forge.demo import DemoRun, load_preset, run_demo

    options = {
        "algorithm": algorithm.value if algorithm is not None else None,
        "language": language.value if language is not None else None,
        "cycles": cycles,
        "seed": seed,
        "model": model,
        "backend": backend,
    }
    settings = load_preset(config, quick=quick, overrides=options | config_overrides(set_keys))
    with command_log("demo"):
        run_demo(DemoRun(output=output, settings=settings, force=force))

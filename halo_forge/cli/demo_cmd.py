"""`halo-forge demo`: data -> SFT -> baseline -> RAFT -> final benchmark, on a laptop CPU."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from halo_forge.cli.logfile import command_log


class DemoLanguage(str, Enum):
    """The languages of the built-in task suites the demo can run."""

    c = "c"
    python = "python"


def demo(
    output: Path = typer.Option(
        Path("runs/demo"), "--output", "-o", help="Run directory; rerunning resumes it."
    ),
    language: DemoLanguage = typer.Option(
        DemoLanguage.c, "--language", help="c: gcc compiles and runs; python: the tests run."
    ),
    cycles: int = typer.Option(3, "--cycles", min=1, help="RAFT cycles."),
    seed: int = typer.Option(0, "--seed", help="Seed of the tasks, the split and sampling."),
    quick: bool = typer.Option(False, "--quick", help="A smaller run (about 2 minutes on a CPU)."),
    model: str = typer.Option(
        "builtin:tiny-coder",
        "--model",
        help="The model to train: the embedded one, or a Hugging Face id such as "
        "Qwen/Qwen2.5-Coder-0.5B (on a GPU).",
    ),
) -> None:
    """Run the whole pipeline end to end and print what RAFT changed on held-out prompts."""
    from halo_forge.demo import DemoRun, preset, run_demo

    with command_log("demo"):
        run_demo(
            DemoRun(
                output=output,
                language=language.value,
                cycles=cycles,
                seed=seed,
                model=model,
                settings=preset(quick),
            )
        )

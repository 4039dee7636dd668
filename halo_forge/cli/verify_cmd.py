"""`halo-forge verify`: score a JSONL file of completions with a verifier.

Each input line holds the model output in `completion`, `code` or `text`, plus any context
the verifier reads (`expected_output`, `stdin`, `test_cases`, `prompt`, `task_id`, ...). Each
output line is the input record plus `reward`, `success`, `details`, `error` and `metadata`.
Results are appended batch by batch, so a killed run picks up where it stopped; the verifier
settings are stored beside the output (`OUTPUT.fingerprint.json`), and a re-run with other
settings is refused unless `--force`, which then verifies every record again.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import parse_key_values
from halo_forge.data.jsonl import read_jsonl
from halo_forge.verifiers.records import (
    VerifiedRecords,
    summarise_records,
    verifier_fingerprint,
    verify_records,
)
from halo_forge.verifiers.registry import available_verifiers, build_verifier


def _summary_table(results: list[dict[str, Any]]) -> Table:
    """Reward histogram of every record in the output."""
    total = len(results)
    table = Table(title=f"verification summary ({total} samples)")
    table.add_column("reward", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    histogram = Counter(round(float(record["reward"]), 3) for record in results)
    for reward in sorted(histogram):
        table.add_row(f"{reward:.2f}", str(histogram[reward]), f"{histogram[reward] / total:.1%}")
    return table


def verify(
    input_file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSONL of completions (completion/code/text field)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL of scored records (resumable)."),
    verifier: str = typer.Option(
        "gcc",
        "--verifier",
        help="Verifier to score with: " + ", ".join(available_verifiers()) + ".",
    ),
    set_options: list[str] = typer.Option(
        [], "--set", help="Verifier option KEY=VALUE (YAML value), repeatable: --set link=false."
    ),
    run_after_compile: bool | None = typer.Option(
        None, "--run-after-compile/--compile-only", help="Run programs and check their output."
    ),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds per compile/command."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Parallel verifications."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore and skip the result cache."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Records written per batch."),
    force: bool = typer.Option(
        False,
        "--force",
        help="If OUTPUT holds records made with other settings, verify every record again "
        "instead of stopping (with the same settings the run resumes).",
    ),
) -> None:
    """Score every completion of INPUT_FILE with a verifier; resumes an interrupted run.

    The verifier's settings are stored in OUTPUT.fingerprint.json; a re-run into the same
    OUTPUT resumes only with the same settings, else it stops and names the changed keys.
    """
    with command_log("verify"):
        options = parse_key_values(set_options, "--set")
        for key, value in (
            ("run_after_compile", run_after_compile),
            ("timeout", timeout),
            ("max_workers", workers),
        ):
            if value is not None:
                options[key] = value
        with build_verifier(verifier, **options) as scorer:
            if no_cache:
                scorer.use_cache = False
            run = verify_records(
                scorer,
                read_jsonl(input_file),
                output,
                fingerprint=verifier_fingerprint(scorer, verifier, options),
                force=force,
                batch_size=batch_size,
                source=str(input_file),
            )
        _print_summary(run, input_file, output)


def _print_summary(run: VerifiedRecords, input_file: Path, output: Path) -> None:
    if not run.records:
        ui.echo(f"{input_file} holds no records")
        return
    ui.echo(_summary_table(run.records))
    for line in summarise_records(run.records).lines():
        ui.echo(line)
    rate = run.verified / run.seconds if run.seconds > 0 else 0.0
    ui.echo(
        f"verified {run.verified} samples in {run.seconds:.1f} s ({rate:.1f} samples/s) -> {output}"
    )

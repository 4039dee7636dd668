"""`halo-forge verify`: score a JSONL file of completions with a verifier.

Each input line holds the model output in `completion`, `code` or `text`, plus any context
the verifier reads (`expected_output`, `stdin`, `test_cases`, `prompt`, `task_id`, ...). Each
output line is the input record plus `reward`, `success`, `details`, `error` and `metadata`.
Results are appended batch by batch, so a killed run picks up where it stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import parse_key_values
from halo_forge.data.jsonl import JsonlAppender, iter_jsonl
from halo_forge.errors import DataError
from halo_forge.verifiers.base import Verifier, VerifyResult
from halo_forge.verifiers.pool import run_batch
from halo_forge.verifiers.registry import available_verifiers, build_verifier

#: Fields that may hold the model output, in order of preference.
CODE_FIELDS = ("completion", "code", "text")


def _code_of(record: dict[str, Any], path: Path, line: int) -> tuple[str, str]:
    for field in CODE_FIELDS:
        if isinstance(record.get(field), str):
            return field, record[field]
    raise DataError(
        f"{path}:{line}: no model output; put it in one of the fields {', '.join(CODE_FIELDS)}"
    )


def _check_resume(
    existing: list[dict[str, Any]],
    records: list[tuple[int, dict[str, Any]]],
    input_file: Path,
    output: Path,
) -> None:
    """The output must begin with this input's first records, else resuming would mix runs."""
    if len(existing) > len(records):
        raise DataError(
            f"{output} holds {len(existing)} records but {input_file} only {len(records)}; "
            "it belongs to another input: choose another --output or delete it"
        )
    for (line, record), written in zip(records, existing, strict=False):
        field, code = _code_of(record, input_file, line)
        if written.get(field) != code:
            raise DataError(
                f"{output}: record {line} does not match {input_file}:{line}; the output belongs "
                "to another input: choose another --output or delete it"
            )


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


def _rates(results: list[dict[str, Any]]) -> list[str]:
    """Pass rate, compile rate (compile verifiers) and cache hits, one line each."""
    total = len(results)
    lines = [f"pass rate: {sum(bool(r['success']) for r in results) / total:.1%}"]
    stages = [(r.get("metadata") or {}).get("stage") for r in results]
    if any(stage in ("compile", "link", "run") for stage in stages):
        compiled = sum(
            1
            for record, stage in zip(results, stages, strict=True)
            if stage == "run" or (stage == "compile" and record["success"])
        )
        lines.insert(0, f"compile rate: {compiled / total:.1%}")
    cached = sum(bool((r.get("metadata") or {}).get("cached")) for r in results)
    lines.append(f"served from cache: {cached}")
    return lines


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
) -> None:
    """Score every completion of INPUT_FILE with a verifier; resumes an interrupted run."""
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
            _verify_file(scorer, input_file, output, batch_size)


def _verify_file(scorer: Verifier, input_file: Path, output: Path, batch_size: int) -> None:
    records = list(iter_jsonl(input_file))
    with JsonlAppender(output) as appender:
        existing = appender.existing()
        _check_resume(existing, records, input_file, output)
        todo = records[len(existing) :]
        if existing:
            ui.echo(f"resuming: {len(existing)} of {len(records)} records already in {output}")
        written: list[dict[str, Any]] = list(existing)
        started = time.perf_counter()
        with ui.progress() as bar:
            task = bar.add_task("verifying", total=len(records), completed=len(existing))
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                codes, contexts = [], []
                for line, record in batch:
                    field, code = _code_of(record, input_file, line)
                    codes.append(code)
                    contexts.append({k: v for k, v in record.items() if k != field})
                results = run_batch(scorer, codes, contexts=contexts, show_progress=False)
                scored = [
                    _scored_record(record, result)
                    for (_, record), result in zip(batch, results, strict=True)
                ]
                appender.append_batch(scored)
                written.extend(scored)
                bar.advance(task, len(batch))
        seconds = time.perf_counter() - started
    if not written:
        ui.echo(f"{input_file} holds no records")
        return
    ui.echo(_summary_table(written))
    for line in _rates(written):
        ui.echo(line)
    rate = len(todo) / seconds if seconds > 0 else 0.0
    ui.echo(f"verified {len(todo)} samples in {seconds:.1f} s ({rate:.1f} samples/s) -> {output}")


def _scored_record(record: dict[str, Any], result: VerifyResult) -> dict[str, Any]:
    return {**record, **result.to_dict()}

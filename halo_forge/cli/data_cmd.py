"""`halo-forge data ...`: check, split and prepare the JSONL files the pipeline trains on."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from halo_forge import ui
from halo_forge.cli.logfile import command_log
from halo_forge.cli.overrides import VERIFIER_OPTION_HELP, parse_key_values
from halo_forge.data.public_datasets import DATASETS, OutputForm, prepare_dataset
from halo_forge.data.records import RecordKind
from halo_forge.data.split import split_file
from halo_forge.data.templates import ChatTemplate, TokenizerWithChatTemplate
from halo_forge.data.validate import render_report, validate_file
from halo_forge.errors import ConfigError, ModelError
from halo_forge.verifiers.registry import build_verifier

app = typer.Typer(
    help="Training data: SFT records and RLVR prompt files (check, split, build from public sets).",
    no_args_is_help=True,
)


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="JSONL file of SFT records or RLVR prompts."),
    record_format: RecordKind = typer.Option(
        RecordKind.AUTO, "--format", help="Record kind; auto decides from the first record."
    ),
    preview: int = typer.Option(0, "--preview", min=0, help="Show the first N valid records."),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Accept a file with bad lines (as readers with skip_invalid do): still list them, "
        "but exit 0 if any record is valid.",
    ),
    verifier: str | None = typer.Option(
        None,
        "--verifier",
        help="Also check that every prompt carries what this verifier needs (e.g. mbpp: tests), "
        "as raft train and benchmark run do before they start.",
    ),
    verifier_option: list[str] = typer.Option([], "--verifier-option", help=VERIFIER_OPTION_HELP),
) -> None:
    """Report status, format, valid/invalid lines with reasons, duplicates, languages and lengths.

    Exits 1 when the file has invalid lines (or no records at all), or, with --verifier, when
    a prompt lacks what that verifier needs to score its samples.
    """
    if verifier is None:
        if verifier_option:
            raise ConfigError("--verifier-option sets an option of --verifier NAME; add it")
        report = validate_file(file, record_format, preview=preview)
    else:
        options = parse_key_values(verifier_option, "--verifier-option")
        with build_verifier(verifier, **options) as checker:
            report = validate_file(
                file, record_format, preview=preview, verifier=checker, verifier_name=verifier
            )
    render_report(report, ui.console())
    usable = report.valid > 0 and (skip_invalid or not report.invalid) and not report.unscorable
    if not usable:
        raise typer.Exit(code=1)


@app.command("split")
def split(
    input_file: Path = typer.Option(..., "--input", help="JSONL file to split."),
    train_file: Path = typer.Option(..., "--train", help="Where the train part goes."),
    test_file: Path = typer.Option(..., "--test", help="Where the test part goes."),
    ratio: float = typer.Option(0.9, "--ratio", help="Fraction of records for train (0..1)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same split."),
    stratify: str | None = typer.Option(
        None,
        "--stratify",
        help="Keep the proportion of each value of this field (e.g. category, "
        "metadata.source) in both parts.",
    ),
) -> None:
    """Split a file into train and test parts, deterministically, without losing a record."""
    with command_log("data split"):
        summary = split_file(input_file, train_file, test_file, ratio, seed, stratify)
        ui.echo(
            f"{summary.kind.value}: {summary.train_count} records -> {train_file}, "
            f"{summary.test_count} records -> {test_file}"
        )
        if summary.groups:
            table = Table(title=f"Split by {stratify}", title_justify="left")
            for column in (stratify or "group", "train", "test"):
                table.add_column(column, justify="left" if column == stratify else "right")
            for group, (train_count, test_count) in summary.groups.items():
                table.add_row(group, str(train_count), str(test_count))
            ui.echo(table)


def _datasets_table() -> Table:
    table = Table(title="Public datasets (halo-forge data prepare --dataset NAME)")
    table.add_column("name", no_wrap=True)
    for column in ("language", "size", "hub id (config, split)", "verifier", "formats", "about"):
        table.add_column(column, overflow="fold")
    for entry in DATASETS.values():
        table.add_row(
            entry.name,
            entry.language,
            entry.size,
            entry.hub_label,
            entry.verifier or "-",
            ", ".join(form.value for form in entry.forms),
            entry.description,
        )
    return table


def _load_tokenizer(name_or_path: str) -> TokenizerWithChatTemplate:
    """A Hugging Face tokenizer, for its chat template (transformers is imported only here)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as error:
        raise ModelError(
            f"cannot load a tokenizer from {name_or_path!r} ({error}); pass a local model folder "
            "or a Hub id that is cached, or use --template instead"
        ) from None


@app.command("prepare")
def prepare(
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Registry name (see --list), e.g. mbpp."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="JSONL file to write."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Keep only the first N tasks."),
    template: ChatTemplate = typer.Option(
        ChatTemplate.CHATML, "--template", help="Chat layout of the SFT prompts."
    ),
    tokenizer: str | None = typer.Option(
        None,
        "--tokenizer",
        help="Model id or folder whose tokenizer's own chat template formats the SFT prompts "
        "(replaces --template).",
    ),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt", help="System prompt for every task (none by default)."
    ),
    list_datasets: bool = typer.Option(False, "--list", help="Show the registry and exit."),
    source: Path | None = typer.Option(
        None,
        "--from",
        help="Local copy in the hub's columns (jsonl/json/parquet file or folder): no download.",
    ),
    output_form: OutputForm | None = typer.Option(
        None,
        "--format",
        help="rlvr: prompts with tests; sft: prompt/completion pairs; both: OUTPUT (rlvr) and "
        "OUTPUT with .sft.jsonl (sft). Default: the dataset's first format in --list.",
    ),
    split_name: str | None = typer.Option(
        None, "--split", help="Dataset split to read instead of the registry's (e.g. test)."
    ),
    seed: int = typer.Option(0, "--seed", help="Instances of the built-in suites (builtin_*)."),
) -> None:
    """Download a public dataset (or read a local copy) and write SFT records and/or RLVR prompts."""
    if list_datasets:
        ui.echo(_datasets_table())
        return
    if dataset is None or output is None:
        raise ConfigError(
            "data prepare needs --dataset NAME and --output FILE (see --list for the names)"
        )
    with command_log("data prepare"):
        summary = prepare_dataset(
            dataset,
            output,
            form=output_form,
            limit=limit,
            template=_load_tokenizer(tokenizer) if tokenizer else template,
            system_prompt=system_prompt,
            source=source,
            split=split_name,
            seed=seed,
        )
        entry = DATASETS[dataset]
        ui.echo(f"Read {summary.origin}")
        if summary.rlvr_path is not None:
            ui.echo(
                f"Wrote {summary.rlvr_count} RLVR prompts -> {summary.rlvr_path} "
                f"(verifier: {entry.verifier})"
            )
        if summary.sft_path is not None:
            ui.echo(f"Wrote {summary.sft_count} SFT records -> {summary.sft_path}")
        for reason, count in summary.skipped.most_common():
            ui.echo(f"Skipped {count} rows: {reason}", style="yellow")

"""Public datasets, downloaded with Hugging Face `datasets` and written as halo-forge records.

The registry of datasets (`halo-forge data prepare --list`) is `dataset_registry`.

Two output forms:
- `rlvr`: `PromptRecord`s with the tests the verifier needs and the raw prompt (RAFT and
  benchmark apply the model's chat template when they sample);
- `sft`: `{prompt, completion}` with the prompt already in the chosen chat template and the
  completion (a fenced reference solution) ending with the template's end marker.
`both` writes the RLVR prompts to the output path and the SFT records next to it, with
`.sft.jsonl` in place of `.jsonl` (`data/mbpp.jsonl` -> `data/mbpp.sft.jsonl`).

Offline, `source` (the CLI's `--from`) reads a local copy in the hub's columns: a `.jsonl`,
`.json` or `.parquet` file (JSON also gzipped, as `HumanEval.jsonl.gz`), or a folder of them
(see `dataset_sources`). Local copies and
`limit`ed downloads are streamed, so nothing past the last needed row is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from halo_forge import ui
from halo_forge.data.builtin_tasks import generate_tasks
from halo_forge.data.converters import ConvertedTask, UnusableRow
from halo_forge.data.dataset_registry import (
    BUILTIN_HUB_ID,
    DATASETS,
    OutputForm,
    PublicDataset,
    get_dataset,
)
from halo_forge.data.dataset_sources import iter_rows
from halo_forge.data.jsonl import PathLike
from halo_forge.data.records import (
    PromptCompletionRecord,
    PromptRecord,
    describe_validation_error,
    write_records,
)
from halo_forge.data.templates import Template, completion_end, format_prompt, template_name
from halo_forge.errors import ConfigError, DataError

__all__ = [
    "BUILTIN_HUB_ID",
    "DATASETS",
    "OutputForm",
    "PrepareSummary",
    "PublicDataset",
    "convert_rows",
    "get_dataset",
    "prepare_dataset",
    "sft_path_for",
]


def sft_path_for(output: PathLike) -> Path:
    """Where `both` puts the SFT records: `x.jsonl` -> `x.sft.jsonl`."""
    output = Path(output)
    stem = output.name.removesuffix(".jsonl")
    return output.with_name(f"{stem}.sft.jsonl")


@dataclass
class PrepareSummary:
    """What `prepare_dataset` read and wrote."""

    dataset: str
    origin: str
    rlvr_path: Path | None = None
    rlvr_count: int = 0
    sft_path: Path | None = None
    sft_count: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def _check_form(entry: PublicDataset, form: OutputForm) -> None:
    needed = (OutputForm.RLVR, OutputForm.SFT) if form is OutputForm.BOTH else (form,)
    missing = [part for part in needed if part not in entry.forms]
    if missing:
        why = (
            "it has no tests to verify with"
            if OutputForm.RLVR in missing
            else "it has no solutions"
        )
        allowed = ", ".join(member.value for member in entry.forms)
        raise ConfigError(
            f"'{entry.name}' cannot be written as {form.value} ({why}); use --format {allowed}"
        )


def convert_rows(
    entry: PublicDataset,
    rows: Iterable[Mapping[str, Any]],
    limit: int | None = None,
    require_completion: bool = False,
    origin: str = "",
) -> tuple[list[ConvertedTask], Counter[str]]:
    """Convert rows until `limit` tasks are kept; returns the tasks and the skip reasons."""
    tasks: list[ConvertedTask] = []
    skipped: Counter[str] = Counter()
    with ui.progress(transient=True) as bar:
        progress_task = bar.add_task(f"converting {entry.name}", total=limit)
        for row_number, row in enumerate(rows, start=1):
            if limit is not None and len(tasks) >= limit:
                break
            try:
                task = entry.convert(row)
            except UnusableRow as reason:
                skipped[str(reason)] += 1
                continue
            except KeyError as error:
                flat = ", ".join(entry.flat_columns)
                raise DataError(
                    f"{origin or entry.hub_label}: row {row_number} has no column {error}; "
                    f"'{entry.name}' reads the {entry.hub_id} columns: {', '.join(entry.columns)}"
                    + (f" (or the flat layout: {flat})" if flat else "")
                ) from None
            except ValidationError as error:  # e.g. an empty prompt: the record would be invalid
                skipped[f"invalid row ({describe_validation_error(error, show_input=False)})"] += 1
                continue
            if require_completion and task.completion is None:
                skipped["no reference solution"] += 1
                continue
            tasks.append(task)
            bar.advance(progress_task)
    return tasks, skipped


def prepare_dataset(
    name: str,
    output: PathLike,
    *,
    form: OutputForm | str | None = None,
    limit: int | None = None,
    template: Template = "chatml",
    system_prompt: str | None = None,
    source: PathLike | None = None,
    split: str | None = None,
    seed: int = 0,
) -> PrepareSummary:
    """Download (or read from `source`) dataset `name` and write it as RLVR and/or SFT records.

    Built-in suites are generated instead (`seed` picks the instances; `source` does not apply).
    """
    entry = get_dataset(name)
    try:
        form = OutputForm(form) if form is not None else entry.forms[0]
    except ValueError:
        allowed = ", ".join(member.value for member in OutputForm)
        raise ConfigError(f"unknown output format {form!r}; allowed: {allowed}") from None
    _check_form(entry, form)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be a positive number of tasks, got {limit}")
    if entry.hub_id == BUILTIN_HUB_ID:
        if source is not None:
            raise ConfigError(f"'{entry.name}' is generated locally; --from does not apply to it")
        origin = f"built-in suite {entry.name} (seed {seed})"
        rows: Iterable[Mapping[str, Any]] = generate_tasks(entry.name, limit, seed)
    else:
        origin = str(source) if source is not None else entry.hub_label
        rows = iter_rows(
            entry.hub_id,
            entry.config,
            split or entry.split,
            source=source,
            streaming=limit is not None,
            dataset_name=entry.name,
        )
    tasks, skipped = convert_rows(
        entry, rows, limit, require_completion=form is OutputForm.SFT, origin=origin
    )
    if not tasks:
        raise DataError(
            f"{origin}: no usable rows for '{entry.name}'"
            + (f" (skipped: {dict(skipped)})" if skipped else "")
        )

    summary = PrepareSummary(dataset=entry.name, origin=origin, skipped=skipped)
    output = Path(output)
    if form in (OutputForm.RLVR, OutputForm.BOTH):
        prompts = [_rlvr_record(task, entry, system_prompt) for task in tasks]
        summary.rlvr_path, summary.rlvr_count = output, write_records(output, prompts)
    if form in (OutputForm.SFT, OutputForm.BOTH):
        pairs = [
            _sft_record(task, entry, template, system_prompt)
            for task in tasks
            if task.completion is not None
        ]
        if len(pairs) < len(tasks):  # only with `both`: `sft` skipped these while converting
            skipped["no reference solution (RLVR prompt only)"] += len(tasks) - len(pairs)
        if pairs:
            sft_path = output if form is OutputForm.SFT else sft_path_for(output)
            summary.sft_path, summary.sft_count = sft_path, write_records(sft_path, pairs)
    return summary


def _rlvr_record(
    task: ConvertedTask, entry: PublicDataset, system_prompt: str | None
) -> PromptRecord:
    updates: dict[str, Any] = {"metadata": {**task.prompt.metadata, "dataset": entry.name}}
    if system_prompt:
        updates["system_prompt"] = system_prompt
    return task.prompt.model_copy(update=updates)


def _sft_record(
    task: ConvertedTask, entry: PublicDataset, template: Template, system_prompt: str | None
) -> PromptCompletionRecord:
    metadata: dict[str, Any] = {"dataset": entry.name, "template": template_name(template)}
    if task.prompt.task_id is not None:
        metadata["task_id"] = task.prompt.task_id
    return PromptCompletionRecord(
        prompt=format_prompt(task.prompt.prompt, system_prompt, template),
        completion=(task.completion or "") + completion_end(template),
        language=task.prompt.language,
        metadata=metadata,
    )

"""Public datasets, downloaded with Hugging Face `datasets` and written as halo-forge records.

Registry (`halo-forge data prepare --list`), with the hub columns each converter reads:
- `mbpp`: google-research-datasets/mbpp, config `full`, split `train`; `task_id, text, code,
  test_list, test_setup_code`; verifier `mbpp`.
- `mbpp_sanitized`: google-research-datasets/mbpp, config `sanitized`, split `train`;
  `task_id, prompt, code, test_imports, test_list`; verifier `mbpp`.
- `humaneval`: openai/openai_humaneval, split `test`; `task_id, prompt, canonical_solution,
  test, entry_point`; verifier `humaneval`.
- `codealpaca`: sahil2801/CodeAlpaca-20k, split `train`; `instruction, input, output`; SFT only.
- `codeforces_cpp` / `codeforces_python`: deepmind/code_contests, split `train`, rows with
  `source` = CODEFORCES (2); `name, description, solutions {language, solution},
  public_tests, private_tests {input, output}, cf_contest_id, cf_index, cf_rating, cf_tags`;
  the first CPP (2) / PYTHON3 (3) solution; verifiers `gcc` / `python`.
- `codeforces_rust`: open-r1/codeforces, config `default`, split `train`; `id, title,
  description, input_format, output_format, examples, note, rating, tags, official_tests,
  input_mode, interaction_format, generated_checker`; verifier `rust`.

deepmind/code_contests has human solutions in C++ and Python 3 (and Java) but none in Rust;
open-r1/codeforces has the statements and official tests, and no solutions, so
`codeforces_rust` gives RLVR prompts only. `mbpp` and the CodeForces entries also read the
project's flat layout (see `converters`).

Two output forms:
- `rlvr`: `PromptRecord`s with the tests the verifier needs and the raw prompt (RAFT and
  benchmark apply the model's chat template when they sample);
- `sft`: `{prompt, completion}` with the prompt already in the chosen chat template and the
  completion (a fenced reference solution) ending with the template's end marker.
`both` writes the RLVR prompts to the output path and the SFT records next to it, with
`.sft.jsonl` in place of `.jsonl` (`data/mbpp.jsonl` -> `data/mbpp.sft.jsonl`).

Offline, `source` (the CLI's `--from`) reads a local copy in the hub's columns: a `.jsonl`,
`.json` or `.parquet` file, or a folder of them (see `dataset_sources`). Local copies and
`limit`ed downloads are streamed, so nothing past the last needed row is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from halo_forge import ui
from halo_forge.data.converters import (
    ConvertedTask,
    UnusableRow,
    code_contests_task,
    codealpaca_task,
    humaneval_task,
    mbpp_task,
    open_r1_codeforces_task,
)
from halo_forge.data.dataset_sources import hub_label, iter_rows
from halo_forge.data.jsonl import PathLike
from halo_forge.data.records import (
    PromptCompletionRecord,
    PromptRecord,
    describe_validation_error,
    write_records,
)
from halo_forge.data.templates import Template, completion_end, format_prompt, template_name
from halo_forge.errors import ConfigError, DataError


class OutputForm(str, Enum):
    """Which records `prepare` writes."""

    SFT = "sft"
    RLVR = "rlvr"
    BOTH = "both"


@dataclass(frozen=True)
class PublicDataset:
    """One registry entry: where the data lives, how big it is and how to convert a row."""

    name: str
    description: str
    language: str
    size: str
    hub_id: str
    config: str | None
    split: str
    verifier: str | None  # name in the verifier registry; None: no tests to verify with
    forms: tuple[OutputForm, ...]  # rlvr and/or sft, the default first (both needs both)
    convert: Callable[[Mapping[str, Any]], ConvertedTask]
    columns: tuple[str, ...]  # hub columns the converter reads (named in errors)
    flat_columns: tuple[str, ...] = ()  # the project's flat layout, where it is accepted too

    @property
    def hub_label(self) -> str:
        return hub_label(self.hub_id, self.config, self.split)


_CODE_CONTESTS_COLUMNS = (
    "name",
    "description",
    "source",
    "solutions",
    "public_tests",
    "private_tests",
    "cf_contest_id",
    "cf_index",
    "cf_rating",
    "cf_tags",
)
_MBPP_FLAT_COLUMNS = ("task_id", "prompt", "entry_point", "tests", "solution (optional)")
_CODEFORCES_FLAT_COLUMNS = ("id", "prompt", "solution", "title, difficulty (optional)")
_RLVR_AND_SFT = (OutputForm.RLVR, OutputForm.SFT)

DATASETS: dict[str, PublicDataset] = {
    entry.name: entry
    for entry in (
        PublicDataset(
            name="mbpp",
            description="Mostly Basic Python Problems: short functions checked by 3 asserts",
            language="python",
            size="974 tasks: 374 train, 90 validation, 500 test, 10 prompt",
            hub_id="google-research-datasets/mbpp",
            config="full",
            split="train",
            verifier="mbpp",
            forms=_RLVR_AND_SFT,
            convert=mbpp_task,
            columns=("task_id", "text", "code", "test_list", "test_setup_code"),
            flat_columns=_MBPP_FLAT_COLUMNS,
        ),
        PublicDataset(
            name="mbpp_sanitized",
            description="MBPP tasks hand-checked by the authors, with clearer task texts",
            language="python",
            size="427 tasks: 120 train, 43 validation, 257 test, 7 prompt",
            hub_id="google-research-datasets/mbpp",
            config="sanitized",
            split="train",
            verifier="mbpp",
            forms=_RLVR_AND_SFT,
            convert=mbpp_task,
            columns=("task_id", "prompt", "code", "test_imports", "test_list"),
            flat_columns=_MBPP_FLAT_COLUMNS,
        ),
        PublicDataset(
            name="humaneval",
            description="OpenAI HumanEval: complete a function from its signature and docstring",
            language="python",
            size="164 tasks",
            hub_id="openai/openai_humaneval",
            config=None,
            split="test",
            verifier="humaneval",
            forms=_RLVR_AND_SFT,
            convert=humaneval_task,
            columns=("task_id", "prompt", "canonical_solution", "test", "entry_point"),
        ),
        PublicDataset(
            name="codealpaca",
            description="Code instructions with answers (no tests: SFT only)",
            language="mixed",
            size="20,022 examples",
            hub_id="sahil2801/CodeAlpaca-20k",
            config=None,
            split="train",
            verifier=None,
            forms=(OutputForm.SFT,),
            convert=codealpaca_task,
            columns=("instruction", "input", "output"),
        ),
        PublicDataset(
            name="codeforces_cpp",
            description="CodeForces problems with a human C++ solution and stdin/stdout tests",
            language="cpp",
            size="13,328 train problems",
            hub_id="deepmind/code_contests",
            config=None,
            split="train",
            verifier="gcc",
            forms=_RLVR_AND_SFT,
            convert=partial(code_contests_task, language="cpp"),
            columns=_CODE_CONTESTS_COLUMNS,
            flat_columns=_CODEFORCES_FLAT_COLUMNS,
        ),
        PublicDataset(
            name="codeforces_python",
            description="CodeForces problems with a human Python 3 solution and tests",
            language="python",
            size="13,328 train problems",
            hub_id="deepmind/code_contests",
            config=None,
            split="train",
            verifier="python",
            forms=_RLVR_AND_SFT,
            convert=partial(code_contests_task, language="python"),
            columns=_CODE_CONTESTS_COLUMNS,
            flat_columns=_CODEFORCES_FLAT_COLUMNS,
        ),
        PublicDataset(
            name="codeforces_rust",
            description="CodeForces problems judged by exact output (no checker, not interactive), in Rust",
            language="rust",
            size="9,556 train problems",
            hub_id="open-r1/codeforces",
            config="default",
            split="train",
            verifier="rust",
            forms=(OutputForm.RLVR,),
            convert=partial(open_r1_codeforces_task, language="rust"),
            columns=(
                "id",
                "title",
                "description",
                "input_format",
                "output_format",
                "examples",
                "official_tests",
                "input_mode",
                "interaction_format",
                "generated_checker",
            ),
            flat_columns=_CODEFORCES_FLAT_COLUMNS,
        ),
    )
}


def get_dataset(name: str) -> PublicDataset:
    """The registry entry called `name`; an unknown name lists the known ones."""
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return DATASETS[name]


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
) -> PrepareSummary:
    """Download (or read from `source`) dataset `name` and write it as RLVR and/or SFT records."""
    entry = get_dataset(name)
    try:
        form = OutputForm(form) if form is not None else entry.forms[0]
    except ValueError:
        allowed = ", ".join(member.value for member in OutputForm)
        raise ConfigError(f"unknown output format {form!r}; allowed: {allowed}") from None
    _check_form(entry, form)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be a positive number of tasks, got {limit}")
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

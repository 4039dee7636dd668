"""The report behind `halo-forge data validate`: is a file usable, and what is in it.

One pass over the file with the shared reader (`skip_invalid`, so every bad line is listed
rather than only the first) collects counts, the reasons for invalid lines, duplicated records,
languages and length statistics. Lengths are in characters: no tokenizer is needed to validate.
Given a verifier, each prompt record is also asked what that verifier needs
(`verifiers.requirements`, the check RAFT and the benchmarks make before they start), so a
file is known to be usable for a run before the run.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from halo_forge.data.jsonl import PathLike
from halo_forge.data.records import (
    ChatRecord,
    PromptCompletionRecord,
    PromptRecord,
    Record,
    RecordKind,
    SkippedLine,
    TextRecord,
    read_records,
)
from halo_forge.errors import DataError
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.requirements import FIX, missing_contexts

SHOWN_PROBLEMS = 20  # invalid lines and duplicates listed one by one; the rest are counted


@dataclass(frozen=True)
class LengthStats:
    """Character lengths of one part of the records (prompt, completion or text)."""

    count: int
    minimum: int
    mean: float
    median: float
    p95: int
    maximum: int

    @classmethod
    def of(cls, lengths: list[int]) -> LengthStats:
        ordered = sorted(lengths)
        return cls(
            count=len(ordered),
            minimum=ordered[0],
            mean=statistics.fmean(ordered),
            median=statistics.median(ordered),
            p95=ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            maximum=ordered[-1],
        )


@dataclass(frozen=True)
class Duplicate:
    """A record whose content already appeared on an earlier line."""

    line_number: int
    first_line_number: int


@dataclass
class ValidationReport:
    """Everything `validate_file` found; `render_report` prints it."""

    path: str
    kind: RecordKind
    valid: int = 0
    invalid: list[SkippedLine] = field(default_factory=list)
    shapes: Counter[str] = field(default_factory=Counter)
    duplicates: list[Duplicate] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)
    lengths: dict[str, LengthStats] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    #: Name of the verifier the prompts were checked against, if any.
    verifier: str | None = None
    #: Prompt records that verifier cannot score, with the reason (what their context lacks).
    unscorable: list[SkippedLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.valid + len(self.invalid)

    @property
    def status(self) -> str:
        """`valid`, `invalid` (some lines are bad, or some prompts lack what the verifier
        needs) or `empty` (no records at all)."""
        if self.total == 0:
            return "empty"
        return "invalid" if self.invalid or self.unscorable else "valid"


def _parts(record: Record) -> dict[str, str]:
    """The texts whose lengths are reported, by part name."""
    if isinstance(record, PromptCompletionRecord):
        return {"prompt": record.prompt, "completion": record.completion}
    if isinstance(record, ChatRecord):
        by_role = {"prompt": [], "completion": []}
        for message in record.messages:
            part = "completion" if message.role == "assistant" else "prompt"
            by_role[part].append(message.content)
        return {part: "\n".join(texts) for part, texts in by_role.items() if texts}
    if isinstance(record, TextRecord):
        return {"text": record.text}
    return {"prompt": record.prompt}


def _content_key(record: Record) -> str:
    """What makes two records the same example (annotations such as metadata do not count)."""
    if isinstance(record, PromptRecord):
        return json.dumps(["rlvr", record.system_prompt, record.prompt])
    return json.dumps(_parts(record), sort_keys=True)


_SHAPE_NAMES = {
    PromptCompletionRecord: "prompt/completion",
    ChatRecord: "messages",
    TextRecord: "text",
    PromptRecord: "prompt",
}


def validate_file(
    path: PathLike,
    kind: RecordKind | str = RecordKind.AUTO,
    preview: int = 0,
    *,
    verifier: Verifier | None = None,
    verifier_name: str | None = None,
) -> ValidationReport:
    """Check every line of a JSONL file and summarise it; keeps the first `preview` records.

    With `verifier` (named `verifier_name` in the report), every prompt record is checked for
    what that verifier needs; the ones that fall short are listed in `unscorable`.
    """
    reader = read_records(path, kind, skip_invalid=True)
    report = ValidationReport(path=str(path), kind=reader.kind, verifier=verifier_name)
    first_line_of: dict[str, int] = {}
    lengths: dict[str, list[int]] = {}
    prompts: list[tuple[int, PromptRecord]] = []
    for line_number, record in reader.numbered():
        if isinstance(record, PromptRecord):
            prompts.append((line_number, record))
        report.valid += 1
        report.shapes[_SHAPE_NAMES[type(record)]] += 1
        report.languages[record.language or "unspecified"] += 1
        for part, text in _parts(record).items():
            lengths.setdefault(part, []).append(len(text))
        key = _content_key(record)
        if key in first_line_of:
            report.duplicates.append(Duplicate(line_number, first_line_of[key]))
        else:
            first_line_of[key] = line_number
        if len(report.preview) < preview:
            report.preview.append(record.to_dict())
    report.kind = reader.kind
    report.invalid = list(reader.skipped)
    if verifier is not None:
        if report.kind is RecordKind.SFT:
            raise DataError(
                f"{path}: holds SFT records, which no verifier scores; check a file of RLVR "
                "prompt records (a prompt plus its tests) against a verifier"
            )
        report.unscorable = [
            SkippedLine(prompts[problem.index][0], problem.reason)
            for problem in missing_contexts(verifier, [record for _, record in prompts])
        ]
    report.lengths = {part: LengthStats.of(values) for part, values in lengths.items()}
    return report


def _shorten(value: Any, limit: int = 200) -> Any:
    """Long strings cut for the preview, so one record fits on a screen."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... (+{len(value) - limit} chars)"
    if isinstance(value, dict):
        return {key: _shorten(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item, limit) for item in value]
    return value


def render_report(report: ValidationReport, console: Console) -> None:
    """Print the report: summary, problems, languages, lengths and the preview."""
    colour = {"valid": "green", "invalid": "red", "empty": "red"}[report.status]
    summary = Table.grid(padding=(0, 2))
    summary.add_row("File", report.path)
    summary.add_row("Status", Text(report.status.upper(), style=f"bold {colour}"))
    shapes = ", ".join(f"{shape} x{count}" for shape, count in report.shapes.most_common())
    summary.add_row("Format", report.kind.value + (f" ({shapes})" if shapes else ""))
    summary.add_row(
        "Records", f"{report.total} total, {report.valid} valid, {len(report.invalid)} invalid"
    )
    summary.add_row("Duplicates", str(len(report.duplicates)))
    if report.verifier is not None:
        scorable = report.valid - len(report.unscorable)
        summary.add_row(
            "Verifier", f"{report.verifier}: {scorable} of {report.valid} records scorable"
        )
    console.print(summary)

    if report.invalid:
        console.print(Text("\nInvalid lines", style="bold red"))
        for problem in report.invalid[:SHOWN_PROBLEMS]:
            console.print(f"  line {problem.line_number}: {problem.reason}", markup=False)
        if len(report.invalid) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(report.invalid) - SHOWN_PROBLEMS} more")
    if report.unscorable:
        console.print(
            Text(f"\nPrompts verifier {report.verifier!r} cannot score", style="bold red")
        )
        for problem in report.unscorable[:SHOWN_PROBLEMS]:
            console.print(f"  line {problem.line_number}: {problem.reason}", markup=False)
        if len(report.unscorable) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(report.unscorable) - SHOWN_PROBLEMS} more")
        console.print(f"  Fix: {FIX}", markup=False)
    if report.duplicates:
        console.print(Text("\nDuplicated records", style="bold yellow"))
        for duplicate in report.duplicates[:SHOWN_PROBLEMS]:
            console.print(
                f"  line {duplicate.line_number} repeats line {duplicate.first_line_number}"
            )
        if len(report.duplicates) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(report.duplicates) - SHOWN_PROBLEMS} more")

    if report.languages:
        languages = Table(title="Languages", title_justify="left")
        languages.add_column("language")
        languages.add_column("records", justify="right")
        for language, count in report.languages.most_common():
            languages.add_row(language, str(count))
        console.print(languages)
    if report.lengths:
        lengths = Table(title="Lengths (characters)", title_justify="left")
        for column in ("part", "min", "mean", "median", "p95", "max"):
            lengths.add_column(column, justify="left" if column == "part" else "right")
        for part, stats in report.lengths.items():
            lengths.add_row(
                part,
                str(stats.minimum),
                f"{stats.mean:.0f}",
                f"{stats.median:.0f}",
                str(stats.p95),
                str(stats.maximum),
            )
        console.print(lengths)
    if report.preview:
        console.print(Text("Preview", style="bold"))
        console.print(
            Group(
                *(
                    Text(json.dumps(_shorten(record), indent=2, ensure_ascii=False))
                    for record in report.preview
                )
            )
        )

"""Does every prompt carry what its verifier needs? Asked before a run starts, not after.

A test verifier handed prompts without their tests scores every sample 0, and a run that
generated for hours then ends "successfully" with nothing learned. Each verifier says what a
sample's context must carry (`Verifier.missing_context`); this module asks it of every prompt
record's `verification_context()` before any model loads, and names the records that fall
short. RAFT, the benchmarks and `halo-forge data validate --verifier` all call it, so the
three agree on what a usable prompt is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from halo_forge.errors import DataError
from halo_forge.verifiers.base import Verifier

if TYPE_CHECKING:
    from halo_forge.data.records import PromptRecord

#: Records (and distinct reasons) named one by one in an error; the rest are counted.
SHOWN_RECORDS = 5

FIX = (
    "give those prompts what is missing, or choose a verifier that scores the program alone "
    "(a compile verifier such as gcc or clang; `halo-forge verify --help` lists them)"
)


@dataclass(frozen=True)
class MissingContext:
    """A prompt record its verifier cannot score for real, and why."""

    index: int  # position in the records checked
    reason: str


def missing_contexts(verifier: Verifier, records: Sequence[PromptRecord]) -> list[MissingContext]:
    """The records whose verification context lacks what `verifier` needs, in record order."""
    missing = []
    for index, record in enumerate(records):
        reason = verifier.missing_context(record.verification_context())
        if reason is not None:
            missing.append(MissingContext(index, reason))
    return missing


def record_label(index: int, record: PromptRecord, line_numbers: Sequence[int] | None) -> str:
    """`line 12 (task 601)`, or `record 3` when the lines are not known (records built in code)."""
    where = f"line {line_numbers[index]}" if line_numbers is not None else f"record {index + 1}"
    return f"{where} (task {record.task_id})" if record.task_id is not None else where


def check_prompt_contexts(
    verifier: Verifier,
    records: Sequence[PromptRecord],
    *,
    verifier_label: str,
    source: str,
    line_numbers: Sequence[int] | None = None,
) -> None:
    """Raise DataError naming the records of `source` that `verifier` cannot score, if any.

    `verifier_label` names the verifier in the message (`verifier 'mbpp'`). `line_numbers[i]`
    is the file line of `records[i]` (from `RecordReader.numbered`); without it records are
    named by position. Records with the same reason are grouped, so a file that lacks tests
    everywhere reads as one line, not thousands.
    """
    missing = missing_contexts(verifier, records)
    if not missing:
        return
    by_reason: dict[str, list[int]] = {}
    for problem in missing:
        by_reason.setdefault(problem.reason, []).append(problem.index)
    lines = []
    for reason, indices in list(by_reason.items())[:SHOWN_RECORDS]:
        labels = [record_label(index, records[index], line_numbers) for index in indices]
        more = f" and {len(labels) - SHOWN_RECORDS} more" if len(labels) > SHOWN_RECORDS else ""
        lines.append(f"{reason}: {', '.join(labels[:SHOWN_RECORDS])}{more}")
    if len(by_reason) > SHOWN_RECORDS:
        lines.append(f"... and {len(by_reason) - SHOWN_RECORDS} more reasons")
    raise DataError(
        f"{source}: {len(missing)} of {len(records)} prompt(s) lack what {verifier_label} "
        "needs, so their samples cannot be scored:\n  - " + "\n  - ".join(lines) + f"\nFix: {FIX}."
    )

"""Typed records and the one reader every stage uses to load them.

Two kinds of JSONL files flow through the pipeline:
- SFT records, in one of three shapes: `{prompt, completion}`, `{messages: [{role, content}]}`
  (chat) or `{text}` (plain language-model text);
- RLVR prompt records (`PromptRecord`): a prompt plus what a verifier needs to score an answer
  (`tests`, `test_list`, `entry_point`, `expected_output`, `stdin`, `test_cases`, `files`).

Both keep keys they do not know (a dataset's own columns survive a split or a rewrite) and both
accept the optional annotations `language` and `metadata`. `read_records` streams a file through
`jsonl.iter_jsonl` and turns each line into a typed record; a bad line raises `DataError` naming
the file, the line, the field and what was expected, or, with `skip_invalid`, is recorded in
`reader.skipped` so the caller can report it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from halo_forge.config.loader import validation_problems
from halo_forge.data.jsonl import PathLike, iter_jsonl, write_jsonl
from halo_forge.errors import ConfigError, DataError


class RecordKind(str, Enum):
    """What a JSONL file holds; `auto` decides from the keys of its first record."""

    AUTO = "auto"
    SFT = "sft"
    RLVR = "rlvr"


def _require_text(value: str) -> str:
    if not value.strip():
        raise ValueError("expected non-empty text (not only whitespace)")
    return value


NonBlankText = Annotated[str, AfterValidator(_require_text)]


class _Record(BaseModel):
    """Shared behaviour: unknown keys are kept, `to_dict` writes back what was read."""

    model_config = ConfigDict(extra="allow")

    language: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for this record: the keys that were given, without nulls.

        The record's own fields come first and the annotations last, so a person reading the
        file sees the prompt before the bookkeeping; an empty `metadata` is left out.
        """
        data = self.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        annotations = {key: data.pop(key) for key in ("language", "metadata") if key in data}
        if annotations.get("metadata") == {}:
            del annotations["metadata"]
        return data | annotations


class PromptCompletionRecord(_Record):
    """SFT pair: the loss is taken on `completion` only."""

    prompt: NonBlankText
    completion: NonBlankText


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRecord(_Record):
    """SFT conversation: the assistant turns are what the model learns to produce."""

    messages: list[ChatMessage]

    @field_validator("messages")
    @classmethod
    def _has_assistant_turn(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(message.role == "assistant" for message in messages):
            raise ValueError("expected at least one message with role 'assistant' to learn from")
        return messages


class TextRecord(_Record):
    """Plain text for language-model training (the loss covers all of it)."""

    text: NonBlankText


SFTRecord = PromptCompletionRecord | ChatRecord | TextRecord


class IOTestCase(BaseModel):
    """One run of a program: what it reads on stdin and what it must print."""

    model_config = ConfigDict(extra="forbid")

    stdin: str = ""
    expected_output: str


class PromptRecord(_Record):
    """An RLVR prompt: what the model is asked, and how a verifier checks the answer."""

    prompt: NonBlankText
    task_id: str | int | None = None
    category: str | None = None
    difficulty: str | int | None = None
    system_prompt: str | None = None
    # Verification context, passed to `Verifier.verify(code, **context)`.
    tests: str | None = None
    test_list: list[str] = Field(default_factory=list)
    entry_point: str | None = None
    expected_output: str | None = None
    stdin: str | None = None
    test_cases: list[IOTestCase] = Field(default_factory=list)
    # Extra project files (path -> text) beside the answer: tests, Cargo.toml, go.mod, ...
    files: dict[str, str] = Field(default_factory=dict)

    def verification_context(self) -> dict[str, Any]:
        """Keyword arguments for `verifier.verify(code, **context)`: only the keys that are set.

        `prompt` and `task_id` are included because some verifiers need them (HumanEval
        completes the prompt's function; caches and reports name the task); `language` lets
        the `auto` verifier pick the verifier of a mixed-language prompt file.
        """
        context: dict[str, Any] = {"prompt": self.prompt}
        optional = {
            "task_id": self.task_id,
            "tests": self.tests,
            "test_list": list(self.test_list),
            "entry_point": self.entry_point,
            "expected_output": self.expected_output,
            "stdin": self.stdin,
            "test_cases": [case.model_dump() for case in self.test_cases],
            "language": self.language,
            "files": dict(self.files),
        }
        context.update(
            {key: value for key, value in optional.items() if value not in (None, [], {})}
        )
        return context


Record = PromptCompletionRecord | ChatRecord | TextRecord | PromptRecord

_SFT_SHAPES = "{prompt, completion}, {messages: [{role, content}, ...]} or {text}"


def detect_kind(value: dict[str, Any]) -> RecordKind | None:
    """The kind a JSON object looks like: SFT if it carries a training target, RLVR if a prompt."""
    if {"completion", "messages", "text"} & value.keys():
        return RecordKind.SFT
    if "prompt" in value:
        return RecordKind.RLVR
    return None


def _sft_model(value: dict[str, Any]) -> type[_Record]:
    if "messages" in value:
        return ChatRecord
    if "prompt" in value or "completion" in value:
        return PromptCompletionRecord
    if "text" in value:
        return TextRecord
    raise ValueError(f"expected an SFT record {_SFT_SHAPES}; found keys: {_key_list(value)}")


def _key_list(value: dict[str, Any]) -> str:
    return ", ".join(sorted(value)) or "none"


def describe_validation_error(error: ValidationError, show_input: bool = True) -> str:
    """'field 'x': <what was expected> (got <type> <value>)' for each problem, joined by '; '.

    Without `show_input` the offending values are left out, so equal problems read the same
    (summaries count them).
    """
    described = []
    for problem in validation_problems(error):
        field = f"field '{problem.key_path}'"
        if problem.missing:
            described.append(f"{field}: required but missing")
        elif not show_input:
            described.append(f"{field}: {problem.message}")
        else:
            shown = repr(problem.value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            given = type(problem.value).__name__
            described.append(f"{field}: {problem.message} (got {given} {shown})")
    return "; ".join(described)


def parse_record(value: dict[str, Any], kind: RecordKind) -> Record:
    """One JSON object as a typed record of `kind` (SFT or RLVR).

    Raises `ValueError` describing the field and what was expected; readers add file and line.
    """
    if kind is RecordKind.AUTO:
        raise ValueError("parse_record needs a concrete kind (sft or rlvr), not auto")
    model = PromptRecord if kind is RecordKind.RLVR else _sft_model(value)
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise ValueError(describe_validation_error(error)) from None


@dataclass(frozen=True)
class SkippedLine:
    """A line a reader left out under `skip_invalid`, and why."""

    line_number: int
    reason: str


class RecordReader:
    """Streams the typed records of one JSONL file; iterate it as often as needed.

    `kind` starts as asked and becomes `sft` or `rlvr` once `auto` has seen the first record.
    With `skip_invalid`, bad lines are collected in `skipped` (reset on each pass) instead of
    raising.
    """

    def __init__(
        self,
        path: PathLike,
        kind: RecordKind | str = RecordKind.AUTO,
        *,
        skip_invalid: bool = False,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"{self.path}: file not found")
        try:
            self.requested_kind = RecordKind(kind)
        except ValueError:
            allowed = ", ".join(member.value for member in RecordKind)
            raise ConfigError(f"unknown record format {kind!r}; allowed: {allowed}") from None
        self.kind = self.requested_kind
        self.skip_invalid = skip_invalid
        self.skipped: list[SkippedLine] = []

    def __iter__(self) -> Iterator[Record]:
        for _, record in self.numbered():
            yield record

    def numbered(self) -> Iterator[tuple[int, Record]]:
        """`(line_number, record)` pairs, for reports that point back into the file."""
        self.kind = self.requested_kind
        self.skipped = []
        for line_number, value in self._objects():
            try:
                record = self._parse(value)
            except ValueError as error:
                if not self.skip_invalid:
                    raise DataError(f"{self.path}:{line_number}: {error}") from None
                self.skipped.append(SkippedLine(line_number, str(error)))
                continue
            yield line_number, record

    def _parse(self, value: dict[str, Any]) -> Record:
        if self.kind is RecordKind.AUTO:
            detected = detect_kind(value)
            if detected is None:
                raise ValueError(
                    f"cannot tell the record kind from keys {_key_list(value)}: expected an SFT "
                    f"record {_SFT_SHAPES} or an RLVR record with 'prompt' (or pass the format)"
                )
            self.kind = detected
        return parse_record(value, self.kind)

    def _objects(self) -> Iterator[tuple[int, dict[str, Any]]]:
        def note_skipped(line_number: int, reason: str) -> None:
            self.skipped.append(SkippedLine(line_number, reason))

        return iter_jsonl(self.path, skip_invalid=self.skip_invalid, on_invalid=note_skipped)


def read_records(
    path: PathLike, kind: RecordKind | str = RecordKind.AUTO, *, skip_invalid: bool = False
) -> RecordReader:
    """The records of a JSONL file, streamed (see `RecordReader`); raises on a bad line."""
    return RecordReader(path, kind, skip_invalid=skip_invalid)


def write_records(path: PathLike, records: Iterable[Record]) -> int:
    """Write records atomically (temporary file + rename); returns how many were written."""
    return write_jsonl(path, (record.to_dict() for record in records))

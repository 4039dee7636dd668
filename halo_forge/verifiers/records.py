"""Verify a list of records into a JSONL file, batch by batch, and resume where a run stopped.

`verify_records` is the one resumable verification loop: `halo-forge verify` and `benchmark
run` call it. Each batch of scored records is appended and fsynced before the next starts, so
a kill loses at most the batch in flight; the next run keeps the complete records already in
the output (in input order, so record i of the output scores record i of the input) and
verifies the rest. Resuming is only sound with the same verifier settings: given a
`fingerprint` (see `verifier_fingerprint`), the output's settings are stored beside it in
`<output>.fingerprint.json` and a run with other settings is refused, naming the changed keys,
unless `force`, which then verifies every record again (with the same settings, `force`
changes nothing: the run resumes). `summarise_records` gives the rates of a scored output.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_forge import ui
from halo_forge.config.fingerprint import compare_fingerprint, flatten_settings, store_fingerprint
from halo_forge.data.jsonl import JsonlAppender
from halo_forge.errors import DataError
from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.batch import run_batch
from halo_forge.verifiers.registry import available_verifiers, validate_options, verifier_options
from halo_forge.verifiers.result import VerifyResult, compile_rate, compiled_of

#: Fields that may hold the model output, in order of preference.
CODE_FIELDS = ("completion", "code", "text")
#: Options that decide how fast a verifier works, never what it decides: not fingerprinted.
SPEED_OPTIONS = ("max_workers", "use_cache", "precompiled_headers")

Record = Mapping[str, Any]


@dataclass(frozen=True)
class VerifiedRecords:
    """The output of `verify_records`: every scored record, and what this call did."""

    records: list[dict[str, Any]]  # the whole output, in input order
    resumed: int  # records kept from an earlier run
    verified: int  # records verified by this call
    seconds: float  # time this call spent verifying


@dataclass(frozen=True)
class RecordsSummary:
    """The rates of a scored output, for `halo-forge verify` and anyone reading one back."""

    total: int
    passed: int
    compile_rate: float | None  # `compile_rate` of the records' `compiled_of` facts
    compile_only: int  # records that carry checks which were not run (pass means compiled)
    cached: int  # records served from the result cache

    def lines(self) -> list[str]:
        """Compile rate (where known), pass rate, a compile-only warning and cache hits."""
        lines = [f"pass rate: {self.passed / self.total:.1%}" if self.total else "pass rate: -"]
        if self.compile_rate is not None:
            lines.insert(0, f"compile rate: {self.compile_rate:.1%}")
        if self.compile_only:
            lines.append(
                f"compile-only: {self.compile_only} samples carry tests that were not run; "
                "pass means compiled"
            )
        lines.append(f"served from cache: {self.cached}")
        return lines


def summarise_records(records: Sequence[Record]) -> RecordsSummary:
    """The rates of scored records (`verify_records`' output); "compiled" is `compiled_of`'s."""
    metadata = [record.get("metadata") or {} for record in records]
    return RecordsSummary(
        total=len(records),
        passed=sum(bool(record["success"]) for record in records),
        compile_rate=compile_rate(compiled_of(record) for record in records),
        compile_only=sum(bool(entry.get("compile_only")) for entry in metadata),
        cached=sum(bool(entry.get("cached")) for entry in metadata),
    )


def fingerprint_path_for(output: Path) -> Path:
    """Where the settings of a verified output are kept: `x.jsonl` -> `x.jsonl.fingerprint.json`."""
    return output.with_name(f"{output.name}.fingerprint.json")


def verifier_fingerprint(
    verifier: Verifier, name: str | None = None, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Everything that decides the verifier's results, as a flat `{dotted.key: value}` map.

    For a registered verifier built from `name` and `options`: the name, each validated option
    (defaults included, so spelling out a default changes nothing; `SPEED_OPTIONS` left out)
    and the rest of `verifier.cache_fingerprint()` (tool versions, test files) under
    `verifier.toolchain`. For a verifier instance without a name: its class and its whole
    cache fingerprint.
    """
    toolchain = dict(verifier.cache_fingerprint() or {})
    if name is None:
        return {"verifier": type(verifier).__qualname__, "verifier.toolchain": toolchain or None}
    validated = validate_options(
        available_verifiers()[name].options,
        verifier_options(options or {}),
        owner=f"verifier {name!r}",
    )
    settings = validated.model_dump(mode="json", exclude=set(SPEED_OPTIONS))
    toolchain.pop("options", None)  # each option is its own key above
    return {
        "verifier": name,
        **flatten_settings(settings, prefix="verifier."),
        "verifier.toolchain": toolchain or None,
    }


def _code_field(record: Record) -> str:
    for field in CODE_FIELDS:
        if isinstance(record.get(field), str):
            return field
    raise DataError(f"no model output; put it in one of the fields {', '.join(CODE_FIELDS)}")


def record_code(record: Record) -> str:
    """The model output of a record: its first string field of `CODE_FIELDS`."""
    return record[_code_field(record)]


def record_context(record: Record) -> dict[str, Any]:
    """The verification context of a record: every field but the one holding the model output."""
    field = _code_field(record)
    return {key: value for key, value in record.items() if key != field}


def scored_record(record: Record, result: VerifyResult) -> dict[str, Any]:
    """The input record with the result's `reward`, `success`, `details`, `error`, `metadata`."""
    return {**record, **result.to_dict()}


def verify_records(
    verifier: Verifier,
    records: Sequence[Record],
    output: Path,
    *,
    fingerprint: Mapping[str, Any] | None,
    force: bool = False,
    batch_size: int = 64,
    source: str = "input",
    code: Callable[[Record], str] = record_code,
    context: Callable[[Record], dict[str, Any]] = record_context,
    scored: Callable[[Record, VerifyResult], dict[str, Any]] = scored_record,
    stop: Callable[[], None] | None = None,
) -> VerifiedRecords:
    """Score `records` into the JSONL `output`, resuming after the records it already holds.

    `code` and `context` pick a record's model output and the context its verifier reads;
    `scored` builds the output line, which must keep the model output where `code` finds it
    (that is how a resumed run checks that the output belongs to these records). `fingerprint`
    None leaves the settings check to the caller (a benchmark guards all its files at once,
    and `force` is then unused); with one, an output made with other settings is refused, or
    with `force` discarded and verified again. `stop` is called between batches; it may raise
    (KeyboardInterrupt) to end the run with the finished batches kept. `source` names the
    records in error messages.
    """
    codes = []
    for position, record in enumerate(records, start=1):
        try:
            codes.append(code(record))
        except DataError as error:
            raise DataError(f"{source}: record {position}: {error}") from None
    if fingerprint is not None:
        _claim_output(output, fingerprint, force)
    with JsonlAppender(output) as appender:
        existing = appender.existing()
        _check_resume(existing, codes, code, source, output)
        if existing:
            ui.echo(f"resuming: {len(existing)} of {len(records)} records already in {output}")
        written = list(existing)
        started = time.perf_counter()
        with ui.progress() as bar:
            task = bar.add_task("Verifying", total=len(records), completed=len(existing))
            for start in range(len(existing), len(records), batch_size):
                batch = records[start : start + batch_size]
                results = run_batch(
                    verifier,
                    codes[start : start + batch_size],
                    contexts=[context(record) for record in batch],
                    show_progress=False,
                )
                lines = [
                    scored(record, result) for record, result in zip(batch, results, strict=True)
                ]
                appender.append_batch(lines)
                written.extend(lines)
                bar.advance(task, len(batch))
                if stop is not None and start + batch_size < len(records):
                    stop()
    seconds = time.perf_counter() - started
    return VerifiedRecords(written, len(existing), len(written) - len(existing), seconds)


def _claim_output(output: Path, fingerprint: Mapping[str, Any], force: bool) -> None:
    """Keep the output only if it was made with `fingerprint`'s settings, then store them.

    An output that is empty or absent protects nothing, so its old settings do not count.
    The old output goes before the new fingerprint is stored, so a kill in between never
    leaves old records under new settings.
    """
    path = fingerprint_path_for(output)
    holds_records = output.is_file() and output.stat().st_size > 0
    changed = compare_fingerprint(
        path,
        fingerprint,
        force=force or not holds_records,
        holder=f"{output} holds records verified",
        force_effect="verify every record again",
    )
    if changed:
        output.unlink(missing_ok=True)
    store_fingerprint(path, fingerprint)


def _check_resume(
    existing: list[dict[str, Any]],
    codes: list[str],
    code: Callable[[Record], str],
    source: str,
    output: Path,
) -> None:
    """The output must begin with these records' outputs, else resuming would mix two inputs."""
    if len(existing) > len(codes):
        raise DataError(
            f"{output} holds {len(existing)} records but {source} only {len(codes)}; it "
            "belongs to another input: choose another --output or delete it"
        )
    for position, (expected, written) in enumerate(zip(codes, existing, strict=False), start=1):
        try:
            matches = code(written) == expected
        except (DataError, KeyError):
            matches = False
        if not matches:
            raise DataError(
                f"{output}: record {position} does not score record {position} of {source}; "
                "the output belongs to another input: choose another --output or delete it"
            )
